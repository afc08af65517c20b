"""Transition table of tracked cells and its marginal-homogeneity tests, against textbook values
and statsmodels' SquareTable; the transition figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from sfone.tracking import plot_transitions, transition_table, transition_tests
from sfone.tracking.transitions import mcnemar, stuart_maxwell

# Stuart (1955) unaided distance vision of 7477 women, right eye (rows) x left eye (columns)
VISION = np.array([[1520, 266, 124, 66], [234, 1512, 432, 78], [117, 362, 1772, 205],
                   [36, 82, 179, 492]])


def test_stuart_maxwell_and_bhapkar_match_the_textbook_example_and_statsmodels():
    result = stuart_maxwell(VISION)
    assert result["statistic"] == pytest.approx(11.96, abs=0.005)  # Stuart-Maxwell, df 3
    assert result["df"] == 3 and result["p_value"] == pytest.approx(0.0075, abs=1e-4)
    table = SquareTable(VISION, shift_zeros=False)
    assert result["statistic"] == pytest.approx(table.homogeneity("stuart_maxwell").statistic)
    assert result["bhapkar"] == pytest.approx(table.homogeneity("bhapkar").statistic)


def test_mcnemar_matches_agresti_presidential_approval_and_statsmodels():
    # Agresti, Categorical Data Analysis: approve/disapprove in two surveys, z^2 = 17.36
    table = pd.DataFrame([[794, 150], [86, 570]], index=["approve", "disapprove"],
                         columns=["approve", "disapprove"])
    result = mcnemar(table, "approve")
    assert (result["b"], result["c"]) == (150, 86)
    assert result["chi2"] == pytest.approx(17.36, abs=0.005)
    exact = sm_mcnemar(table.to_numpy(), exact=True)
    assert result["p_value"] == pytest.approx(exact.pvalue)


def test_a_table_with_equal_margins_gives_zero_and_empty_classes_are_left_out():
    symmetric = np.array([[10, 3, 0], [3, 20, 0], [0, 0, 0]])
    result = stuart_maxwell(symmetric)
    assert result["statistic"] == 0.0 and result["df"] == 1 and result["p_value"] == 1.0


def _labels(rois, labels):
    return xr.Dataset({"label": ("roi", np.asarray(labels))}, coords={"roi": np.asarray(rois)})


def test_transition_table_counts_tracked_cells_by_their_two_labels():
    tracks = pd.DataFrame({"track": [0, 1, 2, 3, 4],
                           "d1": pd.array([5, 6, 7, 8, None], dtype="Int64"),
                           "d8": pd.array([0, 1, None, 3, 4], dtype="Int64"),
                           "p_same": [0.9, 0.99, np.nan, 0.8, np.nan]})
    day1 = _labels([5, 6, 7, 8], ["activated", "unchanged", "activated", "inhibited"])
    day8 = _labels([0, 1, 3, 4], ["activated", "activated", "activated", "unchanged"])
    table = transition_table(tracks, day1, day8)
    assert table.index.name == "d1 class" and table.columns.name == "d8 class"
    assert table.to_numpy().sum() == 3  # tracks 0, 1, 3 are in both sessions
    assert table.loc["activated", "activated"] == 1
    assert table.loc["unchanged", "activated"] == 1 and table.loc["inhibited", "activated"] == 1
    tests = transition_tests(table)
    assert tests["mcnemar"]["activated"]["c"] == 2 and tests["mcnemar"]["activated"]["b"] == 0
    assert tests["fraction_b"]["activated"] == 1.0
    with pytest.raises(ValueError, match="have no label"):
        transition_table(tracks, _labels([5, 6], ["activated", "unchanged"]), day8)


def test_plot_transitions_returns_axes_with_counts_and_the_test():
    table = pd.DataFrame([[12, 3, 1], [9, 30, 2], [0, 4, 6]],
                         index=pd.Index(["activated", "unchanged", "inhibited"], name="day 1"),
                         columns=pd.Index(["activated", "unchanged", "inhibited"], name="day 8"))
    fig, ax = plt.subplots()
    assert plot_transitions(table, ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert "12\n75%" in texts and "30\n73%" in texts
    assert "Stuart-Maxwell" in ax.get_title() and "n = 67" in ax.get_title()
    plt.close(fig)


def _classes(rows):
    subject, day, roi, label = zip(*rows, strict=True)
    return xr.Dataset({"label": ("roi", np.array(label))},
                      coords={"subject": ("roi", np.array(subject)), "day": ("roi", np.array(day)),
                              "roi_in_session": ("roi", np.array(roi))})


def test_track_cohort_tabulates_each_mouse_and_the_figure_shows_them(tmp_path):
    from sfone.cohort import Session
    from sfone.figures import figure_tracked_transitions
    from sfone.simulate.imaging import simulate_session, write_caiman_hdf5
    from sfone.tracking import RigidTransform
    from sfone.tracking.cohort import track_cohort

    sessions, rows = [], []
    rng = np.random.default_rng(0)
    for m, transform in enumerate((RigidTransform(2.0, 3.0, -2.0, 47.5, 47.5),
                                   RigidTransform(-1.5, -2.0, 4.0, 47.5, 47.5))):
        base = simulate_session(n_rois=25, n_frames=40, n_noncells=0, shape=(96, 96),
                                random_state=m)
        yx = np.column_stack([base.y.values, base.x.values])
        inverse = RigidTransform(-transform.angle_deg, 0, 0, 47.5, 47.5)
        moved = inverse.apply(yx - [transform.shift_y, transform.shift_x])
        day1_labels = rng.choice(["activated", "unchanged", "inhibited"], 25, p=[.3, .6, .1])
        day8_labels = np.where(rng.uniform(size=25) < 0.3, "activated", day1_labels)
        for day, coords, labels in (("day1", yx, day1_labels), ("day8", moved, day8_labels)):
            ds = base.assign_coords(y=("roi", coords[:, 0], {"units": "pixel"}),
                                    x=("roi", coords[:, 1], {"units": "pixel"}))
            path = write_caiman_hdf5(ds, tmp_path / f"m{m}_{day}.hdf5")
            sessions.append(Session(path=path, subject=f"m{m}", session=day))
            rows += [(f"m{m}", day, k, lab) for k, lab in enumerate(labels)]
    result = track_cohort(sessions, _classes(rows))
    assert set(result["tables"]) == {"m0", "m1"}
    for m in (0, 1):  # cell k is ROI k on both days: the table is the labels' crosstab
        table = result["tables"][f"m{m}"]
        assert table.to_numpy().sum() == 25
        labels = [r for r in rows if r[0] == f"m{m}"]
        expected = pd.crosstab(pd.Series([r[3] for r in labels if r[1] == "day1"]),
                               pd.Series([r[3] for r in labels if r[1] == "day8"]))
        for a in expected.index:
            for b in expected.columns:
                assert table.loc[a, b] == expected.loc[a, b]
    assert result["pooled"].to_numpy().sum() == 50
    fig = figure_tracked_transitions(result)
    assert "pooled over 2 mice" in fig.axes[0].get_title()
    plt.close(fig)


def test_track_cohort_is_none_for_the_sample_cohort_whose_days_are_different_fields():
    from pathlib import Path

    from sfone.cohort import load_manifest
    from sfone.tracking.cohort import track_cohort

    manifest = Path(__file__).resolve().parents[1] / "data_samples" / "imaging_cohort"
    sessions = [s for s in load_manifest(manifest / "manifest.csv") if s.subject == "mouse1"]
    assert track_cohort(sessions, _classes([("mouse1", "day1", 0, "activated")])) is None

"""Figures 1 and 4: bar heights, n labels, paired lines and stats rows against recomputation."""

import numpy as np
import pytest
from figure_inputs import (
    CLASS_COUNTS,
    close_figures,  # noqa: F401  (autouse fixture)
    make_classes,
    make_fractions,
)
from statsmodels.stats.proportion import proportion_confint

from sfone.figures import (
    class_counts,
    figure_class_proportions,
    figure_fraction_activated_paired,
    plot_class_proportions,
    plot_fraction_activated_paired,
)
from sfone.report import StatsTable

TEST = {"test": "Chi-square test", "statistic": 8.1, "p_value": 0.0171}


def test_class_counts_from_dataset_and_mapping_agree():
    ds = make_classes()
    by_day = {d: ds.isel(roi=np.flatnonzero(ds["day"].values == d)) for d in ("day1", "day8")}
    expected = [[CLASS_COUNTS[d][c] for c in ("activated", "inhibited", "unchanged")]
                for d in ("day1", "day8")]
    assert class_counts(ds, order=("day1", "day8")).to_numpy().tolist() == expected
    assert class_counts(by_day, order=("day1", "day8")).to_numpy().tolist() == expected


def test_class_counts_rejects_unknown_labels():
    ds = make_classes()
    ds["label"] = ds["label"].copy(data=np.where(ds["label"].values == "inhibited", "suppressed",
                                                 ds["label"].values))
    with pytest.raises(ValueError, match="suppressed"):
        class_counts(ds)


def test_stacked_bar_heights_equal_proportions_and_ticks_carry_n():
    ds = make_classes()
    ax = plot_class_proportions(ds, order=("day1", "day8"), test=TEST)
    labels = ds["label"].values
    days = ds["day"].values
    for container, cls in zip(ax.containers, ("activated", "inhibited", "unchanged"), strict=True):
        heights = [patch.get_height() for patch in container.patches]
        expected = [np.mean(labels[days == d] == cls) for d in ("day1", "day8")]
        np.testing.assert_allclose(heights, expected)
    bottoms_top = [p.get_y() + p.get_height() for p in ax.containers[-1].patches]
    np.testing.assert_allclose(bottoms_top, 1.0)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["Day 1\n(n = 88 ROIs)", "Day 8\n(n = 94 ROIs)"]
    assert any(t.get_text() == "Chi-square test, p = 0.017" for t in ax.texts)


def test_figure1_stats_rows_match_independent_counts_and_wilson():
    ds = make_classes()
    stats = StatsTable()
    figure_class_proportions(ds, test=TEST, stats=stats)
    frame = stats.to_frame()
    rows = frame[frame["quantity"] == "fraction_activated"].set_index("group")
    for day, n_total in (("day1", 88), ("day8", 94)):
        k = CLASS_COUNTS[day]["activated"]
        assert rows.loc[day, "value"] == pytest.approx(k / n_total)
        assert rows.loc[day, "n"] == n_total
        low, high = proportion_confint(k, n_total, method="wilson")
        assert rows.loc[day, "ci_low"] == pytest.approx(low)
        assert rows.loc[day, "ci_high"] == pytest.approx(high)
    test_row = frame[frame["quantity"] == "class_proportions"].iloc[0]
    assert (test_row["group"], test_row["test"], test_row["p_value"]) == (
        "day1_vs_day8", "Chi-square test", 0.0171)


def test_paired_lines_one_per_mouse_and_mean_per_day():
    table = make_fractions()
    ax = plot_fraction_activated_paired(table, test={"test": "Paired t-test", "statistic": 3,
                                                     "p_value": 0.0055})
    lines = {line.get_label(): line for line in ax.lines if line.get_gid() == "subject"}
    assert sorted(lines) == ["m1", "m2", "m3", "m4", "m5"]
    np.testing.assert_allclose(lines["m3"].get_ydata(), [0.40, 0.60])
    assert np.isnan(lines["m5"].get_ydata()[1])
    means = [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "mean"]
    np.testing.assert_allclose(means, [np.mean([.30, .25, .40, .33, .28]),
                                       np.mean([.55, .48, .60, .50])])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Day 1\n(n = 5 mice)",
                                                            "Day 8\n(n = 4 mice)"]


def test_figure4_stats_mean_and_t_interval():
    from scipy import stats as st

    stats = StatsTable()
    figure_fraction_activated_paired(make_fractions(), stats=stats)
    row = stats.to_frame().set_index("group").loc["day8"]
    values = np.array([.55, .48, .60, .50])
    low, high = st.t.interval(0.95, 3, loc=values.mean(), scale=st.sem(values))
    assert (row["value"], row["n"]) == (pytest.approx(values.mean()), 4)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_missing_day_is_named():
    with pytest.raises(ValueError, match=r"no ROIs for day \['day15'\]"):
        class_counts(make_classes(), order=("day1", "day15"))

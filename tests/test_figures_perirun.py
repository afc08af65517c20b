"""Figures 2 and 3: heatmap order and shared colour scale, class traces with SEM bands."""

import numpy as np
import pytest
from figure_inputs import (
    close_figures,  # noqa: F401  (autouse fixture)
    make_classes,
    make_traces,
)

from sfone.figures import (
    figure_class_traces,
    figure_perirun_heatmaps,
    plot_class_traces,
    plot_perirun_heatmap,
)
from sfone.figures.perirun import select_group
from sfone.reproduce import StatsTable


@pytest.fixture(scope="module")
def data():
    classes = make_classes()
    traces = make_traces(classes).assign_coords(day=("roi", classes["day"].values))
    return classes, traces


def _expected_order(classes):
    rank = {"activated": 0, "unchanged": 1, "inhibited": 2}
    labels, effect = classes["label"].values, classes["effect"].values
    return sorted(range(labels.size), key=lambda i: (rank[labels[i]], -effect[i]))


def test_heatmap_array_is_trial_mean_sorted_by_class_then_effect(data):
    classes, traces = data
    day1 = select_group(classes, "day1")
    tr1 = select_group(traces, "day1")
    ax = plot_perirun_heatmap(tr1, day1)
    trial_mean = tr1.values.mean(axis=1)
    np.testing.assert_allclose(ax.images[0].get_array(), trial_mean[_expected_order(day1)])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Activated\n(n = 28)", "No change\n(n = 38)", "Inhibited\n(n = 22)"]
    assert ax.get_xlabel() == "Time from run end (min)"
    left, right = ax.images[0].get_extent()[:2]
    assert (left, right) == (pytest.approx(-5.25), pytest.approx(29.75))


def test_heatmap_aligns_classes_given_in_another_roi_order(data):
    classes, traces = data
    shuffled = classes.isel(roi=np.random.default_rng(0).permutation(classes.sizes["roi"]))
    a = plot_perirun_heatmap(traces, classes).images[0].get_array()
    b = plot_perirun_heatmap(traces, shuffled).images[0].get_array()
    np.testing.assert_array_equal(a, b)


def test_heatmaps_share_one_symmetric_colour_scale(data):
    classes, traces = data
    stats = StatsTable()
    fig = figure_perirun_heatmaps(traces, classes, stats=stats)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    expected = np.percentile(np.abs(traces.values.mean(axis=1)), 99)
    for image in images:
        assert image.get_clim() == (pytest.approx(-expected), pytest.approx(expected))
    frame = stats.to_frame().set_index(["quantity", "group"])
    assert frame.loc[("n_rois", "day8"), "value"] == 94
    assert frame.loc[("colour_limit_z", "all"), "value"] == pytest.approx(expected)


def _band_limits(band, x):
    vertices = band.get_paths()[0].vertices
    upper = np.array([vertices[np.isclose(vertices[:, 0], xi), 1].max() for xi in x])
    lower = np.array([vertices[np.isclose(vertices[:, 0], xi), 1].min() for xi in x])
    return lower, upper


def test_class_trace_is_mean_with_sem_band_across_rois(data):
    classes, traces = data
    ax = plot_class_traces(traces, classes, time_unit="s")
    per_roi = traces.values.mean(axis=1)
    lag = traces["lag"].values
    for cls in ("activated", "inhibited", "unchanged"):
        rows = per_roi[classes["label"].values == cls]
        mean = rows.mean(axis=0)
        sem = rows.std(axis=0, ddof=1) / np.sqrt(rows.shape[0])
        line = next(line for line in ax.lines if line.get_gid() == cls)
        np.testing.assert_allclose(line.get_ydata(), mean)
        assert f"(n = {rows.shape[0]})" in line.get_label()
        band = next(c for c in ax.collections if c.get_gid() == cls)
        lower, upper = _band_limits(band, lag)
        np.testing.assert_allclose(upper, mean + sem)
        np.testing.assert_allclose(lower, mean - sem)


def test_figure3_records_post_run_means_per_class(data):
    classes, traces = data
    stats = StatsTable()
    test = {"test": "Mann-Whitney U", "statistic": 400.0, "p_value": 0.02}
    fig = figure_class_traces(traces, classes, test=test, stats=stats)
    assert any("Mann-Whitney U" in t.get_text() and "p = 0.02" in t.get_text()
               for ax in fig.axes for t in ax.texts)
    frame = stats.to_frame().set_index(["quantity", "group"])
    lag = traces["lag"].values
    on_day8 = classes["day"].values == "day8"
    rows = traces.values.mean(axis=1)[on_day8 & (classes["label"].values == "activated")]
    expected = rows[:, lag >= 0].mean(axis=1)
    row = frame.loc[("mean_postrun_z_activated", "day8")]
    assert row["value"] == pytest.approx(expected.mean())
    assert row["n"] == expected.size
    assert frame.loc[("mean_postrun_z_activated", "day1_vs_day8"), "p_value"] == 0.02


def test_run_and_baseline_are_marked_and_the_z_reference_stated(data):
    from sfone.figures.perirun import ZSCORE_LABEL

    classes, traces = data
    segments = {"baseline": (-600.0, -300.0), "run": (-300.0, 0.0)}
    fig = figure_class_traces(traces, classes, segments=segments)
    for ax in fig.axes[:2]:
        spans = {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith("segment:")}
        assert set(spans) == {"segment:baseline", "segment:run"}
        run = spans["segment:run"]
        assert (run.get_x(), run.get_x() + run.get_width()) == pytest.approx((-5.0, 0.0))  # min
    assert "pre-run baseline" in fig.axes[0].get_ylabel()
    heat = figure_perirun_heatmaps(traces, classes, segments=segments)
    strips = [p for p in heat.axes[0].patches if p.get_gid() == "segment:baseline"]
    assert len(strips) == 1 and strips[0].get_x() == pytest.approx(-10.0)
    assert heat.axes[-1].get_ylabel() == ZSCORE_LABEL  # the colour bar

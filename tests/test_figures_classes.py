"""Figures 1 and 4: bar heights, n labels, paired lines and stats rows against recomputation."""

import numpy as np
import pytest
from figure_inputs import (
    CLASS_COUNTS,
    close_figures,  # noqa: F401  (autouse fixture)
    make_classes,
    make_fractions,
)
from matplotlib.lines import Line2D
from statsmodels.stats.proportion import proportion_confint

from sfone.figures import (
    class_counts,
    figure_class_proportions,
    figure_fraction_activated_paired,
    plot_class_proportions,
    plot_fraction_activated_paired,
)
from sfone.figures._style import MIN_FONT_PT
from sfone.reproduce import StatsTable

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
    assert ticks == ["Day 1\n4 mice\n88 ROIs", "Day 8\n4 mice\n94 ROIs"]
    assert any(t.get_text() == "Chi-square test, p = 0.017" for t in ax.texts)
    no_mice = plot_class_proportions(ds.drop_vars("subject"), order=("day1", "day8"))
    assert [t.get_text() for t in no_mice.get_xticklabels()][0] == "Day 1\nn = 88 ROIs"


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
    test_row = frame[frame["quantity"] == "fraction_activated_mouse_level"].iloc[0]
    assert (test_row["group"], test_row["test"], test_row["p_value"]) == (
        "day1_vs_day8", "Chi-square test", 0.0171)
    assert "class_proportions" not in set(frame["quantity"])  # no secondary given


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
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Day 1\n5 mice\n200 ROIs",
                                                            "Day 8\n4 mice\n160 ROIs"]


def test_every_mouse_visible_even_with_equal_fractions():
    """Issue 18: three mice overlapped exactly while the axis said n = 5 mice."""
    table = make_fractions()
    table["fraction"] = np.where(table["day"] == "day1", 0.30, 0.50)  # all mice identical
    ax = plot_fraction_activated_paired(table)
    points = {(round(x, 6), round(y, 6)) for line in ax.lines if line.get_gid() == "subject"
              for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True) if np.isfinite(y)}
    assert len(points) == 9  # 5 mice on day 1, 4 on day 8, no two drawn at the same place
    day1_x = sorted(line.get_xdata()[0] for line in ax.lines if line.get_gid() == "subject")
    assert max(day1_x) - min(day1_x) >= 0.2 and max(np.abs(day1_x)) <= 0.15


def test_legend_markers_match_the_plotted_artists():
    ax = plot_fraction_activated_paired(make_fractions())
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["One mouse (n = 5)", "Mean ± SEM"]
    mouse = next(line for line in ax.lines if line.get_gid() == "subject")
    mean = next(line for line in ax.lines if line.get_gid() == "mean")
    drawn = {(line.get_marker(), str(line.get_markerfacecolor()), str(line.get_color()))
             for line in legend.findobj(Line2D) if line.get_marker() not in ("None", None, "")}
    assert (mouse.get_marker(), str(mouse.get_markerfacecolor()), str(mouse.get_color())) in drawn
    assert (mean.get_marker(), str(mean.get_markerfacecolor()), str(mean.get_color())) in drawn
    assert mean.get_marker() == "_" and mouse.get_marker() == "o"


def test_figure4_sem_whiskers_are_not_hidden_under_the_mean_marker():
    # a filled square of 4 pt hid SEMs of a few hundredths (issue 29): the mean is now a thin
    # line, thinner than the whisker it sits on, and the caps are drawn at mean +- SEM
    fractions = make_fractions()
    ax = plot_fraction_activated_paired(fractions)
    ax.figure.canvas.draw()
    container = next(c for c in ax.containers if c.lines[0].get_gid() == "mean")
    mean_line, caps, _ = container.lines
    points_per_unit = ax.transData.transform([(0, 1)])[0, 1] - ax.transData.transform(
        [(0, 0)])[0, 1]
    points_per_unit *= 72 / ax.figure.dpi
    sem = fractions[fractions.day == "day1"].fraction.sem()
    assert mean_line.get_marker() == "_"
    assert mean_line.get_markeredgewidth() / 2 < sem * points_per_unit  # whisker shows
    ys = sorted(cap.get_ydata()[0] for cap in caps)
    mean = fractions[fractions.day == "day1"].fraction.mean()
    assert ys[:2] == [pytest.approx(mean - sem), pytest.approx(mean + sem)]


def test_mouse_level_test_on_bracket_and_pooled_test_as_secondary_text():
    head = {"test": "paired t, per-mouse fractions (n = 5 mice, 219 neurons)", "statistic": 4.5,
            "p_value": 0.0099}
    pooled = {"test": "Secondary, pooled neurons: Fisher exact (n = 219 neurons)",
              "statistic": 0.4, "p_value": 0.0017}
    for ax in (plot_class_proportions(make_classes(), order=("day1", "day8"), test=head,
                                      secondary=pooled),
               plot_fraction_activated_paired(make_fractions(), test=head, secondary=pooled)):
        texts = [t.get_text().replace("\n", " ") for t in ax.texts]
        assert "paired t, per-mouse fractions (n = 5 mice, 219 neurons), p = 0.0099" in texts
        secondary = [t for t in ax.texts if t.get_text().startswith("Secondary")]
        assert len(secondary) == 1 and "p = 0.0017" in secondary[0].get_text()
        # de-emphasised in grey, at the smallest size the style allows (no smaller: 6 pt)
        assert secondary[0].get_color() == "#555555"
        assert secondary[0].get_fontsize() == MIN_FONT_PT


def test_figure4_stats_mean_and_t_interval():
    from scipy import stats as st

    stats = StatsTable()
    figure_fraction_activated_paired(make_fractions(), stats=stats)
    frame = stats.to_frame()
    row = frame[(frame.quantity == "fraction_activated_per_mouse_mean")
                & (frame.group == "day8")].iloc[0]
    values = np.array([.55, .48, .60, .50])
    low, high = st.t.interval(0.95, 3, loc=values.mean(), scale=st.sem(values))
    assert (row["value"], row["n"]) == (pytest.approx(values.mean()), 4)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    counts = frame[frame.quantity.isin(["n_mice", "n_rois"])].set_index(["quantity", "group"])
    # the counts the tick labels state: 5 mice on day 1, 4 on day 8 (m5 misses it), 40 ROIs each
    assert counts.loc[("n_mice", "day1"), "value"] == 5
    assert counts.loc[("n_mice", "day8"), "value"] == 4
    assert counts.loc[("n_rois", "day8"), "value"] == 160
    assert counts.loc[("n_mice", "all"), "value"] == 5


def test_missing_day_is_named():
    with pytest.raises(ValueError, match=r"no ROIs for day \['day15'\]"):
        class_counts(make_classes(), order=("day1", "day15"))


def _display_boxes(artists, renderer):
    return [a.get_window_extent(renderer) for a in artists if a.get_text()]


def test_tutorial_figure_at_default_size_keeps_labels_whole():
    """Issue 18: the tutorial's class_proportions.png clipped "20.9%" to "0.9%" (white text wider
    than its bar) and overlapped the tick labels. Same counts as the sample cohort's day 1."""
    import xarray as xr

    labels = (["activated"] * 35 + ["inhibited"] * 23 + ["unchanged"] * 52
              + ["activated"] * 58 + ["inhibited"] * 12 + ["unchanged"] * 39)
    classes = xr.Dataset({"label": ("roi", np.array(labels))},
                         coords={"day": ("roi", ["day1"] * 110 + ["day8"] * 109)})
    ax = plot_class_proportions(classes, by="day", order=("day1", "day8"),
                                test={"test": "chi-square", "statistic": 9.0, "p_value": 0.011})
    fig = ax.figure
    fig.set_dpi(300)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    percents = {t.get_text(): t for t in ax.texts if t.get_text().endswith("%")}
    assert "20.9%" in percents
    for container in ax.containers:
        for patch, text in zip(container.patches, container.datavalues, strict=True):
            label = percents.get(f"{text:.1%}")
            if label is None:
                continue
            box, bar = label.get_window_extent(renderer), patch.get_window_extent(renderer)
            assert bar.x0 <= box.x0 and box.x1 <= bar.x1, label.get_text()  # inside its bar
    ticks = _display_boxes(ax.get_xticklabels(), renderer)
    assert len(ticks) == 2 and not ticks[0].overlaps(ticks[1])
    figure_box = fig.bbox
    for box in ticks + _display_boxes(ax.texts, renderer):
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1


def test_figure3_records_the_per_mouse_means_its_test_compares():
    from figure_inputs import make_traces

    from sfone.figures import figure_class_traces

    classes = make_classes()
    traces = make_traces(classes).assign_coords(day=("roi", classes["day"].values))
    stats = StatsTable()
    figure_class_traces(traces, classes, post_window_s=(0.0, 900.0), stats=stats)
    frame = stats.to_frame()
    row = frame[(frame.quantity == "mean_postrun_z_activated_mouse_mean")
                & (frame.group == "day8")].iloc[0]
    lag = traces["lag"].values
    z = traces.mean("trial").isel(lag=np.flatnonzero((lag >= 0) & (lag <= 900))).mean("lag")
    keep = (classes["day"].values == "day8") & (classes["label"].values == "activated")
    per_mouse = {}
    for subject, value in zip(classes["subject"].values[keep], z.values[keep], strict=True):
        per_mouse.setdefault(subject, []).append(value)
    means = [np.mean(v) for v in per_mouse.values()]
    assert row["n"] == 4 and row["value"] == pytest.approx(np.mean(means))

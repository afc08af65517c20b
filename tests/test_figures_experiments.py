"""Figures 5-9: Bdnf fractions, stress test, endurance and glucose, read back from the artists."""

import numpy as np
import pytest
from figure_inputs import (
    close_figures,  # noqa: F401  (autouse fixture)
    make_stress,
)
from scipy.integrate import trapezoid

from sfone.figures import (
    figure_bdnf,
    figure_endurance,
    figure_glucose,
    figure_stress_endpoints,
    figure_stress_test,
    glucose_iauc,
    plot_bdnf_fraction,
    plot_endurance_days,
    plot_stress_curve,
    plot_stress_endpoint,
    training_gain,
)
from sfone.reproduce import StatsTable
from sfone.simulate.experiment_tables import (
    make_bdnf_counts,
    make_endurance_training,
    make_post_exercise_glucose,
)

WELCH = {"test": "Welch t-test", "statistic": 3.0, "p_value": 0.0123}


def test_bdnf_bars_are_pooled_fractions_with_n_mice_in_legend():
    counts = make_bdnf_counts(random_state=4)
    ax = plot_bdnf_fraction(counts, regions=["dmVMH", "cVMH"],
                            tests={"dmVMH": WELCH})
    for container, condition in zip(ax.containers, ("sedentary", "one_run"), strict=True):
        heights = [p.get_height() for p in container.patches]
        expected = []
        for region in ("dmVMH", "cVMH"):
            part = counts[(counts["region"] == region) & (counts["condition"] == condition)]
            expected.append(part["n_bdnf_sf1"].sum() / part["n_sf1"].sum())
        np.testing.assert_allclose(heights, expected)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Sedentary (n = 5 mice)", "One run (n = 5 mice)"]
    assert [t.get_text() for t in ax.texts] == ["p = 0.012"]
    assert ax.get_legend().get_title().get_text() == "Welch t-test, per region"


def test_bdnf_mean_summary_and_stats_rows():
    counts = make_bdnf_counts(random_state=4)
    stats = StatsTable()
    figure_bdnf(counts, summary="mean", tests={"dmVMH": WELCH}, stats=stats)
    frame = stats.to_frame().set_index(["quantity", "group"])
    part = counts[(counts["region"] == "dmVMH") & (counts["condition"] == "one_run")]
    row = frame.loc[("fraction_bdnf_sf1", "dmVMH/one_run")]
    assert row["value"] == pytest.approx((part["n_bdnf_sf1"] / part["n_sf1"]).mean())
    assert row["n"] == 5
    assert frame.loc[("fraction_bdnf_sf1", "dmVMH/sedentary_vs_one_run"), "p_value"] == 0.0123
    with pytest.raises(ValueError, match="summary"):
        plot_bdnf_fraction(counts, summary="median")


def test_stress_curves_average_mice_per_speed_and_mark_endpoints():
    timeseries, endpoints = make_stress()
    ax = plot_stress_curve(timeseries, y="vo2", endpoints=endpoints)
    line = next(line for line in ax.lines if line.get_gid() == "silenced")
    part = timeseries[timeseries["group"] == "silenced"]
    expected = part.groupby("speed_m_min")["vo2_ml_kg_min"].mean()  # one sample per mouse/stage
    np.testing.assert_allclose(line.get_xdata(), expected.index)
    np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    mark = next(line for line in ax.lines if line.get_gid() == "vo2max:control")
    ends = endpoints[endpoints["group"] == "control"]
    assert mark.get_ydata()[0] == pytest.approx(ends["vo2max"].mean())
    # right of every drawn speed (at the last speed it covered the curve's end), at the
    # x tick "VO2max"
    drawn = max(line.get_xdata().max() for line in ax.lines if line.get_gid() in
                ("control", "silenced"))
    assert mark.get_xdata()[0] > drawn
    ticks = list(zip(ax.get_xticks(), (t.get_text() for t in ax.get_xticklabels()),
                     strict=True))
    marks = [line.get_xdata()[0] for line in ax.lines
             if str(line.get_gid()).startswith("vo2max:")]
    assert [v for v, t in ticks if t == "VO$_2$max"] == [pytest.approx(np.mean(marks))]
    assert all(float(v) <= drawn for v, t in ticks if t != "VO$_2$max")
    assert ax.get_ylabel() == "VO$_2$ (mL/kg/min)"
    rer_ax = plot_stress_curve(timeseries, y="rer", endpoints=endpoints)
    cross = next(line for line in rer_ax.lines if line.get_gid() == "crossover:silenced")
    assert cross.get_xdata()[0] == pytest.approx(
        endpoints.loc[endpoints["group"] == "silenced", "crossover_speed_m_min"].mean())
    with pytest.raises(ValueError, match="vo2_ml_kg_min"):
        plot_stress_curve(timeseries.drop(columns="vo2_ml_kg_min"), y="vo2")


def test_endpoint_points_mean_and_n_in_ticks():
    _, endpoints = make_stress()
    ax = plot_stress_endpoint(endpoints, "time_to_exhaustion_s", test=WELCH)
    points = next(c for c in ax.collections if c.get_gid() == "points:control")
    expected = endpoints.loc[endpoints["group"] == "control", "time_to_exhaustion_s"] / 60
    np.testing.assert_allclose(points.get_offsets()[:, 1], expected)
    mean = next(line for line in ax.lines if line.get_gid() == "mean:silenced")
    assert mean.get_ydata()[0] == pytest.approx(
        endpoints.loc[endpoints["group"] == "silenced", "time_to_exhaustion_s"].mean() / 60)
    assert ax.get_ylabel() == "Time to exhaustion (min)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Control\n(n = 5)",
                                                            "SF1-silenced\n(n = 5)"]
    assert any(t.get_text() == "Welch t-test, p = 0.012" for t in ax.texts)


def test_stress_figures_record_endpoint_and_profile_rows():
    timeseries, endpoints = make_stress()
    stats = StatsTable()
    figure_stress_test(timeseries, endpoints, rer_test=WELCH, stats=stats)
    figure_stress_endpoints(endpoints, tests={"distance_m": WELCH}, stats=stats)
    frame = stats.to_frame().set_index(["figure", "quantity", "group"])
    control = endpoints[endpoints["group"] == "control"]
    assert frame.loc[("fig7", "distance_m", "control"), "value"] == pytest.approx(
        control["distance_m"].mean())
    assert frame.loc[("fig7", "time_to_exhaustion_min", "control"), "value"] == pytest.approx(
        control["time_to_exhaustion_s"].mean() / 60)
    assert frame.loc[("fig7", "distance_m", "control_vs_silenced"), "p_value"] == 0.0123
    at12 = timeseries[(timeseries["group"] == "control") & (timeseries["speed_m_min"] == 12)]
    assert frame.loc[("fig6", "rer", "control/12m_min"), "value"] == pytest.approx(
        at12["rer"].mean())
    assert frame.loc[("fig6", "rer_panel_test", "all"), "test"] == "Welch t-test"


def test_endurance_lines_are_daily_means_and_gain_is_last_minus_first():
    table = make_endurance_training(n_mice_per_group=4, n_days=5, random_state=1)
    ax = plot_endurance_days(table)
    line = next(line for line in ax.lines if line.get_gid() == "stimulate_60min")
    part = table[table["group"] == "stimulate_60min"]
    np.testing.assert_allclose(line.get_ydata(), part.groupby("day")["distance_m"].mean())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "Control (n = 4 mice)"
    gains = training_gain(table).set_index("subject")["distance_gain_m"]
    mouse = part[part["subject"] == part["subject"].iloc[0]].set_index("day")["distance_m"]
    assert gains[part["subject"].iloc[0]] == pytest.approx(mouse[5] - mouse[1])
    stats = StatsTable()
    figure_endurance(table, stats=stats)
    frame = stats.to_frame().set_index(["quantity", "group"])
    assert frame.loc[("distance_m", "control/day3"), "value"] == pytest.approx(
        table[(table["group"] == "control") & (table["day"] == 3)]["distance_m"].mean())


def test_glucose_iauc_matches_trapezoid_and_figure_rows():
    table = make_post_exercise_glucose(n_mice_per_group=3, random_state=2)
    auc = glucose_iauc(table).set_index("subject")["glucose_iauc"]
    mouse = table[table["subject"] == "inhibit_02"]
    expected = trapezoid(mouse["glucose_mg_dl"] - mouse["glucose_mg_dl"].iloc[0],
                         mouse["time_min"])
    assert auc["inhibit_02"] == pytest.approx(expected)
    stats = StatsTable()
    fig = figure_glucose(table, auc_test=WELCH, stats=stats)
    line = next(line for ax in fig.axes for line in ax.lines if line.get_gid() == "control")
    np.testing.assert_allclose(line.get_ydata(), table[table["group"] == "control"]
                               .groupby("time_min")["glucose_mg_dl"].mean())
    frame = stats.to_frame().set_index(["quantity", "group"])
    assert frame.loc[("glucose_iauc_mg_dl_min", "inhibit"), "value"] == pytest.approx(
        auc[auc.index.str.startswith("inhibit")].mean())
    assert frame.loc[("glucose_mg_dl", "inhibit/30min"), "n"] == 3


def test_stress_curve_drops_speeds_with_too_few_mice_and_writes_n():
    timeseries, _ = make_stress()
    per_speed = timeseries.groupby(["group", "speed_m_min"])["subject"].nunique()
    total = timeseries.groupby("group")["subject"].nunique()
    ax = plot_stress_curve(timeseries, y="vo2", min_mice=3)
    for group in ("control", "silenced"):
        line = next(line for line in ax.lines if line.get_gid() == group)
        kept = per_speed[group][per_speed[group] >= 3]
        np.testing.assert_allclose(line.get_xdata(), kept.index.to_numpy(dtype=float))
        notes = [t for t in ax.texts if t.get_gid() == f"n:{group}"]
        fewer = kept[kept < total[group]]
        assert sorted(int(t.get_text()) for t in notes) == sorted(fewer.tolist())
        assert all(t.xy[0] in fewer.index for t in notes)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"Control (n = {total['control']} mice), mean ± SEM"


def test_pairwise_brackets_on_gains_and_recorded():
    from sfone.stats import pairwise_tests

    table = make_endurance_training(n_mice_per_group=5, n_days=4, random_state=2)
    gains = training_gain(table)
    pairs = [("control", "inhibit_15min"), ("control", "stimulate_60min"),
             ("inhibit_15min", "stimulate_60min")]
    pairwise = pairwise_tests(gains, "distance_gain_m", "group", pairs)
    stats = StatsTable()
    fig = figure_endurance(table, pairwise=pairwise, stats=stats)
    texts = [t.get_text() for t in fig.axes[1].texts]
    for result in pairwise:
        from sfone.figures import format_p

        assert format_p(result["p_value"]) in texts
    frame = stats.to_frame().set_index(["quantity", "group"])
    row = frame.loc[("distance_gain_m", "control_vs_stimulate_60min")]
    assert row["p_value"] == pytest.approx(pairwise[1]["p_value"])
    assert row["test"] == "Welch t-test, Holm over 3 comparisons"


def test_glucose_asterisks_mark_the_significant_time_points():
    table = make_post_exercise_glucose(random_state=5)
    times = sorted(table["time_min"].unique())
    per_time = {t: {"test": "Welch t-test", "statistic": 1.0,
                    "p_value": 0.0005 if t == times[2] else 0.3} for t in times}
    stats = StatsTable()
    fig = figure_glucose(table, per_time=per_time, stats=stats)
    stars = [t for t in fig.axes[0].texts if t.get_gid() == "per_time"]
    assert [(t.get_position()[0], t.get_text()) for t in stars] == [(times[2], "***")]
    # above the highest error bar at that time (it sat on the control cap), with a key
    at = table[table["time_min"] == times[2]].groupby("group")["glucose_mg_dl"]
    assert stars[0].get_position()[1] == pytest.approx((at.mean() + at.sem()).max())
    key = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "per_time_key"]
    assert key == ["* p < 0.05\n** p < 0.01\n*** p < 0.001"]
    frame = stats.to_frame().set_index(["quantity", "group"])
    assert frame.loc[("glucose_mg_dl", f"{times[2]:g}min/control_vs_inhibit"),
                     "p_value"] == 0.0005


def test_long_test_name_is_shortened_over_the_bracket_not_lost():
    # the full name of the stress-test endpoint test ran across the neighbouring panels of
    # figure 7; the bracket keeps the name without its qualifiers and the p-value
    _, endpoints = make_stress()
    long = {"test": "Mann-Whitney U, two-sided (normal approximation, tie-corrected)",
            "statistic": 30.0, "p_value": 0.0048}
    ax = plot_stress_endpoint(endpoints, "distance_m", test=long)
    assert [t.get_text() for t in ax.texts] == ["Mann-Whitney U, p = 0.0048"]
    ax = plot_stress_endpoint(endpoints, "distance_m", test={"test": "", "p_value": 0.2})
    assert [t.get_text() for t in ax.texts] == ["p = 0.2"]
    ax = plot_stress_endpoint(endpoints, "distance_m", test=None)
    assert len(ax.texts) == 0

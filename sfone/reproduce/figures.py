"""The figures of ``sfone reproduce``: one :class:`FigureSpec` per figure, in one list.

Each spec names the figure's number, its file stem, the analysis stage whose result it draws and
``build(data, stats) -> FigureOutput`` (the Figure and its caption). Adding a figure is one
entry in :data:`FIGURE_SPECS` (plus its ``figure_*`` function in :mod:`sfone.figures`).
Tests come from :mod:`sfone.stats`; figures only draw the results they are given, and
captions state what is shown, n, the test and what the error bars are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FigureSpec", "FigureOutput", "FIGURE_SPECS", "spec_for"]


@dataclass(frozen=True)
class FigureOutput:
    """A drawn figure and its caption.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    caption : str
        Caption shown in the report.
    warnings : tuple of str, default ()
        Warnings the report shows next to the figure (e.g. the sensitivity check of figures
        1 and 4).
    """
    figure: object  # matplotlib Figure
    caption: str
    warnings: tuple = ()


@dataclass(frozen=True)
class FigureSpec:
    """One figure of ``sfone reproduce``.

    ``build(stage_result, stats, figure_id)`` draws it and records its numbers in ``stats`` under
    ``figure_id`` (``"fig<number>"``, the only place the number is given).

    Parameters
    ----------
    number : int
        Figure number.
    stem : str
        Output file stem (``<stem>.png``/``.pdf``).
    stage : str
        Pipeline stage whose result the figure needs (e.g. ``"imaging"``).
    title : str
        Title in the report.
    build : callable
        ``build(stage_result, stats, figure_id) -> FigureOutput``.
    """

    number: int
    stem: str
    stage: str
    title: str
    build: Callable[[object, object, str], FigureOutput]

    @property
    def figure_id(self) -> str:
        """``"fig<number>"``: the figure's key in ``stats.csv``."""
        return f"fig{self.number}"


def _p(result) -> str:
    from ..figures import format_p

    return format_p(result["p_value"])


def _test_text(result) -> str:
    if result is None:
        return "no test (too few mice or neurons for it)"
    if not np.isfinite(result["p_value"]) and "not computed" in result["test"]:
        return result["test"]
    return f"{result['test']}, {_p(result)}"


def _secondary_text(result) -> str:
    """:func:`_test_text` of a pooled-neuron test without its "Secondary, pooled neurons:"
    prefix (the caption already says it is secondary and why)."""
    if result is None:
        return _test_text(result)
    name = result["test"].removeprefix("Secondary, ").removeprefix("pooled neurons: ")
    return _test_text({**result, "test": name})


def _name(group) -> str:
    """A group or day as the figures name it ("Day 1", "Post-run inhibition (15 min)")."""
    from ..figures._style import display_name

    return display_name(group)


#: figure 7's endpoint columns (panel order) and their names in the caption
_ENDPOINT_NAMES = {"time_to_exhaustion_s": "time to exhaustion", "distance_m": "distance",
                   "max_speed_m_min": "maximum speed", "vo2max": "VO2max"}


def _n_mice(table, column="subject") -> int:
    return int(pd.Series(table[column]).nunique())


def _day_counts(data) -> str:
    """Per day, n tested neurons and mice (and how many ROIs were not tested)."""
    from ..classify import INSUFFICIENT_DATA

    classes = data.classes
    labels = np.asarray(classes["label"].values, dtype=str)
    parts = []
    for day in data.days:
        mask = np.asarray(classes["day"].values, dtype=str) == day
        mice = len(set(np.asarray(classes["subject"].values)[mask]))
        untested = int((mask & (labels == INSUFFICIENT_DATA)).sum())
        parts.append(f"{_name(day)}: n = {int(mask.sum()) - untested} neurons from {mice} "
                     f"{'mouse' if mice == 1 else 'mice'}"
                     + (f", {untested} more ROIs not tested (insufficient data)" if untested
                        else ""))
    return "; ".join(parts)


def _record_untested(data, stats, figure_id) -> None:
    """``n_rois_insufficient_data`` per day where some ROIs were not tested (the caption
    states them)."""
    from ..classify import INSUFFICIENT_DATA

    labels = np.asarray(data.classes["label"].values, dtype=str)
    for day in data.days:
        mask = np.asarray(data.classes["day"].values, dtype=str) == day
        untested = int((mask & (labels == INSUFFICIENT_DATA)).sum())
        if untested:
            stats.add(figure_id, "n_rois_insufficient_data", day, untested, n=untested)


def _sensitivity(data, stats, figure_id) -> tuple[str, tuple]:
    """The sensitivity check of the day comparison: its stats rows, a caption sentence and
    the report's warnings (empty when the sessions carry no estimates)."""
    tests = data.day_tests
    check = tests.get("sensitivity")
    if check is None:
        return "", ()
    from ..stats import SENSITIVITY_MIN_ARTEFACT, SENSITIVITY_SHARE, pooled_estimates

    days = tuple(data.days)
    pooled = pooled_estimates(data.fractions, order=days)
    first = pooled.drop_duplicates("group").set_index("group")
    for day in days:
        part = data.fractions[data.fractions["day"] == day]
        stats.add(figure_id, "power_x2_mean", day, first.loc[day, "power_x2"], n=len(part))
        stats.add(figure_id, "detectable_gain_80_median", day,
                  first.loc[day, "detectable_gain_80"], n=len(part))
    pair = "_vs_".join(days)
    n_mice = int(tests["estimate_comparison"].per_mouse["mouse"].nunique())
    stats.add(figure_id, "sensitivity_expected_artefact", pair, check["expected_artefact"],
              n=n_mice)
    stats.add(figure_id, "sensitivity_observed_labelled_difference", pair,
              check["observed_labelled_difference"], n=n_mice)
    rule = (f"sensitivity check: fires when |pooled estimate x (mean power_x2 {days[1]} - "
            f"{days[0]})| >= {SENSITIVITY_MIN_ARTEFACT:g} and >= {SENSITIVITY_SHARE:g} x "
            "|observed labelled difference|")
    if check["reason"]:
        stats.add(figure_id, "sensitivity_warning", pair, None, n=n_mice,
                  test=f"{rule}: not computed ({check['reason']})")
        return (f" Sensitivity not computed ({check['reason']}); the sensitivity check could "
                "not run."), ()
    stats.add(figure_id, "sensitivity_warning", pair, float(check["warn"]), n=n_mice,
              test=f"{rule}: {'FIRES: ' + check['message'] if check['warn'] else 'does not fire'}")
    power = "; ".join(f"{_name(d)}: {first.loc[d, 'power_x2']:.2f}" for d in days)
    gain = "; ".join(f"{_name(d)}: x{first.loc[d, 'detectable_gain_80']:.2f}" for d in days)
    text = (f" Sensitivity (each session's own noise): mean power to detect a doubling {power};"
            f" median gain detectable with 80 % power {gain}. Expected labelled difference from "
            f"sensitivity alone {check['expected_artefact']:+.3f} (observed "
            f"{check['observed_labelled_difference']:+.3f}): ")
    if check["warn"]:
        text += ("the sensitivity check fires (warning beside the figure): the labelled "
                 "fractions compare the recordings as much as the neurons; compare the "
                 "estimated fractions.")
        return text, (f"Sensitivity warning: {check['message']}",)
    return text + "the sensitivity check does not fire.", ()


def _segment_text(data, unit: str = "neuron") -> str:
    run, base = data.run_lag_s, data.baseline_lag_s
    return (f"Time 0 is the end of the run; the grey band ({run[0] / 60:g} to {run[1] / 60:g} min) "
            f"is the run itself and the hatched band ({base[0] / 60:g} to {base[1] / 60:g} min) "
            f"the pre-run baseline. Values are z-scores of dF/F relative to each {unit}'s pre-run "
            "baseline (mean and SD over the baseline window), averaged over runs")


def _fig1(data, stats, figure_id):
    from ..figures import figure_class_proportions

    tests = data.day_tests
    estimates = data.fractions if "estimate" in tests else None
    stats.add_test(figure_id, "fisher_activated_vs_not", "_vs_".join(data.days),
                   tests["pooled_fisher"], n=tests["n"])
    fig = figure_class_proportions(data.classes, order=data.days, test=tests["mouse"],
                                   secondary=tests["pooled_chi2"], estimates=estimates,
                                   estimate_test=tests.get("estimate"), stats=stats,
                                   figure_id=figure_id)
    _record_untested(data, stats, figure_id)
    panel = "(a) " if estimates is not None else ""
    caption = (f"{panel}Fraction of neurons labelled post-run activated, inhibited or unchanged "
               f"on {_name(data.days[0])} and {_name(data.days[1])} ({_day_counts(data)}). "
               f"Stacked bars are pooled neuron fractions (95 % Wilson intervals in stats.csv). "
               f"Test (mice as the unit): {_test_text(tests['mouse'])}. Secondary tests, pooling "
               f"neurons across mice (pseudo-replication, shown for comparison only): "
               f"{_secondary_text(tests['pooled_chi2'])}; "
               f"{_secondary_text(tests['pooled_fisher'])}.")
    warnings = ()
    if estimates is not None:
        n_sessions = len(estimates)
        caption += (" (b) Labelled (bars) and estimated (diamonds) fractions of activated and "
                    "inhibited neurons per day: the estimate is the fraction that responds "
                    "whatever each session could detect (the central count of its neurons' "
                    "signed z; docs/classification.md), its whiskers the 95 % interval "
                    f"combined from the {n_sessions} sessions' bootstrap intervals (neuron "
                    "sampling only); the sessions are pooled by tested neurons. Test on the "
                    f"estimates (mice as the unit): {_test_text(tests['estimate'])}.")
        text, warnings = _sensitivity(data, stats, figure_id)
        caption += text
    return FigureOutput(fig, caption, warnings)


def _fig2(data, stats, figure_id):
    from ..figures import figure_perirun_heatmaps

    fig = figure_perirun_heatmaps(data.traces, data.classes, days=data.days, stats=stats,
                                  segments=data.segments, figure_id=figure_id)
    caption = (f"Peri-run activity of every neuron ({_day_counts(data)}), one row per neuron, "
               f"sorted by post-run class then by effect size; one colour scale for both days. "
               f"{_segment_text(data)}.")
    return FigureOutput(fig, caption)


def _fig3(data, stats, figure_id):
    from ..figures import figure_class_traces

    tests = data.day_tests
    magnitude = tests["magnitude"]
    if tests.get("magnitude_pooled") is not None:
        stats.add_test(figure_id, "mean_effect_activated_pooled", "_vs_".join(data.days),
                       tests["magnitude_pooled"], n=tests["magnitude_pooled"]["n_cells"])
    fig = figure_class_traces(data.traces, data.classes, days=data.days,
                              post_window_s=(0.0, data.post_window_s[1]), test=magnitude,
                              stats=stats, segments=data.segments, figure_id=figure_id)
    secondary = tests.get("magnitude_pooled")
    caption = (f"Mean peri-run trace of each post-run class ({_day_counts(data)}). Lines: mean "
               f"across neurons; shaded error bands: SEM across neurons. {_segment_text(data)}. "
               f"Activated neurons' effect, {_name(data.days[1])} vs {_name(data.days[0])} "
               f"(mouse means): {_test_text(magnitude) if magnitude else 'no test across mice'}"
               + (f"; secondary test, pooling neurons across mice (pseudo-replication): "
                  f"{_secondary_text(secondary)}" if secondary else "")
               + ".")
    return FigureOutput(fig, caption)


def _fig4(data, stats, figure_id):
    from ..figures import figure_fraction_activated_paired

    tests = data.day_tests
    estimated = "estimate" in tests
    fig = figure_fraction_activated_paired(data.fractions, order=data.days, test=tests["mouse"],
                                           secondary=tests["pooled_fisher"],
                                           estimate_test=tests.get("estimate"), stats=stats,
                                           figure_id=figure_id)
    from ..figures._summary import group_summary

    n = _n_mice(data.fractions)
    test = f"Test: {_test_text(tests['mouse'])}." if tests["mouse"] else "No test across mice."

    def sem_text(column):
        sem = group_summary(data.fractions, column, "day", order=data.days)["sem"]
        return "; ".join(f"{_name(d)}: {sem[d]:.2g}" for d in data.days if d in sem.index)

    caption = (f"{'(a) ' if estimated else ''}Fraction of each mouse's neurons labelled "
               f"post-run activated on {_name(data.days[0])} and {_name(data.days[1])} (n = {n} "
               f"mice; open circles: mice, lines join a mouse's days). Black horizontal lines: "
               f"mean across mice; whiskers: SEM ({sem_text('fraction')}; a whisker shorter "
               f"than the line's width does not show). {test}")
    warnings = ()
    if estimated:
        caption += (" (b) The same mice's estimated fractions of activated neurons (the "
                    "fraction that responds whatever the session could detect; "
                    "docs/classification.md), on the scale of (a); grey whiskers: each "
                    "session's 95 % bootstrap interval; black: mean ± SEM across mice "
                    f"({sem_text('fraction_activated_estimate')}). Test on the estimates "
                    f"(mice as the unit): {_test_text(tests['estimate'])}.")
        text, warnings = _sensitivity(data, stats, figure_id)
        caption += text
    return FigureOutput(fig, caption, warnings)


def _fig5(data, stats, figure_id):
    from ..figures import figure_bdnf
    from ..stats import pairwise_tests

    counts = data.bdnf_counts.copy()
    counts["fraction"] = counts["n_bdnf_sf1"] / counts["n_sf1"]
    regions = list(pd.unique(counts["region"]))
    per_region = {}
    for region in regions:
        part = counts[counts["region"] == region]
        per_region[region] = pairwise_tests(part, "fraction", "condition",
                                            [("one_run", "sedentary")])[0]
    adjusted = _holm_family(per_region, f"{len(regions)} regions")
    fig = figure_bdnf(data.bdnf_counts, summary="mean", tests=adjusted, stats=stats,
                      figure_id=figure_id)
    n = {c: _n_mice(counts[counts["condition"] == c]) for c in pd.unique(counts["condition"])}
    caption = (f"Bdnf-positive fraction of SF1 neurons per VMH subregion, sedentary "
               f"(n = {n.get('sedentary', 0)} mice) vs one run (n = {n.get('one_run', 0)} mice). "
               "Bars: mean of the per-mouse fractions; points: mice. Test per region: Welch "
               f"t-test on the per-mouse fractions, Holm-corrected over the {len(regions)} "
               "regions (" + "; ".join(f"{r}: {_p(t)}" for r, t in adjusted.items()) + ").")
    return FigureOutput(fig, caption)


def _holm_family(results: dict, family: str) -> dict:
    """Holm-correct a family of single tests given as {name: result}; keeps raw p as well."""
    from ..stats import holm

    names = list(results)
    raw = [results[n].get("p_uncorrected", results[n]["p_value"]) for n in names]
    adjusted = holm(raw)
    base = {n: results[n]["test"].split(", Holm")[0] for n in names}
    return {n: {**results[n], "test": f"{base[n]}, Holm over {family}", "p_uncorrected": r,
                "p_value": float(p)} for n, r, p in zip(names, raw, adjusted, strict=True)}


def _fig6(data, stats, figure_id):
    from ..calorimetry.stress import endpoint_tests  # the test `calorimetry stress-test` uses
    from ..figures import figure_stress_test

    order = data.groups
    tests = endpoint_tests(data.endpoints, ("vo2max", "crossover_speed_m_min"), order)
    vo2 = {**tests["vo2max"], "test": f"VO2max, {tests['vo2max']['test']}"}
    crossover = tests["crossover_speed_m_min"]
    rer = {**crossover, "test": f"RER-crossover speed, {crossover['test']}"}
    fig = figure_stress_test(data.timeseries, data.endpoints, order=order, vo2_test=vo2,
                             rer_test=rer, stats=stats, min_mice=data.min_mice,
                             figure_id=figure_id)
    n = {g: _n_mice(data.endpoints[data.endpoints["group"] == g]) for g in order}
    caption = (f"Graded treadmill stress test, {_name(order[0])} (n = {n[order[0]]} mice) vs "
               f"{_name(order[1])} (n = {n[order[1]]} mice). (a) VO2 and (b) RER against "
               "treadmill speed: points are mean ± SEM across the mice still running at that "
               "speed (each mouse's mean at that stage first; an SEM smaller than its point "
               "is hidden by it). Where fewer than all mice "
               "remain, the rows of numbers at the bottom of each panel (\"n =\", in the "
               "group's colour) give how many, under each speed; speeds reached by fewer than "
               f"{data.min_mice} of a group's mice are not drawn. Right of (a): each group's "
               "VO2max, mean ± SEM across mice (maximum speeds per mouse in figure 7); dashed "
               f"lines in (b): mean RER-crossover speed. Tests: {_test_text(vo2)}; "
               f"{_test_text(rer)}.")
    return FigureOutput(fig, caption)


def _fig7(data, stats, figure_id):
    from ..calorimetry.stress import endpoint_tests  # the test `calorimetry stress-test` uses
    from ..figures import figure_stress_endpoints

    order = data.groups
    columns = tuple(_ENDPOINT_NAMES)
    tests = endpoint_tests(data.endpoints, columns, order)
    fig = figure_stress_endpoints(data.endpoints, columns=columns, order=order, tests=tests,
                                  stats=stats, figure_id=figure_id)
    n = {g: _n_mice(data.endpoints[data.endpoints["group"] == g]) for g in order}
    caption = (f"Stress-test endpoints per mouse, {_name(order[0])} (n = {n[order[0]]} mice) "
               f"vs {_name(order[1])} (n = {n[order[1]]} mice): "
               f"{', '.join(list(_ENDPOINT_NAMES.values())[:-1])} and "
               f"{list(_ENDPOINT_NAMES.values())[-1]}. "
               "Points: mice; black bars: mean ± SEM across mice. Tests (the same as `sfone "
               "calorimetry stress-test --compare`): "
               + "; ".join(f"{_ENDPOINT_NAMES[c]}: {_test_text(t)}" for c, t in tests.items())
               + " (uncorrected; each endpoint is its own question).")
    return FigureOutput(fig, caption)


def _fig8(data, stats, figure_id):
    from ..experiment_tables import training_gain
    from ..figures import figure_endurance
    from ..stats import mixed_interaction, one_way_anova, pairwise_tests

    table = data.endurance
    gains = training_gain(table)
    groups = [g for g in data.endurance_groups if g in set(gains["group"])]
    interaction = mixed_interaction(table, "distance_m", "day", categorical_time=False)
    anova = one_way_anova(gains, "distance_gain_m")
    pairs = [(a, b) for i, a in enumerate(groups) for b in groups[i + 1:]]
    pairwise = pairwise_tests(gains, "distance_gain_m", "group", pairs)
    fig = figure_endurance(table, order=groups, test=interaction, gain_test=anova,
                           pairwise=pairwise, stats=stats, figure_id=figure_id)
    n = {g: _n_mice(gains[gains["group"] == g]) for g in groups}
    caption = ("Endurance training. (a) Distance run to exhaustion on each training day, mean ± "
               "SEM across mice per group (an SEM smaller than its point is hidden by it; "
               + ", ".join(f"{_name(g)}: n = {k}"
                                                           for g, k in n.items())
               + f" mice); {_test_text(interaction)} (linear mixed model with a random intercept "
               "per mouse). (b) Each mouse's gain from its first to its last day; points: mice, "
               f"black bars: mean ± SEM; {_test_text(anova)}; pairwise Welch t-tests, Holm-"
               f"corrected over {len(pairs)} pairs: "
               + "; ".join(f"{_name(a)} vs {_name(b)} {_p(t)}" for (a, b), t in
                           zip(pairs, pairwise, strict=True)) + ".")
    return FigureOutput(fig, caption)


def _fig9(data, stats, figure_id):
    from ..experiment_tables import glucose_iauc
    from ..figures import figure_glucose
    from ..figures._style import STARS_KEY
    from ..stats import mixed_interaction, pairwise_tests, welch_test

    table = data.glucose
    groups = [g for g in data.glucose_groups if g in set(table["group"])]
    interaction = mixed_interaction(table, "glucose_mg_dl", "time_min", categorical_time=True)
    auc = glucose_iauc(table)
    auc_test = welch_test(auc, "glucose_iauc", "group", groups[:2])
    times = sorted(pd.unique(table["time_min"]))
    per_time = {t: pairwise_tests(table[table["time_min"] == t], "glucose_mg_dl", "group",
                                  [tuple(groups[:2])])[0] for t in times}
    per_time = _holm_family(per_time, f"{len(times)} time points")
    fig = figure_glucose(table, order=groups, test=interaction, auc_test=auc_test,
                         per_time=per_time, stats=stats, figure_id=figure_id)
    n = {g: _n_mice(auc[auc["group"] == g]) for g in groups}
    significant = [f"{t:g} min ({_p(r)})" for t, r in per_time.items() if r["p_value"] < 0.05]
    caption = ("Blood glucose after the run. (a) Mean ± SEM across mice per group (an SEM "
               "smaller than its point is hidden by it; "
               + ", ".join(f"{_name(g)}: n = {k} mice" for g, k in n.items())
               + f"); {_test_text(interaction)} (linear mixed model, random intercept per "
               f"mouse). Asterisks: time points where the groups differ, by a Welch t-test at "
               f"each time point, Holm-corrected over {len(times)} time points; {STARS_KEY} "
               "(corrected p; key in the panel). p < 0.05 at "
               + (", ".join(significant) or "none") + ". (b) Incremental area under each "
               "mouse's curve above its first sample; points: mice, black bars: mean ± SEM; "
               f"{_test_text(auc_test)}.")
    return FigureOutput(fig, caption)


def _clock(hours: float) -> str:
    minutes = round(float(hours) * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fig10(data, stats, figure_id):
    from ..figures import figure_metabolic

    fig = figure_metabolic(data.dataset, data.is_dark, data.ancova, time_unit="zt",
                           lights_on=data.light[0], stats=stats, figure_id=figure_id)
    groups = data.dataset["group"].values
    n = pd.Series(groups).value_counts()
    caption = ("Indirect calorimetry in metabolic cages (" + ", ".join(
        f"{_name(g)}: n = {k} mice" for g, k in n.items()) + "). (a) Energy expenditure and "
        "(b) RER over the recording, mean across mice per group with SEM bands, against "
        f"zeitgeber time (hours from lights on: ZT0 = {_clock(data.light[0])}); grey shading "
        f"marks the dark phase (lights on {_clock(data.light[0])}-{_clock(data.light[1])}). "
        "(c) ANCOVA of full-day energy expenditure on body mass; points: each mouse's mean "
        "energy expenditure over the recording; lines through each group's adjusted mean at "
        "the mean body mass (dotted line; error bars: SE of the adjusted mean); "
        f"{_test_text(data.ancova)}.")
    return FigureOutput(fig, caption)


def _fig11(data, stats, figure_id):
    """Tracked cells' class transitions; None when no mouse could be tracked."""
    import warnings

    from ..exceptions import DataRepairWarning, QualityWarning
    from ..figures import figure_tracked_transitions
    from ..tracking.cohort import track_cohort

    with warnings.catch_warnings():  # the files were read, and their warnings shown, for the
        warnings.simplefilter("ignore", QualityWarning)  # labels; track_cohort still turns a
        warnings.simplefilter("ignore", DataRepairWarning)  # tracking QualityWarning into a skip
        tracked = track_cohort(list(data.sessions), data.classes)
    if tracked is None:
        return None
    fig = figure_tracked_transitions(tracked, days=data.days, stats=stats, figure_id=figure_id)
    n_cells = int(np.asarray(tracked["pooled"]).sum())
    caption = (f"Post-run class on {_name(data.days[0])} (rows) against {_name(data.days[1])} "
               f"(columns) of the same neurons, tracked across days (n = {n_cells} tracked "
               f"neurons from {len(tracked['tables'])} "
               f"{'mouse' if len(tracked['tables']) == 1 else 'mice'}, pooled). Cells: number of neurons "
               "and share of the row. Tests per mouse: McNemar on "
               "'activated' (primary; pooling neurons across mice is pseudo-replication).")
    return FigureOutput(fig, caption)


def _photometry_counts(data) -> str:
    classes = data.classes
    values = np.asarray(classes[data.by].values, dtype=str)
    parts = []
    for level in data.levels:
        mask = values == level
        mice = len(set(np.asarray(classes["subject"].values)[mask]))
        parts.append(f"{level}: n = {mice} {'mouse' if mice == 1 else 'mice'}, "
                     f"{int(mask.sum())} recording{'s' if mask.sum() != 1 else ''}")
    return "; ".join(parts)


def _fig12(data, stats, figure_id):
    from ..figures.photometry import figure_photometry_traces

    fig = figure_photometry_traces(data.traces, by=data.by, order=data.levels,
                                   segments=data.segments, post_window_s=data.post_window_s,
                                   stats=stats, figure_id=figure_id)
    caption = (f"Fiber photometry around the run, per {data.by} ({_photometry_counts(data)}). "
               "Each recording's signal is dF/F (control fitted as `sfone photometry dff`); a "
               f"mouse's recordings of one {data.by} are averaged, then lines show the mean and "
               "bands the SEM across mice (no band for one mouse). "
               f"{_segment_text(data, 'recording')}.")
    return FigureOutput(fig, caption)


def _fig13(data, stats, figure_id):
    from ..figures.photometry import figure_photometry_responses

    test = data.response_test
    fig = figure_photometry_responses(data.responses, by=data.by, order=data.levels,
                                      test=test, stats=stats, figure_id=figure_id)
    responses = data.responses
    activated = ", ".join(
        f"{level}: {int((part['label'] == 'activated').sum())} of {len(part)}"
        for level, part in responses.groupby(data.by, observed=True, sort=False))
    compared = " vs ".join(data.compared)
    caption = (f"Each mouse's post-run photometry response per {data.by} "
               f"({_photometry_counts(data)}): the classifier's effect (post-run vs pre-run "
               "baseline, in baseline SDs), averaged over a mouse's recordings; colour: its "
               "post-run label (mice labelled activated: " + activated + "). Black markers: "
               f"mean ± SEM across mice. Test ({compared}, mice as the unit): "
               f"{_test_text(test)}.")
    return FigureOutput(fig, caption)


#: Every figure of ``sfone reproduce``, in report order.
FIGURE_SPECS = (
    FigureSpec(1, "fig1_class_proportions", "imaging", "Post-run classes per day", _fig1),
    FigureSpec(2, "fig2_perirun_heatmaps", "imaging", "Peri-run heatmaps", _fig2),
    FigureSpec(3, "fig3_class_traces", "imaging", "Mean trace per class", _fig3),
    FigureSpec(4, "fig4_fraction_activated_per_mouse", "imaging",
               "Fraction activated per mouse", _fig4),
    FigureSpec(5, "fig5_bdnf_sf1", "bdnf", "Bdnf+ SF1 neurons after one run", _fig5),
    FigureSpec(6, "fig6_stress_test", "stress test", "Stress test: VO2 and RER vs speed", _fig6),
    FigureSpec(7, "fig7_stress_endpoints", "stress test", "Stress-test endpoints", _fig7),
    FigureSpec(8, "fig8_endurance_training", "endurance", "Endurance training", _fig8),
    FigureSpec(9, "fig9_post_exercise_glucose", "glucose", "Post-exercise glucose", _fig9),
    FigureSpec(10, "fig10_metabolic_cage", "metabolic cage", "Metabolic cages", _fig10),
    FigureSpec(11, "fig11_tracked_transitions", "imaging", "Tracked neurons' class transitions",
               _fig11),
    FigureSpec(12, "fig12_photometry_traces", "photometry",
               "Photometry: post-run traces per group", _fig12),
    FigureSpec(13, "fig13_photometry_responses", "photometry",
               "Photometry: per-mouse post-run responses", _fig13),
)


def spec_for(number: int) -> FigureSpec:
    """The spec of figure ``number``.

    Parameters
    ----------
    number : int
        Figure number.

    Returns
    -------
    FigureSpec

    Raises
    ------
    KeyError
        If no figure has that number (the message lists the numbers).
    """
    for spec in FIGURE_SPECS:
        if spec.number == number:
            return spec
    raise KeyError(f"no figure {number}; figures are {[s.number for s in FIGURE_SPECS]}")

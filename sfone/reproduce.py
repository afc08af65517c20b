"""``sfone reproduce``: rebuild every figure of the paper's comparisons from raw sample files.

Nothing is precomputed or cached: every run reads the raw files in ``data_dir`` (the layout of
``data_samples/``, see its README), computes dF/F, labels, statistics and calorimetry endpoints,
and writes into ``out_dir``:

* ``figures/figN_*.png|svg|pdf`` (300 dpi), ``stats.csv`` (every number a figure shows),
  ``labels.csv`` (one row per ROI), ``report.html`` (self-contained).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats as sps

from . import __version__
from ._atomic import atomic_path
from ._logging import logger, progress

__all__ = ["reproduce", "ReproduceResult", "analyse_imaging_cohort", "welch_test", "mann_whitney",
           "mixed_interaction"]

PERIRUN_WINDOW_S = (-300.0, 900.0)  # from 5 min before run end (the run) to 15 min after
PERIRUN_BIN_S = 10.0  # display bins of the peri-run traces (classification uses every frame)
STAGES = ("imaging cohort", "stress test", "training, glucose and Bdnf", "metabolic cage",
          "report")


@dataclass
class ImagingResult:
    classes: xr.Dataset      # per ROI: label, effect, p/q values; coords day, subject, session
    traces: xr.DataArray     # (roi, trial, lag) z-scored dF/F around run end
    fractions: pd.DataFrame  # subject, day, n_rois, n_activated, fraction
    parameters: dict


@dataclass
class ReproduceResult:
    out_dir: Path
    figures: dict[str, list[Path]] = field(default_factory=dict)
    stats_csv: Path | None = None
    labels_csv: Path | None = None
    report: Path | None = None


def welch_test(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Welch's t-test of ``value`` between the two groups ``order`` (one row per mouse)."""
    a, b = (table.loc[table[group] == g, value].dropna().to_numpy(float) for g in order)
    result = sps.ttest_ind(a, b, equal_var=False)
    return {"test": "Welch t-test", "statistic": float(result.statistic),
            "p_value": float(result.pvalue)}


def mann_whitney(table: pd.DataFrame, value: str, group: str, order) -> dict:
    """Two-sided Mann-Whitney U of ``value`` between two groups: for values quantised by the
    protocol (speeds come in stage steps), where a t-test's variance estimate is meaningless."""
    a, b = (table.loc[table[group] == g, value].dropna().to_numpy(float) for g in order)
    result = sps.mannwhitneyu(a, b, alternative="two-sided")
    return {"test": "Mann-Whitney U", "statistic": float(result.statistic),
            "p_value": float(result.pvalue)}


def mixed_interaction(table: pd.DataFrame, value: str, time: str, *, categorical_time: bool
                      ) -> dict:
    """Group x time interaction in a linear mixed model with a random intercept per mouse
    (statsmodels MixedLM, REML): Wald chi-square test of all interaction terms."""
    import statsmodels.formula.api as smf

    term = f"C({time})" if categorical_time else time
    fit = smf.mixedlm(f"{value} ~ C(group) * {term}", table, groups=table["subject"]).fit()
    row = fit.wald_test_terms(scalar=True).table.loc[f"C(group):{term}"]
    return {"test": "mixed model, group x time (Wald chi2)", "statistic": float(row["statistic"]),
            "p_value": float(row["pvalue"])}


def _anova(table: pd.DataFrame, value: str, group: str = "group") -> dict:
    samples = [part[value].to_numpy(float) for _, part in table.groupby(group, sort=True)]
    result = sps.f_oneway(*samples)
    return {"test": "one-way ANOVA", "statistic": float(result.statistic),
            "p_value": float(result.pvalue)}


def _session_outputs(session):
    """dF/F against the pre-run baseline, labels and z-scored peri-run traces of one session."""
    from .classify import label_responses
    from .events import as_epochs, prerun_window
    from .imaging import compute_dff, zscore
    from .io import read
    from .perievent import compute_perievent
    from .protocols import load_protocol

    ds = read(session.path)
    epochs = as_epochs(session.runs, recording=ds)
    protocol = load_protocol(session.protocol)
    baseline = prerun_window(epochs, protocol.baseline_s)
    # a fixed pre-run F0: rolling baselines would absorb sustained post-run activity
    dff = compute_dff(ds, baseline="window", baseline_window=baseline)
    labels = label_responses(ds.assign(dff=dff), epochs, protocol=protocol, variable="dff")
    traces = compute_perievent(zscore(dff, baseline=baseline), epochs, align="end",
                               window=PERIRUN_WINDOW_S, bin_s=PERIRUN_BIN_S)
    return labels, traces, protocol


def analyse_imaging_cohort(cohort_dir) -> ImagingResult:
    """Label every ROI of every session listed in ``cohort_dir/manifest.csv``."""
    from .cohort import load_manifest

    sessions = load_manifest(Path(cohort_dir) / "manifest.csv")
    labels, traces, rows, protocol = [], [], [], None
    for session in progress(sessions, desc="imaging sessions", unit="session"):
        lab, tr, protocol = _session_outputs(session)
        n = lab.sizes["roi"]
        extra = {"subject": ("roi", [session.subject] * n), "day": ("roi", [session.session] * n),
                 "roi_in_session": ("roi", lab["roi"].values)}
        labels.append(lab.assign_coords(extra).drop_vars("roi"))
        traces.append(tr.assign_coords(extra).drop_vars("roi"))
        n_act = int((lab["label"].values == "activated").sum())
        rows.append({"subject": session.subject, "day": session.session, "n_rois": n,
                     "n_activated": n_act, "fraction": n_act / n})
    classes = xr.concat(labels, dim="roi", combine_attrs="drop_conflicts")
    classes = classes.assign_coords(roi=np.arange(classes.sizes["roi"]))
    trace = xr.concat(traces, dim="roi", combine_attrs="drop_conflicts")
    trace = trace.assign_coords(roi=classes["roi"].values)
    parameters = {"classification protocol": protocol.model_dump() if protocol else {},
                  "dF/F": "(Fc - F0) / F0, Fc = F - c*Fneu, F0 = median over the pre-run baseline",
                  "peri-run window (s from run end)": list(PERIRUN_WINDOW_S),
                  "peri-run display bin (s)": PERIRUN_BIN_S}
    return ImagingResult(classes, trace, pd.DataFrame(rows), parameters)


def _imaging_figures(result: ImagingResult, stats) -> dict:
    from .figures import (
        figure_class_proportions,
        figure_class_traces,
        figure_fraction_activated_paired,
        figure_perirun_heatmaps,
    )
    from .stats import cohort_day_tests

    classes = result.classes
    tests = cohort_day_tests(classes, days=("day1", "day8"))  # mouse-level headline + pooled
    n_rois = classes.sizes["roi"]
    stats.add_test("fig1", "fisher_activated_vs_not", "day1_vs_day8", tests["pooled_fisher"],
                   n=n_rois)
    pooled = tests.get("magnitude_pooled")
    stats.add_test("fig3", "mean_effect_activated_pooled", "day1_vs_day8", pooled,
                   n=None if pooled is None else pooled["n_cells"])
    return {
        1: figure_class_proportions(classes, test=tests["mouse"], secondary=tests["pooled_chi2"],
                                    stats=stats),
        2: figure_perirun_heatmaps(result.traces, classes, stats=stats),
        3: figure_class_traces(result.traces, classes, post_window_s=(0.0, 900.0),
                               test=tests["magnitude"], stats=stats),
        4: figure_fraction_activated_paired(result.fractions, test=tests["mouse"],
                                            secondary=tests["pooled_fisher"], stats=stats),
    }


def _stress_tables(cohort_dir):
    from .calorimetry import read_many, stress_test_endpoints
    from .cohort import load_manifest
    from .protocols import load_protocol

    sessions = load_manifest(Path(cohort_dir) / "manifest.csv")
    ds = read_many([s.path for s in sessions])
    protocol = load_protocol(sessions[0].protocol or "stress_test")
    endpoints = stress_test_endpoints(ds, protocol)
    endpoints["vo2max"] = endpoints["vo2max_ml_kg_h"] / 60.0  # mL/kg/min, as plotted
    mass_kg = ds["body_mass"] / 1000.0
    series = xr.Dataset({"speed_m_min": ds["speed"], "rer": ds["rer"],
                         "vo2_ml_kg_min": ds["vo2"] / mass_kg / 60.0})
    timeseries = series.to_dataframe().reset_index().rename(columns={"time": "time_s"})
    timeseries = timeseries.dropna(subset=["vo2_ml_kg_min"])
    timeseries["group"] = ds["group"].to_series().reindex(timeseries["subject"]).to_numpy()
    return timeseries, endpoints, protocol


def _stress_figures(cohort_dir, stats) -> dict:
    from .figures import figure_stress_endpoints, figure_stress_test

    timeseries, endpoints, _ = _stress_tables(cohort_dir)
    order = ("control", "silenced")
    columns = ("time_to_exhaustion_s", "distance_m", "max_speed_m_min", "vo2max")
    from .calorimetry.stress import endpoint_tests  # the test `calorimetry stress-test` uses

    tests = endpoint_tests(endpoints, (*columns, "crossover_speed_m_min"), order)
    crossover = tests.pop("crossover_speed_m_min")
    vo2_test = {**tests["vo2max"], "test": f"VO2max, {tests['vo2max']['test']}"}
    return {6: figure_stress_test(timeseries, endpoints, order=order, vo2_test=vo2_test,
                                  rer_test={**crossover,
                                            "test": f"RER-crossover speed, {crossover['test']}"},
                                  stats=stats),
            7: figure_stress_endpoints(endpoints, columns=columns, order=order, tests=tests,
                                       stats=stats)}


def _table_figures(tables_dir, stats) -> dict:
    from .figures import figure_bdnf, figure_endurance, figure_glucose, glucose_iauc, training_gain

    tables_dir = Path(tables_dir)
    endurance = pd.read_csv(tables_dir / "endurance_training.csv")
    gains = training_gain(endurance)
    glucose = pd.read_csv(tables_dir / "post_exercise_glucose.csv")
    iauc = glucose_iauc(glucose)
    counts = pd.read_csv(tables_dir / "bdnf_counts.csv")
    counts["fraction"] = counts["n_bdnf_sf1"] / counts["n_sf1"]
    bdnf_tests = {region: welch_test(part, "fraction", "condition", ("one_run", "sedentary"))
                  for region, part in counts.groupby("region")}
    return {
        5: figure_bdnf(counts.drop(columns="fraction"), summary="mean", tests=bdnf_tests,
                       stats=stats),
        8: figure_endurance(endurance, test=mixed_interaction(endurance, "distance_m", "day",
                                                              categorical_time=False),
                            gain_test=_anova(gains, "distance_gain_m"), stats=stats),
        9: figure_glucose(glucose, test=mixed_interaction(glucose, "glucose_mg_dl", "time_min",
                                                         categorical_time=True),
                          auc_test=welch_test(iauc, "glucose_iauc", "group",
                                              ("control", "inhibit")), stats=stats),
    }


def _ancova_for_figure(result) -> dict:
    """The figure's ANCOVA dict: each group's line through its adjusted mean at the mean mass,
    with the slope of the model the ANCOVA selected."""
    groups = {}
    for row in result.adjusted_means.itertuples():
        slope = result.slopes[str(row.group)]
        adjusted = float(row.adjusted_mean)
        groups[str(row.group)] = {"slope": slope,
                                  "intercept": adjusted - slope * result.covariate_mean,
                                  "adjusted_mean": adjusted, "adjusted_sem": float(row.se)}
    return {"groups": groups, "mean_body_mass": float(result.covariate_mean),
            "test": "ANCOVA (group | body mass)", "statistic": np.nan,
            "p_value": float(result.p_group)}


def _metabolic_figure(data_dir, stats) -> dict:
    from .calorimetry import ancova, is_light, summarize_periods
    from .figures import figure_metabolic
    from .io import read

    data_dir = Path(data_dir)
    session_path = data_dir / "tables" / "calr_session_promethion.csv"
    ds = read(data_dir / "calorimetry_promethion_macro.csv")
    summary = summarize_periods(ds, session_path)
    groups = summary.drop_duplicates("subject").set_index("subject")["group"]
    ds = ds.assign_coords(group=("subject", groups.reindex(ds["subject"].values).to_numpy()))
    full_day = summary[summary["period"] == "full_day"]
    result = ancova(full_day, response="ee_kcal_h", covariate="total_mass")
    from .io.calorimetry.calr import read_calr_session

    light = read_calr_session(session_path).light
    stamps = pd.to_datetime(ds["datetime"].values[0])
    is_dark = xr.DataArray(~np.asarray(is_light(stamps, light=light)), dims="time",
                           coords={"time": ds["time"].values})
    return {10: figure_metabolic(ds, is_dark, _ancova_for_figure(result),
                                 stats=stats)}


def _write_labels(classes: xr.Dataset, path: Path) -> Path:
    table = classes.reset_coords().to_dataframe().reset_index()
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return path


def reproduce(data_dir="data_samples", out_dir="figures") -> ReproduceResult:
    """Run the whole pipeline on ``data_dir`` and write figures, stats.csv and report.html."""
    import matplotlib.pyplot as plt

    from .figures import FIGURES, save_figure
    from .report import StatsTable, write_report_html

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not (data_dir / "imaging_cohort" / "manifest.csv").is_file():
        raise FileNotFoundError(f"{data_dir}: expected the sample layout (imaging_cohort/"
                                "manifest.csv ...); regenerate it with `sfone samples DIR`")
    out_dir.mkdir(parents=True, exist_ok=True)
    stats, figures, result = StatsTable(), {}, ReproduceResult(out_dir)
    bar = progress(STAGES, desc="reproduce", unit="stage")
    imaging = None
    for stage in bar:
        logger.info("reproduce: %s", stage)
        if stage == "imaging cohort":
            imaging = analyse_imaging_cohort(data_dir / "imaging_cohort")
            figures.update(_imaging_figures(imaging, stats))
        elif stage == "stress test":
            figures.update(_stress_figures(data_dir / "stress_test_cohort", stats))
        elif stage == "training, glucose and Bdnf":
            figures.update(_table_figures(data_dir / "tables", stats))
        elif stage == "metabolic cage":
            figures.update(_metabolic_figure(data_dir, stats))
    pngs = {}
    for number in sorted(figures):
        stem, _ = FIGURES[number]
        paths = save_figure(figures[number], out_dir / "figures" / stem)
        plt.close(figures[number])
        result.figures[stem] = paths
        pngs[stem.replace("_", " ")] = next(p for p in paths if p.suffix == ".png")
    # tracked cells' class transitions, when the cohort's sessions share a field per mouse
    from .cohort import load_manifest
    from .tracking.cohort import figure_tracked_transitions, track_cohort

    tracked = track_cohort(load_manifest(data_dir / "imaging_cohort" / "manifest.csv"),
                           imaging.classes)
    if tracked is not None:
        figure = figure_tracked_transitions(tracked, stats=stats)
        paths = save_figure(figure, out_dir / "figures" / "fig11_tracked_transitions")
        plt.close(figure)
        result.figures["fig11_tracked_transitions"] = paths
        pngs["fig11 tracked transitions"] = next(p for p in paths if p.suffix == ".png")
    result.stats_csv = stats.write(out_dir / "stats.csv")
    result.labels_csv = _write_labels(imaging.classes, out_dir / "labels.csv")
    tables = {"stats.csv": stats.to_frame(),
              "per-mouse fraction activated": imaging.fractions}
    result.report = write_report_html(out_dir, pngs, tables, imaging.parameters, __version__)
    return result

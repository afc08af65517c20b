"""The analysis stages of ``sfone reproduce``: a study's raw inputs -> the data its figures draw.

One function per stage (:data:`STAGES`): :func:`analyse_imaging` reads every imaging session,
computes dF/F and post-run labels and collects the peri-run traces; :func:`analyse_stress_test`
gives the stress-test endpoints and per-sample VO2/RER; :func:`read_table` reads an experiment
table; :func:`analyse_metabolic` summarises the metabolic cages with their ANCOVA. Nothing is
drawn here (see :mod:`sfone.reproduce.figures`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._logging import logger
from ..exceptions import SfoneError

__all__ = ["STAGES", "ImagingResult", "analyse_imaging"]

PERIRUN_BIN_S = 10.0  # display bins of the peri-run traces (classification uses every frame)


# --- imaging ----------------------------------------------------------------------------------

@dataclass
class ImagingResult:
    """The imaging stage of :func:`reproduce`: labels, peri-run traces and per-mouse fractions.

    Parameters
    ----------
    classes : xarray.Dataset
        Per ROI (all sessions): ``label``, ``effect``, p/q values; coordinates ``day``,
        ``subject``, ``session``, ``group``, ``roi_in_session``.
    traces : xarray.DataArray
        ``(roi, trial, lag)`` z-scored dF/F around the run end (lag in s).
    fractions : pandas.DataFrame
        One row per session: ``subject``, ``day``, ``n_rois``, ``n_activated``, ``fraction``.
    days : tuple of str
        The two days compared.
    run_lag_s : tuple of float
        The run, in s from the run end.
    baseline_lag_s : tuple of float
        The pre-run baseline, in s from the run end.
    post_window_s : tuple of float
        The post-run window, in s from the run end.
    parameters : dict
        Analysis parameters, as shown in the report.
    sessions : tuple of sfone.cohort.Session, default ()
        One per imaging session (ROI tracking, figure 11).
    evidence : tuple of (str, xarray.Dataset), default ()
        Per imaging session, its label (``subject/day``) and the data of its per-ROI evidence
        page (:func:`sfone.figures.evidence.prepare_evidence`).
    """
    classes: xr.Dataset      # per ROI: label, effect, p/q values; coords day, subject, session
    traces: xr.DataArray     # (roi, trial, lag) z-scored dF/F around run end
    fractions: pd.DataFrame  # subject, day, n_rois, n_activated, fraction
    days: tuple[str, str]
    run_lag_s: tuple[float, float]       # the run, in s from run end
    baseline_lag_s: tuple[float, float]  # the pre-run baseline, in s from run end
    post_window_s: tuple[float, float]
    parameters: dict
    sessions: tuple = ()  # sfone.cohort.Session per imaging session (ROI tracking, figure 11)
    evidence: tuple = ()  # (label, prepare_evidence Dataset) per session: the evidence pages

    @property
    def segments(self) -> dict:
        """``{"baseline": baseline_lag_s, "run": run_lag_s}`` (s from the run end), for the figures."""
        return {"baseline": self.baseline_lag_s, "run": self.run_lag_s}

    @functools.cached_property
    def day_tests(self) -> dict:
        """The day comparison of figures 1, 3 and 4 (:func:`sfone.stats.cohort_day_tests`:
        mouse-level headline and pooled secondary tests), computed once for all three."""
        from ..stats import cohort_day_tests

        return {**cohort_day_tests(self.classes, days=tuple(self.days)),
                "n": int(self.classes.sizes["roi"])}


def _session_epochs(entry, recording):
    from ..events import as_epochs, epochs_from_speed, epochs_from_ttl
    from ..io import read

    if entry.runs is not None:
        return as_epochs(entry.runs, recording=recording)
    name = "ttl" if entry.ttl is not None else "speed"
    source = getattr(entry, name)
    ds = read(source.path)
    if source.variable not in ds.variables:
        raise SfoneError(f"{entry.label}: {name} file {source.path} has no variable "
                         f"{source.variable!r}; it has {', '.join(map(str, ds.data_vars))}")
    trace = ds[source.variable]
    time_s = trace[trace.dims[-1]].values
    if name == "ttl":
        epochs = epochs_from_ttl(time_s, trace.values, threshold=source.threshold,
                                 min_duration_s=source.min_duration_s, source=source.path)
    else:
        epochs = epochs_from_speed(time_s, trace.values, threshold=source.threshold or 1.0,
                                   min_duration_s=source.min_duration_s, source=source.path)
    return as_epochs(epochs, recording=recording)


def imaging_session_outputs(entry, protocol_name, window_s):
    """Labels, z-scored peri-run traces (``window_s`` from run end) and the evidence-page data
    (:func:`sfone.figures.evidence.prepare_evidence`) of one imaging session.

    dF/F uses a fixed pre-run F0 (rolling baselines would absorb sustained post-run activity);
    the z-score reference is the same pre-run baseline window. Runs on a dask worker with
    ``--scheduler`` (``entry`` paths are absolute).
    """
    from ..classify import label_responses
    from ..events import prerun_window
    from ..imaging import compute_dff, zscore
    from ..io import read
    from ..perievent import compute_perievent
    from ..protocols import load_protocol

    ds = read(entry.path, format=entry.format)
    epochs = _session_epochs(entry, ds)
    protocol = load_protocol(protocol_name)
    baseline = prerun_window(epochs, protocol.baseline_s)
    dff = compute_dff(ds, baseline="window", baseline_window=baseline)
    from ..figures.evidence import prepare_evidence
    from ..perievent import trace_array

    labels = label_responses(ds.assign(dff=dff), epochs, protocol=protocol, variable="dff")
    traces = compute_perievent(zscore(dff, baseline=baseline), epochs, align="end",
                               window=window_s, bin_s=PERIRUN_BIN_S)
    evidence = prepare_evidence(labels, trace_array(dff), runs=epochs)
    return labels.drop_dims("bin", errors="ignore"), traces, evidence


def _resolved(study, entry):
    update = {"path": study.resolve(entry.path), "runs": study.resolve(entry.runs)}
    for name in ("ttl", "speed"):
        source = getattr(entry, name)
        if source is not None:
            update[name] = source.model_copy(update={"path": study.resolve(source.path)})
    return entry.model_copy(update=update)


def _protocol_ref(study, name):
    candidate = study.resolve(name)
    return candidate if candidate.exists() else name


def _run_duration_s(study, entry, protocol) -> float:
    if protocol.run_s is not None:
        return float(protocol.run_s[1] - protocol.run_s[0])
    from ..io import read

    epochs = _session_epochs(entry, read(entry.path, format=entry.format))
    return float(np.median(epochs["end"].values - epochs["start"].values))


def analyse_imaging(study, *, scheduler: str | None = None, workers: int | None = None
                    ) -> ImagingResult:
    """Label every ROI of every imaging session of ``study`` and collect the peri-run traces.

    The sessions run on a dask cluster when ``scheduler`` is an address.

    Parameters
    ----------
    study : Study
        A checked study with an ``imaging`` section.
    scheduler : str, optional
        Address of a dask scheduler; default: in this process, one session after the other.
    workers : int, optional
        Local worker processes for :func:`sfone.batch.map_on_cluster`.

    Returns
    -------
    ImagingResult
    """
    from ..protocols import load_protocol

    entries = [_resolved(study, e) for e in study.imaging.sessions]
    protocols = [_protocol_ref(study, e.protocol or study.imaging.protocol)
                 for e in study.imaging.sessions]
    main = load_protocol(protocols[0])
    run_s = _run_duration_s(study, entries[0], main)
    baseline_lag = (main.baseline_s[0] - run_s, main.baseline_s[1] - run_s)
    window = (min(baseline_lag[0], -run_s), float(main.post_run_s[1]))
    if scheduler:
        from ..batch import map_on_cluster

        outputs = map_on_cluster(imaging_session_outputs, entries, protocols,
                                 [window] * len(entries), scheduler=scheduler, workers=workers,
                                 desc="imaging sessions")
    else:
        outputs = []
        for i, (entry, protocol) in enumerate(zip(entries, protocols, strict=True)):
            logger.info("reproduce: imaging session %d/%d (%s)", i + 1, len(entries),
                        entry.label)
            outputs.append(imaging_session_outputs(entry, protocol, window))
    labels, traces, rows, evidence = [], [], [], []
    for entry, (lab, tr, ev) in zip(entries, outputs, strict=True):
        evidence.append((entry.label, ev))
        n = lab.sizes["roi"]
        extra = {"subject": ("roi", [entry.subject] * n), "day": ("roi", [entry.day] * n),
                 "group": ("roi", [entry.group or ""] * n),
                 "roi_in_session": ("roi", lab["roi"].values)}
        labels.append(lab.assign_coords(extra).drop_vars("roi"))
        traces.append(tr.assign_coords(extra).drop_vars("roi"))
        n_act = int((lab["label"].values == "activated").sum())
        rows.append({"subject": entry.subject, "day": entry.day, "n_rois": n,
                     "n_activated": n_act, "fraction": n_act / n})
    classes = xr.concat(labels, dim="roi", combine_attrs="drop_conflicts")
    classes = classes.assign_coords(roi=np.arange(classes.sizes["roi"]))
    trace = xr.concat(traces, dim="roi", combine_attrs="drop_conflicts")
    trace = trace.assign_coords(roi=classes["roi"].values)
    parameters = {
        "classification protocol": {str(p): load_protocol(p).model_dump(mode="json")
                                    for p in dict.fromkeys(protocols)},
        "dF/F": "(Fc - F0) / F0, Fc = F - c*Fneu, F0 = median over the pre-run baseline",
        "z-score reference": "each neuron's dF/F mean and SD over the pre-run baseline window",
        "peri-run window (s from run end)": list(window),
        "run segment (s from run end)": [-run_s, 0.0],
        "peri-run display bin (s)": PERIRUN_BIN_S,
        "days compared": list(study.days),
    }
    from ..cohort import Session

    # ROI tracking (figure 11): each mouse's two sessions, footprints from `footprints` or the
    # recording itself; a mouse whose days are not one field is skipped (logged)
    sessions = tuple(Session(path=Path(study.resolve(e.footprints) if e.footprints else e.path),
                             subject=e.subject, session=e.day) for e in entries)
    parameters["tracking"] = ("each mouse's two sessions tracked (rigid registration, same-cell "
                              "mixture model, P(same) >= 0.5; sfone.track defaults) where both "
                              "have footprints and show one field of view")
    return ImagingResult(classes, trace, pd.DataFrame(rows), tuple(study.days),
                         (-run_s, 0.0), baseline_lag, (0.0, float(main.post_run_s[1])),
                         parameters, sessions, tuple(evidence))


# --- stress test, tables, metabolic cages ------------------------------------------------------

@dataclass
class StressData:
    timeseries: pd.DataFrame
    endpoints: pd.DataFrame
    groups: tuple[str, str]
    min_mice: int
    parameters: dict


def analyse_stress_test(study, **_) -> StressData:
    """Endpoints and per-sample VO2/RER of every stress test; subjects and groups are the
    study's (a file whose own group differs is an error naming the entry)."""
    from ..calorimetry import combine_subjects, stress_test_endpoints
    from ..io import read
    from ..protocols import load_protocol

    st = study.stress_test
    per_mouse = []
    for i, s in enumerate(st.sessions):
        ds = read(study.resolve(s.path), format=s.format)
        where = f"stress_test.sessions[{i}] ({s.subject})"
        if ds.sizes.get("subject", 1) != 1:
            raise SfoneError(f"{where}: {s.path} holds {ds.sizes['subject']} subjects; the "
                             "study lists one file per mouse")
        found = str(ds["group"].values[0]) if "group" in ds.coords else ""
        if found not in {"", "nan", "None", s.group}:
            raise SfoneError(f"{where}: the study says group {s.group!r}, the file {s.path} "
                             f"says {found!r}")
        per_mouse.append(ds.assign_coords(subject=[s.subject], group=("subject", [s.group])))
    ds = combine_subjects(per_mouse)
    protocol = load_protocol(_protocol_ref(study, st.protocol))
    endpoints = stress_test_endpoints(ds, protocol)
    endpoints["vo2max"] = endpoints["vo2max_ml_kg_h"] / 60.0  # mL/kg/min, as plotted
    mass_kg = ds["body_mass"] / 1000.0
    series = xr.Dataset({"speed_m_min": ds["speed"], "rer": ds["rer"],
                         "vo2_ml_kg_min": ds["vo2"] / mass_kg / 60.0})
    timeseries = series.to_dataframe().reset_index().rename(columns={"time": "time_s"})
    timeseries = timeseries.dropna(subset=["vo2_ml_kg_min"])
    timeseries["group"] = ds["group"].to_series().reindex(timeseries["subject"]).to_numpy()
    groups = st.groups or tuple(dict.fromkeys(s.group for s in st.sessions))
    return StressData(timeseries, endpoints, tuple(groups), 3,
                      {"stress-test protocol": protocol.model_dump(mode="json"),
                       "stress-test groups": list(groups),
                       "fewest mice per drawn speed (fig 6)": 3})


@dataclass
class TableData:
    bdnf_counts: pd.DataFrame | None = None
    endurance: pd.DataFrame | None = None
    glucose: pd.DataFrame | None = None
    endurance_groups: tuple = ("control", "inhibit_15min", "stimulate_60min")
    glucose_groups: tuple = ("control", "inhibit")
    parameters: dict = field(default_factory=dict)


def _groups_in(table, preferred) -> tuple:
    present = list(pd.unique(table["group"]))
    return tuple([g for g in preferred if g in present] + [g for g in present
                                                           if g not in preferred])


def read_table(study, name: str, **_) -> TableData:
    """One experiment table of the study (``bdnf_counts``, ``endurance`` or ``glucose``)."""
    table = pd.read_csv(study.resolve(getattr(study.tables, name)))
    data = TableData(**{name: table})
    if name == "endurance":
        data.endurance_groups = _groups_in(table, data.endurance_groups)
    if name == "glucose":
        data.glucose_groups = _groups_in(table, data.glucose_groups)
    return data


@dataclass
class MetabolicData:
    dataset: xr.Dataset
    is_dark: xr.DataArray
    ancova: dict
    light: tuple[int, int]
    parameters: dict


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


def analyse_metabolic(study, **_) -> MetabolicData:
    from ..calorimetry import ancova, is_light, read_many, summarize_periods
    from ..io.calorimetry.calr import read_calr_session

    cal = study.calorimetry
    session_path = study.resolve(cal.session)
    ds = read_many([study.resolve(p) for p in cal.files])
    summary = summarize_periods(ds, session_path)
    groups = summary.drop_duplicates("subject").set_index("subject")["group"]
    ds = ds.assign_coords(group=("subject", groups.reindex(ds["subject"].values).to_numpy()))
    full_day = summary[summary["period"] == "full_day"]
    result = ancova(full_day, response="ee_kcal_h", covariate="total_mass")
    light = read_calr_session(session_path).light
    stamps = pd.to_datetime(ds["datetime"].values[0])
    is_dark = xr.DataArray(~np.asarray(is_light(stamps, light=light)), dims="time",
                           coords={"time": ds["time"].values})
    parameters = {"light schedule (lights on, off; h)": list(light),
                  "ANCOVA": "full-day ee_kcal_h ~ group + total_mass (CalR session masses)"}
    return MetabolicData(ds, is_dark, _ancova_for_figure(result), tuple(light), parameters)


#: stage -> function(study, scheduler=..., workers=...) -> the data its figures draw
STAGES: dict[str, Callable] = {
    "imaging": analyse_imaging,
    "bdnf": lambda study, **kw: read_table(study, "bdnf_counts"),
    "stress test": analyse_stress_test,
    "endurance": lambda study, **kw: read_table(study, "endurance"),
    "glucose": lambda study, **kw: read_table(study, "glucose"),
    "metabolic cage": analyse_metabolic,
}

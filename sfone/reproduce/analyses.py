"""The analysis stages of ``sfone reproduce``: a study's raw inputs -> the data its figures draw.

One function per stage (:data:`STAGES`): :func:`analyse_imaging` reads every imaging session,
computes dF/F and post-run labels and collects the peri-run traces; :func:`analyse_photometry`
does the same for every photometry session's signal (one labelled channel per session);
:func:`analyse_stress_test`
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

from ..exceptions import SfoneError
from .sessions import (
    protocol_ref,
    read_recording,
    resolved,
    run_sessions,
    session_epochs,
    windows,
    with_session_coords,
)

__all__ = ["STAGES", "ImagingResult", "analyse_imaging", "PhotometryResult",
           "analyse_photometry"]

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
        One row per session (:func:`session_row`): ``subject``, ``day``, ``n_rois``,
        ``n_tested``, ``n_activated``, ``fraction`` (labelled activated, of the tested ROIs),
        the labelled and estimated fractions of activated and inhibited ROIs with the
        estimates' 95 % intervals, ``detectable_gain_80`` and ``power_x2``.
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
    fractions: pd.DataFrame  # one row per session: labelled + estimated fractions, sensitivity
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
        mouse-level headline and pooled secondary tests; with the sessions' estimates, the test
        on them and the sensitivity check), computed once for all three. ``n``: tested ROIs."""
        from ..classify import INSUFFICIENT_DATA
        from ..stats import cohort_day_tests

        sessions = (self.fractions if "fraction_activated_estimate" in self.fractions
                    else None)
        tested = int((np.asarray(self.classes["label"].values, dtype=str)
                      != INSUFFICIENT_DATA).sum())
        return {**cohort_day_tests(self.classes, days=tuple(self.days), sessions=sessions),
                "n": tested}


def imaging_session_outputs(entry, protocol_name, window_s, where=""):
    """Labels, z-scored peri-run traces (``window_s`` from run end) and the evidence-page data
    (:func:`sfone.figures.evidence.prepare_evidence`) of one imaging session.

    dF/F uses a fixed pre-run F0 (rolling baselines would absorb sustained post-run activity);
    the z-score reference is the same pre-run baseline window. Runs on a dask worker with
    ``--scheduler`` (``entry`` paths are absolute).
    """
    from ..classify import label_responses
    from ..events import prerun_window
    from ..imaging import compute_dff, zscore
    from ..perievent import compute_perievent
    from ..protocols import load_protocol

    ds = read_recording(entry, where or entry.label)
    epochs = session_epochs(entry, ds)
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


def session_row(entry, labels) -> dict:
    """One session's row of :attr:`ImagingResult.fractions`: subject, day, its labelled
    activated count and fraction of the tested ROIs (``insufficient data`` left out), and the
    fraction attrs of its labels (estimates with 95 % intervals and sensitivity; NaN when the
    result has none)."""
    from ..classify import INSUFFICIENT_DATA
    from ..classify._fractions import FRACTION_COLUMNS

    values = np.asarray(labels["label"].values, dtype=str)
    n_tested = int((values != INSUFFICIENT_DATA).sum())
    n_act = int((values == "activated").sum())
    row = {"subject": entry.subject, "day": entry.day, "n_rois": int(values.size),
           "n_tested": n_tested, "n_activated": n_act,
           "fraction": n_act / n_tested if n_tested else float("nan")}
    row.update({k: float(labels.attrs.get(k, float("nan"))) for k in FRACTION_COLUMNS
                if k not in row})
    return row


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

    entries = [resolved(study, e) for e in study.imaging.sessions]
    where = [f"imaging.sessions[{i}] ({e.label})" for i, e in enumerate(entries)]
    protocols = [protocol_ref(study, e.protocol or study.imaging.protocol)
                 for e in study.imaging.sessions]
    main, run_s, baseline_lag, window = windows(study, entries, protocols, where)
    outputs = run_sessions(imaging_session_outputs, entries, protocols, window, where,
                            scheduler=scheduler, workers=workers, what="imaging sessions")
    evidence = tuple((e.label, ev) for e, (_, _, ev) in zip(entries, outputs, strict=True))
    outputs = [(lab, tr) for lab, tr, _ in outputs]
    rows = [session_row(entry, lab) for entry, (lab, _) in zip(entries, outputs, strict=True)]
    classes, trace = with_session_coords(entries, outputs, where, "imaging sessions")
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
    from ..io._session_reading import READING_FIELDS

    # ROI tracking (figure 11): each mouse's two sessions, footprints from `footprints` or the
    # recording itself; a mouse whose days are not one field is skipped (logged)
    sessions = tuple(
        Session(path=Path(study.resolve(e.footprints)), subject=e.subject, session=e.day)
        if e.footprints else  # the recording itself, read as for its labels
        Session(path=Path(e.path), subject=e.subject, session=e.day,
                **{k: getattr(e, k) for k in READING_FIELDS})
        for e in entries)
    parameters["tracking"] = ("each mouse's two sessions tracked (rigid registration, same-cell "
                              "mixture model, P(same) >= 0.5; sfone.track defaults) where both "
                              "have footprints and show one field of view")
    return ImagingResult(classes, trace, pd.DataFrame(rows), tuple(study.days),
                         (-run_s, 0.0), baseline_lag, (0.0, float(main.post_run_s[1])),
                         parameters, sessions, evidence)


# --- photometry -------------------------------------------------------------------------------

@dataclass
class PhotometryResult:
    """The photometry stage: one labelled "ROI" per session (its signal's dF/F) and the traces.

    Parameters
    ----------
    classes : xarray.Dataset
        Per channel: ``label``, ``effect`` (z), p/q values; coordinates ``subject``, ``day``,
        ``group``, ``roi_in_session`` (the channel).
    traces : xarray.DataArray
        ``(roi, trial, lag)`` z-scored dF/F around the run end (lag in s).
    by : str
        The coordinate compared (``"group"`` or ``"day"``).
    levels : tuple of str
        Its values, the two compared first.
    run_lag_s, baseline_lag_s, post_window_s : tuple of float
        The run, the pre-run baseline and the post-run window, in s from the run end.
    parameters : dict
        Analysis parameters, as shown in the report.
    """
    classes: xr.Dataset
    traces: xr.DataArray
    by: str
    levels: tuple
    run_lag_s: tuple[float, float]
    baseline_lag_s: tuple[float, float]
    post_window_s: tuple[float, float]
    parameters: dict

    @property
    def segments(self) -> dict:
        """``{"baseline": ..., "run": ...}`` (s from the run end), for the figures."""
        return {"baseline": self.baseline_lag_s, "run": self.run_lag_s}

    @property
    def compared(self) -> tuple:
        """The two values of :attr:`by` the test compares (fewer when there are fewer)."""
        return tuple(self.levels[:2])

    @functools.cached_property
    def responses(self) -> pd.DataFrame:
        """Each mouse's post-run response per level (:func:`sfone.figures.photometry.mouse_responses`)."""
        from ..figures.photometry import mouse_responses

        return mouse_responses(self.classes, by=self.by, order=self.levels)

    @functools.cached_property
    def response_test(self) -> dict:
        """The two levels' per-mouse mean effect compared (:func:`sfone.stats.compare_magnitude`
        over all channels: paired t for the same mice, Welch's t for different mice)."""
        from ..stats import compare_magnitude
        from ..stats._rows import _not_computed

        if len(self.compared) < 2:
            return _not_computed("mouse-level test of the post-run response",
                                 f"one {self.by} only ({self.levels[0]})",
                                 n_mice=len(set(self.classes["subject"].values)))
        values = np.asarray(self.classes[self.by].values, dtype=str)
        a, b = (self.classes.isel(roi=np.flatnonzero(values == level))
                for level in self.compared)
        result = compare_magnitude(a, b, among=None, groups=self.compared).headline()
        if "reason" in result:  # name the unit: recordings, not neurons
            return _not_computed("mouse-level test of the post-run response",
                                 result["reason"].replace("finite neurons", "a recording"),
                                 n_mice=result["n_mice"], n_cells=result["n_cells"])
        kind = "paired t" if result["test"].startswith("paired") else "Welch t"
        result["test"] = (f"{kind}, per-mouse mean post-run effect (n = {result['n_mice']} "
                          f"mice, {result['n_cells']} recordings)")
        return result


def photometry_session_outputs(entry, protocol_name, window_s, where=""):
    """Label and z-scored peri-run trace of one photometry session's signal (dF/F).

    dF/F is :func:`sfone.photometry.compute_dff` of ``entry.signal`` with ``entry.control`` and
    ``entry.method`` (as ``sfone photometry dff``); the label is
    :func:`sfone.classify.label_responses` on that dF/F; the z-score reference is the pre-run
    baseline window.
    """
    from ..classify import label_responses
    from ..events import prerun_window
    from ..imaging import zscore
    from ..perievent import compute_perievent, trace_array
    from ..photometry import compute_dff, dff_dataset
    from ..protocols import load_protocol

    where = where or entry.label
    ds = read_recording(entry, where)
    missing = [n for n in (entry.signal, entry.control) if n is not None and n not in ds]
    if missing:
        raise SfoneError(f"{where}: {entry.path} has no channel {', '.join(missing)} (signal/"
                         f"control); its channels are {', '.join(map(str, ds.data_vars))}")
    signal = ds[entry.signal]
    time_s = np.asarray(signal[signal.dims[0]].values, dtype=float)
    epochs = session_epochs(entry, (time_s[0], time_s[-1]))  # runs checked on the signal's clock
    protocol = load_protocol(protocol_name)
    baseline = prerun_window(epochs, protocol.baseline_s)
    dff = dff_dataset(ds, compute_dff(ds, signal=entry.signal, control=entry.control,
                                      method=entry.method))
    labels = label_responses(dff, epochs, protocol=protocol, variable="dff")
    trace = trace_array(dff, variable="dff").assign_coords(roi=[entry.signal])
    traces = compute_perievent(zscore(trace, baseline=baseline), epochs, align="end",
                               window=window_s, bin_s=PERIRUN_BIN_S)
    return labels.drop_dims("bin", errors="ignore").assign_coords(roi=[entry.signal]), traces


def analyse_photometry(study, *, scheduler: str | None = None, workers: int | None = None
                       ) -> PhotometryResult:
    """dF/F, post-run label and peri-run trace of every photometry session of ``study``.

    Parameters
    ----------
    study : Study
        A checked study with a ``photometry`` section.
    scheduler : str, optional
        Address of a dask scheduler; default: in this process.
    workers : int, optional
        Local worker processes for :func:`sfone.batch.map_on_cluster`.

    Returns
    -------
    PhotometryResult
    """

    ph = study.photometry
    entries = [resolved(study, e) for e in ph.sessions]
    where = [f"photometry.sessions[{i}] ({e.label})" for i, e in enumerate(entries)]
    protocols = [protocol_ref(study, ph.protocol)] * len(entries)
    main, run_s, baseline_lag, window = windows(study, entries, protocols, where)
    outputs = run_sessions(photometry_session_outputs, entries, protocols, window, where,
                            scheduler=scheduler, workers=workers, what="photometry sessions")
    classes, traces = with_session_coords(entries, outputs, where, "photometry sessions")
    parameters = {
        "photometry classification protocol": main.model_dump(mode="json"),
        "photometry dF/F": "sfone.photometry.compute_dff (as `sfone photometry dff`): "
                           + "; ".join(f"{w}: {e.signal}" + (f" vs {e.control}" if e.control
                                                             else "") + f", {e.method}"
                                       for w, e in zip(where, entries, strict=True)),
        "photometry z-score reference": "each channel's dF/F mean and SD over the pre-run "
                                        "baseline window",
        "photometry peri-run window (s from run end)": list(window),
        "photometry compared by": ph.grouping,
    }
    return PhotometryResult(classes, traces, ph.grouping, ph.levels, (-run_s, 0.0),
                            baseline_lag, (0.0, float(main.post_run_s[1])), parameters)


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
    from ..protocols import load_protocol

    st = study.stress_test
    per_mouse = []
    for i, s in enumerate(st.sessions):
        where = f"stress_test.sessions[{i}] ({s.subject})"
        ds = read_recording(s.model_copy(update={"path": study.resolve(s.path)}), where)
        if ds.sizes.get("subject", 1) != 1:
            raise SfoneError(f"{where}: {s.path} holds {ds.sizes['subject']} subjects; the "
                             "study lists one file per mouse")
        found = str(ds["group"].values[0]) if "group" in ds.coords else ""
        if found not in {"", "nan", "None", s.group}:
            raise SfoneError(f"{where}: the study says group {s.group!r}, the file {s.path} "
                             f"says {found!r}")
        per_mouse.append(ds.assign_coords(subject=[s.subject], group=("subject", [s.group])))
    ds = combine_subjects(per_mouse)
    protocol = load_protocol(protocol_ref(study, st.protocol))
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
    ds = read_many([study.resolve(p) for p in cal.files],
                   **({"repair": cal.repair} if cal.repair else {}))
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
    "photometry": analyse_photometry,
    "bdnf": lambda study, **kw: read_table(study, "bdnf_counts"),
    "stress test": analyse_stress_test,
    "endurance": lambda study, **kw: read_table(study, "endurance"),
    "glucose": lambda study, **kw: read_table(study, "glucose"),
    "metabolic cage": analyse_metabolic,
}

"""``sfone reproduce``: every figure of the paper's comparisons, from a study file's raw inputs.

Nothing is precomputed or cached: every run reads the raw files a :class:`sfone.study.Study`
names (``data_samples/study.yaml`` for the sample set), computes dF/F, labels, statistics and
calorimetry endpoints, and writes into ``out_dir``:

* ``figures/figN_*.png|svg|pdf`` (300 dpi), ``stats.csv`` (every number a figure shows),
  ``labels.csv`` (one row per ROI, with imaging), ``provenance.json`` and ``report.html``
  (self-contained: figures, captions, statistics, inputs with sha256, versions, parameters).

The output is built in a temporary folder beside ``out_dir`` and swapped in at the end, so
``out_dir`` always holds one complete run (an interrupted run leaves the previous one intact).
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from ._atomic import atomic_path, write_csv
from ._logging import logger, progress
from ._output_dir import check_output_dir, replacing_output_dir
from .exceptions import SfoneError

__all__ = ["reproduce", "ReproduceResult", "ImagingResult", "analyse_imaging", "MARKER"]

PERIRUN_BIN_S = 10.0  # display bins of the peri-run traces (classification uses every frame)
MARKER = "provenance.json"  # present in every complete output folder
_DEPENDENCIES = ("numpy", "scipy", "pandas", "xarray", "matplotlib", "statsmodels", "pydantic",
                 "h5py", "pyarrow", "dask", "distributed", "pyyaml")


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

    @property
    def segments(self) -> dict:
        """``{"baseline": baseline_lag_s, "run": run_lag_s}`` (s from the run end), for the figures."""
        return {"baseline": self.baseline_lag_s, "run": self.run_lag_s}

    @functools.cached_property
    def day_tests(self) -> dict:
        """The day comparison of figures 1, 3 and 4 (:func:`sfone.stats.cohort_day_tests`:
        mouse-level headline and pooled secondary tests), computed once for all three."""
        from .stats import cohort_day_tests

        return {**cohort_day_tests(self.classes, days=tuple(self.days)),
                "n": int(self.classes.sizes["roi"])}


@dataclass
class ReproduceResult:
    """What :func:`reproduce` wrote.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder.
    figures : dict of str to list of pathlib.Path, default {}
        Figure stem -> its files.
    stats_csv : pathlib.Path, optional
        ``stats.csv`` (one row per number shown).
    labels_csv : pathlib.Path, optional
        Per-ROI labels table.
    report : pathlib.Path, optional
        ``report.html``.
    provenance : pathlib.Path, optional
        ``provenance.json`` (inputs with sha256, versions, run time).
    """
    out_dir: Path
    figures: dict[str, list[Path]] = field(default_factory=dict)
    stats_csv: Path | None = None
    labels_csv: Path | None = None
    report: Path | None = None
    provenance: Path | None = None


# --- imaging ----------------------------------------------------------------------------------

def _session_epochs(entry, recording):
    from .events import as_epochs, epochs_from_speed, epochs_from_ttl
    from .io import read

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
    """Labels and z-scored peri-run traces (``window_s`` from run end) of one imaging session.

    dF/F uses a fixed pre-run F0 (rolling baselines would absorb sustained post-run activity);
    the z-score reference is the same pre-run baseline window. Runs on a dask worker with
    ``--scheduler`` (``entry`` paths are absolute).
    """
    from .classify import label_responses
    from .events import prerun_window
    from .imaging import compute_dff, zscore
    from .io import read
    from .perievent import compute_perievent
    from .protocols import load_protocol

    ds = read(entry.path, format=entry.format)
    epochs = _session_epochs(entry, ds)
    protocol = load_protocol(protocol_name)
    baseline = prerun_window(epochs, protocol.baseline_s)
    dff = compute_dff(ds, baseline="window", baseline_window=baseline)
    labels = label_responses(ds.assign(dff=dff), epochs, protocol=protocol, variable="dff")
    traces = compute_perievent(zscore(dff, baseline=baseline), epochs, align="end",
                               window=window_s, bin_s=PERIRUN_BIN_S)
    return labels, traces


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
    from .io import read

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
    from .protocols import load_protocol

    entries = [_resolved(study, e) for e in study.imaging.sessions]
    protocols = [_protocol_ref(study, e.protocol or study.imaging.protocol)
                 for e in study.imaging.sessions]
    main = load_protocol(protocols[0])
    run_s = _run_duration_s(study, entries[0], main)
    baseline_lag = (main.baseline_s[0] - run_s, main.baseline_s[1] - run_s)
    window = (min(baseline_lag[0], -run_s), float(main.post_run_s[1]))
    if scheduler:
        from .batch import map_on_cluster

        outputs = map_on_cluster(imaging_session_outputs, entries, protocols,
                                 [window] * len(entries), scheduler=scheduler, workers=workers,
                                 desc="imaging sessions")
    else:
        outputs = []
        for i, (entry, protocol) in enumerate(zip(entries, protocols, strict=True)):
            logger.info("reproduce: imaging session %d/%d (%s)", i + 1, len(entries),
                        entry.label)
            outputs.append(imaging_session_outputs(entry, protocol, window))
    labels, traces, rows = [], [], []
    for entry, (lab, tr) in zip(entries, outputs, strict=True):
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
    from .cohort import Session

    # ROI tracking (figure 11): each mouse's two sessions, footprints from `footprints` or the
    # recording itself; a mouse whose days are not one field is skipped (logged)
    sessions = tuple(Session(path=Path(study.resolve(e.footprints) if e.footprints else e.path),
                             subject=e.subject, session=e.day) for e in entries)
    parameters["tracking"] = ("each mouse's two sessions tracked (rigid registration, same-cell "
                              "mixture model, P(same) >= 0.5; sfone.track defaults) where both "
                              "have footprints and show one field of view")
    return ImagingResult(classes, trace, pd.DataFrame(rows), tuple(study.days),
                         (-run_s, 0.0), baseline_lag, (0.0, float(main.post_run_s[1])),
                         parameters, sessions)


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
    from .calorimetry import combine_subjects, stress_test_endpoints
    from .io import read
    from .protocols import load_protocol

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
    from .calorimetry import ancova, is_light, read_many, summarize_periods
    from .io.calorimetry.calr import read_calr_session

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


# --- provenance, output folder -----------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def study_inputs(study) -> list[dict]:
    """Every input file of the study (folders expanded), with its entry, size and sha256."""
    entries: list[tuple[str, Path]] = []
    if study.imaging is not None:
        for i, s in enumerate(study.imaging.sessions):
            where = f"imaging.sessions[{i}]"
            entries += [(where, s.path), (f"{where}.runs", s.runs),
                        (f"{where}.footprints", s.footprints)]
            entries += [(f"{where}.{n}", getattr(s, n).path) for n in ("ttl", "speed")
                        if getattr(s, n) is not None]
        for name in dict.fromkeys([study.imaging.protocol] + [s.protocol for s in
                                                              study.imaging.sessions]):
            if name is not None and study.resolve(name).exists():
                entries.append(("imaging.protocol", name))
    if study.photometry is not None:
        for i, s in enumerate(study.photometry.sessions):
            entries += [(f"photometry.sessions[{i}]", s.path),
                        (f"photometry.sessions[{i}].runs", s.runs)]
    if study.stress_test is not None:
        entries += [(f"stress_test.sessions[{i}]", s.path)
                    for i, s in enumerate(study.stress_test.sessions)]
        if study.resolve(study.stress_test.protocol).exists():
            entries.append(("stress_test.protocol", study.stress_test.protocol))
    if study.calorimetry is not None:
        entries += [(f"calorimetry.files[{i}]", p) for i, p in enumerate(study.calorimetry.files)]
        entries.append(("calorimetry.session", study.calorimetry.session))
    entries += [(f"tables.{n}", getattr(study.tables, n)) for n in ("bdnf_counts", "endurance",
                                                                    "glucose")]
    rows = []
    for where, path in entries:
        if path is None:
            continue
        resolved = study.resolve(path)
        files = sorted(p for p in resolved.rglob("*") if p.is_file()) if resolved.is_dir() \
            else [resolved]
        for file in files:
            shown = Path(path) / file.relative_to(resolved) if resolved.is_dir() else Path(path)
            rows.append({"entry": where, "file": shown.as_posix(), "bytes": file.stat().st_size,
                         "sha256": _sha256(file)})
    return rows


def package_versions() -> dict[str, str]:
    """sfone, Python and the installed versions of the dependencies the analysis uses."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {"sfone": __version__, "python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def _inner_bars_off():
    """Switch off every progress bar created inside (the stage bar is made before)."""
    from ._options import set_options

    return set_options(progress=False)


def _write_labels(classes: xr.Dataset, path: Path) -> Path:
    table = classes.reset_coords().to_dataframe().reset_index()
    return write_csv(table, path)


def reproduce(study, out_dir="figures", *, scheduler: str | None = None,
              workers: int | None = None, on_stage: Callable[[int, int, str], None] | None = None
              ) -> ReproduceResult:
    """Run the whole pipeline on a study and write figures, stats.csv and report.html.

    Parameters
    ----------
    study : Study, path of a study YAML, or a folder holding ``study.yaml``
        The inputs (see :mod:`sfone.study`); every entry is checked before any computation.
    out_dir : path
        Output folder; replaced as a whole at the end of a successful run. It must be new,
        empty, or an earlier ``sfone reproduce`` output holding only the files that run wrote
        (see :mod:`sfone._output_dir`); anything else is refused, naming the files.
    scheduler : str, optional
        Address of a dask scheduler: the imaging sessions run there (see :mod:`sfone.batch`).
    workers : int, optional
        With ``scheduler="local"``-style use of the batch machinery, local worker processes.
    on_stage : callable(index, total, stage), optional
        Called as each stage starts (the CLI prints one line per stage without a terminal).

    Returns
    -------
    ReproduceResult
        The paths written inside ``out_dir``.

    Raises
    ------
    StudyError
        If the study lists no inputs or an entry is inconsistent or missing a file (before any
        computation).
    SfoneError
        If ``out_dir`` holds files an earlier ``sfone reproduce`` did not write (before any
        computation; the message names them).
    """

    from .figure_specs import FIGURE_SPECS
    from .report import StatsTable, write_report_html
    from .study import Study, check_study, figures_for, load_study

    if not isinstance(study, Study):
        path = Path(study)
        study = load_study(path / "study.yaml" if path.is_dir() else path)
    check_study(study, source=study.name)
    out_dir = Path(out_dir).absolute()
    check_output_dir(out_dir, kind="reproduce", replace=True)  # before hashing the inputs
    started = time.time()
    inputs = study_inputs(study)
    wanted = figures_for(study)
    specs = [s for s in FIGURE_SPECS if s.number in wanted]
    stages = list(dict.fromkeys(s.stage for s in specs))
    with replacing_output_dir(out_dir, kind="reproduce") as build:  # only a folder sfone wrote
        stats, figures, data = StatsTable(), [], {}
        parameters: dict = {}
        bar = progress(stages, desc="reproduce", unit="stage")
        with _inner_bars_off():
            _run_stages(study, bar, specs, stats, figures, data, parameters, build,
                        scheduler=scheduler, workers=workers, on_stage=on_stage)
        result = _write_outputs(build, study, stats, figures, data, parameters, inputs,
                                started, write_report_html)
    result = ReproduceResult(out_dir, {spec.stem: [out_dir / p.relative_to(build) for p in paths]
                                       for spec, _, paths in figures},
                             *(None if p is None else out_dir / p.relative_to(build)
                               for p in result))
    return result


def _run_stages(study, bar, specs, stats, figures, data, parameters, build, *, scheduler,
                workers, on_stage) -> None:
    import matplotlib.pyplot as plt

    from .figures import save_figure

    total = len(bar)
    for index, stage in enumerate(bar):
        logger.info("reproduce: stage %d/%d: %s", index + 1, total, stage)
        if on_stage is not None:
            on_stage(index + 1, total, stage)
        data[stage] = STAGES[stage](study, scheduler=scheduler, workers=workers)
        parameters.update(getattr(data[stage], "parameters", {}) or {})
        for spec in (s for s in specs if s.stage == stage):
            logger.info("reproduce: figure %d (%s)", spec.number, spec.stem)
            output = spec.build(data[stage], stats, spec.figure_id)
            if output is None:  # nothing to draw for this study (e.g. no tracked mouse)
                continue
            paths = save_figure(output.figure, build / "figures" / spec.stem)
            plt.close(output.figure)
            figures.append((spec, output.caption, paths))


def _write_outputs(build, study, stats, figures, data, parameters, inputs, started,
                   write_report_html):
    import json
    from datetime import UTC, datetime

    logger.info("reproduce: writing stats.csv, labels.csv, provenance.json and report.html")
    stats_csv = stats.write(build / "stats.csv")
    labels_csv = None
    tables = {}
    if "imaging" in data:
        labels_csv = _write_labels(data["imaging"].classes, build / "labels.csv")
        tables["Per-mouse fraction activated"] = data["imaging"].fractions
    provenance = {
        "study": study.name, "description": study.description,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "runtime_s": round(time.time() - started, 1),
        "versions": package_versions(), "parameters": parameters, "inputs": inputs,
        "figures": [{"number": s.number, "file": f"figures/{s.stem}.png", "caption": c}
                    for s, c, _ in figures],
    }
    marker = build / MARKER
    with atomic_path(marker) as tmp:
        tmp.write_text(json.dumps(provenance, indent=2, default=str) + "\n", encoding="utf-8")
    report = write_report_html(
        build, [(f"Figure {s.number}. {s.title}", next(p for p in paths if p.suffix == ".png"),
                 caption, s.figure_id) for s, caption, paths in figures],
        {"stats": stats.to_frame(), **tables}, parameters, __version__, provenance=provenance,
        title=f"sfone reproduction report: {study.name}")
    return stats_csv, labels_csv, report, marker

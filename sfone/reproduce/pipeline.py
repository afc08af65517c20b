"""``sfone reproduce``: every figure of the paper's comparisons, from a study file's raw inputs.

Nothing is precomputed or cached: every run reads the raw files a
:class:`sfone.reproduce.Study` names (``data_samples/study.yaml`` for the sample set), runs the
analysis stages (:mod:`sfone.reproduce.analyses`: dF/F, labels, statistics, calorimetry
endpoints), draws the figures (:mod:`sfone.reproduce.figures`) and writes into ``out_dir``:

* ``figures/figN_*.png|svg|pdf`` (300 dpi), ``stats.csv`` (every number a figure shows),
  ``labels.csv`` (one row per ROI, with imaging), ``provenance.json`` and ``report.html``
  (self-contained: figures, captions, statistics, inputs with sha256, versions, parameters);
* with imaging, ``evidence/<subject>_<day>/index.html``: each session's per-ROI evidence page
  (:mod:`sfone.figures.evidence_page`), linked from the report.

The output is built in a temporary folder beside ``out_dir`` and swapped in at the end, so
``out_dir`` always holds one complete run (an interrupted run leaves the previous one intact).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from .. import __version__
from .._atomic import atomic_path, write_csv
from .._logging import logger, progress
from .._output_dir import check_output_dir, replacing_output_dir
from .analyses import STAGES
from .provenance import duplicate_recordings, package_versions, study_inputs

__all__ = ["reproduce", "ReproduceResult", "MARKER"]

MARKER = "provenance.json"  # present in every complete output folder


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


def _inner_bars_off():
    """Switch off every progress bar created inside (the stage bar is made before)."""
    from .._options import set_options

    return set_options(progress=False)


def _write_labels(classes: xr.Dataset, path: Path) -> Path:
    table = classes.reset_coords().to_dataframe().reset_index()
    return write_csv(table, path)


def _write_evidence_pages(evidence, folder: Path) -> list[tuple[str, str]]:
    """Each imaging session's evidence page under ``folder/<subject>_<day>/``; returns
    (session label, link relative to the output folder) for the report."""
    import re

    from ..figures.evidence_page import write_evidence_page

    links, used = [], set()
    if evidence:
        folder.mkdir()
    for k, (label, ev) in enumerate(progress(evidence, desc="evidence pages", unit="session")):
        logger.info("reproduce: evidence page %d/%d (%s)", k + 1, len(evidence), label)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "session"
        stem, k = name, 2
        while name in used:  # two labels that differ only in characters a path cannot hold
            name, k = f"{stem}_{k}", k + 1
        used.add(name)
        write_evidence_page(ev, folder / name, title=label)
        links.append((label, f"{folder.name}/{name}/index.html"))
    return links


def reproduce(study, out_dir="figures", *, scheduler: str | None = None,
              workers: int | None = None, on_stage: Callable[[int, int, str], None] | None = None
              ) -> ReproduceResult:
    """Run the whole pipeline on a study and write figures, stats.csv and report.html.

    Parameters
    ----------
    study : Study, path of a study YAML, or a folder holding ``study.yaml``
        The inputs (see :mod:`sfone.reproduce.study`); every entry is checked before any computation.
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

    from .figures import FIGURE_SPECS
    from .report import StatsTable, write_report_html
    from .study import Study, StudyError, check_study, figures_for, load_study

    if not isinstance(study, Study):
        path = Path(study)
        study = load_study(path / "study.yaml" if path.is_dir() else path)
    check_study(study, source=study.name)
    out_dir = Path(out_dir).absolute()
    check_output_dir(out_dir, kind="reproduce", replace=True)  # before hashing the inputs
    started = time.time()
    inputs = study_inputs(study)
    duplicates = duplicate_recordings(study, inputs)
    if duplicates:
        raise StudyError(f"{study.name}: {len(duplicates)} recording(s) listed twice:\n  - "
                         + "\n  - ".join(duplicates))
    wanted = figures_for(study)
    specs = [s for s in FIGURE_SPECS if s.number in wanted]
    stages = list(dict.fromkeys(s.stage for s in specs))
    with replacing_output_dir(out_dir, kind="reproduce") as build:  # only a folder sfone wrote
        stats, figures, data = StatsTable(), [], {}
        parameters: dict = {}
        bar = progress(stages, desc="reproduce", unit="stage")
        with _inner_bars_off():  # the stage bar is the only one, also for the evidence pages
            _run_stages(study, bar, specs, stats, figures, data, parameters, build,
                        scheduler=scheduler, workers=workers, on_stage=on_stage)
            result = _write_outputs(build, study, stats, figures, data, parameters, inputs,
                                    started, write_report_html)
    result = ReproduceResult(out_dir, {spec.stem: [out_dir / p.relative_to(build) for p in paths]
                                       for spec, _, paths, *_ in figures},
                             *(None if p is None else out_dir / p.relative_to(build)
                               for p in result))
    return result


def _run_stages(study, bar, specs, stats, figures, data, parameters, build, *, scheduler,
                workers, on_stage) -> None:
    import matplotlib.pyplot as plt

    from ..figures import save_figure

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
            figures.append((spec, output.caption, paths, tuple(output.warnings)))


def numbered_figures(figures) -> list[tuple]:
    """The figures made, in :data:`FIGURE_SPECS` order, numbered 1..N for the report.

    A study that makes only some of the figures gets consecutive numbers; where a number differs
    from the figure's number in the paper reproduction (the sample study, which makes every
    figure), the caption ends with that number and the file stem, so the report maps to it.

    Parameters
    ----------
    figures : list of (FigureSpec, str, list of pathlib.Path[, tuple of str])
        The figures made: spec, caption, files and, optionally, the warnings shown beside it.

    Returns
    -------
    list of (int, FigureSpec, str, list of pathlib.Path, tuple of str)
        Report number, spec, caption, files, warnings.
    """
    from .figures import FIGURE_SPECS

    order = {spec.number: i for i, spec in enumerate(FIGURE_SPECS)}
    out = []
    for k, (spec, caption, paths, *rest) in enumerate(
            sorted(figures, key=lambda f: order[f[0].number]), start=1):
        if k != spec.number:
            caption = (f"{caption} (Figure {spec.number} of the paper reproduction; files "
                       f"figures/{spec.stem}.*, {spec.figure_id} in stats.csv.)")
        out.append((k, spec, caption, paths, tuple(rest[0]) if rest else ()))
    return out


def _write_outputs(build, study, stats, figures, data, parameters, inputs, started,
                   write_report_html):
    import json
    from datetime import UTC, datetime

    logger.info("reproduce: writing stats.csv, labels.csv, provenance.json and report.html")
    figures = numbered_figures(figures)
    stats_csv = stats.write(build / "stats.csv")
    labels_csv = None
    tables, pages = {}, []
    if "imaging" in data:
        labels_csv = _write_labels(data["imaging"].classes, build / "labels.csv")
        tables["Per-mouse fraction activated"] = data["imaging"].fractions
        pages = _write_evidence_pages(data["imaging"].evidence, build / "evidence")
    if "photometry" in data:
        tables["Photometry: per-mouse post-run response"] = data["photometry"].responses
    provenance = {
        "study": study.name, "description": study.description,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "runtime_s": round(time.time() - started, 1),
        "versions": package_versions(), "parameters": parameters, "inputs": inputs,
        "figures": [{"number": k, "reproduction_figure": s.number,
                     "file": f"figures/{s.stem}.png", "caption": c, "warnings": list(w)}
                    for k, s, c, _, w in figures],
    }
    marker = build / MARKER
    with atomic_path(marker) as tmp:
        tmp.write_text(json.dumps(provenance, indent=2, default=str) + "\n", encoding="utf-8")
    report = write_report_html(
        build, [(f"Figure {k}. {s.title}", next(p for p in paths if p.suffix == ".png"),
                 caption, s.figure_id, warnings) for k, s, caption, paths, warnings in figures],
        {"stats": stats.to_frame(), **tables}, parameters, __version__, provenance=provenance,
        title=f"sfone reproduction report: {study.name}", evidence_pages=pages)
    return stats_csv, labels_csv, report, marker

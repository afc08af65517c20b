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

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from .. import __version__
from .._atomic import atomic_path, write_csv
from .._logging import logger, progress
from ..exceptions import SfoneError
from .analyses import STAGES
from .provenance import package_versions, study_inputs

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


def _earlier_output(folder: Path) -> bool:
    """An earlier run's folder: provenance.json, or (older sfone) report.html and stats.csv."""
    return (folder / MARKER).is_file() or all((folder / n).is_file()
                                              for n in ("report.html", "stats.csv"))


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or (
            any(out_dir.iterdir()) and not _earlier_output(out_dir))):
        raise SfoneError(f"{out_dir}: exists and is not an earlier `sfone reproduce` output "
                         f"(no {MARKER}); give a new or empty folder so nothing else is replaced")


def _swap_in(build: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by the finished ``build`` folder (two renames on one file system)."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
    build.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    for label, ev in progress(evidence, desc="evidence pages", unit="session"):
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
        Output folder; replaced as a whole at the end of a successful run.
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
    """

    from .figures import FIGURE_SPECS
    from .report import StatsTable, write_report_html
    from .study import Study, check_study, figures_for, load_study

    if not isinstance(study, Study):
        path = Path(study)
        study = load_study(path / "study.yaml" if path.is_dir() else path)
    check_study(study, source=study.name)
    out_dir = Path(out_dir).absolute()
    _check_out_dir(out_dir)
    started = time.time()
    inputs = study_inputs(study)
    wanted = figures_for(study)
    specs = [s for s in FIGURE_SPECS if s.number in wanted]
    stages = list(dict.fromkeys(s.stage for s in specs))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    build = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    try:
        stats, figures, data = StatsTable(), [], {}
        parameters: dict = {}
        bar = progress(stages, desc="reproduce", unit="stage")
        with _inner_bars_off():
            _run_stages(study, bar, specs, stats, figures, data, parameters, build,
                        scheduler=scheduler, workers=workers, on_stage=on_stage)
        result = _write_outputs(build, study, stats, figures, data, parameters, inputs,
                                started, write_report_html)
        _swap_in(build, out_dir)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    result = ReproduceResult(out_dir, {spec.stem: [out_dir / p.relative_to(build) for p in paths]
                                       for spec, _, paths in figures},
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
            figures.append((spec, output.caption, paths))


def _write_outputs(build, study, stats, figures, data, parameters, inputs, started,
                   write_report_html):
    import json
    from datetime import UTC, datetime

    logger.info("reproduce: writing stats.csv, labels.csv, provenance.json and report.html")
    stats_csv = stats.write(build / "stats.csv")
    labels_csv = None
    tables, pages = {}, []
    if "imaging" in data:
        labels_csv = _write_labels(data["imaging"].classes, build / "labels.csv")
        tables["Per-mouse fraction activated"] = data["imaging"].fractions
        pages = _write_evidence_pages(data["imaging"].evidence, build / "evidence")
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
        title=f"sfone reproduction report: {study.name}", evidence_pages=pages)
    return stats_csv, labels_csv, report, marker

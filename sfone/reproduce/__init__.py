"""``sfone reproduce``: every figure of the paper's comparisons, from a study file's raw inputs.

The package follows the pipeline, one module per step:

* :mod:`~sfone.reproduce.study`: the study file (``study.yaml``), its pydantic model and the
  checks made before any computation;
* :mod:`~sfone.reproduce.sessions`: a study's sessions read with their reading options, run
  (here or on a dask cluster) and combined across acquisition systems;
* :mod:`~sfone.reproduce.analyses`: the analysis stages (:data:`STAGES`), raw inputs -> the data
  each figure draws (labels, traces, endpoints, tables, calorimetry summaries);
* :mod:`~sfone.reproduce.figures`: one :class:`FigureSpec` per figure (what it draws, its
  caption and the numbers it records);
* :mod:`~sfone.reproduce.report`: :class:`StatsTable` (``stats.csv``) and ``report.html``;
* :mod:`~sfone.reproduce.provenance`: every input with its sha256, and the package versions;
* :mod:`~sfone.reproduce.pipeline`: :func:`reproduce`, which checks the study, runs the stages,
  draws the figures and swaps the finished output folder in.

Every public name is importable from ``sfone.reproduce``.
"""

from __future__ import annotations

from .analyses import STAGES, ImagingResult, PhotometryResult, analyse_imaging, analyse_photometry
from .figures import FIGURE_SPECS, FigureOutput, FigureSpec, spec_for
from .pipeline import MARKER, ReproduceResult, reproduce
from .report import STATS_COLUMNS, StatsTable, write_report_html
from .sessions import SESSION_COORDS, combine_sessions, read_recording
from .study import Study, StudyError, check_study, figures_for, load_study, parse_study

__all__ = [
    # the run
    "reproduce", "ReproduceResult", "MARKER",
    # study file
    "Study", "StudyError", "load_study", "parse_study", "check_study", "figures_for",
    # analyses
    "STAGES", "ImagingResult", "analyse_imaging", "PhotometryResult", "analyse_photometry",
    # sessions
    "read_recording", "combine_sessions", "SESSION_COORDS",
    # figures
    "FigureSpec", "FigureOutput", "FIGURE_SPECS", "spec_for",
    # outputs
    "STATS_COLUMNS", "StatsTable", "write_report_html",
]

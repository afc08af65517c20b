"""Built-in batch tasks (see :mod:`sfone.batch`): convert, classify, dff, calorimetry-summary.

:data:`BUILTIN_TASKS` is read by :func:`sfone.batch.batch_tasks`
(:mod:`sfone.batch.registry`); this module imports only :mod:`sfone.batch.task`, never the
registry or the runner.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from ..cohort import Session, combine_per_roi
from .task import BatchTask


def _read(session: Session, **defaults) -> xr.Dataset:
    from ..io._reading_options import read_with_options

    return read_with_options(session.path, **{**defaults, **session.reading_options})


def _classify(session: Session) -> xr.Dataset:
    from ..classify import label_responses
    from ..protocols import load_protocol

    if session.runs is None:
        raise ValueError(f"{session.subject}/{session.session}: the manifest gives no 'runs' "
                         "file (start_s,end_s), which classify needs")
    protocol = (load_protocol(session.classification_protocol)
                if session.classification_protocol else None)
    from ..io._reading_options import CELLS_ONLY_DEFAULT

    return label_responses(_read(session, cells_only=CELLS_ONLY_DEFAULT), session.runs,
                           protocol=protocol)


def _dff(session: Session) -> xr.Dataset:
    """Imaging dF/F; against the pre-run baseline of the protocol when runs are given."""
    from ..imaging import compute_dff
    from ..protocols import load_protocol

    ds = _read(session)
    if ds.attrs.get("modality") != "imaging":
        raise ValueError(f"{session.path}: the dff batch task handles imaging sessions; use "
                         "`sfone photometry dff` for photometry (it needs signal/control names)")
    if session.runs is not None:
        from ..events import as_epochs, prerun_window

        epochs = as_epochs(session.runs, recording=ds)
        window = (prerun_window(epochs, load_protocol(session.classification_protocol).baseline_s)
                  if session.classification_protocol else prerun_window(epochs))
        dff = compute_dff(ds, baseline="window", baseline_window=window)
    else:
        dff = compute_dff(ds)
    out = xr.Dataset({"dff": dff}, coords={c: ds.coords[c] for c in ds.coords
                                          if set(ds.coords[c].dims) <= set(dff.dims)})
    out.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, str | int | float)}
    return out


def _dff_stats(ds: xr.Dataset) -> xr.Dataset:
    """Per-ROI mean, SD and maximum of a session's dF/F (computed on the worker)."""
    dff = ds["dff"]
    return xr.Dataset({"dff_mean": dff.mean("time").assign_attrs(units="1"),
                       "dff_sd": dff.std("time").assign_attrs(units="1"),
                       "dff_max": dff.max("time").assign_attrs(units="1")})


def _calorimetry_summary(session: Session) -> pd.DataFrame:
    from ..calorimetry import summarize_periods

    return summarize_periods(_read(session), session.calr_session)


def _concat_tables(outputs: dict) -> pd.DataFrame:
    return pd.concat([table.assign(session=key[1]) for key, table in outputs.items()],
                     ignore_index=True)


BUILTIN_TASKS = [
    BatchTask(name="convert", run=_read, description="read each session and store it as netCDF"),
    BatchTask(name="classify", run=_classify, combine=combine_per_roi,
              description="post-run labels per ROI (manifest columns runs, "
                          "classification_protocol)"),
    BatchTask(name="dff", run=_dff, summarize=_dff_stats, combine=combine_per_roi,
              description="imaging dF/F per session; combined per-ROI summary (manifest columns "
                          "runs, classification_protocol)"),
    BatchTask(name="calorimetry-summary", run=_calorimetry_summary, combine=_concat_tables,
              description="CalR-exact period summary (manifest column calr_session)"),
]

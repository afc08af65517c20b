"""Human-readable descriptions of sfone Datasets (used by ``sfone info`` and ``sfone demo``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .schema import is_time_dim, rate_from_times

__all__ = ["describe", "read_all", "sample_entries"]

NOT_RECORDINGS = {".md", ".txt", ".json", ".yaml", ".yml"}  # notes and protocols in a data folder


def _duration(ds: xr.Dataset) -> float | None:
    spans = []
    for dim in ds.dims:
        if is_time_dim(str(dim)) and ds.sizes[dim] > 1:
            t = ds[dim].values
            spans.append(float(t[-1] - t[0]))
    return max(spans) if spans else None


def _rates(ds: xr.Dataset) -> str:
    if "fs" in ds.attrs:
        return f"{float(ds.attrs['fs']):g} Hz"
    rates = []
    for dim in ds.dims:
        if is_time_dim(str(dim)) and ds.sizes[dim] > 1:
            rate = rate_from_times(ds[dim].values)
            rates.append(f"{dim}: {rate:.4g} Hz" if rate > 1 / 60 else
                         f"{dim}: every {1 / rate:g} s")
    return "; ".join(rates) or "n/a"


def describe(ds: xr.Dataset) -> dict[str, str]:
    """Format, modality, sizes, duration, sampling rate and subjects or ROIs of ``ds``.

    Parameters
    ----------
    ds : xarray.Dataset
        Any contract-valid Dataset.

    Returns
    -------
    dict of str to str
        ``file``, ``format``, ``modality``, ``sizes``, ``variables``, ``duration`` (s and h),
        ``sampling``, and where they apply ``rois``, ``subjects``, ``epochs``.
    """
    out = {
        "file": str(ds.attrs.get("source_file", "")),
        "format": str(ds.attrs.get("source_format", "")),
        "modality": str(ds.attrs.get("modality", "")),
        "sizes": ", ".join(f"{d}={n}" for d, n in ds.sizes.items()),
        "variables": ", ".join(map(str, ds.data_vars)),
    }
    duration = _duration(ds)
    out["duration"] = "n/a" if duration is None else f"{duration:.1f} s ({duration / 3600:.2f} h)"
    out["sampling"] = _rates(ds)
    if "roi" in ds.dims:
        n_cells = int(ds["iscell"].sum()) if "iscell" in ds.coords else ds.sizes["roi"]
        out["rois"] = f"{ds.sizes['roi']} ({n_cells} accepted as cells)"
        if "status" in ds.coords:
            n_unknown = int((np.asarray(ds["status"].values).astype(str) == "unknown").sum())
            if n_unknown:
                out["rois"] = (f"{ds.sizes['roi']} ({n_cells} accepted as cells, {n_unknown} "
                               "without curation in the file)")
    if "subject" in ds.dims:
        out["subjects"] = ", ".join(map(str, ds["subject"].values[:12])) + (
            " ..." if ds.sizes["subject"] > 12 else "")
    elif "subject" in ds.attrs:
        out["subjects"] = str(ds.attrs["subject"])
    if "epoch" in ds.dims:
        out["epochs"] = str(ds.sizes["epoch"])
    return out


def _summary_row(name: str, ds: xr.Dataset) -> dict[str, str]:
    info = describe(ds)
    keys = ("sizes", "duration", "sampling", "rois", "subjects", "epochs")
    return {"file": name, "format": info["format"], "modality": info["modality"],
            "summary": "; ".join(f"{k} {info[k]}" for k in keys if k in info)}


def sample_entries(data_dir) -> list[Path]:
    """Every readable recording under ``data_dir``.

    Top-level files and folders, and the sessions and runs files listed by the ``manifest.csv``
    of cohort folders. Tables and notes excluded.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Sample folder.

    Returns
    -------
    list of pathlib.Path
        In name order.
    """
    entries = []
    for entry in sorted(Path(data_dir).iterdir()):
        if entry.name.startswith(".") or entry.suffix.lower() in NOT_RECORDINGS:
            continue
        if entry.is_dir() and (entry / "manifest.csv").is_file():
            from .cohort import load_manifest

            for session in load_manifest(entry / "manifest.csv"):
                entries.append(session.path)
                if session.runs is not None:
                    entries.append(session.runs)
        elif entry.is_dir() and entry.name == "tables":
            continue
        else:
            entries.append(entry)
    return entries


def read_all(data_dir) -> list[dict[str, str]]:
    """Read every recording in ``data_dir`` and every CSV table of its ``tables/`` folder.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Sample folder (see :func:`sample_entries`).

    Returns
    -------
    list of dict of str to str
        One row per entry: ``file``, ``format``, ``modality``, ``summary``.
    """
    import pandas as pd

    from .io import read

    data_dir = Path(data_dir)
    rows = []
    for entry in sample_entries(data_dir):
        name = entry.resolve().relative_to(data_dir.resolve()).as_posix()
        rows.append(_summary_row(name, read(entry)))
    for table_path in sorted((data_dir / "tables").glob("*.csv")):
        table = pd.read_csv(table_path)
        rows.append({"file": str(table_path.relative_to(data_dir)), "format": "table",
                     "modality": "table",
                     "summary": f"{len(table)} rows; columns {', '.join(table.columns)}"})
    return rows

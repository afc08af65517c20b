"""Many files -> one Dataset over ``subject``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..exceptions import FormatError
from ..io.calorimetry.timebins import experiment_time
from ..schema import validate

__all__ = ["read_many", "combine_subjects"]


def _pad(ds: xr.Dataset, n_time: int) -> xr.Dataset:
    if "exp_hour" not in ds.coords:  # each file keeps its own cohort origin (CalR import rule)
        times = experiment_time(ds["datetime"].values)
        ds = ds.assign_coords(exp_hour=(("subject", "time"), times["exp_hour"], {"units": "h"}),
                              exp_day=(("subject", "time"), times["exp_day"], {"units": "d"}))
    ds = ds.drop_vars("time").assign_coords(time=np.arange(ds.sizes["time"]))
    return ds.reindex(time=np.arange(n_time))


def _fill_missing(datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    """Give every dataset the union of variables/coords (NaN, or "" for text coords)."""
    names = {}
    for d in datasets:
        for name, var in d.variables.items():
            if "subject" in var.dims:
                names.setdefault(name, var)
    out = []
    for d in datasets:
        for name, like in names.items():
            if name in d.variables:
                continue
            shape = tuple(d.sizes[dim] for dim in like.dims)
            fill = "" if like.dtype.kind in "US" else np.nan
            dtype = like.dtype if like.dtype.kind in "USM" else float
            values = np.full(shape, fill if like.dtype.kind != "M" else np.datetime64("NaT"),
                             dtype=dtype)
            if name in d.coords or name in datasets[0].coords or like.dtype.kind in "USM":
                d = d.assign_coords({name: (like.dims, values, like.attrs)})
            else:
                d = d.assign({name: (like.dims, values, like.attrs)})
        out.append(d)
    return out


def combine_subjects(datasets: list[xr.Dataset]) -> xr.Dataset:
    """Concatenate calorimetry Datasets along ``subject``, aligning readings by their index.

    The ``time`` axis of the longest input is kept; each subject's wall clock stays in the
    ``datetime`` coordinate. Subject ids must be unique across inputs.

    Parameters
    ----------
    datasets : list of xarray.Dataset
        Contract-valid calorimetry Datasets (``(subject, time)``).

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over all subjects; shorter inputs are padded with NaN (``qc_flag`` 0);
        ``source_file``/``source_format`` list the inputs. A single input is returned as is.

    Raises
    ------
    ValueError
        If ``datasets`` is empty.
    FormatError
        If a subject id appears in more than one input.
    """
    if not datasets:
        raise ValueError("no datasets to combine")
    if len(datasets) == 1:
        return datasets[0]
    ids = np.concatenate([d["subject"].values.astype(str) for d in datasets])
    seen, dupes = set(), set()
    for s in ids:
        (dupes if s in seen else seen).add(s)
    if dupes:
        raise FormatError(f"subject id(s) {sorted(dupes)} appear in more than one file")
    longest = max(datasets, key=lambda d: d.sizes["time"])
    n_time = longest.sizes["time"]
    padded = _fill_missing([_pad(d, n_time) for d in datasets])
    out = xr.concat(padded, dim="subject", data_vars="all", coords="minimal",
                    compat="override", join="outer", combine_attrs="drop_conflicts")
    if "qc_flag" in out:
        out["qc_flag"] = out["qc_flag"].fillna(0).astype(np.int8)
        out["qc_flag"].attrs = datasets[0]["qc_flag"].attrs
    out = out.assign_coords(time=("time", longest["time"].values, longest["time"].attrs))
    out.attrs["source_file"] = ";".join(str(d.attrs.get("source_file", "")) for d in datasets)
    out.attrs["source_format"] = ",".join(dict.fromkeys(d.attrs.get("source_format", "")
                                                        for d in datasets))
    out.attrs["session_start"] = min(d.attrs.get("session_start", "") for d in datasets)
    return validate(out)


def read_many(paths, **options) -> xr.Dataset:
    """Read several calorimetry files into one Dataset over ``subject``.

    Per-cage CLAMS files go through :func:`sfone.io.calorimetry.clams.read_clams` together; any
    other mix is read one by one with :func:`sfone.read` and combined with
    :func:`combine_subjects`.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Calorimetry files.
    **options
        Reader options passed to every file's reader.

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over ``(subject, time)``.

    Raises
    ------
    ValueError
        If ``paths`` is empty.
    FormatError
        If a file is not a calorimetry format (or see :func:`combine_subjects`).
    """
    from ..io import detect_format, read
    from ..io.calorimetry.clams import read_clams

    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("read_many() got no files")
    infos = [detect_format(p) for p in paths]
    # sfone's own files (format modality "any", e.g. `sfone convert` output) store theirs
    stored = {i: read(p, **options) for i, (p, info) in enumerate(zip(paths, infos, strict=True))
              if info.modality == "any"}
    modalities = [stored[i].attrs.get("modality") if i in stored else info.modality
                  for i, info in enumerate(infos)]
    not_calorimetry = [f"{p} ({m})" for p, m in zip(paths, modalities, strict=True)
                       if m != "calorimetry"]
    if not_calorimetry:
        raise FormatError(f"not calorimetry file(s): {', '.join(not_calorimetry)}")
    if len(paths) > 1 and all(i.name == "clams" for i in infos):
        return read_clams(paths, **options)
    return combine_subjects([stored[i] if i in stored else read(p, **options)
                             for i, p in enumerate(paths)])

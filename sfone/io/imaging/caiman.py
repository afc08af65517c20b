"""CaImAn / CNMF-E results saved with ``cnm.save('x.hdf5')`` (a dump of the CNMF object).

Read with h5py only (CaImAn is never imported). Layout: ``estimates/C``, ``S``, ``YrA`` (K, T);
``estimates/A`` a CSC sparse matrix (n_pixels, K) with pixels flattened in **Fortran order** over
``dims`` (rows, cols); ``estimates/idx_components`` accepted components; ``params/data/fr`` frame
rate in Hz. ``None`` values are stored as the byte string ``b'NoneType'``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import xarray as xr
from scipy import sparse

from ..._docs import fill_doc
from ..._hdf5 import is_hdf5
from ...exceptions import FormatError
from ...footprints import MAX_FOV_PIXELS, add_footprints, chunk_footprints, mask_centroids
from ...schema import finalize_dataset
from .._checks import check_positive_rate
from .._lazy import lazy_hdf5
from ._common import hdf5_errors, imaging_dataset

__all__ = ["read_caiman"]


def _value(node):
    """Value of an h5py dataset with CaImAn's ``b'NoneType'`` mapped back to ``None``."""
    if node is None or not isinstance(node, h5py.Dataset):
        return None
    value = node[()]
    if isinstance(value, bytes) and value == b"NoneType":
        return None
    return value


def _trace(estimates, name: str, path: Path, shape=None, chunks=None):
    node = estimates.get(name)
    if chunks is not None and isinstance(node, h5py.Dataset) and node.ndim == 2 \
            and node.dtype.kind in "fiu" and (shape is None or node.shape == shape):
        return lazy_hdf5(node, path, chunks, ("roi", "time")).astype(float)
    value = _value(node)
    if value is None:
        return None
    value = np.asarray(value, dtype=float)
    if value.ndim != 2 or (shape is not None and value.shape != shape):
        raise FormatError(f"estimates/{name} has shape {value.shape}, expected "
                          f"{shape or '(n_components, n_frames)'}", path=path)
    return value


def _fov_dims(value, path: Path) -> tuple[int, int]:
    """``dims`` as (rows, cols): whole positive numbers, at most ``MAX_FOV_PIXELS`` pixels."""
    dims = np.asarray(value).ravel()
    if dims.size < 2 or dims.dtype.kind not in "iuf" or not np.all(np.isfinite(dims[:2])):
        raise FormatError(f"estimates/dims is {dims.tolist()!r}; expected (rows, cols) in pixels",
                          path=path)
    rows, cols = int(dims[0]), int(dims[1])
    if rows <= 0 or cols <= 0 or rows * cols > MAX_FOV_PIXELS:
        raise FormatError(f"estimates/dims is {rows} x {cols} pixels; expected a field of view "
                          f"of at most {MAX_FOV_PIXELS} pixels", path=path)
    return rows, cols


def _footprint_coords(estimates, dims, n_components: int, path: Path) -> tuple[dict, dict]:
    """Centroid coords and the footprint pixels of ``estimates/A`` (empty dicts if absent)."""
    group = estimates.get("A")
    if not isinstance(group, h5py.Group) or dims is None:
        return {}, {}
    try:
        shape = tuple(int(n) for n in group["shape"][()])
        matrix = sparse.csc_matrix((group["data"][()], group["indices"][()],
                                    group["indptr"][()]), shape=shape)
        # corrupted index arrays crash scipy's kernels (segfault): check bounds and order first
        matrix.check_format(full_check=True)
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise FormatError(f"estimates/A is not a readable CSC sparse matrix: {exc}",
                          path=path) from exc
    rows, cols = dims
    if shape != (rows * cols, n_components):
        raise FormatError(f"estimates/A has shape {shape}, expected ({rows}*{cols}, "
                          f"{n_components}) for dims {rows}x{cols}", path=path)
    npix = np.diff(matrix.indptr)
    # Fortran order: A[:, k].reshape(dims, order="F"), so pixel p is row p % rows
    masks = {"roi": np.repeat(np.arange(n_components), npix), "y": matrix.indices % rows,
             "x": matrix.indices // rows, "weight": matrix.data, "shape": (rows, cols)}
    cy, cx = mask_centroids(masks["roi"], masks["y"], masks["x"], masks["weight"], n_components)
    coords = {"y": (cy, "pixel"), "x": (cx, "pixel"), "npix": (npix.astype(float), "pixel")}
    return coords, masks


def _accepted(estimates, n: int, path: Path) -> tuple[np.ndarray, bool]:
    idx = _value(estimates.get("idx_components"))
    if idx is None:
        return np.ones(n, bool), False
    idx = np.asarray(idx, dtype=int).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise FormatError(f"estimates/idx_components has indices up to {idx.max()} but there "
                          f"are only {n} components", path=path)
    accepted = np.zeros(n, bool)
    accepted[idx] = True
    return accepted, True


def _quality_coords(estimates, n: int) -> dict:
    out = {}
    for name, coord in (("SNR_comp", "snr"), ("r_values", "r_value")):
        value = _value(estimates.get(name))
        if value is not None and np.size(value) == n:
            out[coord] = (np.asarray(value, dtype=float).ravel(), "1")
    return out


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise FormatError(f"not a readable HDF5 file: {exc}", path=path) from exc


@fill_doc
def read_caiman(path, *, chunks=None) -> xr.Dataset:
    """Read a CaImAn/CNMF-E ``.hdf5`` result into an imaging Dataset.

    Variables over ``(roi, time)``: ``F`` = ``C + YrA`` (the raw-like trace CaImAn plots),
    ``C`` (denoised), ``YrA`` (residual), ``spks`` (``S``, deconvolved) and ``dff`` (``F_dff``)
    when saved. ``iscell`` marks ``idx_components`` (all True when components were never
    evaluated; attr ``components_evaluated`` says which). ``y``/``x`` are footprint centroids
    in pixels, ``fs`` is ``params/data/fr`` in Hz. The footprints ``A`` are kept as the
    ``mask_*`` variables over ``mask_pixel`` (attr ``fov_shape`` = ``dims``; see
    :mod:`sfone.footprints`); CaImAn saves no mean image.

    ``chunks`` (``"auto"``, int, tuple or ``{"roi": 100, "time": 10000}``) returns the traces
    as dask arrays that read the file block by block when computed; only metadata, centroids
    and labels are read here.

    Parameters
    ----------
    path : str or os.PathLike
        CaImAn ``.hdf5`` saved with ``cnm.save()``.

    %(chunks)s

    Returns
    -------
    %(imaging_dataset)s
        Variables and footprints as described above.

    Raises
    ------
    FormatError
        If the file has no ``estimates`` group, no ``estimates/C``, or no frame rate.
    """
    path = Path(path)
    with hdf5_errors(path, "a CaImAn result"), _open(path) as f:
        estimates = f.get("estimates")
        if not isinstance(estimates, h5py.Group):
            raise FormatError("no 'estimates' group: not a saved CaImAn CNMF result "
                              "(expected estimates/C, estimates/A, ...)", path=path)
        C = _trace(estimates, "C", path, chunks=chunks)
        if C is None:
            raise FormatError("estimates/C is missing or None (the CNMF fit was not run?)",
                              path=path)
        traces = {"C": C}
        for source, name in (("YrA", "YrA"), ("S", "spks"), ("F_dff", "dff")):
            value = _trace(estimates, source, path, shape=C.shape, chunks=chunks)
            if value is not None:
                traces[name] = value
        traces = {"F": C + traces["YrA"] if "YrA" in traces else C.copy(), **traces}
        fr = _value(f.get("params/data/fr"))
        if fr is None:
            raise FormatError("params/data/fr (frame rate) is missing", path=path)
        dims = _value(estimates.get("dims"))
        dims = _value(f.get("dims")) if dims is None else dims
        dims = None if dims is None else _fov_dims(dims, path)
        coords, masks = _footprint_coords(estimates, dims, C.shape[0], path)
        coords.update(_quality_coords(estimates, C.shape[0]))
        iscell, evaluated = _accepted(estimates, C.shape[0], path)
        data_attrs = f["params/data"].attrs if "params/data" in f else {}
        version = data_attrs.get("caiman_version")
    fs = check_positive_rate(fr, what="params/data/fr", path=path, modality="imaging")
    ds = imaging_dataset(traces, fs=fs, roi=np.arange(C.shape[0]), iscell=iscell,
                         coords=coords, trace_units={"dff": "1"})
    if masks:
        ds = chunk_footprints(add_footprints(
            ds, **masks, source="CaImAn estimates/A (Fortran pixel order)"), chunks)
    attrs = {"pipeline": "caiman", "components_evaluated": int(evaluated)}
    if dims is not None:
        attrs["Ly"], attrs["Lx"] = dims
    if version is not None:
        attrs["caiman_version"] = version.decode() if isinstance(version, bytes) else str(version)
    return finalize_dataset(ds, modality="imaging", source_format="caiman", source_file=path,
                            **attrs)


def _sniff(path: Path) -> bool:
    if not is_hdf5(path):
        return False
    with h5py.File(path, "r") as f:
        return "estimates" in f or ("params" in f and "dims" in f and "params/data" in f)

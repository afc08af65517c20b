"""ROI footprints in the data contract: sparse pixel lists with weights, plus the mean image.

An imaging Dataset may carry, on a dimension ``mask_pixel`` (one row per ROI pixel, rows sorted
by ROI):

``mask_roi``
    int64 position of the ROI along ``roi`` (0 .. n_roi - 1), not the source's ROI id.
``mask_y``, ``mask_x``
    int32 row and column of the pixel in the field of view (``pixel``).
``mask_weight``
    float32 weight of the pixel in the footprint (``1``; suite2p ``lam``, CaImAn ``A``).

and the Dataset attr ``fov_shape`` = ``[n_rows, n_cols]`` (pixels); optionally ``mean_image`` over
``(fov_y, fov_x)`` (``a.u.``). Memory is proportional to the mask pixels: nothing here builds a
dense ``roi x rows x cols`` array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ._validate import _check_option

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["MASK_VARIABLES", "MAX_FOV_PIXELS", "add_footprints", "chunk_footprints", "has_footprints", "fov_shape", "footprint_matrix",
           "footprint_centroids", "mask_centroids", "footprint_image", "mean_image", "select_rois",
           "masks_from_images", "check_footprints"]

MASK_VARIABLES = ("mask_roi", "mask_y", "mask_x", "mask_weight")
#: largest field of view (pixels) a footprint may live in: 8192 x 8192, beyond any microscope
MAX_FOV_PIXELS = 2 ** 26
_DTYPES = {"mask_roi": np.int64, "mask_y": np.int32, "mask_x": np.int32,
           "mask_weight": np.float32}
_ATTRS = {
    "mask_roi": {"units": "1", "long_name": "position along roi of the ROI owning the pixel"},
    "mask_y": {"units": "pixel", "long_name": "footprint pixel row"},
    "mask_x": {"units": "pixel", "long_name": "footprint pixel column"},
    "mask_weight": {"units": "1", "long_name": "footprint pixel weight"},
}


def add_footprints(ds: xr.Dataset, *, roi, y, x, weight, shape, mean_image=None,
                   source: str = "") -> xr.Dataset:
    """Return ``ds`` with the footprint variables (and ``mean_image``) added.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with a ``roi`` dimension.
    roi, y, x, weight : array-like
        One entry per footprint pixel: ROI position (0-based along ``roi``), row, column
        (pixels) and weight. Sorted here (stably) by ``roi``.
    shape : (int, int)
        Field of view ``(n_rows, n_cols)`` in pixels.
    mean_image : array-like, optional
        Mean image of the field of view, ``shape`` pixels (a.u.).
    source : str
        Where the masks come from (stored as the ``mask_weight`` attr ``source``).

    Returns
    -------
    xarray.Dataset
        A copy of ``ds`` with ``mask_roi``, ``mask_y``, ``mask_x``, ``mask_weight`` over
        ``mask_pixel``, attr ``fov_shape`` and, when given, ``mean_image`` over ``(fov_y, fov_x)``.

    Raises
    ------
    ValueError
        If the pixel arrays differ in length.
    """
    arrays = {name: np.asarray(values).ravel() for name, values in
              zip(MASK_VARIABLES, (roi, y, x, weight), strict=True)}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) != 1:
        raise ValueError(f"footprint arrays differ in length: "
                         f"{ {k: v.size for k, v in arrays.items()} }")
    order = np.argsort(arrays["mask_roi"], kind="stable")
    if np.all(order == np.arange(order.size)):
        order = slice(None)
    variables = {}
    for name, values in arrays.items():
        attrs = dict(_ATTRS[name])
        if name == "mask_weight" and source:
            attrs["source"] = source
        variables[name] = ("mask_pixel", values[order].astype(_DTYPES[name], copy=False), attrs)
    out = ds.assign(variables)
    out.attrs["fov_shape"] = [int(shape[0]), int(shape[1])]
    if mean_image is not None:
        image = np.asarray(mean_image, dtype=np.float32)
        if image.shape != tuple(out.attrs["fov_shape"]):
            raise ValueError(f"mean image has shape {image.shape}, expected the field of view "
                             f"{tuple(out.attrs['fov_shape'])}")
        out["mean_image"] = (("fov_y", "fov_x"), image,
                             {"units": "a.u.", "long_name": "mean image of the field of view"})
    problems = check_footprints(out)
    if problems:
        raise ValueError("; ".join(problems))
    return out


def chunk_footprints(ds: xr.Dataset, chunks) -> xr.Dataset:
    """Footprint variables (and ``mean_image``) as single-chunk dask arrays when ``chunks`` is
    not None, so a lazily opened Dataset is dask-backed throughout (they are small).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset.
    chunks : object or None
        The ``chunks`` a reader was given; ``None`` leaves ``ds`` unchanged.

    Returns
    -------
    xarray.Dataset
        ``ds`` with its footprint variables as one-chunk dask arrays.
    """
    names = [n for n in (*MASK_VARIABLES, "mean_image") if n in ds.variables]
    if chunks is None or not names:
        return ds
    return ds.assign({name: ds[name].chunk() for name in names})


def has_footprints(ds: xr.Dataset) -> bool:
    """True when ``ds`` carries the four footprint variables.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset.

    Returns
    -------
    bool
    """
    return all(name in ds.variables for name in MASK_VARIABLES)


def _require(ds: xr.Dataset) -> None:
    if not has_footprints(ds):
        source = ds.attrs.get("source_file", "<in-memory dataset>")
        raise ValueError(f"{source}: the Dataset has no ROI footprints (variables "
                         f"{', '.join(MASK_VARIABLES)}); its reader "
                         f"({ds.attrs.get('source_format', '?')}) found no masks in the file")


def fov_shape(ds: xr.Dataset) -> tuple[int, int]:
    """Field of view ``(n_rows, n_cols)`` in pixels (the ``fov_shape`` attr).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with footprints (``mask_*`` over ``mask_pixel``, attr ``fov_shape``).

    Returns
    -------
    tuple of int
        ``(n_rows, n_cols)``.

    Raises
    ------
    Raises
    ------
    ValueError
        If ``ds`` has no footprints.
    """
    _require(ds)
    shape = np.asarray(ds.attrs["fov_shape"]).ravel()
    return int(shape[0]), int(shape[1])


def check_footprints(ds: xr.Dataset, *, values: bool = True) -> list[str]:
    """Problems with the footprint variables of ``ds`` (empty list when fine or absent).

    ``values=False`` checks names, dims and dtypes only (nothing is read from dask arrays).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset, with or without footprints.
    values : bool, default True
        Also check values (``mask_roi`` sorted and within ``roi``, pixels inside the field of
        view, finite weights; skipped for dask arrays); ``False`` checks names, dims and dtypes
        only.

    Returns
    -------
    list of str
        One sentence per problem.
    """
    present = [name for name in MASK_VARIABLES if name in ds.variables]
    problems: list[str] = []
    if not present:
        if "mean_image" in ds.variables and ds["mean_image"].dims != ("fov_y", "fov_x"):
            problems.append(f"'mean_image' has dims {ds['mean_image'].dims}, expected "
                            "('fov_y', 'fov_x')")
        return problems
    missing = [name for name in MASK_VARIABLES if name not in ds.variables]
    if missing:
        return [f"footprints incomplete: {', '.join(present)} present but "
                f"{', '.join(missing)} missing"]
    for name in MASK_VARIABLES:
        var = ds[name]
        if var.dims != ("mask_pixel",):
            problems.append(f"{name!r} has dims {var.dims}, expected ('mask_pixel',)")
        if var.dtype != _DTYPES[name]:
            problems.append(f"{name!r} has dtype {var.dtype}, expected "
                            f"{np.dtype(_DTYPES[name]).name}")
    shape = np.asarray(ds.attrs.get("fov_shape", [])).ravel()
    if shape.size != 2 or not np.all(shape > 0) or np.prod(shape, dtype=float) > MAX_FOV_PIXELS:
        problems.append(f"attr 'fov_shape' is {ds.attrs.get('fov_shape')!r}, expected "
                        f"[n_rows, n_cols] in pixels, at most {MAX_FOV_PIXELS} pixels")
        return problems
    if "mean_image" in ds.variables:
        image = ds["mean_image"]
        if image.dims != ("fov_y", "fov_x") or image.shape != tuple(int(n) for n in shape):
            problems.append(f"'mean_image' has dims {image.dims} and shape {image.shape}, "
                            f"expected ('fov_y', 'fov_x') of {tuple(int(n) for n in shape)}")
    if problems or not values or any(_is_lazy(ds[name]) for name in MASK_VARIABLES):
        return problems
    roi = ds["mask_roi"].values
    n_roi = ds.sizes.get("roi", 0)
    if roi.size:
        if np.any(np.diff(roi) < 0):
            problems.append("'mask_roi' is not sorted (rows must be sorted by ROI)")
        if roi.min() < 0 or roi.max() >= n_roi:
            problems.append(f"'mask_roi' spans {roi.min()}..{roi.max()}, expected positions "
                            f"0..{n_roi - 1} along 'roi'")
        for name, limit in (("mask_y", shape[0]), ("mask_x", shape[1])):
            coord = ds[name].values
            if coord.min() < 0 or coord.max() >= limit:
                problems.append(f"{name!r} spans {coord.min()}..{coord.max()}, outside the field "
                                f"of view 0..{int(limit) - 1}")
        if not np.all(np.isfinite(ds["mask_weight"].values)):
            problems.append("'mask_weight' holds non-finite values")
    return problems


def _is_lazy(var: xr.DataArray) -> bool:
    return type(var.data).__module__.startswith("dask")


def footprint_matrix(ds: xr.Dataset, *, normalize: str | None = None) -> sparse.csr_matrix:
    """Footprints as a sparse ``(n_roi, n_rows * n_cols)`` matrix (pixels in C order).

    ``normalize``: ``None`` (weights as stored), ``"sum"`` (each row sums to 1) or ``"l2"``
    (each row has unit Euclidean norm). Duplicate pixels of one ROI are summed.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with footprints (``mask_*`` over ``mask_pixel``, attr ``fov_shape``).
    normalize : {None, "sum", "l2"}, default None
        Row scaling: weights as stored, rows summing to 1, or rows of unit Euclidean norm.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_roi, n_rows * n_cols)``.

    Raises
    ------
    Raises
    ------
    ValueError
        If ``ds`` has no footprints.
    """
    from scipy import sparse

    _check_option("normalize", normalize, (None, "sum", "l2"))
    rows, cols = fov_shape(ds)
    roi = np.asarray(ds["mask_roi"].values)
    pixel = (np.asarray(ds["mask_y"].values, dtype=np.int64) * cols
             + np.asarray(ds["mask_x"].values, dtype=np.int64))
    weight = np.asarray(ds["mask_weight"].values, dtype=np.float64)
    matrix = sparse.csr_matrix((weight, (roi, pixel)), shape=(ds.sizes["roi"], rows * cols))
    matrix.sum_duplicates()
    if normalize is None:
        return matrix
    if normalize == "sum":
        scale = np.asarray(matrix.sum(axis=1)).ravel()
    else:  # "l2"
        scale = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    with np.errstate(divide="ignore"):
        inverse = np.where(scale > 0, 1.0 / scale, 0.0)
    return sparse.diags(inverse) @ matrix


def mask_centroids(roi, y, x, weight, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The centroid of each of ``n`` ROIs from its footprint pixels: sfone's one definition.

    The weighted mean row and column of the ROI's pixels, weights below 0 counted as 0 (the
    negative lobes of an ICA filter are not part of the cell): what NWB tools compute from a
    ``pixel_mask``, and within about a pixel of isx's centre of a cell's largest component. Every
    reader's ``y``/``x`` (suite2p, CaImAn, Inscopix ``.isxd``, NWB) is this function of the
    footprint it returns; suite2p's own ``stat['med']`` (the ROI pixel nearest the unweighted
    median row and column) is kept as ``med_y``/``med_x``.

    Parameters
    ----------
    roi : array_like of int
        Position along ``roi`` (0 .. n - 1) of each footprint pixel.
    y, x : array_like
        Row and column of each pixel (pixels).
    weight : array_like of float
        Weight of each pixel (suite2p ``lam``, CaImAn ``A``, a cell image's value).
    n : int
        Number of ROIs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(row, column)`` float arrays of length ``n`` (pixels); NaN for an ROI without a
        pixel of positive weight.
    """
    roi = np.asarray(roi, dtype=np.int64).ravel()
    w = np.clip(np.asarray(weight, dtype=np.float64).ravel(), 0, None)
    total = np.bincount(roi, w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cy = np.bincount(roi, w * np.asarray(y, dtype=np.float64).ravel(), minlength=n) / total
        cx = np.bincount(roi, w * np.asarray(x, dtype=np.float64).ravel(), minlength=n) / total
    cy[total == 0] = np.nan
    cx[total == 0] = np.nan
    return cy, cx


def footprint_centroids(ds: xr.Dataset) -> np.ndarray:
    """Weighted centroid ``(n_roi, 2)`` (row, column; pixels) of each footprint; NaN if empty.

    The same definition as every reader's ``y``/``x`` (:func:`mask_centroids`).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with footprints (``mask_*`` over ``mask_pixel``, attr ``fov_shape``).

    Returns
    -------
    numpy.ndarray
        ``(n_roi, 2)`` float: (row, column) in pixels; NaN for a ROI without pixels.

    Raises
    ------
    Raises
    ------
    ValueError
        If ``ds`` has no footprints.
    """
    _require(ds)
    cy, cx = mask_centroids(*(np.asarray(ds[name].values) for name in MASK_VARIABLES),
                            ds.sizes["roi"])
    return np.column_stack([cy, cx])


def footprint_image(ds: xr.Dataset) -> np.ndarray:
    """Maximum projection of the footprints, each scaled to peak 1 (``fov_shape``, float).

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset with footprints (``mask_*`` over ``mask_pixel``, attr ``fov_shape``).

    Returns
    -------
    numpy.ndarray
        ``fov_shape`` float image, 0 where no footprint reaches.

    Raises
    ------
    Raises
    ------
    ValueError
        If ``ds`` has no footprints.
    """
    from scipy import sparse

    matrix = footprint_matrix(ds)
    peak = matrix.max(axis=1).toarray().ravel()
    with np.errstate(divide="ignore"):
        scaled = sparse.diags(np.where(peak > 0, 1.0 / peak, 0.0)) @ matrix
    image = np.asarray(scaled.max(axis=0).toarray()).ravel()
    return image.reshape(fov_shape(ds))


def mean_image(ds: xr.Dataset) -> np.ndarray | None:
    """The field of view's mean image as a float array, or None when the file had none.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset.

    Returns
    -------
    numpy.ndarray or None
        ``(fov_y, fov_x)`` float array (a.u.).
    """
    return np.asarray(ds["mean_image"].values, dtype=float) if "mean_image" in ds else None


def select_rois(ds: xr.Dataset, positions) -> xr.Dataset:
    """``ds.isel(roi=positions)`` that keeps the footprints consistent (``mask_roi`` renumbered).

    ``positions``: integer positions or a boolean mask along ``roi``.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging Dataset (with or without footprints).
    positions : array_like of int or bool
        Integer positions, or a boolean mask along ``roi``.

    Returns
    -------
    xarray.Dataset
        The selected ROIs and only their footprint pixels.
    """
    positions = np.asarray(positions)
    if positions.dtype == bool:
        positions = np.flatnonzero(positions)
    out = ds.isel(roi=positions)
    if not has_footprints(ds):
        return out
    roi = np.asarray(ds["mask_roi"].values)
    new_position = np.full(ds.sizes["roi"], -1, dtype=np.int64)
    new_position[positions] = np.arange(positions.size)
    keep = new_position[roi] >= 0
    order = np.argsort(new_position[roi[keep]], kind="stable")
    index = np.flatnonzero(keep)[order]
    out = out.isel(mask_pixel=index)
    return out.assign(mask_roi=("mask_pixel", new_position[roi[index]], ds["mask_roi"].attrs))


def masks_from_images(images: np.ndarray, *, threshold: float) -> tuple[np.ndarray, ...]:
    """Sparse masks ``(roi, y, x, weight)`` of dense cell images ``(n, rows, cols)``.

    Keeps the pixels above ``threshold`` times each image's peak (the positive lobe of an
    ICA / CNMF-E image); weights are the image values. Works image by image, so only the kept
    pixels are held at once besides the images themselves.

    Parameters
    ----------
    images : numpy.ndarray
        Dense cell images ``(n, rows, cols)``.
    threshold : float
        Fraction of each image's peak (e.g. 0.1) below which pixels are dropped.

    Returns
    -------
    tuple of numpy.ndarray
        ``(roi, y, x, weight)``, one entry per kept pixel (see :func:`add_footprints`); images
        without a positive peak give no pixels.
    """
    parts = []
    for index, image in enumerate(images):
        peak = float(np.max(image)) if image.size else 0.0
        if not peak > 0:
            continue
        y, x = np.nonzero(image > threshold * peak)
        parts.append((np.full(y.size, index), y, x, image[y, x]))
    if not parts:
        return tuple(np.zeros(0, dtype) for dtype in (np.int64, np.int32, np.int32, np.float32))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

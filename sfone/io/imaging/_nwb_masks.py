"""ROI masks in NWB <-> sfone footprints (sparse pixel lists on ``mask_pixel``).

Conventions, as NeuroConv/roiextractors and suite2p's own ``ophys.nwb`` write them (and as
sfone reads and writes them):

* ``pixel_mask`` rows ``(x, y, weight)``: ``x`` is the pixel's ROW (first array axis), ``y`` its
  COLUMN. ``voxel_mask`` rows ``(x, y, z, weight)`` likewise, ``z`` the plane.
* ``image_mask`` is ``(roi, width, height)``: ``image_mask[k, col, row]`` (roiextractors writes
  the ``(height, width)`` mask transposed); summary images (``SegmentationImages``) too. A file
  with only image masks (NeuroConv's Inscopix cell sets) holds dense cell images: the
  footprint is their pixels above ``IMAGE_MASK_THRESHOLD`` x peak, as for ``.isxd``.
* Centroids (``y``/``x``) are :func:`sfone.footprints.mask_centroids` of the footprint, from
  every file; a file's own centroid columns are read only when it has no masks.

The sfone layout: ``mask_roi`` (position along ``roi``), ``mask_y`` (row), ``mask_x`` (column),
``mask_weight``, sorted by ``mask_roi``; attr ``fov_shape = [n_rows, n_cols]``; optional
``mean_image`` on ``(fov_y, fov_x)``.
"""

from __future__ import annotations

import numpy as np

from ...footprints import mask_centroids, masks_from_images

__all__ = ["read_table_masks", "footprint_vars", "footprints_of", "mask_centroids",
           "CENTROID_ONLY"]

#: an ``image_mask`` is a dense cell image (NeuroConv writes isx's PCA-ICA / CNMF-E images, with
#: noise and negative lobes): its footprint is the pixels above this fraction of its peak, the
#: rule of the ``.isxd`` reader (``sfone.io.imaging.inscopix.ISXD_MASK_THRESHOLD``), so both
#: give the same footprint and centroid; a 0/1 mask keeps all its pixels
IMAGE_MASK_THRESHOLD = 0.1

#: in a PlaneSegmentation description: its pixel masks are centroids, not footprints (sfone
#: writes this when the input had no footprints; the second is what sfone < 0.2 wrote)
CENTROID_ONLY = ("pixel_mask is a one-pixel mask at each centroid",
                 "pixel_mask holds the centroid only")


def _ragged(table, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat rows of a ragged column and the ROI position of each row (read in two reads)."""
    index = table[column]  # VectorIndex
    ends = np.asarray(index.data[:], dtype=np.int64)
    flat = np.asarray(index.target.data[:])
    owner = np.repeat(np.arange(ends.size), np.diff(ends, prepend=0))
    return flat, owner


def _as_float_columns(flat: np.ndarray, n_fields: int) -> np.ndarray:
    if flat.dtype.names:
        return np.column_stack([flat[name].astype(float) for name in flat.dtype.names])
    return np.asarray(flat, dtype=float).reshape(-1, n_fields)


def read_table_masks(table) -> dict | None:
    """Footprints of a PlaneSegmentation: ``roi`` (row in the table), ``y``, ``x``, ``weight``,
    ``plane`` (voxel masks) and ``shape`` (rows, cols, or None when only pixel lists are stored).
    None if the table has no masks."""
    cols = table.colnames
    if "pixel_mask" in cols or "voxel_mask" in cols:
        column = "pixel_mask" if "pixel_mask" in cols else "voxel_mask"
        flat, owner = _ragged(table, column)
        values = _as_float_columns(flat, 3 if column == "pixel_mask" else 4)
        out = {"roi": owner, "y": values[:, 0], "x": values[:, 1], "weight": values[:, -1],
               "shape": None}
        if column == "voxel_mask":
            out["plane"] = values[:, 2]
        return out
    if "image_mask" in cols:
        masks = np.asarray(table["image_mask"].data[:], dtype=float)  # (roi, width, height)
        if masks.ndim != 3:
            return None
        images = masks.transpose(0, 2, 1)  # (roi, rows, cols)
        roi, row, col, weight = masks_from_images(images, threshold=IMAGE_MASK_THRESHOLD)
        return {"roi": roi, "y": row.astype(float), "x": col.astype(float),
                "weight": weight.astype(float), "shape": images.shape[1:]}
    return None


def footprint_vars(roi, y, x, weight, *, fov_shape, mean_image=None) -> tuple[dict, dict]:
    """Data variables and attrs of the footprint layout (rows sorted by ``mask_roi``)."""
    order = np.argsort(roi, kind="stable")
    data_vars = {
        "mask_roi": ("mask_pixel", np.asarray(roi, np.int64)[order],
                     {"units": "1", "long_name": "position of the pixel's ROI along roi"}),
        "mask_y": ("mask_pixel", np.asarray(y).astype(np.int32)[order],
                   {"units": "pixel", "long_name": "pixel row"}),
        "mask_x": ("mask_pixel", np.asarray(x).astype(np.int32)[order],
                   {"units": "pixel", "long_name": "pixel column"}),
        "mask_weight": ("mask_pixel", np.asarray(weight, np.float32)[order],
                        {"units": "1", "long_name": "mask weight"}),
    }
    if mean_image is not None:
        data_vars["mean_image"] = (("fov_y", "fov_x"), np.asarray(mean_image),
                                   {"units": "a.u.", "long_name": "mean image"})
    return data_vars, {"fov_shape": [int(fov_shape[0]), int(fov_shape[1])]}


def footprints_of(ds) -> dict | None:
    """The footprints of an imaging Dataset as arrays (``roi``, ``y``, ``x``, ``weight``,
    ``fov_shape``, ``mean_image``), or None when it has none."""
    if "mask_roi" not in ds.variables:
        return None
    out = {k: np.asarray(ds[f"mask_{k}"].values) for k in ("roi", "y", "x", "weight")}
    shape = ds.attrs.get("fov_shape")
    if shape is None:
        shape = (int(out["y"].max()) + 1, int(out["x"].max()) + 1) if out["y"].size else (1, 1)
    out["fov_shape"] = (int(shape[0]), int(shape[1]))
    out["mean_image"] = np.asarray(ds["mean_image"].values) if "mean_image" in ds else None
    return out

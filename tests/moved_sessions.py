"""A second "day" of a real session: the same footprints seen through a known rigid transform,
written back in the source's own file format (suite2p plane folder, CaImAn .hdf5, NWB,
Inscopix .isxd cell set).

``transform`` maps day-8 pixels to day-1 pixels, as :func:`sfone.track` reports it; the day-8
footprint of ROI k is day-1 footprint k resampled at ``transform(q)``, so a correct tracker
pairs every ROI with itself. ``kept`` is the fraction of each footprint's weight still inside
the field of view (ROIs pushed over the edge may rightly be lost).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
from scipy import sparse

import sfone
from sfone.footprints import footprint_matrix, fov_shape
from sfone.io.imaging._isxd import read_isxd_header
from sfone.tracking.match import warp_footprints


def moved_footprints(ds, transform):
    """Day-8 footprints ``(roi, y, x, weight)`` of the day-1 Dataset ``ds`` and ``kept``."""
    shape = fov_shape(ds)
    matrix = footprint_matrix(ds)
    moved = warp_footprints(matrix, shape, transform.inverse(), shape).tocoo()
    kept = np.asarray(moved.sum(axis=1)).ravel() / np.asarray(matrix.sum(axis=1)).ravel()
    return (moved.row, moved.col // shape[1], moved.col % shape[1], moved.data), kept


def moved_image(image: np.ndarray, transform) -> np.ndarray:
    """Day-8 view of a day-1 image (outside the day-1 field: its median)."""
    out = transform.inverse().warp(image, image.shape)
    return np.where(np.isfinite(out), out, np.nanmedian(image))


def write_moved_suite2p(plane: Path, out: Path, transform) -> tuple[Path, np.ndarray]:
    """Copy of the suite2p ``planeN`` folder with moved ``stat`` masks and ``ops['meanImg']``."""
    ds = sfone.read(plane)
    (roi, y, x, w), kept = moved_footprints(ds, transform)
    shutil.copytree(plane, out)
    for name in out.iterdir():
        name.chmod(0o644)
    stat = np.load(plane / "stat.npy", allow_pickle=True)
    for k, entry in enumerate(stat):
        own = roi == k
        entry.update(ypix=y[own].astype(np.int32), xpix=x[own].astype(np.int32),
                     lam=w[own].astype(np.float32), npix=int(own.sum()),
                     med=[float(np.median(y[own])), float(np.median(x[own]))])
    np.save(out / "stat.npy", stat, allow_pickle=True)
    ops = np.load(plane / "ops.npy", allow_pickle=True).item()
    ops["meanImg"] = moved_image(ops["meanImg"], transform).astype(np.float32)
    np.save(out / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    return out, kept


def write_moved_caiman(path: Path, out: Path, transform) -> tuple[Path, np.ndarray]:
    """Copy of a CaImAn results file with ``estimates/A`` moved (Fortran-order pixels)."""
    ds = sfone.read(path)
    (roi, y, x, w), kept = moved_footprints(ds, transform)
    shutil.copy(path, out)
    out.chmod(0o644)
    rows, cols = fov_shape(ds)
    a = sparse.csc_matrix((w, (y + x * rows, roi)), shape=(rows * cols, ds.sizes["roi"]))
    with h5py.File(out, "r+") as f:
        group = f["estimates/A"]
        for key in ("data", "indices", "indptr", "shape"):
            dtype = group[key].dtype
            del group[key]
            value = np.asarray(a.shape if key == "shape" else getattr(a, key))
            group.create_dataset(key, data=value.astype(dtype))
    return out, kept


def write_moved_nwb(path: Path, out: Path, transform) -> tuple[Path, np.ndarray]:
    """Copy of an NWB file whose PlaneSegmentation ``pixel_mask`` pixels (``x`` = row, ``y`` =
    column) and ``SegmentationImages`` are moved in place: each pixel goes to the nearest
    day-8 pixel (clipped to the field), so every ROI keeps its number of pixels."""
    ds = sfone.read(path)
    shape = fov_shape(ds)
    shutil.copy(path, out)
    out.chmod(0o644)
    back = transform.inverse()
    with h5py.File(out, "r+") as f:
        seg = f["processing/ophys/ImageSegmentation/PlaneSegmentation/pixel_mask"]
        pixels = seg[:]
        moved = np.rint(back.apply(np.column_stack([pixels["x"], pixels["y"]])))
        pixels["x"] = np.clip(moved[:, 0], 0, shape[0] - 1)
        pixels["y"] = np.clip(moved[:, 1], 0, shape[1] - 1)
        seg[:] = pixels
        images = f.get("processing/ophys/SegmentationImages")
        for name in images or ():
            image = images[name][:]  # (width, height): the transposed (rows, cols) image
            images[name][:] = moved_image(image.T, transform).T
    kept = moved_footprints(ds, transform)[1]
    return out, kept


def write_moved_isxd(path: Path, out: Path, transform) -> tuple[Path, np.ndarray]:
    """Copy of an Inscopix cell set whose cell images are resampled in place (day-8 image at q
    = day-1 image at ``transform(q)``, 0 outside)."""
    ds = sfone.read(path)
    header, _ = read_isxd_header(path)
    rows, cols = header["spacingInfo"]["numPixels"]["y"], header["spacingInfo"]["numPixels"]["x"]
    n_cells, n_times = len(header["CellNames"]), header["timingInfo"]["numTimes"]
    shutil.copy(path, out)
    out.chmod(0o644)
    data = np.memmap(out, dtype="<f4", mode="r+", shape=(n_cells, rows * cols + n_times))
    back = transform.inverse()
    for k in range(n_cells):
        image = np.array(data[k, :rows * cols]).reshape(rows, cols)
        data[k, :rows * cols] = np.nan_to_num(back.warp(image), nan=0.0).ravel()
    data.flush()
    del data
    return out, moved_footprints(ds, transform)[1]

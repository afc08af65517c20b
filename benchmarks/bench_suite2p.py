"""Reading suite2p's F.npy: sfone.read + mean over time against np.load(mmap_mode="r") + mean."""

from __future__ import annotations

import numpy as np

from benchmarks._harness import Benchmark, build_once

N_ROIS = 5000
N_FRAMES = 100_000
FS_HZ = 30.0
BLOCK = 250  # ROIs generated at a time while writing (setup only)


def _write_plane(plane):
    """A suite2p 0.14-style plane folder: F.npy (float32, as suite2p writes it), iscell, ops."""
    plane.mkdir(parents=True)
    rng = np.random.default_rng(3)
    f = np.lib.format.open_memmap(plane / "F.npy", mode="w+", dtype=np.float32,
                                  shape=(N_ROIS, N_FRAMES))
    for lo in range(0, N_ROIS, BLOCK):
        block = rng.standard_normal((BLOCK, N_FRAMES), dtype=np.float32)
        f[lo:lo + BLOCK] = 200.0 + 20.0 * block + np.arange(lo, lo + BLOCK, dtype=np.float32)[:, None]
    f.flush()
    del f
    iscell = np.column_stack([rng.random(N_ROIS) > 0.3, rng.random(N_ROIS)]).astype(np.float64)
    np.save(plane / "iscell.npy", iscell)
    with open(plane / "ops.npy", "wb") as fh:  # what np.save of a dict writes
        np.save(fh, np.array({"fs": FS_HZ, "nplanes": 1, "neucoeff": 0.7}, dtype=object),
                allow_pickle=True)


def _setup(work_dir):
    folder = work_dir / f"suite2p_{N_ROIS}x{N_FRAMES}"
    return build_once(folder, _is_complete, lambda tmp: _write_plane(tmp / "suite2p" / "plane0"))


def _is_complete(folder) -> bool:
    plane = folder / "suite2p" / "plane0"
    try:
        shape = np.load(plane / "F.npy", mmap_mode="r").shape
    except (OSError, ValueError):
        return False
    return shape == (N_ROIS, N_FRAMES) and (plane / "ops.npy").exists()


def _sfone(folder):
    import sfone

    ds = sfone.read(folder)
    # skipna=False: np.mean's semantics (suite2p F has no NaN). xarray's default skipna=True
    # without bottleneck/numbagg goes through np.nanmean, which copies the whole array.
    return ds["F"].mean("time", skipna=False).values


def _numpy(folder):
    f = np.load(folder / "suite2p" / "plane0" / "F.npy", mmap_mode="r")
    return f.mean(axis=1)


def _check(sfone_mean, numpy_mean):
    assert sfone_mean.shape == numpy_mean.shape == (N_ROIS,)
    np.testing.assert_allclose(sfone_mean, numpy_mean, rtol=1e-5)


BENCHMARKS = [Benchmark(
    name="suite2p_read_vs_numpy",
    work="read 5,000 ROIs x 100,000 frames of F (suite2p F.npy, float32) and take the mean over time",
    baseline='np.load(mmap_mode="r") + mean',
    setup=_setup, run_sfone=_sfone, run_baseline=_numpy, check=_check,
    target_speedup=0.75, target_rss_ratio=1.2, repeats=3)]

"""Peri-run alignment: sfone.compute_perievent against pynapple and the numpy gather floor."""

from __future__ import annotations

import numpy as np
import xarray as xr

from benchmarks._harness import Benchmark
from sfone.perievent import compute_perievent

N_ROIS = 1000
FS_HZ = 20.0
DURATION_S = 3600.0
N_RUNS = 20
WINDOW = (-30.0, 120.0)
WORK = "1,000 ROIs, 1 h at 20 Hz, 20 runs, window -30..+120 s"


def _setup(work_dir):
    rng = np.random.default_rng(1)
    n = int(FS_HZ * DURATION_S)
    time = np.arange(n) / FS_HZ  # pynapple's compute_perievent needs a regular grid
    traces = rng.normal(0.0, 1.0, (N_ROIS, n))
    ends = np.sort(rng.uniform(60.0, DURATION_S - 150.0, N_RUNS))
    da = xr.DataArray(traces, dims=("roi", "time"),
                      coords={"roi": np.arange(N_ROIS), "time": ("time", time, {"units": "s"})},
                      name="F", attrs={"units": "a.u."})
    epochs = np.column_stack([ends - 30.0, ends])
    return {"da": da, "epochs": epochs, "time": time, "ends": ends}


def _sfone(data):
    return compute_perievent(data["da"], data["epochs"], align="end", window=WINDOW).values


def _pynapple(data):
    import pynapple as nap

    frame = nap.TsdFrame(t=data["time"], d=data["da"].values.T, time_units="s")
    events = nap.Ts(t=data["ends"], time_units="s")
    tensor = nap.compute_perievent(data=frame, events=events, window=WINDOW)
    return {"lag": np.asarray(tensor.t), "values": np.asarray(tensor.values)}  # (lag, trial, roi)


def _numpy_gather(data):
    """The floor: the nearest-frame indices are known; one fancy-index gather of all ROIs."""
    time, traces = data["time"], data["da"].values
    dt = np.median(np.diff(time))
    lags = WINDOW[0] + dt * np.arange(int(np.floor((WINDOW[1] - WINDOW[0]) / dt + 1e-9)) + 1)
    targets = data["ends"][:, None] + lags[None, :]
    right = np.searchsorted(time, targets).clip(1, time.size - 1)
    index = np.where(np.abs(time[right] - targets) < np.abs(targets - time[right - 1]),
                     right, right - 1)
    return traces[:, index]  # (roi, trial, lag)


def _check_pynapple(sfone_values, baseline):
    """Same samples: pynapple's lag grid is the nominal frame interval; compare the lags both
    share (pynapple's lag t, sfone's lag index from its median-interval grid)."""
    values = np.moveaxis(baseline["values"], (0, 1, 2), (2, 1, 0))  # -> (roi, trial, lag)
    lag = baseline["lag"]
    dt = 1.0 / FS_HZ
    sfone_lags = WINDOW[0] + dt * np.arange(sfone_values.shape[2])
    # map each pynapple lag to the sfone lag column (both grids are multiples of ~dt)
    column = np.rint((lag - WINDOW[0]) / dt).astype(int)
    keep = (column >= 0) & (column < sfone_lags.size)
    assert keep.sum() >= 0.99 * sfone_lags.size, "lag grids do not overlap"
    np.testing.assert_array_equal(sfone_values[:, :, column[keep]], values[:, :, keep])


def _check_numpy(sfone_values, baseline_values):
    np.testing.assert_array_equal(sfone_values, baseline_values)


BENCHMARKS = [
    Benchmark(name="peth_vs_pynapple", work=WORK, baseline="pynapple compute_perievent",
              setup=_setup, run_sfone=_sfone, run_baseline=_pynapple, check=_check_pynapple,
              target_speedup=3.0, repeats=7),
    Benchmark(name="peth_vs_numpy_bound", work=WORK, baseline="numpy fancy-index gather",
              setup=_setup, run_sfone=_sfone, run_baseline=_numpy_gather, check=_check_numpy,
              target_speedup=0.67, repeats=7),
]

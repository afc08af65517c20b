"""Post-run classification with a circular-shift null: sfone.classify against a per-ROI loop.

The baseline is the straightforward implementation of the same statistic: for every ROI, remove
the segment means, then for every one of the 1,000 shifts roll the residual (``numpy.roll``),
take the window means and rescale by the same variance correction; the p-value counts shifted
statistics at least as extreme as the observed one. Its cost is exactly linear in the number of
ROIs, so it is timed on every ``SUBSET_STEP``-th ROI and its time multiplied by ``SUBSET_STEP``
(``baseline_scale``), which keeps ``make bench`` under 10 minutes; sfone runs all ROIs and its
p-values of those ROIs must equal the loop's.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from benchmarks._harness import Benchmark

N_ROIS = 5000
FS_HZ = 10.0
DURATION_S = 1800.0
N_RUNS = 10
N_SHUFFLES = 1000
MIN_SHIFT_S = 60.0
BASELINE_S = (-60.0, 0.0)
POST_RUN_S = (0.0, 60.0)
SUBSET_STEP = 50  # the loop baseline runs 100 of the 5,000 ROIs
SEED = 0


def _setup(work_dir):
    rng = np.random.default_rng(5)
    n = int(FS_HZ * DURATION_S)
    time = np.arange(n) / FS_HZ
    starts = 60.0 + 180.0 * np.arange(N_RUNS)  # 60 s runs every 3 min
    ends = starts + 60.0
    # AR(1) noise (slow calcium-like autocorrelation) plus post-run responses in a third of ROIs
    noise = rng.normal(0.0, 1.0, (N_ROIS, n))
    ar = np.empty_like(noise)
    ar[:, 0] = noise[:, 0]
    from scipy.signal import lfilter

    ar = lfilter([1.0], [1.0, -0.9], noise, axis=1)
    effect = np.where(rng.random(N_ROIS) < 0.33, rng.choice([-1.5, 1.5], N_ROIS), 0.0)
    post = np.zeros(n, bool)
    for end in ends:
        post |= (time >= end) & (time < end + 60.0)
    traces = 100.0 + ar + effect[:, None] * post[None, :]
    da = xr.DataArray(traces, dims=("roi", "time"),
                      coords={"roi": np.arange(N_ROIS), "time": ("time", time, {"units": "s"})},
                      name="F", attrs={"units": "a.u.", "fs": FS_HZ})
    return {"da": da, "epochs": np.column_stack([starts, ends])}


def _sfone(data):
    from sfone.classify import label_responses

    result = label_responses(data["da"], data["epochs"], method="test", null="shift",
                             n_shuffles=N_SHUFFLES, min_shift_s=MIN_SHIFT_S,
                             baseline_s=BASELINE_S, post_run_s=POST_RUN_S,
                             min_runs_for_wilcoxon=N_RUNS + 1, run_labels=False,
                             random_state=SEED)
    return {"p": result["p_value"].values, "effect": result["effect"].values,
            "label": result["label"].values}


def _windows(time, starts, ends):
    """Sample ranges [lo, hi) of the baseline (before each start, after the previous end) and
    post-run (after each end, before the next start) windows."""
    prev_end = np.concatenate([[-np.inf], ends[:-1]])
    next_start = np.concatenate([starts[1:], [np.inf]])
    base = [(np.searchsorted(time, max(s + BASELINE_S[0], p)), np.searchsorted(time, s + BASELINE_S[1]))
            for s, p in zip(starts, prev_end, strict=True)]
    resp = [(np.searchsorted(time, e + POST_RUN_S[0]), np.searchsorted(time, min(e + POST_RUN_S[1], q)))
            for e, q in zip(ends, next_start, strict=True)]
    return base, resp


def _shift_factors(n, base, resp, cuts, shifts):
    """Variance kept by the segment demeaning for every shift -> rescaling factor (NaN: unusable)."""
    a = np.zeros(n)
    for (b0, b1), (r0, r1) in zip(base, resp, strict=True):
        a[r0:r1] += 1.0 / ((r1 - r0) * len(base))
        a[b0:b1] -= 1.0 / ((b1 - b0) * len(base))
    total = a @ a
    factor = np.empty(shifts.size)
    for i, s in enumerate(shifts):
        segment_sums = np.add.reduceat(np.roll(a, s), cuts[:-1])
        kept = (total - np.sum(segment_sums**2 / np.diff(cuts))) / total
        factor[i] = np.nan if kept < 0.5 else np.sqrt(1.0 / max(kept, 1e-12))
    return factor


def _loop(data):
    """Per-ROI loop over the ROI subset: residual, 1,000 rolled statistics, empirical p."""
    traces = data["da"].values[::SUBSET_STEP]
    time = data["da"]["time"].values
    starts, ends = data["epochs"][:, 0], data["epochs"][:, 1]
    n = time.size
    base, resp = _windows(time, starts, ends)
    shifts = np.random.default_rng(SEED).integers(int(MIN_SHIFT_S * FS_HZ),
                                                  n - int(MIN_SHIFT_S * FS_HZ) + 1, N_SHUFFLES)
    cuts = np.unique(np.concatenate([[0, n], np.ravel(base), np.ravel(resp)]))
    factor = _shift_factors(n, base, resp, cuts, shifts)
    usable = np.isfinite(factor)
    shifts, factor = shifts[usable], factor[usable]
    p, effect = np.empty(len(traces)), np.empty(len(traces))
    for i, trace in enumerate(traces):
        trace = trace - np.median(trace)
        diffs = [trace[r0:r1].mean() - trace[b0:b1].mean()
                 for (b0, b1), (r0, r1) in zip(base, resp, strict=True)]
        sds = [trace[b0:b1].std() for b0, b1 in base]
        observed = np.mean(diffs)
        effect[i] = np.mean(np.array(diffs) / np.array(sds))
        residual = np.concatenate([seg - seg.mean() for seg in np.split(trace, cuts[1:-1])])
        null = np.empty(shifts.size)
        for j, s in enumerate(shifts):
            rolled = np.roll(residual, -s)
            null[j] = np.mean([rolled[r0:r1].mean() - rolled[b0:b1].mean()
                               for (b0, b1), (r0, r1) in zip(base, resp, strict=True)])
        null *= factor
        tol = 1e-9 * (abs(observed) + np.abs(null).max())
        p[i] = (1.0 + np.sum(np.abs(null) >= abs(observed) - tol)) / (1.0 + shifts.size)
    return {"p": p, "effect": effect}


def _check(sfone_result, loop_result):
    p_sfone = sfone_result["p"][::SUBSET_STEP]
    np.testing.assert_allclose(sfone_result["effect"][::SUBSET_STEP], loop_result["effect"],
                               rtol=1e-9, atol=1e-12)
    # equal p-values; a shifted statistic within rounding of the observed one may fall on
    # either side, which moves p by one count (1/1001)
    np.testing.assert_allclose(p_sfone, loop_result["p"], atol=1.01 / (N_SHUFFLES + 1), rtol=0)
    assert np.mean(p_sfone == loop_result["p"]) >= 0.99, "p-values differ for > 1% of ROIs"
    # the data have real responses: both find them
    assert np.mean(loop_result["p"] < 0.01) > 0.2


BENCHMARKS = [Benchmark(
    name="classify_vs_loop",
    work="5,000 ROIs, 30 min at 10 Hz, 10 runs, 1,000 circular shifts",
    baseline="per-ROI loop (numpy.roll per shift), timed on 1/50 of the ROIs x 50",
    setup=_setup, run_sfone=_sfone, run_baseline=_loop, check=_check,
    target_speedup=20.0, repeats=2, baseline_scale=SUBSET_STEP,
    reuse_results=True)]


# --- classify_session_vs_read: the default `sfone classify` on a 1 h, 20 Hz, 1,000-ROI session

SESSION_ROIS = 1000
SESSION_FS = 20.0
SESSION_FRAMES = 72_000  # 1 h at 20 Hz
SESSION_BLOCK = 100


def _write_session(folder):
    """suite2p plane (F, Fneu float32, iscell, ops with neucoeff) and a runs CSV: 10 min rest,
    20 min run, 30 min post; a third of the ROIs respond after the run."""
    plane = folder / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    rng = np.random.default_rng(11)
    time = np.arange(SESSION_FRAMES) / SESSION_FS
    post = (time >= 1800.0).astype(np.float32)
    shape = (SESSION_ROIS, SESSION_FRAMES)
    f = np.lib.format.open_memmap(plane / "F.npy", mode="w+", dtype=np.float32, shape=shape)
    fneu = np.lib.format.open_memmap(plane / "Fneu.npy", mode="w+", dtype=np.float32, shape=shape)
    for lo in range(0, SESSION_ROIS, SESSION_BLOCK):
        neu = 100.0 + rng.standard_normal((SESSION_BLOCK, SESSION_FRAMES), dtype=np.float32)
        gain = np.where(rng.random(SESSION_BLOCK) < 0.33, 2.0, 0.0).astype(np.float32)
        f[lo:lo + SESSION_BLOCK] = (300.0 + 0.7 * neu + gain[:, None] * post
                                    + 5.0 * rng.standard_normal(neu.shape, dtype=np.float32))
        fneu[lo:lo + SESSION_BLOCK] = neu
    f.flush()
    fneu.flush()
    del f, fneu
    np.save(plane / "iscell.npy", np.ones((SESSION_ROIS, 2)))
    with open(plane / "ops.npy", "wb") as fh:
        np.save(fh, np.array({"fs": SESSION_FS, "nplanes": 1, "neucoeff": 0.7}, dtype=object),
                allow_pickle=True)
    (folder / "runs.csv").write_text("start_s,end_s\n600,1800\n")


def _session_complete(folder) -> bool:
    try:
        shape = np.load(folder / "suite2p" / "plane0" / "Fneu.npy", mmap_mode="r").shape
    except (OSError, ValueError):
        return False
    return shape == (SESSION_ROIS, SESSION_FRAMES) and (folder / "runs.csv").exists()


def _session_setup(work_dir):
    from benchmarks._harness import build_once

    folder = work_dir / f"classify_session_{SESSION_ROIS}x{SESSION_FRAMES}"
    return build_once(folder, _session_complete, _write_session)


def _session_cli(folder):
    """`sfone classify` through the command line's own entry point, in this process."""
    import pandas as pd

    from sfone.cli import main

    out = folder / "labels.csv"
    main(["classify", str(folder / "suite2p" / "plane0"), "--runs", str(folder / "runs.csv"),
          "--out", str(out)], standalone_mode=False)
    return pd.read_csv(out, comment="#")  # the provenance lines


def _session_read(folder):
    return np.load(folder / "suite2p" / "plane0" / "F.npy").mean(axis=1)


def _session_check(labels, means):
    assert len(labels) == means.size == SESSION_ROIS
    # the planted responses (a third of the ROIs, +2 a.u. after the run) are found
    assert 0.25 < np.mean(labels["label"] == "activated") < 0.45


BENCHMARKS.append(Benchmark(
    name="classify_session_vs_read",
    work="default `sfone classify` (CLI) of 1,000 ROIs x 1 h at 20 Hz (72,000 frames, F + Fneu)",
    baseline="np.load of F.npy and its mean over time",
    setup=_session_setup, run_sfone=_session_cli, run_baseline=_session_read,
    check=_session_check, target_speedup=0.2, repeats=2, reuse_results=True,
    notes=["target also: peak RSS <= 1.5 GB (the sfone side's peak_rss in this entry)"]))

"""Batch classification of a cohort: 2 local dask workers against 1 (sfone.batch.run_batch)."""

from __future__ import annotations

import numpy as np

from benchmarks._harness import Benchmark, build_once

N_SESSIONS = 40
N_ROIS = 500
N_FRAMES = 18_000
FS_HZ = 10.0
RUN_S = (600.0, 900.0)  # one 5-min run per session
PROTOCOL = """kind: classification
name: benchmark (10 min baseline, 15 min post-run)
baseline_s: [-600.0, 0.0]
run_s: [0.0, 300.0]
post_run_s: [0.0, 900.0]
method: test
statistic: mean
threshold: 1.64
alpha: 0.05
fdr: true
n_shuffles: 1000
min_shift_s: 60.0
min_runs_for_wilcoxon: 6
random_state: 0
"""


def _write_session(plane, rng):
    """A suite2p plane folder (float32 F and Fneu, iscell, ops) with responding ROIs."""
    plane.mkdir(parents=True)
    time = np.arange(N_FRAMES) / FS_HZ
    post = (time >= RUN_S[1]).astype(np.float32)
    effect = np.where(rng.random(N_ROIS) < 0.3, rng.choice([-0.5, 0.5], N_ROIS), 0.0)
    noise = rng.standard_normal((N_ROIS, N_FRAMES), dtype=np.float32)
    f = 300.0 + 10.0 * noise + (10.0 * effect[:, None]).astype(np.float32) * post
    np.save(plane / "F.npy", f.astype(np.float32))
    np.save(plane / "Fneu.npy", (100.0 + 2.0 * rng.standard_normal((N_ROIS, N_FRAMES),
                                                                   dtype=np.float32)))
    np.save(plane / "iscell.npy", np.column_stack([np.ones(N_ROIS), rng.random(N_ROIS)]))
    np.save(plane / "ops.npy", np.array({"fs": FS_HZ, "nplanes": 1, "neucoeff": 0.7},
                                        dtype=object), allow_pickle=True)


def _write_cohort(folder):
    from sfone.io.events.runs_csv import write_runs_csv

    rng = np.random.default_rng(11)
    folder.mkdir(parents=True)
    (folder / "protocol.yaml").write_text(PROTOCOL)
    write_runs_csv(([RUN_S[0]], [RUN_S[1]]), folder / "runs.csv")
    rows = ["path,subject,session,runs,classification_protocol"]
    for i in range(N_SESSIONS):
        subject, session = f"m{i // 4 + 1:02d}", f"d{i % 4 + 1}"
        _write_session(folder / f"{subject}_{session}" / "suite2p" / "plane0", rng)
        rows.append(f"{subject}_{session},{subject},{session},runs.csv,protocol.yaml")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")


def _setup(work_dir):
    folder = work_dir / f"cohort_{N_SESSIONS}x{N_ROIS}x{N_FRAMES}"
    build_once(folder, lambda f: (f / "manifest.csv").exists(), _write_cohort)
    return {"manifest": folder / "manifest.csv", "out": work_dir / "batch_out"}


def _run(data, workers):
    from sfone.batch import run_batch

    out = data["out"] / f"workers{workers}"
    result = run_batch(data["manifest"], "classify", out, workers=workers, force=True)
    if not result.ok or len(result.done) != N_SESSIONS:
        raise RuntimeError(f"batch with {workers} worker(s) failed: {result.failed}")
    return out / "combined.nc"


def _check(two_workers, one_worker):
    import xarray as xr

    with xr.open_dataset(two_workers, engine="h5netcdf") as a, \
            xr.open_dataset(one_worker, engine="h5netcdf") as b:
        assert a.sizes == b.sizes == {"unit": N_SESSIONS * N_ROIS}
        xr.testing.assert_identical(a.load(), b.load())
        labels = a["label"].values.ravel()
        assert labels.size == N_SESSIONS * N_ROIS
        assert 0.1 < np.mean(labels != "unchanged") < 0.6  # the planted responses are found


BENCHMARKS = [Benchmark(
    name="batch_2_vs_1_worker",
    work="40 sessions of 500 ROIs x 18,000 frames (suite2p folders), classify",
    baseline="the same batch on 1 worker",
    setup=_setup, run_sfone=lambda data: _run(data, 2), run_baseline=lambda data: _run(data, 1),
    check=_check, target_speedup=1.6, repeats=1, reuse_results=True)]

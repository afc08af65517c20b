"""Batch classification of a cohort: 2 local dask workers against 1 (sfone.batch.run_batch),
and ``sfone batch`` on a 2-worker LocalCluster against one ``np.load`` of every F.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from benchmarks._harness import Benchmark, build_once

N_SESSIONS = 40
N_ROIS = 500
N_FRAMES = 18_000
FS_HZ = 10.0
RUN_S = (600.0, 900.0)  # one 5-min run per session
# the default classifier (no method keys): only the windows of this schedule are set
PROTOCOL = """kind: classification
name: benchmark (10 min baseline, 15 min post-run)
baseline_s: [-600.0, 0.0]
run_s: [0.0, 300.0]
post_run_s: [0.0, 900.0]
"""

def _write_session(plane, rng, n_frames=N_FRAMES, fs_hz=FS_HZ):
    """A suite2p plane folder (float32 F and Fneu, iscell, ops) with responding ROIs."""
    plane.mkdir(parents=True)
    time = np.arange(n_frames) / fs_hz
    post = (time >= RUN_S[1]).astype(np.float32)
    effect = np.where(rng.random(N_ROIS) < 0.3, rng.choice([-0.5, 0.5], N_ROIS), 0.0)
    noise = rng.standard_normal((N_ROIS, n_frames), dtype=np.float32)
    f = 300.0 + 10.0 * noise + (10.0 * effect[:, None]).astype(np.float32) * post
    np.save(plane / "F.npy", f.astype(np.float32))
    np.save(plane / "Fneu.npy", (100.0 + 2.0 * rng.standard_normal((N_ROIS, n_frames),
                                                                   dtype=np.float32)))
    np.save(plane / "iscell.npy", np.column_stack([np.ones(N_ROIS), rng.random(N_ROIS)]))
    np.save(plane / "ops.npy", np.array({"fs": fs_hz, "nplanes": 1, "neucoeff": 0.7},
                                        dtype=object), allow_pickle=True)


def _session_names():
    return [(f"m{i // 4 + 1:02d}", f"d{i % 4 + 1}") for i in range(N_SESSIONS)]


def _write_cohort(folder, n_frames=N_FRAMES, fs_hz=FS_HZ):
    """Session folders, one runs CSV and the protocol; :func:`_write_manifest` lists them."""
    from sfone.io.events.runs_csv import write_runs_csv

    rng = np.random.default_rng(11)
    folder.mkdir(parents=True)
    write_runs_csv(([RUN_S[0]], [RUN_S[1]]), folder / "runs.csv")
    for subject, session in _session_names():
        _write_session(folder / f"{subject}_{session}" / "suite2p" / "plane0", rng,
                       n_frames, fs_hz)


def _write_manifest(folder) -> Path:
    """The protocol and the manifest, rewritten at every setup (cheap; a cache built by an
    older version gets the current protocol)."""
    (folder / "protocol.yaml").write_text(PROTOCOL)
    rows = ["path,subject,session,runs,classification_protocol"]
    rows += [f"{subject}_{session},{subject},{session},runs.csv,protocol.yaml"
             for subject, session in _session_names()]
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def _fresh(out: Path) -> Path:
    """The benchmark's own output folder, emptied: `sfone batch` writes only into a new folder
    or one it marked, and the folders of runs before the marker existed have none."""
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return out


def _setup(work_dir):
    folder = work_dir / f"cohort_{N_SESSIONS}x{N_ROIS}x{N_FRAMES}"
    build_once(folder, lambda f: (f / "runs.csv").exists(), _write_cohort)
    return {"manifest": _write_manifest(folder), "out": _fresh(work_dir / "batch_out")}


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


# batch_cohort_vs_read: 30 min at 20 Hz; about 5.8 GB of F and Fneu, so kept outside the repo
COHORT_FRAMES = 36_000
COHORT_FS_HZ = 20.0


def cache_dir() -> Path:
    """Generated data too big for ``benchmarks/_work``: ``$SFONE_BENCH_CACHE`` or
    ``~/.cache/sfone-benchmarks``."""
    return Path(os.environ.get("SFONE_BENCH_CACHE",
                               Path.home() / ".cache" / "sfone-benchmarks"))


def _setup_cohort(work_dir):
    folder = cache_dir() / f"cohort_{N_SESSIONS}x{N_ROIS}x{COHORT_FRAMES}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    build_once(folder, lambda f: (f / "runs.csv").exists(),
               lambda f: _write_cohort(f, COHORT_FRAMES, COHORT_FS_HZ))
    return {"manifest": _write_manifest(folder), "out": _fresh(work_dir / "batch_cohort_out"),
            "f_files": sorted(folder.glob("*/suite2p/plane0/F.npy"))}


def _run_cli(data):
    """``sfone batch MANIFEST --task classify --workers 2 --force`` in this process (so that
    its peak RSS is the main process's)."""
    from sfone.cli import main

    out = data["out"]
    code = main(["batch", str(data["manifest"]), "--task", "classify", "--out", str(out),
                 "--workers", "2", "--force"], standalone_mode=False)
    if code:  # the CLI exits non-zero when a session failed
        raise RuntimeError(f"sfone batch failed (exit {code}); see {out}/errors.csv")
    return out / "combined.nc"


def _load_every_f(data):
    """The floor: every session's F read into memory once (and dropped)."""
    total = 0.0
    for path in data["f_files"]:
        total += float(np.load(path)[0, 0])
    return len(data["f_files"]), total


def _check_cohort(combined, loaded):
    import xarray as xr

    n_files, _ = loaded
    assert n_files == N_SESSIONS, f"{n_files} F files, expected {N_SESSIONS}"
    with xr.open_dataset(combined, engine="h5netcdf") as ds:
        assert ds.sizes == {"unit": N_SESSIONS * N_ROIS}
        labels = ds["label"].values.ravel()
        assert 0.1 < np.mean(labels != "unchanged") < 0.6  # the planted responses are found
        assert set(map(str, np.unique(ds["subject"].values))) == {s for s, _ in _session_names()}


BENCHMARKS = [Benchmark(
    name="batch_2_vs_1_worker",
    work="40 sessions of 500 ROIs x 18,000 frames (suite2p folders), classify",
    baseline="the same batch on 1 worker",
    setup=_setup, run_sfone=lambda data: _run(data, 2), run_baseline=lambda data: _run(data, 1),
    check=_check, target_speedup=1.6, repeats=1, warmup=1, reuse_results=True),
    Benchmark(
        name="batch_cohort_vs_read",
        work=f"`sfone batch --task classify --workers 2`: {N_SESSIONS} sessions of {N_ROIS} ROIs "
             "x 30 min at 20 Hz (36,000 frames, suite2p folders)",
        baseline="np.load of every session's F.npy once",
        setup=_setup_cohort, run_sfone=_run_cli, run_baseline=_load_every_f,
        check=_check_cohort, target_speedup=0.1, target_rss_mb=500.0, repeats=1, warmup=1,
        reuse_results=True, notes=["peak RSS is the main process's (the data stay on the "
                                   "workers)", "one untimed call of each side first: both "
                                   "read from a warm page cache"])]

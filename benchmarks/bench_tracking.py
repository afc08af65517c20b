"""ROI tracking across two simulated days run through real suite2p: sfone.track vs ROICaT.

Data: ``sfone.tracking.simulate.simulate_two_days`` (128 x 128 px, 50 shared cells, 5 lost,
5 new, day 8 rotated 4 deg and shifted (6, -5) px, 0.7x brightness; ``SCENARIOS`` adds a smooth
non-rigid deformation of day 8), each day through
``sfone.extract.run_suite2p`` (built once under ``benchmarks/_work/``). Both trackers get the
same two suite2p folders; quality is precision and recall of the day-1/day-8 ROI pairs against
the simulation's identities (ROI -> nearest true cell within 3 px, one to one).

ROICaT (``roicat[core]`` on PyPI) runs from its OWN environment, never sfone's: set
``SFONE_ROICAT_PYTHON`` to that environment's python and ``roicat_runner.py`` is run there on
the same suite2p folders and mean images (without ROInet unless its weights can be downloaded;
see the runner). Without it the benchmark records sfone alone and the reason ROICaT was
skipped (see README).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import Benchmark, build_once

SIMULATION = {"n_frames": 400, "angle_deg": 4.0, "shift": (6.0, -5.0), "gain_day8": 0.7,
              "n_cells": 50, "n_lost": 5, "n_new": 5, "random_state": 1}
#: scenario -> (work folder, simulation): the rigid case of the tracking test, and the same
#: with a smooth non-rigid deformation of day 8 (up to 6 px, and up to 12 px on a 160 x 160
#: field, which the margins of the larger deformation need) on top of the rigid transform
SCENARIOS = {"rigid": ("tracking_two_days", SIMULATION),
             "nonrigid": ("tracking_two_days_nonrigid", {**SIMULATION, "deform_px": 6.0}),
             "nonrigid_12px": ("tracking_two_days_nonrigid12",
                               {**SIMULATION, "deform_px": 12.0, "shape": (160, 160)})}


def _build(tmp, simulation):
    import pickle

    from sfone.extract import run_suite2p
    from sfone.simulate.imaging import write_movie_tiff
    from sfone.tracking.simulate import simulate_two_days

    os.environ.setdefault("HOME", str(tmp))  # importing suite2p writes ~/.suite2p
    movies, truth = simulate_two_days(**simulation)
    for day, movie in zip(("day1", "day8"), movies, strict=True):
        tif = write_movie_tiff(movie, tmp / day / "movie" / "movie.tif")
        run_suite2p([tif], tmp / day, fs=truth["fs"], tau=truth["tau"])
    (tmp / "truth.pkl").write_bytes(pickle.dumps(truth))


def _is_complete(folder) -> bool:
    return (folder / "truth.pkl").exists() and all(
        (folder / d / "suite2p" / "plane0" / "stat.npy").exists() for d in ("day1", "day8"))


def _setup(work_dir, scenario: str = "rigid"):
    import pickle

    import sfone
    from sfone.footprints import footprint_centroids
    from sfone.tracking.simulate import truth_of_rois

    name, simulation = SCENARIOS[scenario]
    folder = build_once(work_dir / name, _is_complete, lambda tmp: _build(tmp, simulation))
    truth = pickle.loads((folder / "truth.pkl").read_bytes())
    ids = {d: truth_of_rois(footprint_centroids(sfone.read(folder / d)), truth[d])
           for d in ("day1", "day8")}
    return {"folders": [folder / "day1", folder / "day8"], "ids": ids}


def _score(data, pairs) -> dict:
    ids = data["ids"]
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    cell1, cell8 = ids["day1"][pairs[:, 0]], ids["day8"][pairs[:, 1]]
    correct = int(((cell1 == cell8) & (cell1 >= 0)).sum())
    shared = np.intersect1d(ids["day1"][ids["day1"] >= 0], ids["day8"][ids["day8"] >= 0]).size
    return {"precision": correct / max(len(pairs), 1), "recall": correct / shared,
            "n_matches": int(len(pairs)), "n_true_pairs": int(shared)}


def _run_sfone(data) -> dict:
    import sfone

    result = sfone.track(data["folders"], names=["day1", "day8"], cells_only=False)
    pairs = result.matched("day1", "day8")[["day1", "day8"]].to_numpy(int)
    return _score(data, pairs)


#: the Python of a separate environment with ``roicat[core]`` (README: it would replace pandas
#: and add ~150 packages to sfone's own environment, so it is never a dependency of sfone)
ROICAT_PYTHON_ENV = "SFONE_ROICAT_PYTHON"
RUNNER = Path(__file__).resolve().parent / "roicat_runner.py"


def roicat_python() -> tuple[str | None, str | None]:
    """``(python, None)`` when ``$SFONE_ROICAT_PYTHON`` imports roicat, else ``(None, reason)``."""
    python = os.environ.get(ROICAT_PYTHON_ENV)
    if not python:
        return None, (f"skipped: ${ROICAT_PYTHON_ENV} is not set (ROICaT runs only from its own "
                      "environment: python -m venv V; V/bin/pip install torch==2.14.1 "
                      "torchvision==0.29.1 'roicat[core]'; see benchmarks/README.md)")
    try:
        probe = subprocess.run([python, "-c", "import roicat; print(roicat.__version__)"],
                               capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"skipped: ${ROICAT_PYTHON_ENV}={python} cannot be run: {exc}"
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"skipped: ${ROICAT_PYTHON_ENV}={python} cannot import roicat: {last}"
    return python, None


def _run_roicat(data, python: str, *, roinet: bool = False) -> dict:
    """ROICaT's pipeline (``roicat_runner.py``) in its own environment on the same suite2p
    folders and mean images sfone registers; pairs = ROIs of the two days in one cluster."""
    import json

    import sfone
    from sfone.footprints import mean_image

    inputs = data["folders"][0].parent / "roicat_input"
    inputs.mkdir(exist_ok=True)
    argv = []
    for day, folder in zip(("day1", "day8"), data["folders"], strict=True):
        fov = inputs / f"{day}_mean_image.npy"
        np.save(fov, mean_image(sfone.read(folder)))
        argv += [str(folder / "suite2p" / "plane0" / "stat.npy"), str(fov)]
    out = inputs / ("result_roinet.json" if roinet else "result.json")
    start = time.perf_counter()
    done = subprocess.run([python, str(RUNNER), str(out), *argv, *(["--roinet"] if roinet else [])],
                          capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"roicat_runner failed (exit {done.returncode}): {last}"}
    result = json.loads(out.read_text(encoding="utf-8"))
    day1, day8 = (np.asarray(x) for x in result["labels"])
    common = np.intersect1d(day1[day1 >= 0], day8[day8 >= 0])
    pairs = [(int(np.flatnonzero(day1 == c)[0]), int(np.flatnonzero(day8 == c)[0]))
             for c in common]
    return {**_score(data, pairs), "time_s": result["time_s"], "process_wall_s": wall,
            "steps_s": result["steps_s"], "features": result["metrics"],
            "roinet": result["roinet"], "roicat_version": result["roicat_version"],
            "um_per_pixel": result["um_per_pixel"], "clustering": result["clustering"],
            "nonrigid_alignment": result["alignment"]["nonrigid"]}


#: not in ``make bench``: the harness times sfone against a baseline that gives the same answer,
#: and the two trackers do not (README); ``python -m benchmarks.bench_tracking`` measures both
#: trackers' quality and time and writes ``results_tracking.json``
BENCHMARKS: list[Benchmark] = []


def main() -> dict:
    import json

    from benchmarks._harness import WORK_DIR
    from sfone._atomic import atomic_path

    WORK_DIR.mkdir(exist_ok=True)
    python, reason = roicat_python()
    out = {"scenarios": {}}
    for scenario, (_, simulation) in SCENARIOS.items():
        data = _setup(WORK_DIR, scenario)
        start = time.perf_counter()
        ours = _run_sfone(data)
        ours["time_s"] = time.perf_counter() - start
        theirs = reason if python is None else _run_roicat(data, python)
        out["scenarios"][scenario] = {
            "simulation": {k: list(v) if isinstance(v, tuple) else v
                           for k, v in simulation.items()},
            "sfone": ours, "roicat": theirs}
    path = Path(__file__).resolve().parent / "results_tracking.json"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main())

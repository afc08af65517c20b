"""ROI tracking across two simulated days run through real suite2p: sfone.track vs ROICaT.

Data: ``sfone.tracking.simulate.simulate_two_days`` (128 x 128 px, 50 shared cells, 5 lost,
5 new, day 8 rotated 4 deg and shifted (6, -5) px, 0.7x brightness), each day through
``sfone.extract.run_suite2p`` (built once under ``benchmarks/_work/``). Both trackers get the
same two suite2p folders; quality is precision and recall of the day-1/day-8 ROI pairs against
the simulation's identities (ROI -> nearest true cell within 3 px, one to one).

ROICaT (``roicat`` on PyPI, ``bench`` extra) is the baseline when it can be imported in this
environment; otherwise the benchmark records sfone alone and says why (see README).
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks._harness import Benchmark, build_once

SIMULATION = {"n_frames": 400, "angle_deg": 4.0, "shift": (6.0, -5.0), "gain_day8": 0.7,
              "n_cells": 50, "n_lost": 5, "n_new": 5, "random_state": 1}


def _build(tmp):
    import pickle

    from sfone.extract import run_suite2p
    from sfone.simulate.imaging import write_movie_tiff
    from sfone.tracking.simulate import simulate_two_days

    os.environ.setdefault("HOME", str(tmp))  # importing suite2p writes ~/.suite2p
    movies, truth = simulate_two_days(**SIMULATION)
    for day, movie in zip(("day1", "day8"), movies, strict=True):
        tif = write_movie_tiff(movie, tmp / day / "movie" / "movie.tif")
        run_suite2p([tif], tmp / day, fs=truth["fs"], tau=truth["tau"])
    (tmp / "truth.pkl").write_bytes(pickle.dumps(truth))


def _is_complete(folder) -> bool:
    return (folder / "truth.pkl").exists() and all(
        (folder / d / "suite2p" / "plane0" / "stat.npy").exists() for d in ("day1", "day8"))


def _setup(work_dir):
    import pickle

    import sfone
    from sfone.footprints import footprint_centroids
    from sfone.tracking.simulate import truth_of_rois

    folder = build_once(work_dir / "tracking_two_days", _is_complete, _build)
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


def roicat_status() -> str | None:
    """None when ROICaT imports here, else the reason it cannot run."""
    try:
        import roicat  # noqa: F401
    except Exception as exc:  # ImportError, or a broken dependency at import time
        return f"roicat cannot be imported: {type(exc).__name__}: {exc}"
    return None


#: not in ``make bench``: the harness times sfone against a baseline that gives the same answer,
#: and ROICaT could not be run here (README); ``python -m benchmarks.bench_tracking`` measures
#: sfone's quality and time and records ROICaT's status in ``results_tracking.json``
BENCHMARKS: list[Benchmark] = []


def main() -> dict:
    import json
    import time
    from pathlib import Path

    from benchmarks._harness import WORK_DIR
    from sfone._atomic import atomic_path

    WORK_DIR.mkdir(exist_ok=True)
    data = _setup(WORK_DIR)
    start = time.perf_counter()
    ours = _run_sfone(data)
    ours["time_s"] = time.perf_counter() - start
    out = {"simulation": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in SIMULATION.items()},
           "sfone": ours, "roicat": roicat_status() or "importable; pipeline not run"}
    path = Path(__file__).resolve().parent / "results_tracking.json"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main())

"""Calorimetry: 64 CLAMS cage files -> CalR-style period summary, against pandas.read_csv."""

from __future__ import annotations

import json

import numpy as np

from benchmarks._harness import Benchmark, build_once

N_CAGES = 64
DAYS = 14
INTERVAL_MIN = 5.0
HEADER_ROWS = 16  # Oxymax preamble up to ":DATA" and the rule; then column names, units, rule


def _write_files(folder):
    from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv

    ds = simulate_metabolic_cages(groups=("control", "treated"), n_per_group=N_CAGES // 2,
                                  days=DAYS, interval_min=INTERVAL_MIN, random_state=7)
    folder.mkdir(parents=True)
    for i in range(N_CAGES):
        write_clams_csv(ds, folder / f"cage{i + 1:02d}.csv", subject=i)
    masses = {str(s): float(m) for s, m in zip(ds["subject"].values, ds["body_mass"].values,
                                               strict=True)}
    (folder / "masses.json").write_text(json.dumps(masses))


def _setup(work_dir):
    folder = work_dir / f"clams_{N_CAGES}cages_{DAYS}d"
    build_once(folder, lambda f: (f / "masses.json").exists(), _write_files)
    paths = sorted(folder.glob("cage*.csv"))
    assert len(paths) == N_CAGES
    return {"paths": paths, "masses": json.loads((folder / "masses.json").read_text())}


def _sfone(data):
    from sfone.calorimetry import read_many, summarize_periods

    return summarize_periods(read_many(data["paths"]))


def _pandas(data):
    import pandas as pd

    skip = [*range(HEADER_ROWS), HEADER_ROWS + 1, HEADER_ROWS + 2]  # preamble, units, rule
    return {path: pd.read_csv(path, skiprows=skip) for path in data["paths"]}


def _check(summary, frames):
    """sfone's full-day mean VO2 (mL/h) of every cage equals the pandas mean of the file's VO2
    column (mL/kg/h) times the cage's body mass (g / 1000)."""
    full_day = summary[summary["period"] == "full_day"].set_index("subject")["vo2_ml_h"]
    assert full_day.size == N_CAGES
    paths = sorted(frames)
    masses = json.loads((paths[0].parent / "masses.json").read_text())
    subjects = sorted(masses)  # cageNN.csv holds subject MNN
    assert [p.stem for p in paths] == [f"cage{s[1:]}" for s in subjects]
    pandas_ml_h = np.array([frames[p]["VO2"].mean() * masses[s] / 1000.0
                            for p, s in zip(paths, subjects, strict=True)])
    assert all(len(frames[p]["VO2"].dropna()) == DAYS * 24 * 60 / INTERVAL_MIN for p in paths)
    np.testing.assert_allclose(full_day.loc[subjects].to_numpy(), pandas_ml_h, rtol=1e-9)


BENCHMARKS = [Benchmark(
    name="calorimetry_vs_pandas",
    work="64 cages x 14 days at 5 min, CLAMS files -> period summary",
    baseline="pandas.read_csv of the same files (reading only)",
    setup=_setup, run_sfone=_sfone, run_baseline=_pandas, check=_check,
    target_speedup=0.33, repeats=5, warmup=1)]

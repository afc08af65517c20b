"""Seeded simulators of the paper's tabular experiments, with known true effects, and CSV writers.

* :func:`make_bdnf_counts`: SF1 and Bdnf+SF1 cell counts per mouse and VMH subregion; in
  :data:`BDNF_EFFECT_REGION` the true Bdnf+ fraction is 34.5 % sedentary vs 42.2 % after one run,
  elsewhere it is the same in both conditions.
* :func:`make_endurance_training`: distance to exhaustion across training days; control mice gain
  linearly, post-run inhibition (15 min) blunts the gain, post-run stimulation (60 min) enhances it.
* :func:`make_post_exercise_glucose`: blood glucose after a run; the rise is blunted by post-run
  inhibition.

Each returns a long DataFrame whose ``attrs["truth"]`` holds the true parameters used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import write_csv

__all__ = [
    "BDNF_TRUE_FRACTION", "BDNF_OTHER_REGION_FRACTION", "BDNF_EFFECT_REGION", "VMH_SUBREGIONS",
    "ENDURANCE_TRUE_GAIN_M_PER_DAY", "GLUCOSE_TRUE_PEAK_RISE_MG_DL", "make_bdnf_counts",
    "make_endurance_training", "make_post_exercise_glucose", "write_table_csv",
]

VMH_SUBREGIONS = ("dmVMH", "cVMH", "vlVMH")
#: Subregion with the exercise effect (the paper names one subregion; which one is not stored).
BDNF_EFFECT_REGION = "dmVMH"
BDNF_TRUE_FRACTION = {"sedentary": 0.345, "one_run": 0.422}
BDNF_OTHER_REGION_FRACTION = 0.30

ENDURANCE_BASELINE_M = 600.0
ENDURANCE_TRUE_GAIN_M_PER_DAY = {"control": 40.0, "inhibit_15min": 10.0, "stimulate_60min": 80.0}

GLUCOSE_BASELINE_MG_DL = 130.0
GLUCOSE_TRUE_PEAK_RISE_MG_DL = {"control": 45.0, "inhibit": 15.0}
GLUCOSE_PEAK_MIN = 30.0
GLUCOSE_TIMES_MIN = (0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0)


def make_bdnf_counts(*, n_mice_per_condition: int = 5, mean_sf1_per_region: float = 180.0,
                     random_state: int = 0) -> pd.DataFrame:
    """SF1 and Bdnf+ SF1 counts per mouse, condition and VMH subregion.

    Counts are binomial draws: Bdnf+ fraction ``BDNF_TRUE_FRACTION[condition]`` in
    ``BDNF_EFFECT_REGION`` and ``BDNF_OTHER_REGION_FRACTION`` elsewhere.

    Parameters
    ----------
    n_mice_per_condition : int, default 5
        Mice per condition.
    mean_sf1_per_region : float, default 180.0
        Poisson mean of SF1 cells counted per region.
    random_state : int, default 0
        Seed.

    Returns
    -------
    DataFrame
        Columns subject, condition (sedentary | one_run), region, n_sf1, n_bdnf_sf1.
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for condition, fraction in BDNF_TRUE_FRACTION.items():
        for i in range(n_mice_per_condition):
            subject = f"{'sed' if condition == 'sedentary' else 'run'}{i + 1:02d}"
            for region in VMH_SUBREGIONS:
                n_sf1 = int(rng.poisson(mean_sf1_per_region))
                p = fraction if region == BDNF_EFFECT_REGION else BDNF_OTHER_REGION_FRACTION
                rows.append({"subject": subject, "condition": condition, "region": region,
                             "n_sf1": n_sf1, "n_bdnf_sf1": int(rng.binomial(n_sf1, p))})
    table = pd.DataFrame(rows)
    table.attrs["truth"] = {"effect_region": BDNF_EFFECT_REGION,
                            "fraction_bdnf": dict(BDNF_TRUE_FRACTION),
                            "other_region_fraction": BDNF_OTHER_REGION_FRACTION}
    return table


def make_endurance_training(*, n_mice_per_group: int = 8, n_days: int = 10,
                            noise_m: float = 60.0, random_state: int = 0) -> pd.DataFrame:
    """Distance run to exhaustion on each training day.

    distance = baseline (600 m, per-mouse offset SD 50 m) + gain x (day - 1) + noise, with the
    true gains :data:`ENDURANCE_TRUE_GAIN_M_PER_DAY` (m/day) per group.

    Parameters
    ----------
    n_mice_per_group : int, default 8
        Mice per group.
    n_days : int, default 10
        Training days.
    noise_m : float, default 60.0
        Day-to-day noise SD (m).
    random_state : int, default 0
        Seed.

    Returns
    -------
    DataFrame
        Columns subject, group (control | inhibit_15min | stimulate_60min), day (1..n_days),
        distance_m.
    """
    rng = np.random.default_rng(random_state)
    days = np.arange(1, n_days + 1)
    frames = []
    for group, gain in ENDURANCE_TRUE_GAIN_M_PER_DAY.items():
        for i in range(n_mice_per_group):
            offset = rng.normal(0, 50.0)
            distance = (ENDURANCE_BASELINE_M + offset + gain * (days - 1)
                        + rng.normal(0, noise_m, days.size))
            frames.append(pd.DataFrame({"subject": f"{group}_{i + 1:02d}", "group": group,
                                        "day": days, "distance_m": np.round(distance, 1)}))
    table = pd.concat(frames, ignore_index=True)
    table.attrs["truth"] = {"baseline_m": ENDURANCE_BASELINE_M,
                            "gain_m_per_day": dict(ENDURANCE_TRUE_GAIN_M_PER_DAY)}
    return table


def make_post_exercise_glucose(*, n_mice_per_group: int = 8, noise_mg_dl: float = 6.0,
                               random_state: int = 0) -> pd.DataFrame:
    """Blood glucose (mg/dL) after a run, control vs post-run inhibition.

    glucose = 130 + rise x gamma-shaped bump peaking at 30 min + noise, with the true peak rises
    :data:`GLUCOSE_TRUE_PEAK_RISE_MG_DL` (mg/dL).

    Parameters
    ----------
    n_mice_per_group : int, default 8
        Mice per group.
    noise_mg_dl : float, default 6.0
        Measurement noise SD (mg/dL).
    random_state : int, default 0
        Seed.

    Returns
    -------
    DataFrame
        Columns subject, group (control | inhibit), time_min, glucose_mg_dl.
    """
    rng = np.random.default_rng(random_state)
    time = np.asarray(GLUCOSE_TIMES_MIN)
    bump = (time / GLUCOSE_PEAK_MIN) * np.exp(1 - time / GLUCOSE_PEAK_MIN)  # 1 at the peak
    frames = []
    for group, rise in GLUCOSE_TRUE_PEAK_RISE_MG_DL.items():
        for i in range(n_mice_per_group):
            base = GLUCOSE_BASELINE_MG_DL + rng.normal(0, 8.0)
            glucose = base + rise * bump + rng.normal(0, noise_mg_dl, time.size)
            frames.append(pd.DataFrame({"subject": f"{group}_{i + 1:02d}", "group": group,
                                        "time_min": time, "glucose_mg_dl": np.round(glucose, 1)}))
    table = pd.concat(frames, ignore_index=True)
    table.attrs["truth"] = {"baseline_mg_dl": GLUCOSE_BASELINE_MG_DL, "peak_min": GLUCOSE_PEAK_MIN,
                            "peak_rise_mg_dl": dict(GLUCOSE_TRUE_PEAK_RISE_MG_DL)}
    return table


def write_table_csv(table: pd.DataFrame, path) -> Path:
    r"""Write ``table`` as CSV atomically (no index, ``\n`` line ends, stable float text).

    Parameters
    ----------
    table : pandas.DataFrame
        Table to write.
    path : str or os.PathLike
        Output CSV.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_csv(table, path, float_format="%.6g")

"""Small in-memory inputs in the shapes of the pipeline's data contracts, for the figure tests.

They stand in for the classifier (issue 6), calorimetry (issue 5) and stress-test outputs until
those are merged; every builder is seeded and small.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opened (import this fixture into a test module to use it)."""
    yield
    plt.close("all")


CLASS_COUNTS = {"day1": {"activated": 28, "inhibited": 22, "unchanged": 38},
                "day8": {"activated": 50, "inhibited": 14, "unchanged": 30}}


def make_classes(counts=CLASS_COUNTS, seed: int = 0) -> xr.Dataset:
    """Classifier output over ``roi`` with label, effect, p/q values and day/subject coords."""
    rng = np.random.default_rng(seed)
    days, labels = [], []
    for day, per_class in counts.items():
        for label, n in per_class.items():
            days += [day] * n
            labels += [label] * n
    labels = np.array(labels)
    order = rng.permutation(len(labels))
    labels, days = labels[order], np.array(days)[order]
    sign = np.select([labels == "activated", labels == "inhibited"], [1.0, -1.0], 0.0)
    effect = sign * rng.uniform(1.8, 4.0, len(labels)) + (sign == 0) * rng.normal(0, 0.5,
                                                                                   len(labels))
    subject = np.array([f"m{i % 4 + 1}" for i in range(len(labels))])
    p = np.where(sign != 0, rng.uniform(1e-5, 0.01, len(labels)), rng.uniform(0.1, 1, len(labels)))
    return xr.Dataset(
        {"label": ("roi", labels), "effect": ("roi", effect), "p_value": ("roi", p),
         "q_value": ("roi", np.minimum(p * 3, 1))},
        coords={"roi": np.arange(len(labels)), "day": ("roi", days), "subject": ("roi", subject)})


def make_traces(classes: xr.Dataset, n_trials: int = 3, seed: int = 1,
                lag=None) -> xr.DataArray:
    """Peri-run z traces (roi, trial, lag): the class effect rises after the run end."""
    rng = np.random.default_rng(seed)
    lag = np.arange(-300.0, 1800.0, 30.0) if lag is None else np.asarray(lag, dtype=float)
    shape = np.clip(lag / 120.0, 0, 1) * np.exp(-np.clip(lag, 0, None) / 3000.0)
    effect = classes["effect"].values[:, None, None]
    data = effect * shape[None, None, :] + rng.normal(0, 0.6, (classes.sizes["roi"], n_trials,
                                                                lag.size))
    return xr.DataArray(data, dims=("roi", "trial", "lag"),
                        coords={"roi": classes["roi"].values, "trial": np.arange(n_trials),
                                "lag": ("lag", lag, {"units": "s"})},
                        attrs={"units": "1", "long_name": "z-score"})


def make_fractions() -> pd.DataFrame:
    """Per-mouse activated fractions on day 1 and day 8 (mouse m5 misses day 8)."""
    rows = [("m1", 0.30, 0.55), ("m2", 0.25, 0.48), ("m3", 0.40, 0.60), ("m4", 0.33, 0.50),
            ("m5", 0.28, np.nan)]
    records = []
    for subject, d1, d8 in rows:
        for day, fraction in (("day1", d1), ("day8", d8)):
            if np.isfinite(fraction):
                records.append({"subject": subject, "day": day, "n_rois": 40,
                                "n_activated": round(fraction * 40), "fraction": fraction})
    return pd.DataFrame(records)


def make_stress(seed: int = 2):
    """Stress-test long table (per stage) and endpoints for control vs silenced mice."""
    rng = np.random.default_rng(seed)
    speeds = np.array([6, 9, 12, 15, 18, 21, 23, 24, 25, 26, 27, 28], dtype=float)
    rows, ends = [], []
    for group, quit_mean, crossover in (("control", 26.5, 21.0), ("silenced", 22.5, 16.0)):
        for i in range(5):
            subject = f"{group[0]}{i + 1}"
            max_speed = speeds[speeds <= quit_mean + rng.normal(0, 1.2)].max()
            stage = speeds[speeds <= max_speed]
            vo2 = 60 + 3.2 * stage + rng.normal(0, 2, stage.size)
            rer = 0.76 + 0.30 / (1 + np.exp(-(stage - crossover) / 2.0)) + rng.normal(0, 0.01,
                                                                                 stage.size)
            time_s = 120.0 * np.arange(1, stage.size + 1)
            rows.append(pd.DataFrame({"subject": subject, "group": group, "time_s": time_s,
                                      "speed_m_min": stage, "vo2_ml_kg_min": vo2, "rer": rer}))
            ends.append({"subject": subject, "group": group, "vo2max": vo2.max(),
                         "time_to_exhaustion_s": time_s[-1], "distance_m": float(
                             (stage * 2).sum()), "max_speed_m_min": max_speed,
                         "crossover_speed_m_min": float(stage[np.argmax(rer >= 1.0)])
                         if (rer >= 1.0).any() else np.nan})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(ends)


def make_calorimetry(seed: int = 3, days: float = 3.0, step_s: float = 1200.0):
    """Calorimetry Dataset (subject, time) with vo2, vco2, ee, rer, body_mass, group; and is_dark."""
    rng = np.random.default_rng(seed)
    time = np.arange(0, days * 86400, step_s)
    hour = (time / 3600 + 7) % 24  # experiment starts at 07:00, lights off 19:00-07:00
    is_dark = (hour >= 19) | (hour < 7)
    subjects = [f"c{i}" for i in range(1, 7)] + [f"s{i}" for i in range(1, 7)]
    group = np.array(["control"] * 6 + ["silenced"] * 6)
    mass = rng.uniform(22, 32, len(subjects))
    base = 0.25 + 0.012 * (mass - 27) + np.where(group == "silenced", -0.03, 0.0)
    ee = base[:, None] * (1 + 0.35 * is_dark[None, :]) + rng.normal(0, 0.02, (12, time.size))
    rer = 0.85 + 0.1 * is_dark[None, :] + rng.normal(0, 0.02, (12, time.size))
    vo2 = ee / (3.815 + 1.232 * rer) * 1000
    ds = xr.Dataset(
        {"vo2": (("subject", "time"), vo2, {"units": "mL/h"}),
         "vco2": (("subject", "time"), vo2 * rer, {"units": "mL/h"}),
         "ee": (("subject", "time"), ee, {"units": "kcal/h"}),
         "rer": (("subject", "time"), rer, {"units": "1"})},
        coords={"subject": subjects, "time": ("time", time, {"units": "s"}),
                "body_mass": ("subject", mass, {"units": "g"}), "group": ("subject", group)})
    dark = xr.DataArray(is_dark, dims="time", coords={"time": time})
    return ds, dark


def make_ancova(ds: xr.Dataset) -> dict:
    """An ANCOVA result dict (separate fits per group on subject means, common mean mass)."""
    mean_ee = ds["ee"].mean("time").values
    mass = ds["body_mass"].values
    groups = ds["group"].values
    result = {"test": "ANCOVA", "statistic": 9.5, "p_value": 0.013,
              "mean_body_mass": float(mass.mean()), "groups": {}}
    for g in np.unique(groups):
        slope, intercept = np.polyfit(mass[groups == g], mean_ee[groups == g], 1)
        result["groups"][str(g)] = {"slope": float(slope), "intercept": float(intercept),
                                    "adjusted_mean": float(intercept + slope * mass.mean()),
                                    "adjusted_sem": 0.01}
    return result

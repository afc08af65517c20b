"""Treadmill stress test (graded maximal exercise test) endpoints.

Per subject: VO2max/peak as the highest rolling mean of VO2 (window ``vo2max_window_s`` of the
protocol), whether the VO2max criteria are met, the RER crossover (first time the rolling-mean
RER reaches ``rer_crossover``, default 1.0) with the speed at that time, time and distance to
exhaustion, maximum speed and vertical work; per stage VO2, VCO2, RER and fuel oxidation.

Exhaustion follows the protocol's rule (Petrosino et al., PLoS One 2016): continuous contact with
the shock grid for ``shock_grid_s`` seconds. The ``shock`` variable holds the seconds of grid
contact within each interval.

VO2max criteria (``vo2max_attained`` when at least two hold; Ayachi et al., Front Physiol 2016;
docs/calorimetry.md section 6): a plateau (the last completed stage raises VO2 by less than
``plateau_fraction`` of VO2peak), peak RER >= ``rer_max_criterion`` and exhaustion reached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .derived import fuel_oxidation

__all__ = ["protocol_schedule", "stage_summary", "stress_test_endpoints", "compare_groups",
           "STRESS_COLUMNS"]

GRAVITY = 9.80665  # m/s^2
STRESS_COLUMNS = ["subject", "group", "body_mass_g", "vo2max_ml_h", "vo2max_ml_kg_h",
                  "vo2max_time_s", "speed_at_vo2max_m_min", "rer_peak", "plateau",
                  "vo2max_attained", "crossover_time_s", "crossover_speed_m_min",
                  "exhausted", "time_to_exhaustion_s", "distance_m", "max_speed_m_min",
                  "work_j"]


def protocol_schedule(protocol, elapsed_s) -> dict[str, np.ndarray]:
    """Speed (m/min), incline (deg) and stage index at each elapsed time (s) of a protocol.

    Stages run back to back; after them the ramp adds ``increment_m_min`` every ``step_s``
    (stage indices continue), capped at ``max_speed_m_min``. Without a ramp the last stage holds.
    """
    t = np.asarray(elapsed_s, dtype=float)
    bounds = np.cumsum([0.0] + [s.duration_s for s in protocol.stages])
    speeds = np.array([s.speed_m_min for s in protocol.stages])
    inclines = np.array([s.incline_deg for s in protocol.stages])
    stage = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, len(speeds) - 1)
    speed, incline = speeds[stage].astype(float), inclines[stage].astype(float)
    after = t >= bounds[-1]
    if protocol.ramp is not None and after.any():
        ramp = protocol.ramp
        step = np.floor((t[after] - bounds[-1]) / ramp.step_s)
        ramp_speed = speeds[-1] + ramp.increment_m_min * (step + 1)
        if ramp.max_speed_m_min is not None:
            ramp_speed = np.minimum(ramp_speed, ramp.max_speed_m_min)
        speed[after], incline[after] = ramp_speed, ramp.incline_deg
        stage = stage.copy()
        stage[after] = len(speeds) + step.astype(int)
    return {"speed": speed, "incline": incline, "stage": stage.astype(int)}


def _with_schedule(ds: xr.Dataset, protocol) -> xr.Dataset:
    """Add speed/incline/stage from the protocol where the file lacks them."""
    schedule = protocol_schedule(protocol, ds["time"].values)
    out = ds
    for name, units in (("speed", "m/min"), ("incline", "deg"), ("stage", "1")):
        if name not in ds:
            values = np.broadcast_to(schedule[name], (ds.sizes["subject"], ds.sizes["time"]))
            out = out.assign({name: (("subject", "time"), values.astype(float),
                                     {"units": units, "source": "protocol schedule"})})
    return out


def _rolling(values: np.ndarray, n: int) -> np.ndarray:
    """Centred rolling mean over ``n`` samples along the last axis (NaN at the edges)."""
    frame = pd.DataFrame(values.T)
    return frame.rolling(n, center=True, min_periods=n).mean().to_numpy().T


def _exhaustion_index(shock: np.ndarray, threshold_s: float,
                      max_shocks: int | None = None) -> np.ndarray:
    """Per subject: first index where consecutive grid contact adds up to ``threshold_s`` (or,
    with ``max_shocks``, where the number of separate contacts reaches it); -1 if never."""
    contact = np.nan_to_num(np.asarray(shock, dtype=float), nan=0.0)
    total = np.cumsum(contact, axis=1)
    # contact accumulated since the last contact-free sample
    reset = np.maximum.accumulate(np.where(contact <= 0, total, 0.0), axis=1)
    reached = (total - reset) >= threshold_s - 1e-9
    if max_shocks is not None:
        touching = contact > 0
        onsets = touching & ~np.pad(touching, ((0, 0), (1, 0)))[:, :-1]
        reached |= np.cumsum(onsets, axis=1) >= max_shocks
    return np.where(reached.any(axis=1), reached.argmax(axis=1), -1)


def _endpoint_row(time, vo2, rer_smooth, speed, incline, stage, mass_g, exhaust_idx, protocol,
                  n_window, plateau_fraction, rer_max_criterion) -> dict:
    end = exhaust_idx if exhaust_idx >= 0 else int(np.flatnonzero(np.isfinite(vo2))[-1])
    keep = slice(0, end + 1)
    vo2_roll = _rolling(vo2[None, keep], n_window)[0]
    peak = int(np.nanargmax(vo2_roll)) if np.isfinite(vo2_roll).any() else 0
    vo2max = float(vo2_roll[peak])
    rer = rer_smooth[keep]
    above = np.flatnonzero(rer >= protocol.rer_crossover)
    stage_means = pd.Series(vo2[keep]).groupby(stage[keep]).mean()
    complete = stage_means.iloc[:-1] if exhaust_idx >= 0 else stage_means
    plateau = len(complete) >= 2 and (complete.iloc[-1] - complete.iloc[-2]) < \
        plateau_fraction * vo2max
    dt = np.diff(time[keep], append=time[end] + (time[1] - time[0]))
    distance = float(np.sum(speed[keep] / 60.0 * dt))
    climb = float(np.sum(speed[keep] / 60.0 * np.sin(np.radians(incline[keep])) * dt))
    rer_peak = float(np.nanmax(rer)) if np.isfinite(rer).any() else np.nan
    criteria = [bool(plateau), rer_peak >= rer_max_criterion, exhaust_idx >= 0]
    return {"body_mass_g": mass_g, "vo2max_ml_h": vo2max,
            "vo2max_ml_kg_h": vo2max / (mass_g / 1000.0) if mass_g > 0 else np.nan,
            "vo2max_time_s": float(time[peak]), "speed_at_vo2max_m_min": float(speed[peak]),
            "rer_peak": rer_peak, "plateau": bool(plateau), "vo2max_attained": sum(criteria) >= 2,
            "crossover_time_s": float(time[above[0]]) if above.size else np.nan,
            "crossover_speed_m_min": float(speed[above[0]]) if above.size else np.nan,
            "exhausted": exhaust_idx >= 0, "time_to_exhaustion_s": float(time[end]),
            "distance_m": distance, "max_speed_m_min": float(np.nanmax(speed[keep])),
            "work_j": mass_g / 1000.0 * GRAVITY * climb}


def stress_test_endpoints(ds: xr.Dataset, protocol, *, plateau_fraction: float = 0.05,
                          rer_max_criterion: float = 1.05) -> pd.DataFrame:
    """One row per subject with :data:`STRESS_COLUMNS` (VO2 in mL/h, time s, distance m, work J).

    ``protocol`` is a :class:`sfone.protocols.StressTestProtocol`; its stage table fills in
    speed/incline/stage when the file lacks them.
    """
    ds = _with_schedule(ds, protocol)
    time = ds["time"].values
    dt = float(np.median(np.diff(time)))
    n_window = max(1, int(round(protocol.vo2max_window_s / dt)))
    rer_smooth = _rolling(ds["rer"].values, n_window)
    shock = ds["shock"].values if "shock" in ds else np.zeros(ds["vo2"].shape)
    exhaust = _exhaustion_index(shock, protocol.exhaustion.shock_grid_s,
                                protocol.exhaustion.max_shocks)
    rows = []
    for i, subject in enumerate(ds["subject"].values.astype(str)):
        row = _endpoint_row(time, ds["vo2"].values[i], rer_smooth[i], ds["speed"].values[i],
                            ds["incline"].values[i], np.nan_to_num(ds["stage"].values[i], nan=-1).astype(int),
                            float(ds["body_mass"].values[i]), int(exhaust[i]), protocol,
                            n_window, plateau_fraction, rer_max_criterion)
        group = str(ds["group"].values[i]) if "group" in ds.coords else ""
        rows.append({"subject": subject, "group": group, **row})
    return pd.DataFrame(rows, columns=STRESS_COLUMNS)


def stage_summary(ds: xr.Dataset, protocol, *, fuel: str = "frayn") -> pd.DataFrame:
    """Mean VO2, VCO2 (mL/h), RER and CHO/fat oxidation (g/min) per subject and stage.

    ``fuel_valid`` is False for stages whose mean RER exceeds 1 (non-protein equations invalid).
    """
    ds = _with_schedule(ds, protocol)
    table = pd.DataFrame({
        "subject": np.repeat(ds["subject"].values.astype(str), ds.sizes["time"]),
        "stage": np.nan_to_num(ds["stage"].values.ravel(), nan=-1).astype(int),
        "speed_m_min": ds["speed"].values.ravel(), "incline_deg": ds["incline"].values.ravel(),
        "vo2_ml_h": ds["vo2"].values.ravel(), "vco2_ml_h": ds["vco2"].values.ravel(),
        "rer": ds["rer"].values.ravel()}).dropna(subset=["vo2_ml_h"])
    out = table.groupby(["subject", "stage"], sort=False).mean().reset_index()
    fuels = fuel_oxidation(out["vo2_ml_h"].to_numpy(), out["vco2_ml_h"].to_numpy(), equation=fuel)
    out["cho_g_min"], out["fat_g_min"] = fuels["cho"], fuels["fat"]
    out["fuel_valid"] = out["rer"] <= 1.0
    return out


def compare_groups(table: pd.DataFrame, columns, *, group: str = "group") -> pd.DataFrame:
    """Group comparisons of endpoints: Welch t-test (2 groups) or one-way ANOVA plus pairwise
    Welch t-tests with Holm correction (> 2 groups). One row per endpoint (and pair)."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    rows = []
    names = sorted(table[group].dropna().unique())
    for column in columns:
        samples = [table.loc[table[group] == g, column].dropna().to_numpy(float) for g in names]
        means = {f"mean_{g}": float(np.mean(s)) if s.size else np.nan
                 for g, s in zip(names, samples, strict=True)}
        if all(s.size and np.ptp(s) == 0 for s in samples):
            rows.append({"endpoint": column, "test": "none (no within-group variance)",
                         "comparison": "all", "statistic": np.nan, "p": np.nan, **means})
            continue
        if len(names) == 2:
            res = stats.ttest_ind(*samples, equal_var=False)
            rows.append({"endpoint": column, "test": "welch_t", "comparison": f"{names[0]} vs "
                         f"{names[1]}", "statistic": res.statistic, "p": res.pvalue, **means})
            continue
        res = stats.f_oneway(*samples)
        rows.append({"endpoint": column, "test": "anova", "comparison": "all",
                     "statistic": res.statistic, "p": res.pvalue, **means})
        pairs = [(a, b) for k, a in enumerate(range(len(names))) for b in range(k + 1, len(names))]
        ps = [stats.ttest_ind(samples[a], samples[b], equal_var=False) for a, b in pairs]
        adjusted = multipletests([p.pvalue for p in ps], method="holm")[1]
        for (a, b), res_ab, p_adj in zip(pairs, ps, adjusted, strict=True):
            rows.append({"endpoint": column, "test": "welch_t_holm",
                         "comparison": f"{names[a]} vs {names[b]}", "statistic": res_ab.statistic,
                         "p": p_adj, **means})
    return pd.DataFrame(rows)

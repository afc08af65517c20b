"""Treadmill stress test (graded maximal exercise test) endpoints.

Per subject: VO2max/peak as the highest rolling mean of VO2 (window ``vo2max_window_s`` of the
protocol), whether the VO2max criteria are met, two metabolic crossovers, time and distance to
exhaustion, maximum speed and vertical work; per stage VO2, VCO2, RER and fuel oxidation.

Crossovers (both interpolated, never snapped to a stage speed):

* ``crossover_*``: RER reaches the protocol's ``rer_crossover`` (default 1.0), the convention of
  many mouse treadmill papers (Petrosino et al., PLoS One 2016 report a "metabolic crossover");
* ``brooks_mercier_*``: carbohydrate energy equals fat energy (Brooks GA & Mercier J, J Appl
  Physiol 1994;76:2253, the "crossover concept"). With Frayn's equations and 15.56 kJ/g glucose,
  39.4 kJ/g fat this is RER = 0.847 (:func:`brooks_mercier_rer`), as in Lusk's non-protein RQ
  table (RQ 0.85: 50.7 % of energy from carbohydrate).

The crossing *time* is interpolated linearly between the two samples of the rolling-mean RER
that bracket the threshold. The crossing *speed* is interpolated linearly between the speeds of
the last stage whose steady-state RER (mean of the stage's last ``steady_state_s``) is below the
threshold and the next stage, i.e. on the RER-speed relation of the protocol; during a ramp each
step is a stage. Both are NaN when the RER never crosses upward (already above the threshold in
the first stage, or never reaching it).

Exhaustion follows the protocol's rule (Petrosino et al., PLoS One 2016): continuous contact with
the shock grid for ``shock_grid_s`` seconds. The ``shock`` variable holds the seconds of grid
contact within each interval; a sample stamped t covers [t, t + dt). The test ends at the end of
the interval in which the rule is met (the end of the recording if never met); distance and work
integrate the belt speed from the start of the recording to that end. ``time_to_exhaustion_s``
counts running time from the first interval with belt speed > 0, so a 0 m/min warm-up does not
count; ``warmup_s`` is that warm-up and ``test_duration_s`` = warm-up + running time.

VO2max criteria (``vo2max_attained`` when at least two hold; Ayachi et al., Front Physiol 2016;
docs/calorimetry.md section 6): a plateau (the last completed stage raises VO2 by less than
``plateau_fraction`` of VO2peak), peak RER >= ``rer_max_criterion`` and exhaustion reached.

Group comparisons (:func:`compare_groups`, :func:`endpoint_tests`): one test for every endpoint,
in the CLI and in ``sfone reproduce`` alike: two-sided Mann-Whitney U (exact without ties,
otherwise the normal approximation with tie and continuity correction), Kruskal-Wallis plus
Holm-corrected pairwise Mann-Whitney U for more than two groups. Endpoints such as maximum speed
are quantised by the protocol's stages, where a t-test's variance estimate is meaningless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..io.calorimetry.derived import FUEL_EQUATIONS, fuel_oxidation
from ..protocols import protocol_schedule
from ._stress_input import check_stress_recording

__all__ = ["protocol_schedule", "stage_summary", "stress_test_endpoints", "compare_groups",
           "endpoint_tests", "brooks_mercier_rer", "STRESS_COLUMNS", "GROUP_TEST"]

GRAVITY = 9.80665  # m/s^2
#: energy of oxidation, kJ/g: glucose (heat of combustion 2803 kJ/mol / 180.16 g/mol) and fat
#: (triacylglycerol, Livesey & Elia 1988)
OXIDATION_KJ_PER_G = {"cho": 15.56, "fat": 39.4}
GROUP_TEST = "Mann-Whitney U, two-sided"
STRESS_COLUMNS = ["subject", "group", "body_mass_g", "vo2max_ml_h", "vo2max_ml_kg_h",
                  "vo2max_time_s", "speed_at_vo2max_m_min", "rer_peak", "plateau",
                  "vo2max_attained", "crossover_rer", "crossover_time_s", "crossover_speed_m_min",
                  "brooks_mercier_rer", "brooks_mercier_time_s", "brooks_mercier_speed_m_min",
                  "exhausted", "time_to_exhaustion_s", "warmup_s", "test_duration_s",
                  "distance_m", "max_speed_m_min", "work_j"]


def brooks_mercier_rer(equation: str = "frayn", kj_per_g=None) -> float:
    """RER at which carbohydrate and fat oxidation yield equal energy (Brooks & Mercier 1994).

    With ``cho = c1 VCO2 - c2 VO2`` and ``fat = f1 VO2 - f2 VCO2`` (:data:`FUEL_EQUATIONS`) and
    energies ``e_cho``, ``e_fat`` (kJ/g, :data:`OXIDATION_KJ_PER_G`), ``e_cho cho = e_fat fat``
    at RER = (e_cho c2 + e_fat f1) / (e_cho c1 + e_fat f2): 0.847 for Frayn.

    Parameters
    ----------
    equation : str, default "frayn"
        Fuel-oxidation equation (a key of :data:`FUEL_EQUATIONS`).
    kj_per_g : dict, optional
        Override of the energies ``{"cho": ..., "fat": ...}`` (kJ/g).

    Returns
    -------
    float
        The crossover RER (dimensionless).
    """
    c1, c2, f1, f2 = FUEL_EQUATIONS[equation.lower()]
    energy = {**OXIDATION_KJ_PER_G, **(kj_per_g or {})}
    e_cho, e_fat = energy["cho"], energy["fat"]
    return (e_cho * c2 + e_fat * f1) / (e_cho * c1 + e_fat * f2)


def _with_schedule(ds: xr.Dataset, protocol) -> xr.Dataset:
    """Add speed/incline/stage from the protocol where the file lacks them (after checking
    that ``ds`` can be a stress test at all: :func:`check_stress_recording`)."""
    check_stress_recording(ds, protocol)
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


def _crossing_time(time: np.ndarray, rer: np.ndarray, threshold: float) -> float:
    """Time (s) the series first crosses ``threshold`` upward, linear between the bracketing
    samples; NaN if it never does or starts at/above it."""
    finite = np.flatnonzero(np.isfinite(rer))
    if finite.size < 2 or rer[finite[0]] >= threshold:
        return np.nan
    t, r = time[finite], rer[finite]
    above = np.flatnonzero(r >= threshold)
    if not above.size:
        return np.nan
    i = int(above[0])
    return float(t[i - 1] + (threshold - r[i - 1]) / (r[i] - r[i - 1]) * (t[i] - t[i - 1]))


def _stage_steady_state(time, rer, speed, stage, steady_state_s) -> pd.DataFrame:
    """Per stage (in order): its speed and the mean RER of its last ``steady_state_s``."""
    keep = np.isfinite(rer) & (stage >= 0)
    time, rer, speed, stage = time[keep], rer[keep], speed[keep], stage[keep]
    rows = []
    for k in np.unique(stage):
        inside = stage == k
        steady = inside & (time > time[inside].max() - steady_state_s)
        rows.append((k, float(np.median(speed[steady])), float(np.mean(rer[steady]))))
    return pd.DataFrame(rows, columns=["stage", "speed", "rer"]).set_index("stage")


def _crossing_speed(stages: pd.DataFrame, threshold: float) -> float:
    """Speed where the stage steady-state RER first crosses ``threshold``, linear in speed
    between the two stages that bracket it; NaN without an upward crossing."""
    rer, speed = stages["rer"].to_numpy(), stages["speed"].to_numpy()
    if rer.size < 2 or rer[0] >= threshold:
        return np.nan
    above = np.flatnonzero(rer >= threshold)
    if not above.size:
        return np.nan
    i = int(above[0])
    return float(speed[i - 1] + (threshold - rer[i - 1]) / (rer[i] - rer[i - 1])
                 * (speed[i] - speed[i - 1]))


def _durations(time, speed, end: int, step: float) -> dict:
    """Interval lengths up to the end of sample ``end`` and the warm-up/running split."""
    keep = slice(0, end + 1)
    dt = np.diff(time[keep], append=time[end] + step)
    stop = float(time[end] + step)
    moving = np.flatnonzero(np.nan_to_num(speed[keep]) > 0)
    run_start = float(time[moving[0]]) if moving.size else stop
    return {"dt": dt, "warmup_s": run_start - float(time[0]),
            "time_to_exhaustion_s": stop - run_start, "test_duration_s": stop - float(time[0])}


def _vo2_peak(vo2, stage, n_window, exhausted, plateau_fraction):
    vo2_roll = _rolling(vo2[None, :], n_window)[0]
    peak = int(np.nanargmax(vo2_roll)) if np.isfinite(vo2_roll).any() else 0
    vo2max = float(vo2_roll[peak])
    stage_means = pd.Series(vo2).groupby(stage).mean()
    complete = stage_means.iloc[:-1] if exhausted else stage_means
    plateau = len(complete) >= 2 and (complete.iloc[-1] - complete.iloc[-2]) < \
        plateau_fraction * vo2max
    return peak, vo2max, bool(plateau)


def _endpoint_row(series: dict, mass_g, exhaust_idx, protocol, settings) -> dict:
    time = series["time"]
    vo2 = series["vo2"]
    end = exhaust_idx if exhaust_idx >= 0 else int(np.flatnonzero(np.isfinite(vo2))[-1])
    keep = slice(0, end + 1)
    speed, incline, stage = series["speed"][keep], series["incline"][keep], series["stage"][keep]
    peak, vo2max, plateau = _vo2_peak(vo2[keep], stage, settings["n_window"], exhaust_idx >= 0,
                                      settings["plateau_fraction"])
    rer = series["rer_smooth"][keep]
    stages = _stage_steady_state(time[keep], series["rer"][keep], speed, stage,
                                 settings["steady_state_s"])
    timing = _durations(time, series["speed"], end, settings["step"])
    dt = timing.pop("dt")
    climb = float(np.sum(speed / 60.0 * np.sin(np.radians(incline)) * dt))
    rer_peak = float(np.nanmax(rer)) if np.isfinite(rer).any() else np.nan
    criteria = [plateau, rer_peak >= settings["rer_max_criterion"], exhaust_idx >= 0]
    row = {"body_mass_g": mass_g, "vo2max_ml_h": vo2max,
           "vo2max_ml_kg_h": vo2max / (mass_g / 1000.0) if mass_g > 0 else np.nan,
           "vo2max_time_s": float(time[peak]), "speed_at_vo2max_m_min": float(speed[peak]),
           "rer_peak": rer_peak, "plateau": plateau, "vo2max_attained": sum(criteria) >= 2}
    for prefix, threshold in (("crossover", protocol.rer_crossover),
                              ("brooks_mercier", settings["brooks_mercier_rer"])):
        row[f"{prefix}_rer"] = float(threshold)
        row[f"{prefix}_time_s"] = _crossing_time(time[keep], rer, threshold)
        row[f"{prefix}_speed_m_min"] = _crossing_speed(stages, threshold)
    return {**row, "exhausted": exhaust_idx >= 0, **timing,
            "distance_m": float(np.sum(np.nan_to_num(speed) / 60.0 * dt)),
            "max_speed_m_min": float(np.nanmax(speed)), "work_j": mass_g / 1000.0 * GRAVITY * climb}


def stress_test_endpoints(ds: xr.Dataset, protocol, *, plateau_fraction: float = 0.05,
                          rer_max_criterion: float = 1.05, steady_state_s: float = 30.0,
                          fuel: str = "frayn") -> pd.DataFrame:
    """One row per subject with :data:`STRESS_COLUMNS` (VO2 in mL/h, time s, distance m, work J).

    See the module docstring for every definition.

    Parameters
    ----------
    ds : xarray.Dataset
        Treadmill calorimetry Dataset over ``(subject, time)`` (``vo2``, ``rer``, optional
        ``shock``, ``speed``, ``incline``, ``stage``; ``body_mass`` in g).
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol (stages, ramp, exhaustion rule).
        Its stage table fills in speed/incline/stage when the file lacks them.
    plateau_fraction : float, default 0.05
        VO2 plateau criterion: the last completed stage raises VO2 by less than this fraction
        of VO2peak.
    rer_max_criterion : float, default 1.05
        Peak RER criterion of VO2max.
    steady_state_s : float, default 30.0
        The end of each stage (s) whose mean RER gives the crossover speeds.
    fuel : str, default "frayn"
        The equations behind the Brooks-Mercier RER.

    Returns
    -------
    pandas.DataFrame
        One row per subject, columns :data:`STRESS_COLUMNS` (``subject``, ``group``, endpoints).
    """
    ds = _with_schedule(ds, protocol)
    time = ds["time"].values
    step = float(np.median(np.diff(time)))
    settings = {"n_window": max(1, int(round(protocol.vo2max_window_s / step))), "step": step,
                "plateau_fraction": plateau_fraction, "rer_max_criterion": rer_max_criterion,
                "steady_state_s": steady_state_s, "brooks_mercier_rer": brooks_mercier_rer(fuel)}
    rer_smooth = _rolling(ds["rer"].values, settings["n_window"])
    shock = ds["shock"].values if "shock" in ds else np.zeros(ds["vo2"].shape)
    exhaust = _exhaustion_index(shock, protocol.exhaustion.shock_grid_s,
                                protocol.exhaustion.max_shocks)
    rows = []
    for i, subject in enumerate(ds["subject"].values.astype(str)):
        series = {"time": time, "vo2": ds["vo2"].values[i], "rer": ds["rer"].values[i],
                  "rer_smooth": rer_smooth[i], "speed": ds["speed"].values[i],
                  "incline": ds["incline"].values[i],
                  "stage": np.nan_to_num(ds["stage"].values[i], nan=-1).astype(int)}
        row = _endpoint_row(series, float(ds["body_mass"].values[i]), int(exhaust[i]), protocol,
                            settings)
        group = str(ds["group"].values[i]) if "group" in ds.coords else ""
        rows.append({"subject": subject, "group": group, **row})
    return pd.DataFrame(rows, columns=STRESS_COLUMNS)


def stage_summary(ds: xr.Dataset, protocol, *, fuel: str = "frayn") -> pd.DataFrame:
    """Mean VO2, VCO2 (mL/h), RER and CHO/fat oxidation (g/min) per subject and stage.

    ``fuel_valid`` is False for stages where either rate is negative or the mean RER exceeds 1
    (see :func:`sfone.calorimetry.fuel_oxidation`).

    Parameters
    ----------
    ds : xarray.Dataset
        Treadmill calorimetry Dataset (``vo2``, ``vco2``, ``rer`` over ``(subject, time)``).
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol (stages, ramp, exhaustion rule).
        Fills speed, incline and stage when ``ds`` lacks them.
    fuel : str, default "frayn"
        Fuel-oxidation equation.

    Returns
    -------
    pandas.DataFrame
        One row per subject and stage: ``subject``, ``stage``, ``speed_m_min``, ``incline_deg``,
        ``vo2_ml_h``, ``vco2_ml_h``, ``rer``, ``cho_g_min``, ``fat_g_min``, ``fuel_valid``.
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
    out["fuel_valid"] = fuels["valid"]
    return out


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> dict:
    """Two-sided Mann-Whitney U: exact without ties (n <= 40), else the normal approximation
    with tie and continuity correction; the method used is named in ``test``."""
    from scipy import stats

    pooled = np.concatenate([a, b])
    exact = np.unique(pooled).size == pooled.size and pooled.size <= 40
    res = stats.mannwhitneyu(a, b, alternative="two-sided",
                             method="exact" if exact else "asymptotic")
    how = "exact" if exact else "normal approximation, tie-corrected"
    return {"test": f"{GROUP_TEST} ({how})", "statistic": float(res.statistic),
            "p_value": float(res.pvalue)}


def _samples(table: pd.DataFrame, column: str, names, group: str) -> list[np.ndarray]:
    return [table.loc[table[group] == g, column].dropna().to_numpy(float) for g in names]


def _no_test(samples) -> str | None:
    """Why no test can run, or None."""
    if any(s.size == 0 for s in samples):
        return "none (a group has no value)"
    if np.unique(np.concatenate(samples)).size == 1:
        return "none (all values equal)"
    return None


def endpoint_tests(table: pd.DataFrame, columns, order, *, group: str = "group") -> dict:
    """The group test of each endpoint between the two groups ``order``.

    The test :func:`compare_groups` and ``sfone reproduce`` both use (:data:`GROUP_TEST`).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per subject.
    columns : iterable of str
        Endpoint columns.
    order : (str, str)
        The two groups compared.
    group : str, default "group"
        Group column.

    Returns
    -------
    dict
        Column -> ``{"test", "statistic", "p_value"}`` (NaN and the reason as ``test`` when no
        test can be run).
    """
    out = {}
    for column in columns:
        samples = _samples(table, column, order, group)
        reason = _no_test(samples)
        out[column] = ({"test": reason, "statistic": np.nan, "p_value": np.nan} if reason
                       else _mann_whitney(*samples))
    return out


def compare_groups(table: pd.DataFrame, columns, *, group: str = "group") -> pd.DataFrame:
    """Group comparisons of endpoints (one row per endpoint and pair).

    Mann-Whitney U for two groups; Kruskal-Wallis plus pairwise Mann-Whitney U with Holm
    correction for more. The ``test`` column names the test and its method.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per subject (e.g. :func:`stress_test_endpoints`).
    columns : iterable of str
        Endpoint columns to compare.
    group : str, default "group"
        Group column.

    Returns
    -------
    pandas.DataFrame
        Columns ``endpoint``, ``test``, ``comparison``, ``statistic``, ``p`` (Holm-adjusted for
        pairs after Kruskal-Wallis) and ``mean_<group>`` per group; ``test`` says why no test was
        run when a group has too few values.
    """
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    rows = []
    names = sorted(table[group].dropna().unique())
    for column in columns:
        samples = _samples(table, column, names, group)
        base = {"endpoint": column, **{f"mean_{g}": float(np.mean(s)) if s.size else np.nan
                                       for g, s in zip(names, samples, strict=True)}}
        reason = _no_test(samples)
        if reason or len(names) == 2:
            res = {"test": reason, "statistic": np.nan, "p_value": np.nan} if reason \
                else _mann_whitney(*samples)
            rows.append({**base, "test": res["test"], "comparison": " vs ".join(names),
                         "statistic": res["statistic"], "p": res["p_value"]})
            continue
        res = stats.kruskal(*samples)
        rows.append({**base, "test": "Kruskal-Wallis H", "comparison": "all",
                     "statistic": float(res.statistic), "p": float(res.pvalue)})
        pairs = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names))]
        tests = [_mann_whitney(samples[a], samples[b]) for a, b in pairs]
        adjusted = multipletests([t["p_value"] for t in tests], method="holm")[1]
        for (a, b), res_ab, p_adj in zip(pairs, tests, adjusted, strict=True):
            rows.append({**base, "test": f"{res_ab['test']}, Holm-adjusted",
                         "comparison": f"{names[a]} vs {names[b]}",
                         "statistic": res_ab["statistic"], "p": float(p_adj)})
    columns_out = ["endpoint", "test", "comparison", "statistic", "p"]
    frame = pd.DataFrame(rows)
    return frame[columns_out + [c for c in frame.columns if c not in columns_out]]

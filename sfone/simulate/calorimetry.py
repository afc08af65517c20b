"""Simulated indirect calorimetry with known truth, and writers of the vendor file formats.

* :func:`simulate_metabolic_cages`: seeded home-cage series (VO2, VCO2, feed, activity) with a
  light/dark rhythm and a known per-group EE offset;
* :func:`simulate_stress_test`: graded treadmill tests following a
  :class:`~sfone.protocols.StressTestProtocol`, per group with known VO2max, RER-crossover speed
  and exhaustion speed;
* writers: :func:`write_promethion_macro` (Sable "CalR macro" wide export, mL/min),
  :func:`write_promethion_oneclick` (Sable One-Click-Macro long summary, fixed bins),
  :func:`write_clams_csv` (Oxymax per-cage CSV; with speed/incline/shock columns it is the
  Oxymax-style treadmill variant) and :func:`write_treadmill_csv` (sfone generic treadmill CSV);
* :func:`write_samples` for ``data_samples/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._atomic import atomic_path, neutralize_formula, write_csv
from ..io.calorimetry.derived import energy_expenditure
from ..schema import finalize_dataset

__all__ = ["simulate_metabolic_cages", "simulate_stress_test", "stress_truth",
           "write_promethion_macro", "write_promethion_oneclick", "write_clams_csv", "write_treadmill_csv", "write_samples"]

START = pd.Timestamp("2026-03-02 07:00:00")
DEFAULT_STRESS_GROUPS = {
    "WT": {"vo2max_ml_kg_h": 7200.0, "crossover_speed_m_min": 19.5, "exhaustion_speed_m_min": 30.0},
    "KO": {"vo2max_ml_kg_h": 6000.0, "crossover_speed_m_min": 16.5, "exhaustion_speed_m_min": 25.0},
}


def _dataset(subjects, groups, masses, stamps, variables, *, source: str, attrs) -> xr.Dataset:
    elapsed = (stamps - stamps[:, :1]) / np.timedelta64(1, "s")
    data = {name: (("subject", "time"), values, {"units": units})
            for name, (values, units) in variables.items()}
    ds = xr.Dataset(data, coords={
        "subject": ("subject", np.asarray(subjects, dtype=str)),
        "group": ("subject", np.asarray(groups, dtype=str)),
        "cage": ("subject", np.asarray([f"{i + 1}" for i in range(len(subjects))])),
        "body_mass": ("subject", np.asarray(masses, dtype=float), {"units": "g"}),
        "datetime": (("subject", "time"), stamps),
        "time": ("time", elapsed[0].astype(float), {"units": "s"})})
    return finalize_dataset(ds, modality="calorimetry", source_format=source,
                            source_file="<simulated>", session_start=str(stamps[0, 0]), **attrs)


def simulate_metabolic_cages(*, groups=("control", "treated"), n_per_group: int = 4,
                             days: float = 2.0, interval_min: float = 10.0,
                             ee_effect: float = 0.08, random_state: int = 0) -> xr.Dataset:
    """Home-cage series: mass-scaled VO2 with a dark-phase rise, RER, feed and beam breaks.

    Lights on 07:00-19:00. Group k has VO2 multiplied by ``1 + k * ee_effect`` (truth in attrs).

    Parameters
    ----------
    groups : tuple of str, default ("control", "treated")
        Group names; group k has VO2 times ``1 + k * ee_effect``.
    n_per_group : int, default 4
        Mice per group.
    days : float, default 2.0
        Recording length (days).
    interval_min : float, default 10.0
        Reading interval (min).
    ee_effect : float, default 0.08
        Relative VO2 (and EE) increase per group step.
    random_state : int, default 0
        Seed.

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` (``vo2``/``vco2`` mL/h, ``ee`` kcal/h,
        ``rer``; ``body_mass`` g, ``group``, ``datetime`` coordinates); the truth in attrs.
        Also ``feed``/``feed_acc`` (g) and ``xytot``/``xyamb`` (counts).
    """
    rng = np.random.default_rng(random_state)
    n_time = int(round(days * 24 * 60 / interval_min))
    labels = [g for g in groups for _ in range(n_per_group)]
    n = len(labels)
    masses = np.round(rng.normal(30.0, 3.0, n), 1)
    stamps = START + pd.to_timedelta(np.arange(n_time) * interval_min, unit="min")
    hours = stamps.hour.to_numpy()
    dark = (hours < 7) | (hours >= 19)
    effect = np.array([1 + groups.index(g) * ee_effect for g in labels])[:, None]
    base = 3200.0 * masses[:, None] / 1000.0 * effect
    activity = rng.gamma(2.0, 1.0, (n, n_time)) * np.where(dark, 2.5, 0.8)
    vo2 = base * (1 + 0.25 * dark) * (1 + 0.05 * activity) + rng.normal(0, 3, (n, n_time))
    rer = np.where(dark, 0.93, 0.80) + rng.normal(0, 0.02, (n, n_time))
    feed = np.round(np.clip(rng.gamma(1.2, 0.05, (n, n_time)) * np.where(dark, 2.0, 0.4), 0, None),
                    2)
    variables = {"vo2": (vo2, "mL/h"), "vco2": (vo2 * rer, "mL/h"),
                 "ee": (energy_expenditure(vo2, vo2 * rer), "kcal/h"), "rer": (rer, "1"),
                 "feed": (feed, "g"), "feed_acc": (np.cumsum(feed, axis=1), "g"),
                 "xytot": (np.round(activity * 300), "count"),
                 "xyamb": (np.round(activity * 120), "count")}
    subjects = [f"M{i + 1:02d}" for i in range(n)]
    stamp_grid = np.tile(stamps.to_numpy(dtype="datetime64[ns]"), (n, 1))
    return _dataset(subjects, labels, masses, stamp_grid, variables, source="simulated",
                    attrs={"truth_ee_effect": ee_effect, "truth_light": "07:00-19:00"})


def _stress_series(protocol, truth: dict, mass_g: float, dt: float, rng):
    from ..protocols import protocol_schedule

    exhaustion = truth["exhaustion_speed_m_min"]
    t = np.arange(0, 3600, dt, dtype=float)
    schedule = protocol_schedule(protocol, t)
    end = int(np.flatnonzero(schedule["speed"] >= exhaustion)[0] + round(60 / dt) - 1)
    t, speed = t[:end + 1], schedule["speed"][:end + 1]
    rest, vo2max = 3200.0 * mass_g / 1000, truth["vo2max_ml_kg_h"] * mass_g / 1000
    plateau_speed = exhaustion - 3.0  # VO2 plateaus 3 m/min before exhaustion
    target = rest + (vo2max - rest) * np.clip(speed / plateau_speed, 0, 1)
    # steady-state RER is linear in speed and reaches 1.0 at the crossover speed
    rer_target = 0.80 + 0.20 * speed / truth["crossover_speed_m_min"]
    alpha = dt / 20.0  # first-order kinetics, tau 20 s
    vo2, rer = np.empty_like(target), np.empty_like(target)
    vo2[0], rer[0] = target[0], rer_target[0]
    for i in range(1, target.size):  # a recursive filter: inherently sequential
        vo2[i] = vo2[i - 1] + alpha * (target[i] - vo2[i - 1])
        rer[i] = rer[i - 1] + alpha * (rer_target[i] - rer[i - 1])
    shock = np.zeros_like(t)
    shock[-int(round(6 / dt)):] = dt  # final continuous grid contact: exhaustion
    brief = rng.choice(np.arange(int(120 / dt), t.size - int(60 / dt)), 3, replace=False)
    shock[brief] = min(2.0, dt)  # brief tail contacts that must not count as exhaustion
    return t, speed, schedule, vo2, rer, shock


def stress_truth(protocol, truth: dict, dt: float = 5.0) -> dict:
    """Noise-free endpoints implied by ``truth`` and the protocol.

    The steady-state RER is ``0.80 + 0.20 speed / crossover_speed``, so RER 1.0 is reached at
    ``crossover_speed_m_min`` and the Brooks-Mercier RER R* at ``(R* - 0.8) / 0.2`` of it; the
    crossover times are where the noise-free RER (with its 20 s kinetics) crosses, linear between
    samples. Exhaustion ends the last sample's interval; running time excludes the 0 m/min
    warm-up.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        The protocol simulated.
    truth : dict
        One group's truth (see :func:`simulate_stress_test`).
    dt : float, default 5.0
        Sampling interval (s).

    Returns
    -------
    dict
        ``vo2max_ml_kg_h``, ``max_speed_m_min``, ``time_to_exhaustion_s``, ``warmup_s``,
        ``test_duration_s``, ``crossover_time_s``/``crossover_speed_m_min`` and
        ``brooks_mercier_time_s``/``brooks_mercier_speed_m_min``.
    """
    from ..calorimetry.stress import brooks_mercier_rer

    t, speed, _, vo2, rer, _ = _stress_series(protocol, truth, 1000.0, dt,
                                              np.random.default_rng(0))
    stop = float(t[-1] + dt)
    run_start = float(t[np.flatnonzero(speed > 0)[0]])
    out = {"vo2max_ml_kg_h": truth["vo2max_ml_kg_h"], "max_speed_m_min": float(speed[-1]),
           "time_to_exhaustion_s": stop - run_start, "warmup_s": run_start,
           "test_duration_s": stop}
    for prefix, threshold in (("crossover", protocol.rer_crossover),
                              ("brooks_mercier", brooks_mercier_rer())):
        i = int(np.flatnonzero(rer >= threshold)[0])
        out[f"{prefix}_time_s"] = float(t[i - 1] + (threshold - rer[i - 1])
                                        / (rer[i] - rer[i - 1]) * dt)
        out[f"{prefix}_speed_m_min"] = (threshold - 0.80) / 0.20 * truth["crossover_speed_m_min"]
    return out


def simulate_stress_test(protocol, *, groups: dict | None = None, n_per_group: int = 3,
                         dt: float = 5.0, noise: float = 0.02, random_state: int = 0
                         ) -> xr.Dataset:
    """Graded treadmill tests for each group (``groups``: name -> truth dict, see
    :data:`DEFAULT_STRESS_GROUPS`). Subjects run until their group's exhaustion speed is reached
    for 1 min; the last 6 s are continuous shock-grid contact. Truth is in the attrs.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stage table and ramp the mice run.
    groups : dict, optional
        Group name -> truth dict (``vo2max_ml_kg_h``, ``crossover_speed_m_min``,
        ``exhaustion_speed_m_min``); default :data:`DEFAULT_STRESS_GROUPS`.
    n_per_group : int, default 3
        Mice per group.
    dt : float, default 5.0
        Sampling interval (s).
    noise : float, default 0.02
        Relative VO2 noise (SD).
    random_state : int, default 0
        Seed.

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over ``(subject, time)`` (``vo2``/``vco2`` mL/h, ``ee`` kcal/h,
        ``rer``; ``body_mass`` g, ``group``, ``datetime`` coordinates); the truth in attrs.
        Also ``speed`` (m/min), ``incline`` (deg), ``stage`` and ``shock`` (s).
    """
    groups = groups or DEFAULT_STRESS_GROUPS
    rng = np.random.default_rng(random_state)
    series, subjects, labels, masses = [], [], [], []
    for name, truth in groups.items():
        for k in range(n_per_group):
            mass = float(np.round(rng.normal(27.0, 1.5), 1))
            series.append(_stress_series(protocol, truth, mass, dt, rng))
            subjects.append(f"{name}{k + 1}")
            labels.append(name)
            masses.append(mass)
    n_time = max(s[0].size for s in series)
    grids = {key: np.full((len(series), n_time), np.nan) for key in
             ("vo2", "rer", "speed", "incline", "stage", "shock")}
    for i, (t, speed, schedule, vo2, rer, shock) in enumerate(series):
        m = t.size
        noisy = vo2 * (1 + noise * rng.standard_normal(m))
        grids["vo2"][i, :m], grids["rer"][i, :m] = noisy, rer + 0.01 * rng.standard_normal(m)
        grids["speed"][i, :m], grids["shock"][i, :m] = speed, shock
        grids["incline"][i, :m] = schedule["incline"][:m]
        grids["stage"][i, :m] = schedule["stage"][:m]
    vco2 = grids["vo2"] * grids["rer"]
    stamps = np.tile((START + pd.to_timedelta(np.arange(n_time) * dt, unit="s"))
                     .to_numpy(dtype="datetime64[ns]"), (len(series), 1))
    variables = {"vo2": (grids["vo2"], "mL/h"), "vco2": (vco2, "mL/h"),
                 "ee": (energy_expenditure(grids["vo2"], vco2), "kcal/h"),
                 "rer": (vco2 / grids["vo2"], "1"), "speed": (grids["speed"], "m/min"),
                 "incline": (grids["incline"], "deg"), "stage": (grids["stage"], "1"),
                 "shock": (grids["shock"], "s")}
    attrs = {f"truth_{g}_{k}": v for g, truth in groups.items()
             for k, v in stress_truth(protocol, truth, dt).items()}
    return _dataset(subjects, labels, masses, stamps, variables, source="simulated", attrs=attrs)


# ------------------------------------------------------------------------------ writers

def _fmt(values, decimals: int) -> list[str]:
    return [("" if not np.isfinite(v) else f"{v:.{decimals}f}") for v in values]


def write_promethion_macro(ds: xr.Dataset, path) -> Path:
    """Sable Promethion "CalR macro" wide export: ``Date_Time_1`` then per cage N ``vo2_N``,
    ``vco2_N`` (mL/min), ``kcal_hr_N``, ``rq_N``, ``foodupa_N`` (cumulative g), ``xbreak_N``,
    ``ybreak_N``, ``bodymass_N`` (g).

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset (e.g. from :func:`simulate_metabolic_cages`).
    path : str or os.PathLike
        Output file (written atomically).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    stamps = pd.DatetimeIndex(ds["datetime"].values[0])
    columns = {"Date_Time_1": stamps.strftime("%m/%d/%Y %H:%M:%S")}
    for i in range(ds.sizes["subject"]):
        n = i + 1
        one = ds.isel(subject=i)
        columns[f"vo2_{n}"] = _fmt(one["vo2"].values / 60.0, 4)
        columns[f"vco2_{n}"] = _fmt(one["vco2"].values / 60.0, 4)
        columns[f"kcal_hr_{n}"] = _fmt(energy_expenditure(one["vo2"].values,
                                                          one["vco2"].values), 5)
        columns[f"rq_{n}"] = _fmt(one["vco2"].values / one["vo2"].values, 4)
        columns[f"foodupa_{n}"] = _fmt(one["feed_acc"].values, 3)
        columns[f"xbreak_{n}"] = _fmt(np.floor(one["xytot"].values / 2), 0)
        columns[f"ybreak_{n}"] = _fmt(np.ceil(one["xytot"].values / 2), 0)
        columns[f"bodymass_{n}"] = _fmt(np.full(stamps.size, float(one["body_mass"])), 2)
    return write_csv(pd.DataFrame(columns), path, lineterminator="\r\n")


def write_promethion_oneclick(ds: xr.Dataset, path, *, bin_min: float = 30.0) -> Path:
    """Sable Promethion One-Click-Macro long summary: one row per animal and ``bin_min`` bin.

    Columns ``StartDate, StartTime, EndDate, EndTime, Animal, Avg_VO2, Avg_VCO2`` (mL/min),
    ``Avg_RQ``, ``Avg_EE`` (kcal/h, Weir of the bin's mean VO2/VCO2), ``Sum_FoodA`` (g),
    ``Sum_XBreak``, ``Sum_YBreak`` (counts), ``Avg_BodyMass`` (g); rows ordered by bin, then
    animal. Bins start at the first reading; a bin holds the readings starting inside it.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset (e.g. from :func:`simulate_metabolic_cages`).
    path : str or os.PathLike
        Output file (written atomically).
    bin_min : float, default 30.0
        Bin width (min).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    stamps = pd.DatetimeIndex(ds["datetime"].values[0])
    width = pd.Timedelta(minutes=bin_min)
    bins = ((stamps - stamps[0]) // width).to_numpy()
    rows = []
    for k in np.unique(bins):
        inside = bins == k
        start = stamps[0] + k * width
        for i in range(ds.sizes["subject"]):
            one = ds.isel(subject=i)
            vo2 = float(np.mean(one["vo2"].values[inside])) / 60.0
            vco2 = float(np.mean(one["vco2"].values[inside])) / 60.0
            xytot = one["xytot"].values[inside]
            rows.append({"StartDate": f"{start.month}/{start.day}/{start.year}",
                         "StartTime": start.strftime("%H:%M:%S"),
                         "EndDate": f"{(start + width).month}/{(start + width).day}/"
                                    f"{(start + width).year}",
                         "EndTime": (start + width).strftime("%H:%M:%S"),
                         "Animal": str(i + 1), "Avg_VO2": f"{vo2:.4f}", "Avg_VCO2": f"{vco2:.4f}",
                         "Avg_RQ": f"{vco2 / vo2:.4f}",
                         "Avg_EE": f"{energy_expenditure(vo2 * 60.0, vco2 * 60.0):.5f}",
                         "Sum_FoodA": f"{np.sum(one['feed'].values[inside]):.3f}",
                         "Sum_XBreak": f"{np.sum(np.floor(xytot / 2)):.0f}",
                         "Sum_YBreak": f"{np.sum(np.ceil(xytot / 2)):.0f}",
                         "Avg_BodyMass": f"{float(one['body_mass']):.2f}"})
    return write_csv(pd.DataFrame(rows), path, lineterminator="\r\n")


_CLAMS_HEADER = ("Oxymax CSV File \r\n\r\n\r\nExperiment Started,{start}\r\n"
                 "Data Filename,simulated.CDTA\r\n\r\nGroup/Cage,{cage}\r\nSubject ID,{subject}\r\n"
                 "Subject Mass (G), {mass} \r\n\r\nCage Settle Time (s), 85 \r\n"
                 "Cage Measure Time (s), 5 \r\nHeat Calculation Method,STD_0\r\n\r\n:DATA\r\n")


def write_clams_csv(ds: xr.Dataset, path, *, subject: int = 0) -> Path:
    """One subject as an Oxymax/CLAMS per-cage CSV (VO2/VCO2 in ml/kg/hr, US 12-h clock).

    When ``ds`` has ``speed``/``incline``/``shock`` the file gets ``SPEED``, ``INCLINE`` and
    ``SHOCK TIME`` columns: the Oxymax-style treadmill variant. Oxymax's header block and
    ``====`` rules are written line by line (not through :func:`sfone._atomic.write_csv`); the
    subject and cage texts get its formula neutralising.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset (e.g. from :func:`simulate_metabolic_cages`).
    path : str or os.PathLike
        Output file (written atomically).
    subject : int, default 0
        Position of the subject along ``subject``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    one = ds.isel(subject=subject)
    keep = np.isfinite(one["vo2"].values)
    mass = float(one["body_mass"])
    stamps = pd.DatetimeIndex(one["datetime"].values[keep])
    per_kg = 1000.0 / mass
    cage = neutralize_formula(str(one["cage"].values).zfill(4))
    table = {"INTERVAL": np.arange(1, keep.sum() + 1), "CHAN": [cage] * int(keep.sum()),
             "DATE/TIME": [s.strftime("%-m/%-d/%Y %-I:%M:%S %p ") for s in stamps],
             "VO2": _fmt(one["vo2"].values[keep] * per_kg, 0),
             "VCO2": _fmt(one["vco2"].values[keep] * per_kg, 0),
             "RER": _fmt(one["rer"].values[keep], 3), "HEAT": _fmt(one["ee"].values[keep], 1)}
    units = ["#", "", "", "ml/kg/hr", "ml/kg/hr", "", "kcal/hr"]
    for name, column, unit, decimals in (("feed", "FEED1", "GRAMS", 2),
                                         ("feed_acc", "FEED1 ACC", "GRAMS", 2),
                                         ("xytot", "XTOT", "COUNTS", 0),
                                         ("speed", "SPEED", "m/min", 1),
                                         ("incline", "INCLINE", "deg", 1),
                                         ("shock", "SHOCK TIME", "s", 1)):
        if name in one:
            table[column] = _fmt(one[name].values[keep], decimals)
            units.append(unit)
    frame = pd.DataFrame(table)
    rule = ",".join(["==============="] * len(frame.columns)) + ",\r\n"
    lines = [_CLAMS_HEADER.format(start=stamps[0].strftime("%-m/%-d/%Y %-I:%M:%S %p"),
                                  cage=cage, subject=neutralize_formula(str(one["subject"].values)),
                                  mass=f"{mass:g}"),
             rule, ",".join(frame.columns) + ",\r\n", ",".join(units) + ",\r\n", rule]
    lines += [",".join(map(str, row)) + ",\r\n" for row in frame.itertuples(index=False)]
    lines.append("\r\n:EVENTS\r\n")
    with atomic_path(path) as tmp:
        tmp.write_bytes("".join(lines).encode("ascii"))
    return Path(path)


def write_treadmill_csv(ds: xr.Dataset, path, *, subject: int = 0) -> Path:
    """One subject as the sfone generic treadmill CSV (metadata ``#`` lines, units in brackets).

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset (from :func:`simulate_stress_test`).
    path : str or os.PathLike
        Output file (written atomically).
    subject : int, default 0
        Position of the subject along ``subject``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    one = ds.isel(subject=subject)
    keep = np.isfinite(one["vo2"].values)
    mass = float(one["body_mass"])
    frame = pd.DataFrame({
        "time [s]": _fmt(ds["time"].values[keep], 1),
        "speed [m/min]": _fmt(one["speed"].values[keep], 1),
        "incline [deg]": _fmt(one["incline"].values[keep], 1),
        "VO2 [ml/kg/h]": _fmt(one["vo2"].values[keep] * 1000 / mass, 1),
        "VCO2 [ml/kg/h]": _fmt(one["vco2"].values[keep] * 1000 / mass, 1),
        "shock [s]": _fmt(one["shock"].values[keep], 1)})
    head = (f"# sfone treadmill calorimetry\n# subject: {one['subject'].values}\n"
            f"# group: {one['group'].values}\n# body_mass_g: {mass:g}\n"
            f"# start: {pd.Timestamp(one['datetime'].values[0]):%Y-%m-%d %H:%M:%S}\n")
    return write_csv(frame, path, preamble=head)


def write_samples(out_dir: Path) -> list[Path]:
    """Sample calorimetry files of simulated mice.

    Sable Promethion CalR-macro and One-Click-Macro exports and a CLAMS cage file of simulated
    home cages, and one treadmill stress-test file per group (generic CSV; Oxymax-style for WT).

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder written into (must exist).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from ..protocols import load_protocol

    out_dir = Path(out_dir)
    cages = simulate_metabolic_cages(random_state=7)
    written = [write_promethion_macro(cages, out_dir / "calorimetry_promethion_macro.csv"),
               write_promethion_oneclick(cages, out_dir / "calorimetry_promethion_oneclick.csv"),
               write_clams_csv(cages, out_dir / "calorimetry_clams_cage0101.csv")]
    protocol = load_protocol("stress_test")
    tests = simulate_stress_test(protocol, n_per_group=1, random_state=11)
    for i, group in enumerate(tests["group"].values):
        written.append(write_treadmill_csv(tests, out_dir / f"stress_test_{group}.csv", subject=i))
    written.append(write_clams_csv(tests, out_dir / "stress_test_WT_oxymax.csv", subject=0))
    return written

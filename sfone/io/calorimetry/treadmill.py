"""Treadmill calorimetry (stress tests): a generic CSV with a column mapping.

Default layout (what :func:`sfone.simulate.calorimetry.write_treadmill_csv` writes)::

    # sfone treadmill calorimetry
    # subject: WT1
    # group: WT
    # body_mass_g: 27.2
    # start: 2026-03-02 07:00:00
    time [s],speed [m/min],incline [deg],VO2 [ml/kg/h],VCO2 [ml/kg/h],shock [s]

Columns are found by name (case-insensitive, units in brackets) or given with ``columns=``
(standard name -> file column). VO2/VCO2 units ml/kg/h, ml/kg/min, ml/h or ml/min are converted
to absolute mL/h with the body mass. Files without speed/incline get them from a stress-test
protocol (``protocol=``). The Oxymax-style treadmill variant (an Oxymax CSV with ``SPEED``,
``INCLINE`` and ``SHOCK TIME`` columns) is read by the ``clams`` format.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..._docs import fill_doc
from ...exceptions import FormatError
from ._common import long_to_dataset, read_table, read_text, to_number

__all__ = ["read_treadmill"]

_ALIASES = {"time": ("time", "elapsed", "t"), "speed": ("speed", "belt speed"),
            "incline": ("incline", "grade", "slope"), "vo2": ("vo2",), "vco2": ("vco2",),
            "shock": ("shock", "shock time", "grid"), "stage": ("stage",)}
#: unit text -> (factor to mL/h, per kg)
_GAS_UNITS = {"ml/kg/h": (1.0, True), "ml/kg/hr": (1.0, True), "ml/kg/min": (60.0, True),
              "ml/h": (1.0, False), "ml/hr": (1.0, False), "ml/min": (60.0, False)}


def _split_name(column: str) -> tuple[str, str]:
    match = re.match(r"^\s*(.*?)\s*(?:\[(.*)\])?\s*$", column)
    return match.group(1).lower(), (match.group(2) or "").strip().lower()


def _metadata(lines: list[str]) -> dict[str, str]:
    meta = {}
    for line in lines:
        if line.startswith("#") and ":" in line:
            key, value = line[1:].split(":", 1)
            meta[key.strip().lower()] = value.strip()
    return meta


def _locate(columns, mapping: dict | None, path) -> dict[str, str]:
    found = dict(mapping or {})
    names = {c: _split_name(c)[0] for c in columns}
    for standard, aliases in _ALIASES.items():
        if standard not in found:
            match = next((c for c, n in names.items() if n in aliases), None)
            if match is not None:
                found[standard] = match
    missing = [k for k in ("time", "vo2", "vco2") if k not in found]
    absent = [c for c in found.values() if c not in columns]
    if missing or absent:
        raise FormatError(f"treadmill CSV: no column for {', '.join(missing + absent)}; found "
                          f"{', '.join(columns)}; pass columns={{'vo2': '<name>', ...}}", path=path)
    return found


def _body_mass(meta: dict[str, str], path) -> float:
    text = meta.get("body_mass_g")
    if text is None:
        return float("nan")
    try:
        mass = float(text)
    except ValueError:
        mass = float("nan")
    if not np.isfinite(mass) or mass <= 0:
        raise FormatError(f"'# body_mass_g:' line: found {text!r}, expected a positive mass in g "
                          "with a decimal point", path=path)
    return mass


def _check_time(seconds: pd.Series, text: pd.Series, line_numbers: list[int], column: str,
                path) -> None:
    """Time must be finite numbers that increase strictly; else an error naming the lines."""
    values = seconds.to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        shown = ", ".join(f"line {line_numbers[i]}: {text.iloc[i]!r}" for i in bad[:5])
        raise FormatError(f"column {column!r}: {bad.size} time value(s) are not finite numbers "
                          f"({shown}{', ...' if bad.size > 5 else ''}); expected seconds",
                          path=path)
    back = np.flatnonzero(np.diff(values) <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise FormatError(f"column {column!r}: line {line_numbers[i]}: time {values[i]:g} s does "
                          f"not increase after {values[i - 1]:g} s (line {line_numbers[i - 1]}); "
                          f"{back.size} such step(s)", path=path)


@fill_doc
def read_treadmill(path, *, columns: dict[str, str] | None = None, subject: str | None = None,
                   group: str | None = None, body_mass: float | None = None,
                   gas_units: str | None = None, protocol=None) -> xr.Dataset:
    """Read one treadmill test (one subject) into a calorimetry Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        Treadmill CSV (``#`` metadata lines, then a header row; see the module docstring).
    columns : dict, optional
        Standard name (``time``, ``vo2``, ``vco2``, ``speed``, ``incline``, ``shock``,
        ``stage``) -> column name in the file.
    subject, group : str, optional
        Override (or supply) the ``#`` metadata lines.
    body_mass : float, optional
        Body mass (g); overrides the ``# body_mass_g:`` line.
    gas_units : str, optional
        Unit of VO2/VCO2 when the header does not say (``ml/kg/h``, ``ml/kg/min``, ``ml/h``,
        ``ml/min``).
    protocol : StressTestProtocol or path, optional
        Fills speed, incline and stage from the stage table when the file lacks them.

    Returns
    -------
    %(calorimetry_dataset)s
        One subject; ``speed`` (m/min), ``incline`` (deg), ``shock`` (s) and ``stage`` when the
        file (or ``protocol``) has them.
    """
    path = Path(path)
    lines = read_text(path).split("\n")
    meta = _metadata(lines)
    body = [(i + 1, line) for i, line in enumerate(lines) if not line.startswith("#")]
    table = read_table([line for _, line in body], line_numbers=[n for n, _ in body], path=path,
                       what="treadmill CSV", skipinitialspace=True)
    where = _locate(list(table.columns), columns, path)
    mass = body_mass if body_mass is not None else _body_mass(meta, path)
    values = {k: to_number(table[c], path=None if k == "time" else path)  # time: _check_time
              for k, c in where.items()}
    _check_time(values["time"], table[where["time"]], table.attrs["line_numbers"],
                where["time"], path)
    long = pd.DataFrame({k: v for k, v in values.items() if k not in ("time",)})
    source_units = {}
    for name in ("vo2", "vco2"):
        unit = gas_units or _split_name(where[name])[1]
        if unit not in _GAS_UNITS:
            raise FormatError(f"column {where[name]!r}: unit {unit!r} not understood; expected "
                              f"one of {', '.join(_GAS_UNITS)} (pass gas_units=)", path=path)
        factor, per_kg = _GAS_UNITS[unit]
        if per_kg and not np.isfinite(mass):
            raise FormatError(f"{name} is per kg but no body mass is given ('# body_mass_g:' "
                              "line or body_mass=)", path=path)
        long[name] = long[name] * factor * (mass / 1000.0 if per_kg else 1.0)
        source_units[name] = unit
    elapsed = values["time"].to_numpy(dtype=float)
    try:
        start = pd.Timestamp(meta.get("start", "2000-01-01 00:00:00"))
    except ValueError:
        raise FormatError(f"'# start:' line: found {meta['start']!r}, expected a date and time "
                          "(YYYY-MM-DD HH:MM:SS)", path=path) from None
    long["datetime"] = start + pd.to_timedelta(elapsed, unit="s")
    if protocol is not None:
        from ...protocols import load_protocol, protocol_schedule

        protocol = load_protocol(protocol) if isinstance(protocol, str | Path) else protocol
        schedule = protocol_schedule(protocol, elapsed - elapsed[0])
        for name in ("speed", "incline", "stage"):
            if name not in long:
                long[name] = schedule[name].astype(float)
    name = subject or meta.get("subject") or path.stem
    long.insert(0, "subject", name)
    info = pd.DataFrame({"body_mass": [mass], "group": [group or meta.get("group", "")],
                         "cage": [""]}, index=pd.Index([name], name="subject"))
    return long_to_dataset(long, info, path=path, source_format="treadmill",
                           source_units=source_units,
                           attrs={"clock": "start from the '# start:' line" if "start" in meta
                                  else "no start time in the file: 2000-01-01 placeholder"})


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("latin-1").lower()
    if head.startswith("# sfone treadmill"):
        return True
    header = next((line for line in head.splitlines() if line and not line.startswith("#")), "")
    names = [_split_name(c)[0] for c in header.split(",")]
    return "vo2" in names and "vco2" in names and any(n in names for n in ("speed", "belt speed"))

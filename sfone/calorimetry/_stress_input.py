"""What a recording must be before stress-test endpoints are computed from it.

A graded exercise test needs a belt speed at every reading, from the file's ``speed`` column or,
for a treadmill recording without one, from the protocol's stage table; and it must look like one
test: minutes to a few hours long, sampled often enough to see the stages, at speeds a mouse can
run. A 10-day home-cage file run through the protocol's ramp would otherwise give a maximum speed
of thousands of m/min and hundreds of hours to exhaustion. Each rule refuses with a
:class:`~sfone.exceptions.FormatError` naming the file and what is missing.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..exceptions import FormatError
from ..protocols import protocol_schedule

__all__ = ["check_stress_recording", "MAX_BELT_SPEED_M_MIN", "MAX_TEST_DURATION_H",
           "TREADMILL_FORMATS"]

#: formats whose readings are taken on a treadmill, so the protocol's schedule may stand in for
#: a missing speed column (home-cage systems - CLAMS, TSE, Promethion, CalR - are not)
TREADMILL_FORMATS = {"treadmill"}
#: fastest belt speed accepted (m/min). Mice reach 25-50 m/min at exhaustion in graded tests
#: (Petrosino et al. 2016; Ayachi et al. 2016: docs/calorimetry.md); 100 m/min (6 km/h) is the top
#: of a rodent treadmill's range (inference) and twice any published mouse maximum.
MAX_BELT_SPEED_M_MIN = 100.0
#: longest recording accepted as one test (h). Graded tests end within ~30-60 min and constant-speed
#: endurance runs to exhaustion within ~3 h in mice (inference from the protocols cited in
#: docs/calorimetry.md); 6 h leaves a margin for a long warm-up and cool-down.
MAX_TEST_DURATION_H = 6.0


def _files(ds: xr.Dataset) -> str:
    source = str(ds.attrs.get("source_file", "")) or "<in-memory dataset>"
    return ", ".join(dict.fromkeys(source.split(";")))


def _formats(ds: xr.Dataset) -> set[str]:
    return {f for f in str(ds.attrs.get("source_format", "")).split(",") if f}


def _speed(ds: xr.Dataset, protocol, files: str) -> tuple[np.ndarray, str]:
    """Belt speed (subject, time) in m/min and where it comes from."""
    if "speed" in ds and np.isfinite(np.asarray(ds["speed"].values, dtype=float)).any():
        return np.asarray(ds["speed"].values, dtype=float), "the file's speed column"
    formats = _formats(ds)
    if not formats or not formats <= TREADMILL_FORMATS:
        kind = ", ".join(sorted(formats)) or "unknown-format"
        raise FormatError(f"{files}: not a stress-test recording: no belt speed (the {kind} "
                          "data have no speed column and are not a treadmill recording, so the "
                          "protocol's stages cannot stand in for it); a stress test needs a "
                          "treadmill file with speed, incline and shock-grid columns")
    schedule = protocol_schedule(protocol, ds["time"].values)["speed"]
    return np.broadcast_to(schedule, ds["vo2"].shape), "the protocol's stage table"


def check_stress_recording(ds: xr.Dataset, protocol) -> None:
    """Refuse a Dataset that cannot be a treadmill stress test under ``protocol``.

    Parameters
    ----------
    ds : xarray.Dataset
        Calorimetry Dataset over ``(subject, time)``.
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol (stages, ramp).

    Raises
    ------
    FormatError
        Naming the file(s), if there is no belt speed (no ``speed`` column and not a treadmill
        recording), if the recording is longer than :data:`MAX_TEST_DURATION_H`, if readings
        are further apart than the protocol's longest stage, or if the belt speed exceeds
        :data:`MAX_BELT_SPEED_M_MIN` (e.g. a ramp extended over days).
    """
    files = _files(ds)
    time = np.asarray(ds["time"].values, dtype=float)
    speed, source = _speed(ds, protocol, files)
    duration_h = (time[-1] - time[0]) / 3600.0 if time.size else 0.0
    if duration_h > MAX_TEST_DURATION_H:
        raise FormatError(f"{files}: not a stress-test recording: it lasts {duration_h:.4g} h "
                          f"({time.size} readings); one treadmill test to exhaustion lasts at "
                          f"most {MAX_TEST_DURATION_H:g} h (a home-cage recording?)")
    step = float(np.median(np.diff(time))) if time.size > 1 else 0.0
    stages = [s.duration_s for s in protocol.stages] + (
        [protocol.ramp.step_s] if protocol.ramp is not None else [])
    if step > max(stages):
        raise FormatError(f"{files}: readings every {step:g} s (median) cannot resolve the "
                          f"protocol's stages of {min(stages):g}-{max(stages):g} s; a stress test "
                          "needs several readings per stage")
    fastest = float(np.nanmax(speed)) if np.isfinite(speed).any() else np.nan
    if fastest > MAX_BELT_SPEED_M_MIN:
        raise FormatError(f"{files}: belt speed reaches {fastest:.6g} m/min (from {source}); no "
                          f"mouse runs faster than {MAX_BELT_SPEED_M_MIN:g} m/min: the recording "
                          "does not follow the protocol (too long for its ramp?) or the speed is "
                          "not in m/min")

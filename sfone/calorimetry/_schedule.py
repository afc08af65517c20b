"""The treadmill schedule of a stress-test protocol (speed, incline, stage at each time).

A contract-level module (see docs/architecture.md): the treadmill reader fills missing speed and
incline columns with it, so it imports nothing above :mod:`sfone.protocols`' level.
"""

from __future__ import annotations

import numpy as np

__all__ = ["protocol_schedule"]


def protocol_schedule(protocol, elapsed_s) -> dict[str, np.ndarray]:
    """Speed (m/min), incline (deg) and stage index at each elapsed time (s) of a protocol.

    Stages run back to back; after them the ramp adds ``increment_m_min`` every ``step_s``
    (stage indices continue), capped at ``max_speed_m_min``. Without a ramp the last stage holds.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol (stages, ramp, exhaustion rule).
    elapsed_s : array_like of float
        Time since the test start (s).

    Returns
    -------
    dict of str to numpy.ndarray
        ``speed`` (m/min), ``incline`` (deg) and ``stage`` (int), shaped like ``elapsed_s``.
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

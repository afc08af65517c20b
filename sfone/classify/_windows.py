"""Window bookkeeping: per-run sample ranges of the baseline, run and post-run windows, and
NaN-aware window means via cumulative sums (vectorised over ROIs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._logging import warn
from ..exceptions import QualityWarning, SchemaError


@dataclass(frozen=True)
class Windows:
    """Half-open sample ranges ``[lo, hi)`` per run (arrays of length n_runs)."""

    lo: np.ndarray
    hi: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return self.hi - self.lo


def window_ranges(time, starts, ends, window, *, anchor: str, name: str) -> Windows:
    """Sample ranges of ``window`` (s) relative to each run's ``anchor`` (start or end), clipped
    so a window never reaches into a neighbouring run (a baseline starts after the previous
    run's end; a post-run window stops at the next run's start) nor beyond the recording."""
    ref = starts if anchor == "start" else ends
    a = ref + window[0]
    b = ref + window[1]
    prev_end = np.concatenate([[-np.inf], ends[:-1]])
    next_start = np.concatenate([starts[1:], [np.inf]])
    if name == "baseline":
        a = np.maximum(a, prev_end)
    elif name == "post-run":
        b = np.minimum(b, next_start)
    else:  # run window: inside its own run
        b = np.minimum(b, ends)
    lo = np.searchsorted(time, a, side="left")
    hi = np.searchsorted(time, b, side="left")
    span = np.clip(np.minimum(b, time[-1]) - np.maximum(a, time[0]), 0, None)
    nominal = window[1] - window[0]
    if np.any(hi - lo < 2):
        bad = int(np.flatnonzero(hi - lo < 2)[0])
        raise SchemaError(f"the {name} window {tuple(window)} s of run {bad} "
                          f"({starts[bad]:.1f}-{ends[bad]:.1f} s) holds fewer than 2 frames "
                          f"(recording {time[0]:.1f}-{time[-1]:.1f} s)")
    short = (span < 0.5 * nominal) & (name != "run")  # runs shorter than run_s are normal
    if short.any():
        warn(f"the {name} window {tuple(window)} s is shorter than half its length for run(s) "
             f"{np.flatnonzero(short).tolist()} (clipped by the recording or a neighbouring run: "
             f"{np.round(span[short], 1).tolist()} s)", QualityWarning)
    return Windows(lo, hi)


class WindowMeans:
    """NaN-aware means and SDs of contiguous windows of many traces at once."""

    def __init__(self, x: np.ndarray):
        finite = np.isfinite(x)
        values = np.where(finite, x, 0.0)
        zeros = np.zeros((x.shape[0], 1))
        self.csum = np.concatenate([zeros, np.cumsum(values, axis=1)], axis=1)
        self.csq = np.concatenate([zeros, np.cumsum(values**2, axis=1)], axis=1)
        self.count = np.concatenate([zeros, np.cumsum(finite, axis=1)], axis=1)

    def mean(self, w: Windows) -> np.ndarray:
        """(roi, run) window means."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.csum[:, w.hi] - self.csum[:, w.lo]) / (self.count[:, w.hi]
                                                                 - self.count[:, w.lo])

    def sd(self, w: Windows) -> np.ndarray:
        """(roi, run) window standard deviations (population)."""
        n = self.count[:, w.hi] - self.count[:, w.lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (self.csum[:, w.hi] - self.csum[:, w.lo]) / n
            var = (self.csq[:, w.hi] - self.csq[:, w.lo]) / n - m**2
        return np.sqrt(np.clip(var, 0, None))

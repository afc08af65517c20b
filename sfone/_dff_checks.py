"""Checks of a dF/F computation's inputs and result (used by :func:`sfone.photometry.compute_dff`).

* :func:`check_inputs`: a channel holding impossible samples (inf, 1e308) is refused; the readers
  already set such samples to NaN with a warning (:mod:`sfone.io.photometry._plausibility`), so
  this only stops in-memory data.
* :func:`check_orientation`: swapped signal and control channels give a sign-flipped dF/F
  without any error. Three signs are reported as a :class:`~sfone.exceptions.QualityWarning`
  naming both channels: a control fit slope <= 0 (the control does not track the signal); the
  names (the signal named like an isosbestic/control channel - 405/410/415 nm, ``iso``,
  ``control`` - and the control like a sensor channel - 465-590 nm, ``signal``, ``gcamp``...);
  and a dF/F whose large excursions go mostly downward (the isosbestic channel is the one that
  does not respond: used as the signal, the real transients appear inverted).
"""

from __future__ import annotations

import re

import numpy as np

from ._logging import warn
from .exceptions import QualityWarning
from .io.photometry._plausibility import impossible_samples

__all__ = ["check_inputs", "check_orientation", "EXCURSION_SD", "DOWNWARD_RATIO",
           "DOWNWARD_MIN_FRACTION"]

#: an excursion is a sample more than this many noise SDs from the dF/F median (the noise SD from
#: the median absolute first difference, so slow transients do not inflate it)
EXCURSION_SD = 5.0
#: warn when downward excursions outnumber upward ones by this factor ...
DOWNWARD_RATIO = 1.5
#: ... and are at least this fraction of the samples
DOWNWARD_MIN_FRACTION = 0.02

_ISOSBESTIC = re.compile(r"(?<![0-9])(40[0-9]|41[0-9]|420)(?![0-9])|iso|control|ctrl|\buv\b|ref",
                         re.IGNORECASE)
_SENSOR = re.compile(r"(?<![0-9])(4[6-9][0-9]|5[0-9][0-9])(?![0-9])|signal|gcamp|dlight|grab|"
                     r"rcamp|jrgeco|\bsig\b", re.IGNORECASE)


def check_inputs(channels: dict) -> None:
    """Refuse channels with impossible samples (``{name: DataArray}``).

    Raises
    ------
    ValueError
        Naming the channel, the count and the first value.
    """
    for name, da in channels.items():
        if da is None:
            continue
        values = np.asarray(da.values, dtype=float)
        bad = impossible_samples(values, str(da.attrs.get("units", "a.u.")))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"channel {name!r} holds {int(bad.sum())} impossible sample(s) "
                             f"(first {values[i]:g} at index {i}): set them to NaN first (the "
                             "readers do, with a warning)")


def _excursions(dff: np.ndarray) -> tuple[float, float]:
    """Fractions of samples above and below the median by more than EXCURSION_SD noise SDs."""
    x = dff[np.isfinite(dff)]
    if x.size < 20:
        return 0.0, 0.0
    step = np.diff(x)
    noise = 1.4826 * np.median(np.abs(step - np.median(step))) / np.sqrt(2)
    if not noise > 0:
        return 0.0, 0.0
    median = np.median(x)
    return (float(np.mean(x > median + EXCURSION_SD * noise)),
            float(np.mean(x < median - EXCURSION_SD * noise)))


def check_orientation(dff: np.ndarray, *, signal: str, control: str | None,
                      slope: float | None, source: str | None = None) -> None:
    """Warn when the dF/F looks computed with swapped channels (see the module docstring).

    Parameters
    ----------
    dff : numpy.ndarray
        The dF/F trace.
    signal, control : str
        Channel names (``control`` None: only the slope is not checked).
    slope : float or None
        The fitted control slope (None when no control was fitted).
    source : str, optional
        The recording's file, named first in the messages.
    """
    where = (f"{source}: " if source else "") + "dF/F (signal " + repr(signal) + (
        f", control {control!r})" if control else ")")
    if slope is not None and slope <= 0:
        warn(f"{where}: control-to-signal fit has a non-positive slope ({slope:.4g}): "
             "the control does not track the signal (swapped or unrelated channels?); consider "
             "method='signal-only'", QualityWarning)
    if control is None:
        return
    if _ISOSBESTIC.search(signal) and _SENSOR.search(control) \
            and not _ISOSBESTIC.search(control):
        warn(f"{where}: the signal is named like an isosbestic/control channel and the "
             "control like a sensor channel: are signal and control swapped? The dF/F would be "
             "sign-flipped", QualityWarning)
        return
    up, down = _excursions(np.asarray(dff, dtype=float))
    if down >= DOWNWARD_MIN_FRACTION and down >= DOWNWARD_RATIO * up:
        warn(f"{where} moves mostly downward: {100 * down:.1f} % of the samples are more "
             f"than {EXCURSION_SD:g} noise SD below its median and {100 * up:.1f} % above. "
             "Swapped signal and control give a sign-flipped dF/F (the isosbestic control is the "
             "channel that does not respond): check the channels, unless the sensor's response "
             "is a decrease", QualityWarning)

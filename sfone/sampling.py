"""What a sampling rate may be: one check for every reader, and the plausible range per modality.

A rate (Hz) read from a header, settings file or argument must be a real number (not a boolean,
text or an array of several values), finite, positive and inside the plausible range of its
modality (:data:`RATE_LIMITS_HZ`). Readers call :func:`check_rate` on every declared rate, naming
the field; :func:`sfone.schema.finalize_dataset`, which every reader ends with, calls
:func:`check_dataset_rates` on the result (the imaging ``fs`` attr, each photometry clock's median
interval), so a reader that forgets, or derives its rate from timestamps, is checked too.
Out-of-range rates are refused: a frame rate of 1e308 or 1e-300 Hz, or a 0.02 Hz "photometry"
file, gives numbers that are wrong without looking wrong.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .exceptions import FormatError

__all__ = ["RATE_LIMITS_HZ", "EVENT_KINDS", "check_rate", "check_dataset_rates"]

#: modality -> (lowest, highest) plausible sampling rate in Hz, and why
RATE_LIMITS_HZ: dict[str, tuple[float, float, str]] = {
    # a 10 s frame interval cannot resolve a calcium transient (GCaMP6 decays in ~0.5-1 s);
    # volumetric two-photon imaging runs at ~1-10 volumes/s, resonant planes at ~30 Hz, 1-photon
    # miniscopes at 5-30 Hz, voltage imaging at ~0.5-2 kHz
    "imaging": (0.1, 10_000.0, "calcium imaging at 0.1 Hz to voltage imaging at a few kHz"),
    # demodulated photometry is stored at ~10 Hz (camera systems) to ~1 kHz (TDT, Doric lock-in);
    # raw lock-in inputs at up to tens of kHz. Below 1 Hz no sensor transient is resolved
    "photometry": (1.0, 1_000_000.0, "camera systems at ~10 Hz to raw lock-in inputs at tens "
                   "of kHz; below 1 Hz no sensor transient is resolved"),
}


#: photometry channel kinds sampled at event times, not at a rate: digital lines (one sample per
#: state change) and TDT epocs (onsets)
EVENT_KINDS = {"digital", "epoc"}


def _number(value) -> float | None:
    """``value`` as a float when it is one real number (not a bool, text or several values)."""
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            return None
        value = value.reshape(()).item()
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


def check_rate(fs, *, what: str, path, modality: str | None = None) -> float:
    """``fs`` as a float in Hz, or a :class:`~sfone.exceptions.FormatError` naming the field.

    Parameters
    ----------
    fs : object
        The declared rate (Hz) as read: a real number, a numpy scalar or a one-value array.
    what : str
        The field it came from (e.g. ``"params/data/fr"``), named in the message.
    path : str or os.PathLike
        The file or folder read.
    modality : {"imaging", "photometry"}, optional
        Also require the range of :data:`RATE_LIMITS_HZ` for this modality.

    Returns
    -------
    float
        The rate in Hz.

    Raises
    ------
    FormatError
        If ``fs`` is a boolean, text, several values, not finite or not positive, or outside the
        modality's plausible range.
    """
    value = _number(fs)
    if value is None or not np.isfinite(value) or value <= 0:
        kind = " (a boolean is not a rate)" if isinstance(fs, bool | np.bool_) else ""
        raise FormatError(f"{what}: sampling rate {fs!r}{kind}; expected a positive number of Hz",
                          path=path)
    if modality in RATE_LIMITS_HZ:
        low, high, reason = RATE_LIMITS_HZ[modality]
        if not low <= value <= high:
            raise FormatError(f"{what}: sampling rate {value:.6g} Hz is outside the plausible "
                              f"range of {modality} data, {low:g} to {high:g} Hz ({reason}); "
                              f"damaged, in another unit, or not {modality} data", path=path)
    return value


def _clock_rates(ds: xr.Dataset):
    """(time dimension, rate from its median interval) for clocks of light channels (not the
    clocks of digital lines or timestamp copies, which tick at event times)."""
    for dim in ds.dims:
        if not (dim == "time" or str(dim).startswith("time_")) or dim not in ds.coords:
            continue
        channels = [v for v in ds.data_vars.values() if v.dims == (dim,)
                    and v.attrs.get("kind") not in EVENT_KINDS and v.attrs.get("units") != "s"]
        time = np.asarray(ds[dim].values, dtype=float)
        if not channels or time.size < 3:
            continue
        step = float(np.median(np.diff(time)))
        if step > 0:
            yield str(dim), step


def check_dataset_rates(ds: xr.Dataset, *, path) -> None:
    """Refuse a Dataset whose sampling rates are implausible for its modality.

    Imaging: the ``fs`` attr. Photometry: the median interval of every clock that carries a
    light channel (digital lines and timestamp copies are event times, not samples).

    Parameters
    ----------
    ds : xarray.Dataset
        A reader's Dataset with its ``modality`` attr.
    path : str or os.PathLike
        The file read (named in the message).

    Raises
    ------
    FormatError
        See :func:`check_rate`.
    """
    modality = ds.attrs.get("modality")
    if modality == "imaging" and "fs" in ds.attrs:
        check_rate(ds.attrs["fs"], what="frame rate 'fs'", path=path, modality="imaging")
    elif modality == "photometry":
        for dim, step in _clock_rates(ds):
            check_rate(1.0 / step, what=f"clock {dim!r} (samples every {step:.6g} s, median)",
                       path=path, modality="photometry")

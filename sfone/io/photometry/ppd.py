"""pyPhotometry ``.ppd``: a 2-byte little-endian header length, a header, then uint16 words.

Each word holds an analog sample in bits 15..1 and a digital line in bit 0; words interleave the
analog inputs. Every header generation is read: the pre-JSON 42-byte header, JSON headers whose
``version`` is a number (0.1, 0.2: the vendor importer crashes on these) or a string, and v1.1+
pulsed files that store LED-on and LED-off (baseline) words in pairs.

In pulsed (time-division) modes input *i* is sampled ``i / (fs * n_inputs)`` s after input 0, so
each input gets its own clock ``time_analog_<i>``; the digital line in bit 0 of input *i*'s words
shares that clock. Continuous modes share one clock ``time``. Values are in volts.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..._docs import fill_doc
from ..._logging import warn
from ...exceptions import FormatError, QualityWarning
from .._checks import check_positive_rate, quality_issue
from .._reading import format_reader
from ._common import Channel, build_dataset, read_head

__all__ = ["read_ppd", "PPD_MODES"]

LEGACY_HEADER_BYTES = 42
LEGACY_VOLTS_SCALE = 1e9
PAIRED_SINCE = (1, 1)
MAX_RATE_HZ = {False: 1000.0, True: 260.0}  # pyPhotometry's limits: continuous, pulsed
DURATION_TOLERANCE_S = 2.0


@dataclass(frozen=True)
class _Mode:
    n_inputs: int
    pulsed: bool


#: Acquisition modes of every header generation -> (analog inputs interleaved, pulsed).
PPD_MODES = {
    "2EX_2EM_continuous": _Mode(2, False),
    "2EX_1EM_pulsed": _Mode(2, True),
    "2EX_2EM_pulsed": _Mode(2, True),
    "3EX_2EM_pulsed": _Mode(3, True),
    "1 colour time div.": _Mode(2, True),
    "2 colour time div.": _Mode(2, True),
    "2 colour continuous": _Mode(2, False),
    "GCaMP/RFP": _Mode(2, False),
    "GCaMP/RFP_dif": _Mode(2, True),
}


def _version_tuple(version) -> tuple[int, ...]:
    """``0.2`` (float), ``"0.3"`` or ``"1.1.0"`` as comparable integers."""
    if version is None:
        return ()
    return tuple(int(p) for p in str(version).split(".") if p.isdigit() and len(p) < 10)


def _legacy_header(raw: bytes) -> dict:
    text = raw[:31].decode("latin-1").strip()
    subject, _, date_time = text.partition("  ")
    return {"subject_ID": subject.strip(), "date_time": date_time.strip(), "mode": None,
            "sampling_rate": int.from_bytes(raw[32:34], "little"),
            "volts_per_division": [int.from_bytes(raw[34:38], "little") / LEGACY_VOLTS_SCALE,
                                   int.from_bytes(raw[38:42], "little") / LEGACY_VOLTS_SCALE],
            "header_generation": "legacy-42-byte"}


def _split_header(raw: bytes, path) -> tuple[dict, bytes]:
    if len(raw) < 2:
        raise FormatError(f"file is {len(raw)} bytes long; a .ppd starts with a 2-byte header "
                          "length", path=path)
    n_header = int.from_bytes(raw[:2], "little")
    if len(raw) < 2 + n_header:
        raise FormatError(f"header declares {n_header} bytes but the file has only "
                          f"{len(raw) - 2} after the length field: the file is cut short", path=path)
    header_bytes = raw[2:2 + n_header]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except RecursionError:
        raise FormatError(f"header ({n_header} bytes) is JSON nested too deeply to parse; "
                          "refused", path=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if n_header != LEGACY_HEADER_BYTES:
            raise FormatError(f"header ({n_header} bytes) is neither JSON ({exc}) nor the "
                              f"{LEGACY_HEADER_BYTES}-byte legacy layout", path=path) from exc
        header = _legacy_header(header_bytes)
    if not isinstance(header, dict) or "sampling_rate" not in header:
        raise FormatError("header has no 'sampling_rate'; expected a pyPhotometry JSON header",
                          path=path)
    return _checked_header(header, path), raw[2 + n_header:]


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def _field_error(key: str, value, expected: str, path) -> FormatError:
    return FormatError(f"header field {key!r} is {value!r}; expected {expected}", path=path)


def _checked_header(header: dict, path) -> dict:
    """Validate the types of the header fields the reader uses (before anything is allocated)."""
    header["sampling_rate"] = check_positive_rate(header["sampling_rate"],
                                                  what="header field 'sampling_rate'", path=path,
                                                  modality="photometry")
    mode = header.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise _field_error("mode", mode, "a mode name (text)", path)
    for key in ("n_analog_signals", "n_digital_signals"):
        value = header.get(key)
        if value is not None and not (_is_number(value) and 0 <= value <= 16
                                      and int(value) == value):
            raise _field_error(key, value, "a whole number from 0 to 16", path)
    if header.get("volts_per_division") is None:  # without it, counts would be labelled volts
        raise _field_error("volts_per_division", header.get("volts_per_division"),
                           "the ADC scale in volts per division", path)
    for key, positive in (("volts_per_division", True), ("LED_current", False)):
        value = header.get(key)
        items = value if isinstance(value, list) else [value]
        if value is not None and not (items and all(_is_number(v) and (v > 0 or not positive)
                                                    for v in items)):
            raise _field_error(key, value, f"a {'positive ' if positive else ''}number or a "
                               "list of them", path)
    vpd = header.get("volts_per_division")
    n_inputs = PPD_MODES[mode].n_inputs if mode in PPD_MODES else 2
    if isinstance(vpd, list) and len(vpd) < n_inputs:
        raise _field_error("volts_per_division", vpd, f"one value per analog input ({n_inputs})",
                           path)
    for key in ("subject_ID", "date_time", "end_time"):
        if header.get(key) is not None and not isinstance(header[key], str):
            raise _field_error(key, header[key], "text", path)
    return header


def _mode_of(header: dict, path) -> _Mode:
    mode = header.get("mode")
    if mode is None:  # legacy header: mode code unpublished; two inputs, no stagger claimed
        return _Mode(2, False)
    if mode not in PPD_MODES:
        raise FormatError(f"unknown acquisition mode {mode!r}; known modes: "
                          f"{', '.join(PPD_MODES)}. Reading it with the default layout could "
                          "interleave colours into one trace, so it is refused", path=path)
    found = PPD_MODES[mode]
    declared = header.get("n_analog_signals")
    if declared is not None and int(declared) != found.n_inputs:
        raise FormatError(f"mode {mode!r} interleaves {found.n_inputs} analog inputs but the "
                          f"header says n_analog_signals={declared}", path=path)
    return found


def _volts_per_division(header: dict, index: int) -> float:
    vpd = header["volts_per_division"]
    return float(vpd) if isinstance(vpd, int | float) else float(vpd[index])


def _channels(header: dict, words: np.ndarray, mode: _Mode, paired: bool) -> list[Channel]:
    fs = float(header["sampling_rate"])
    stride = mode.n_inputs * (2 if paired else 1)
    n_samples = words.size // stride
    frames = words[:n_samples * stride].reshape(n_samples, stride)
    analog = (frames >> 1).astype(np.float64)
    n_digital = min(int(header.get("n_digital_signals", 2)), mode.n_inputs)
    channels = []
    for i in range(mode.n_inputs):
        column = i * (2 if paired else 1)
        start = i / (fs * mode.n_inputs) if mode.pulsed else 0.0
        time = start + np.arange(n_samples) / fs
        clock = f"analog_{i + 1}" if mode.pulsed else "shared"
        volts = analog[:, column] * _volts_per_division(header, i)
        attrs = {"fs": fs, "analog_input": i + 1}
        if paired:
            baseline = analog[:, column + 1] * _volts_per_division(header, i)
            channels.append(Channel(f"analog_{i + 1}_baseline", baseline, time, clock, "V", attrs))
            volts = volts - baseline
            attrs = {**attrs, "note": "LED-on minus LED-off baseline"}
        led = header.get("LED_current")
        led = led if isinstance(led, list) else [led] * mode.n_inputs
        if i < len(led) and led[i] is not None:
            attrs["LED_current_mA"] = float(led[i])
        channels.append(Channel(f"analog_{i + 1}", volts, time, clock, "V", attrs))
        if i < n_digital:
            bits = (frames[:, column] & 1).astype(np.int8)
            channels.append(Channel(f"digital_{i + 1}", bits, time, clock, "1",
                                    {"fs": fs, "kind": "digital", "digital_input": i + 1}))
    return channels


def _warn_zero_frames(words: np.ndarray, stride: int, path) -> None:
    """The acquisition GUI zero-pads chunks lost on the serial line: flag (keep) such frames."""
    zero = ~words.reshape(-1, stride).any(axis=1)
    if zero.any():
        first = int(np.argmax(zero))
        warn(f"{path}: {int(zero.sum())} sample frame(s) are all zero (first at sample {first}): "
             "serial-line gaps zero-padded by the acquisition software; kept as 0 V",
             QualityWarning)


def _check_rate(header: dict, mode: _Mode, n_samples: int, path) -> None:
    """Declared rate within the hardware's limits and consistent with date_time..end_time."""
    fs = header["sampling_rate"]
    limit = MAX_RATE_HZ[mode.pulsed]
    if fs > limit:
        quality_issue(f"header field 'sampling_rate' is {fs:g} Hz, above pyPhotometry's "
                      f"{limit:g} Hz limit in {'pulsed' if mode.pulsed else 'continuous'} mode",
                      path=path)
    try:
        start = _dt.datetime.fromisoformat(header["date_time"])
        end = _dt.datetime.fromisoformat(header["end_time"])
    except (KeyError, TypeError, ValueError):
        return  # no usable end_time (older files): nothing to compare with
    recorded, implied = (end - start).total_seconds(), n_samples / fs
    if abs(recorded - implied) > max(DURATION_TOLERANCE_S, 0.02 * recorded):
        quality_issue(f"{n_samples} samples at the declared {fs:g} Hz last {implied:.1f} s but "
                      f"the header's date_time..end_time span {recorded:.1f} s: the declared "
                      "sampling rate (or the file) is wrong", path=path)


@format_reader
@fill_doc
def read_ppd(path) -> xr.Dataset:
    """Read a pyPhotometry ``.ppd`` file into a photometry Dataset (volts; digital lines 0/1).

    Parameters
    ----------
    path : str or os.PathLike
        ``.ppd`` file (JSON header, then 16-bit little-endian samples).

    Returns
    -------
    %(photometry_dataset)s
        Attrs ``fs`` (Hz), ``mode``, ``ppd_version``, ``pulsed`` and ``paired_baseline``.

    Raises
    ------
    FormatError
        Header unreadable, unknown mode, or the file ends in the middle of a sample frame.
    """
    path = Path(path)
    header, payload = _split_header(path.read_bytes(), path)
    mode = _mode_of(header, path)
    paired = mode.pulsed and _version_tuple(header.get("version")) >= PAIRED_SINCE
    stride_bytes = 2 * mode.n_inputs * (2 if paired else 1)
    if len(payload) % stride_bytes:
        raise FormatError(f"data section is {len(payload)} bytes, not a whole number of "
                          f"{stride_bytes}-byte sample frames: the file is cut short "
                          f"({len(payload) % stride_bytes} trailing bytes)", path=path)
    if not payload:
        raise FormatError("no samples after the header", path=path)
    words = np.frombuffer(payload, dtype="<u2")
    _warn_zero_frames(words, stride_bytes // 2, path)
    _check_rate(header, mode, len(payload) // stride_bytes, path)
    channels = _channels(header, words, mode, paired)
    return build_dataset(
        channels, path=path, source_format="ppd", subject=header.get("subject_ID"),
        session_start=header.get("date_time"), fs=float(header["sampling_rate"]),
        mode=str(header.get("mode") or "legacy"), ppd_version=str(header.get("version", "")),
        pulsed=int(mode.pulsed), paired_baseline=int(paired))


def _sniff(path: Path) -> bool:
    head = read_head(path, 4096)
    n_header = int.from_bytes(head[:2], "little")
    if n_header == LEGACY_HEADER_BYTES:
        return path.suffix.lower() == ".ppd"
    text = head[2:2 + n_header]
    return text.startswith(b"{") and b'"sampling_rate"' in text and b'"mode"' in text

"""suite2p's frame rate against the acquisition files beside its output folder.

suite2p stores no frame times, and its ``fs`` is whatever was typed into the settings (the
default is 10 Hz): a rate half the true one halves every time in seconds and can turn 4/4
responders into 0/4 without any warning. The acquisition files usually sit next to the output,
because suite2p writes ``suite2p/`` into the first data folder (``save_path0`` defaults to
``data_path[0]``). This module reads, from the folder holding ``suite2p/`` and from the
absolute ``data_path`` folders of ops that exist here (files directly inside, never
recursively):

* Bruker PrairieView ``.xml``/``.env``: the rate the suite2p reader takes from them when ops has
  no ``fs`` (:func:`sfone.io.imaging._bruker.prairie_file_rate`: the frames' times, else
  ``1 / framePeriod``);
* ScanImage TIFF metadata: ``SI.hRoiManager.scanVolumeRate`` (the per-plane rate of a volume),
  else ``scanFrameRate``, else the median interval of the per-frame ``frameTimestamps_sec``.

Frame rates are divided by ``nplanes`` to give suite2p's per-plane rate (a volume rate is one
already). Only the first :data:`MAX_PAGES` TIFF pages are read; an XML file is streamed (its
elements freed once read). A rate that differs from the one used by more than :data:`RTOL` is a
:class:`~sfone.exceptions.QualityWarning` (an error in strict mode) naming the file and both
rates; nothing is replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..._logging import logger
from ...exceptions import FormatError
from .._checks import quality_issue
from ._bruker import is_prairie_file, prairie_file_rate

__all__ = ["stated_frame_rates", "check_frame_rate_sources", "RTOL"]

#: relative difference of the rates that is reported
RTOL = 0.02
#: TIFF pages whose descriptions are read for frame timestamps
MAX_PAGES = 64
#: XML/env files looked at per folder (the first TIFF only)
MAX_FILES = 8

_SI_RATE = re.compile(r"SI\.hRoiManager\.scan(Volume|Frame)Rate\s*=\s*([-+0-9.eE]+)")
_SI_STAMP = re.compile(r"frameTimestamps_sec\s*=\s*([-+0-9.eE]+)")


def _positive(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) and value > 0 else None


def _median_rate(times: list[float]) -> float | None:
    steps = np.diff(np.asarray(times, dtype=float))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    return 1.0 / float(np.median(steps)) if steps.size else None


def _scanimage_rate(path: Path) -> tuple[float, str, bool] | None:
    """(rate, how, per-volume) from a ScanImage TIFF's metadata."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        frame_data = {}
        if tif.is_scanimage:
            frame_data = (tif.scanimage_metadata or {}).get("FrameData", {}) or {}
        texts = [str(page.description or "") for page in tif.pages[:MAX_PAGES]]
    for kind, per_volume in (("Volume", True), ("Frame", False)):
        for key, value in frame_data.items():
            if key.endswith(f"hRoiManager.scan{kind}Rate") and _positive(value):
                return float(value), f"ScanImage scan{kind}Rate", per_volume
    for kind, value in _SI_RATE.findall(texts[0] if texts else ""):
        if kind == "Volume" and _positive(value):
            return float(value), "ScanImage scanVolumeRate", True
    for kind, value in _SI_RATE.findall(texts[0] if texts else ""):
        if kind == "Frame" and _positive(value):
            return float(value), "ScanImage scanFrameRate", False
    stamps = [float(m) for text in texts for m in _SI_STAMP.findall(text)]
    rate = _median_rate(stamps)
    return (rate, "ScanImage frameTimestamps_sec", False) if rate else None


def _data_folders(folders: list[Path], meta: dict) -> list[Path]:
    out = []
    for plane in folders:
        root = plane.parent  # suite2p/ (or the folder given)
        out.append(root.parent if root.name == "suite2p" else root)
    paths = meta.get("data_path")
    for entry in ([] if paths is None else np.ravel(paths)):
        candidate = Path(str(entry))
        if candidate.is_absolute() and candidate.is_dir():
            out.append(candidate)
    return list(dict.fromkeys(p.resolve() for p in out))


def stated_frame_rates(folders: list[Path], meta: dict, *,
                       prairie: bool = True) -> list[tuple[Path, float, str]]:
    """Per-plane frame rates (Hz) stated by acquisition files beside a suite2p output.

    Parameters
    ----------
    folders : list of pathlib.Path
        The plane folders read.
    meta : dict
        The first plane's merged ops/settings (``nplanes``, ``data_path``).
    prairie : bool, default True
        Read Bruker PrairieView files (False when the rate used came from them).

    Returns
    -------
    list of (pathlib.Path, float, str)
        File, per-plane rate (Hz) and how it was found; empty when no acquisition file is found.
    """
    given = meta.get("nplanes", 1)
    try:
        nplanes = max(int(float(given)), 1) if np.isscalar(given) else 1
    except (TypeError, ValueError):
        raise FormatError(f"ops/db/settings 'nplanes' is {given!r}; expected a whole number",
                          path=folders[0] if folders else None) from None
    found = []
    for folder in _data_folders(folders, meta):
        xml = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xml", ".env")
                     and p.is_file())[:MAX_FILES]
        tiffs = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff")
                       and p.is_file())[:1]
        for path in xml if prairie else []:
            try:
                stated = prairie_file_rate(path, n_planes=nplanes) if is_prairie_file(path) \
                    else None
            except (OSError, FormatError) as exc:  # only the cross-check is lost
                logger.info("%s: not read (%s)", path, exc)
                continue
            if stated:
                found.append((path, stated[0], f"Bruker {stated[1]}"))
        for path in tiffs:
            try:
                stated = _scanimage_rate(path)
            except Exception as exc:  # noqa: BLE001 - a damaged TIFF only loses the cross-check
                logger.info("%s: TIFF metadata not read (%s)", path, exc)
                continue
            if stated:
                rate, how, per_volume = stated
                found.append((path, rate if per_volume else rate / nplanes,
                              how if per_volume else f"{how}, {nplanes} plane(s)"))
    return found


def check_frame_rate_sources(fs: float, folders: list[Path], meta: dict, *, what: str,
                             path, prairie: bool = True) -> None:
    """Warn when acquisition files beside a suite2p output state another frame rate than ``fs``.

    Parameters
    ----------
    fs : float
        The per-plane frame rate used (Hz).
    folders : list of pathlib.Path
        The plane folders read.
    meta : dict
        The first plane's merged ops/settings.
    what : str
        Where ``fs`` came from (``"ops/settings 'fs'"`` or ``"argument fs="``).
    path : str or os.PathLike
        The folder read (named in the message).
    prairie : bool, default True
        Compare with Bruker PrairieView files too (False when ``fs`` came from them).
    """
    for source, rate, how in stated_frame_rates(folders, meta, prairie=prairie):
        if abs(rate - fs) > RTOL * rate:
            quality_issue(f"{what} is {fs:g} Hz per plane but {source} gives {rate:.6g} Hz "
                          f"({how}); the time of every frame, decay times and responses depend "
                          "on it: check which is right and pass it as fs= (Hz; --fs on the "
                          "command line)", path=path)
            return
        logger.info("%s: frame rate %g Hz agrees with %s (%s)", path, fs, source, how)

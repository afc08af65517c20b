"""Bruker PrairieView metadata beside an imaging output folder: the frame rate of a T-series.

PrairieView writes, in each T-series folder, ``<folder>.xml`` (root ``PVScan``) and
``<folder>.env`` (the environment: the same ``PVStateShard`` settings, no frames); suite2p writes
its ``suite2p/`` folder inside it by default. The xml holds::

    <PVStateShard>
      <PVStateValue key="framePeriod" value="0.033474728" />
    </PVStateShard>
    <Sequence type="TSeries Timed Element" cycle="1">
      <Frame relativeTime="0" absoluteTime="2.95699999999988" index="1" parameterSet="...">

(one ``Sequence`` per volume for ``TSeries ZSeries Element``). Like roiextractors, which does not
trust ``framePeriod`` (often longer than the real frame interval), the rate comes from the frames'
``absoluteTime`` when the file has them (:func:`sfone.schema.rate_from_times`; for a volumetric
series the first frame of each volume), else from ``framePeriod`` (the ``.env``).

The files are parsed with the standard library's expat parser, which neither fetches external
entities nor expands nested ones without limit; a file that declares a DTD or entities (PrairieView
writes none) is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..._logging import logger
from ...exceptions import FormatError
from ...schema import rate_from_times

__all__ = ["prairie_frame_rate", "prairie_file_rate", "prairie_files", "is_prairie_file"]

_ROOTS = {".xml": "PVScan", ".env": "Environment"}


def _root_tag(path: Path) -> str | None:
    """The root element's name, read from the first 64 kB; refuses DTD/entity declarations."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise FormatError("declares a DTD or entities, which PrairieView files never do; "
                          "refused", path=path)
    try:
        for _, element in ET.iterparse(path, events=("start",)):
            return element.tag
    except ET.ParseError:
        return None
    return None


def prairie_files(folders) -> list[Path]:
    """The PrairieView ``.xml`` (``PVScan``) and ``.env`` files of the first of ``folders`` that
    has any: ``<folder>.xml``/``<folder>.env`` first, else any file of that kind.

    Parameters
    ----------
    folders : iterable of pathlib.Path
        Folders to look in, nearest first.

    Returns
    -------
    list of pathlib.Path
        The xml (if any) before the env; empty when no folder has PrairieView metadata.
    """
    for folder in folders:
        if not folder.is_dir():
            continue
        found = []
        for suffix, root in _ROOTS.items():
            named = folder / f"{folder.name}{suffix}"
            candidates = [named] if named.is_file() else sorted(folder.glob(f"*{suffix}"))
            matching = [p for p in candidates if p.is_file() and _root_tag(p) == root]
            if len(matching) > 1:
                raise FormatError(f"{len(matching)} PrairieView {suffix} files "
                                  f"({', '.join(p.name for p in matching)}): cannot tell which "
                                  "recording the suite2p outputs come from; pass fs= (Hz)",
                                  path=folder)
            found += matching
        if found:
            return found
    return []


def _parse(path: Path) -> tuple[float | None, list[tuple[str, list[float]]], set]:
    """``framePeriod`` (s), per ``Sequence`` its type and its frames' ``absoluteTime`` (else
    ``relativeTime``), and the names of the time attributes used. Elements are cleared once
    read, so a long T-series costs no more memory than its frame times."""
    period, sequences, keys = None, [], set()
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if event == "end":
                if element.tag in ("Frame", "PVStateShard"):
                    element.clear()
                continue
            if element.tag == "PVStateValue" and element.get("key") == "framePeriod" \
                    and period is None:
                period = float(element.get("value", "nan"))
            elif element.tag == "Sequence":
                sequences.append((element.get("type", ""), []))
            elif element.tag == "Frame" and sequences:
                key = "absoluteTime" if "absoluteTime" in element.attrib else "relativeTime"
                stamp = element.get(key)
                if stamp is not None:
                    sequences[-1][1].append(float(stamp))
                    keys.add(key)
    except (ET.ParseError, ValueError) as exc:
        raise FormatError(f"cannot read the PrairieView metadata: {exc}", path=path) from exc
    return period, sequences, keys


def is_prairie_file(path) -> bool:
    """Whether ``path`` is a PrairieView ``.xml`` (root ``PVScan``) or ``.env``
    (``Environment``).

    Parameters
    ----------
    path : pathlib.Path
        A file.

    Returns
    -------
    bool

    Raises
    ------
    FormatError
        If the file declares a DTD or entities.
    """
    path = Path(path)
    root = _ROOTS.get(path.suffix.lower())
    return root is not None and _root_tag(path) == root


def prairie_file_rate(path, *, n_planes: int = 1) -> tuple[float, str, dict] | None:
    """The per-plane frame rate (Hz) one PrairieView ``.xml``/``.env`` file gives.

    The frames' ``absoluteTime`` (else ``relativeTime``) when the file has more than one
    (for a volumetric series, the first frame of each volume), else ``1 / framePeriod``.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    n_planes : int, default 1
        Planes suite2p made of the movie: a rate from single frames (not from volumes) is
        divided by it.

    Returns
    -------
    (float, str, dict) or None
        The rate, how it was found (``"absoluteTime of 400 frames"``, ``"1 / framePeriod
        (0.0334747 s)"``) and attrs (``bruker_frame_period_s`` when the file states one); None
        when the file has neither frame times nor a positive framePeriod.

    Raises
    ------
    FormatError
        If the file cannot be parsed.
    """
    path = Path(path)
    period, sequences, keys = _parse(path)
    attrs = {} if period is None else {"bruker_frame_period_s": period}
    key = "/".join(sorted(keys))
    per = f" / {n_planes} planes" if n_planes > 1 else ""
    volumetric = any("ZSeries" in kind for kind, _ in sequences)
    if volumetric and sum(bool(frames) for _, frames in sequences) > 1:
        starts = [frames[0] for _, frames in sequences if frames]
        rate = rate_from_times(np.sort(starts))
        how = f"first-frame {key} of {len(starts)} volumes"
    elif sum(len(frames) for _, frames in sequences) > 1:
        times = np.sort(np.concatenate([frames for _, frames in sequences if frames]))
        rate = rate_from_times(times) / n_planes
        how = f"{key} of {times.size} frames{per}"
    elif period is not None and np.isfinite(period) and period > 0:
        rate = 1.0 / period / n_planes
        how = f"1 / framePeriod ({period:g} s){per}"
    else:
        return None
    if period and abs(rate * n_planes * period - 1.0) > 0.01 and not volumetric:
        logger.info("%s: frame times give %.6g Hz, framePeriod %.6g Hz (roiextractors "
                    "also prefers the frame times)", path, rate * n_planes, 1.0 / period)
    return rate, how, attrs


def prairie_frame_rate(folders, *, n_planes: int = 1) -> tuple[float, dict] | None:
    """The per-plane frame rate (Hz) of the PrairieView T-series beside a suite2p output.

    Parameters
    ----------
    folders : iterable of pathlib.Path
        Folders to look in, nearest first (the plane folder, ``suite2p/``, its parent).
    n_planes : int, default 1
        Planes suite2p made of the movie: a rate from single frames (not from volumes) is
        divided by it.

    Returns
    -------
    (float, dict) or None
        The rate and the attrs saying where it came from (``fs_source``, and
        ``bruker_frame_period_s`` when the file states one); None without PrairieView files.

    Raises
    ------
    FormatError
        If a file cannot be parsed, declares a DTD, or gives no positive frame period or
        frame times.
    """
    files = prairie_files(folders)
    for path in files:
        found = prairie_file_rate(path, n_planes=n_planes)
        if found is not None:
            rate, how, attrs = found
            return rate, {"fs_source": f"{path.name}: {how}", **attrs}
    if files:
        raise FormatError("the PrairieView metadata gives no framePeriod and no frame times; "
                          "pass fs= (Hz)", path=files[0])
    return None

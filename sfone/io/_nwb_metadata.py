"""The metadata of the NWB files sfone writes: a lab YAML (or dict), keyword options, the zone of
a session start the recording stores without one.

A metadata source is a mapping or a YAML file in any mix of these layouts (docs/nwb.md):

* NeuroConv's sections ``NWBFile:`` (:data:`FILE_FIELDS`), ``Subject:`` (:data:`SUBJECT_FIELDS`)
  and ``Ophys:`` with ``Device: [{name, description, manufacturer}]`` and
  ``ImagingPlane: [{name, description, indicator, location, excitation_lambda,
  optical_channel: [{name, description, emission_lambda}]}]`` (the first entry is used);
* flat: NWBFile fields at the top level and a ``subject:`` mapping;
* sfone's keys (:data:`SFONE_FIELDS`): ``timezone``, ``fibers`` (photometry, per channel name
  or glob pattern) and the imaging-plane shortcuts ``indicator``, ``location``,
  ``excitation_lambda``, ``emission_lambda``, ``device_name``, ``device_description``,
  ``device_manufacturer``.

Several sources merge section by section, later ones winning. Unknown keys are errors.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone, tzinfo
from numbers import Real

from .._logging import logger, warn
from ..exceptions import DataRepairWarning, SchemaError

__all__ = ["FILE_FIELDS", "SUBJECT_FIELDS", "IMAGING_FIELDS", "SFONE_FIELDS", "load_metadata",
           "merge_fibers", "session_start", "parse_zone"]

#: NWBFile fields a metadata source may set (flat or under ``NWBFile:``)
FILE_FIELDS = ("session_description", "identifier", "session_start_time", "experimenter",
               "institution", "lab", "experiment_description", "session_id", "keywords",
               "related_publications", "notes", "protocol")
#: Subject fields (under ``subject:`` or ``Subject:``)
SUBJECT_FIELDS = ("subject_id", "species", "sex", "age", "date_of_birth", "description",
                  "genotype", "strain", "weight")
#: imaging plane and device of an imaging file (flat, or NeuroConv's ``Ophys:`` section)
IMAGING_FIELDS = ("indicator", "location", "excitation_lambda", "emission_lambda",
                  "device_name", "device_description", "device_manufacturer",
                  "imaging_plane_description")
#: sfone's own top-level keys
SFONE_FIELDS = ("timezone", "fibers") + IMAGING_FIELDS
_SECTIONS = ("NWBFile", "Subject", "subject", "Ophys")
_WAVELENGTHS = ("excitation_lambda", "emission_lambda")


def _read(source) -> dict:
    if isinstance(source, str | os.PathLike):
        from .._guard import load_yaml

        loaded = load_yaml(source, error=SchemaError, what="NWB metadata file")
        source, metadata = str(source), {} if loaded is None else loaded
    else:
        metadata, source = source, "the metadata mapping"
    if not isinstance(metadata, dict):
        raise SchemaError(f"NWB metadata {source}: expected a mapping, got "
                          f"{type(metadata).__name__}")
    return metadata


def _first(entries, where: str, source) -> dict:
    if isinstance(entries, dict):
        return entries
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        raise SchemaError(f"NWB metadata {source}: {where} must be a list of mappings, got "
                          f"{entries!r}")
    if len(entries) > 1:
        logger.info("NWB metadata %s: %s has %d entries; sfone writes one, the first",
                    source, where, len(entries))
    return entries[0]


def _unknown(keys, known, where: str, source) -> None:
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise SchemaError(f"NWB metadata {source}: unknown {where} field(s) "
                          f"{', '.join(map(str, unknown))}; expected some of {', '.join(known)}")


def _ophys(section, source) -> dict:
    """Imaging fields from NeuroConv's ``Ophys:`` section."""
    if not isinstance(section, dict):
        raise SchemaError(f"NWB metadata {source}: Ophys must be a mapping")
    if "FiberPhotometry" in section:
        raise SchemaError(f"NWB metadata {source}: Ophys.FiberPhotometry (NeuroConv's table "
                          "layout) is not read; give the fibers as 'fibers: {<channel or "
                          "pattern>: {excitation_wavelength_nm, emission_wavelength_nm, "
                          "indicator, location, fiber}}'")
    _unknown(section, ("Device", "ImagingPlane"), "Ophys", source)
    out = {}
    if "Device" in section:
        device = _first(section["Device"], "Ophys.Device", source)
        _unknown(device, ("name", "description", "manufacturer"), "Ophys.Device", source)
        out.update({f"device_{k}": v for k, v in device.items()})
    if "ImagingPlane" in section:
        plane = dict(_first(section["ImagingPlane"], "Ophys.ImagingPlane", source))
        channel = plane.pop("optical_channel", None)
        _unknown(plane, ("name", "description", "indicator", "location", "excitation_lambda",
                         "imaging_rate", "device"), "Ophys.ImagingPlane", source)
        plane.pop("name", None), plane.pop("device", None), plane.pop("imaging_rate", None)
        if "description" in plane:
            out["imaging_plane_description"] = plane.pop("description")
        out.update(plane)
        if channel is not None:
            channel = _first(channel, "Ophys.ImagingPlane.optical_channel", source)
            _unknown(channel, ("name", "description", "emission_lambda"),
                     "Ophys.ImagingPlane.optical_channel", source)
            if "emission_lambda" in channel:
                out["emission_lambda"] = channel["emission_lambda"]
    return out


def _one(source) -> dict:
    """One source as ``{"file", "subject", "options", "origin"}``."""
    metadata = _read(source)
    origin = str(source) if isinstance(source, str | os.PathLike) else "the metadata mapping"
    flat = {k: v for k, v in metadata.items() if k not in _SECTIONS}
    nwbfile = metadata.get("NWBFile") or {}
    subject = metadata.get("Subject") or metadata.get("subject") or {}
    for name, section in (("NWBFile", nwbfile), ("Subject", subject)):
        if not isinstance(section, dict):
            raise SchemaError(f"NWB metadata {origin}: {name} must be a mapping, got "
                              f"{section!r}")
    _unknown(flat, FILE_FIELDS + SFONE_FIELDS, "file", origin)
    _unknown(nwbfile, FILE_FIELDS, "NWBFile", origin)
    _unknown(subject, SUBJECT_FIELDS, "subject", origin)
    options = {k: flat.pop(k) for k in SFONE_FIELDS if k in flat}
    options.update(_ophys(metadata["Ophys"], origin) if "Ophys" in metadata else {})
    for key in _WAVELENGTHS:
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, Real)):
            raise SchemaError(f"NWB metadata {origin}: {key} must be a number of nm, got "
                              f"{value!r}")
    fibers = options.get("fibers", {})
    if not isinstance(fibers, dict) or not all(isinstance(v, dict) for v in fibers.values()):
        raise SchemaError(f"NWB metadata {origin}: fibers must map channel names (or glob "
                          f"patterns) to mappings of fiber fields, got {fibers!r}")
    return {"file": {**flat, **nwbfile}, "subject": dict(subject), "options": options,
            "origin": {key: origin for key in options}}


def merge_fibers(first: dict | None, second: dict | None) -> dict:
    """Two ``fibers`` mappings merged key by key, ``second`` winning field by field.

    Parameters
    ----------
    first, second : dict or None
        Channel name or glob pattern -> fiber fields.

    Returns
    -------
    dict
    """
    first, second = first or {}, second or {}
    return {key: {**(first.get(key) or {}), **(second.get(key) or {})}
            for key in [*first, *[k for k in second if k not in first]]}


def load_metadata(metadata) -> dict:
    """Merge metadata sources (see the module docstring), later ones winning.

    Parameters
    ----------
    metadata : dict, str, os.PathLike, list of them, or None
        Mappings or YAML files.

    Returns
    -------
    dict
        ``file`` (NWBFile fields), ``subject`` (Subject fields), ``options`` (sfone's fields)
        and ``origin`` (for each option, the source that set it).

    Raises
    ------
    SchemaError
        For unknown keys, a source that is not a mapping, or badly typed fields.
    """
    merged: dict = {"file": {}, "subject": {}, "options": {}, "origin": {}}
    if metadata is None:
        return merged
    sources = metadata if isinstance(metadata, list | tuple) else [metadata]
    for source in sources:
        part = _one(source)
        fibers = merge_fibers(merged["options"].get("fibers"), part["options"].get("fibers"))
        for key in merged:
            merged[key].update(part[key])
        if fibers:
            merged["options"]["fibers"] = fibers
    return merged


_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})$")


def parse_zone(name: str) -> tzinfo:
    """A time zone from an IANA name (``"Europe/Berlin"``), ``"UTC"`` or an offset
    (``"+01:00"``, ``"UTC-05:00"``).

    Parameters
    ----------
    name : str
        Zone name or offset.

    Returns
    -------
    datetime.tzinfo

    Raises
    ------
    SchemaError
        If ``name`` is neither.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = str(name).strip()
    offset = _OFFSET.match(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SchemaError(f"timezone {name!r} is neither an IANA zone name (e.g. "
                          "'Europe/Berlin') nor an offset such as '+01:00'") from exc


def session_start(value, *, zone=None, zone_origin: str = "", source: str = "") -> datetime:
    """The tz-aware session start of an NWB file.

    A start without a zone (Doric v6, pyPhotometry) takes ``zone`` with a
    :class:`~sfone.exceptions.DataRepairWarning` that says which zone came from where; without
    ``zone`` it is refused (a zone is never guessed). A start with a zone keeps it.

    Parameters
    ----------
    value : datetime or str
        Session start (ISO 8601 string or datetime).
    zone : str, optional
        Zone for a start without one (see :func:`parse_zone`).
    zone_origin : str, default ""
        Where ``zone`` came from, for the message (``"timezone= option"``, ``"lab.yaml"``).
    source : str, default ""
        Where ``value`` came from (the recording's file), for the messages.

    Returns
    -------
    datetime.datetime
        tz-aware start.

    Raises
    ------
    SchemaError
        Without a start, with an unreadable one, or without a zone for a naive one.
    """
    where = f"{source}: " if source else ""
    if value is None:
        raise SchemaError(f"{where}NWB needs a session start: pass session_start_time= "
                          "(ISO 8601 with a zone) or set session_start_time in the metadata")
    try:
        start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SchemaError(f"{where}session start {value!r} is not an ISO 8601 date and "
                          "time") from exc
    if start.tzinfo is not None:
        if zone is not None:
            logger.info("%ssession start %s carries its own zone; timezone %s (%s) not used",
                        where, start.isoformat(), zone, zone_origin)
        return start
    if zone is None:
        raise SchemaError(f"{where}session start {start.isoformat()} has no time zone and NWB "
                          "needs one: pass timezone= (e.g. 'Europe/Berlin'; `sfone convert "
                          "--timezone`) or set 'timezone:' in the metadata YAML")
    aware = start.replace(tzinfo=parse_zone(zone))
    warn(f"{where}session start {start.isoformat()} has no time zone: assumed {zone} "
         f"(from {zone_origin or 'the timezone option'}), i.e. {aware.isoformat()}",
         DataRepairWarning)
    return aware

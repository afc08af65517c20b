"""Provenance of a ``sfone reproduce`` run: every input file with its sha256, and the versions.

:func:`study_inputs` lists every file a study names (folders expanded) with its study entry,
size and sha256; :func:`package_versions` gives sfone's, Python's and the analysis
dependencies' versions. Both go into ``provenance.json`` and the report.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .. import __version__

__all__ = ["study_inputs", "package_versions", "duplicate_recordings"]

_DEPENDENCIES = ("numpy", "scipy", "pandas", "xarray", "matplotlib", "statsmodels", "pydantic",
                 "h5py", "pyarrow", "dask", "distributed", "pyyaml")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def study_inputs(study) -> list[dict]:
    """Every input file of the study (folders expanded), with its entry, size and sha256.

    Parameters
    ----------
    study : Study
        A checked study (its paths are resolved against ``study.root``).

    Returns
    -------
    list of dict
        One per file: ``entry`` (the study field, e.g. ``imaging.sessions[0].runs``), ``file``
        (the path as the study file writes it, for a listed folder joined with the file's path
        inside it), ``bytes`` and ``sha256``.
    """
    entries: list[tuple[str, Path]] = []
    if study.imaging is not None:
        for i, s in enumerate(study.imaging.sessions):
            where = f"imaging.sessions[{i}]"
            entries += [(where, s.path), (f"{where}.runs", s.runs),
                        (f"{where}.footprints", s.footprints)]
            entries += [(f"{where}.{n}", getattr(s, n).path) for n in ("ttl", "speed")
                        if getattr(s, n) is not None]
        for name in dict.fromkeys([study.imaging.protocol] + [s.protocol for s in
                                                              study.imaging.sessions]):
            if name is not None and study.resolve(name).exists():
                entries.append(("imaging.protocol", name))
    if study.photometry is not None:
        for i, s in enumerate(study.photometry.sessions):
            entries += [(f"photometry.sessions[{i}]", s.path),
                        (f"photometry.sessions[{i}].runs", s.runs)]
    if study.stress_test is not None:
        entries += [(f"stress_test.sessions[{i}]", s.path)
                    for i, s in enumerate(study.stress_test.sessions)]
        if study.resolve(study.stress_test.protocol).exists():
            entries.append(("stress_test.protocol", study.stress_test.protocol))
    if study.calorimetry is not None:
        entries += [(f"calorimetry.files[{i}]", p) for i, p in enumerate(study.calorimetry.files)]
        entries.append(("calorimetry.session", study.calorimetry.session))
    entries += [(f"tables.{n}", getattr(study.tables, n)) for n in ("bdnf_counts", "endurance",
                                                                    "glucose")]
    rows = []
    for where, path in entries:
        if path is None:
            continue
        resolved = study.resolve(path)
        files = sorted(p for p in resolved.rglob("*") if p.is_file()) if resolved.is_dir() \
            else [resolved]
        for file in files:
            shown = Path(path) / file.relative_to(resolved) if resolved.is_dir() else Path(path)
            rows.append({"entry": where, "file": shown.as_posix(), "bytes": file.stat().st_size,
                         "sha256": _sha256(file)})
    return rows


def _recording_entries(study) -> dict[str, tuple]:
    """Study field -> (entry or None, path as written) of every recording (imaging, photometry,
    stress test, calorimetry files)."""
    entries = {}
    for section in ("imaging", "photometry", "stress_test"):
        part = getattr(study, section)
        if part is not None:
            entries.update({f"{section}.sessions[{i}]": (s, s.path)
                            for i, s in enumerate(part.sessions)})
    if study.calorimetry is not None:
        entries.update({f"calorimetry.files[{i}]": (None, p)
                        for i, p in enumerate(study.calorimetry.files)})
    return entries


def duplicate_recordings(study, inputs: list[dict]) -> list[str]:
    """Recordings listed twice: entries whose files have the same sha256 (folders: all files).

    The same file for two mice (or days) gives a zero-width confidence interval and no warning,
    so it is refused unless every later entry of the group sets ``duplicate_ok: true``.

    Parameters
    ----------
    study : Study
        The study.
    inputs : list of dict
        :func:`study_inputs` rows (``entry``, ``sha256``).

    Returns
    -------
    list of str
        One problem per unmarked duplicate, naming both entries and their paths.
    """
    entries = _recording_entries(study)
    content: dict[str, list] = {}
    for row in inputs:
        if row["entry"] in entries:
            content.setdefault(row["entry"], []).append(row["sha256"])
    first: dict[tuple, str] = {}
    problems = []
    for where, digests in content.items():
        key = tuple(sorted(digests))
        if key not in first:
            first[key] = where
            continue
        entry, path = entries[where]
        if getattr(entry, "duplicate_ok", False):
            continue
        who = getattr(entry, "label", None) or getattr(entry, "subject", None)
        problems.append(f"{where}{f' ({who})' if who else ''}: '{Path(path).as_posix()}' has "
                        f"the same content (sha256) as {first[key]} "
                        f"('{Path(entries[first[key]][1]).as_posix()}'): one recording listed "
                        "twice counts one mouse as two; fix the path, or set duplicate_ok: true "
                        "on this entry if it is meant")
    return problems


def package_versions() -> dict[str, str]:
    """sfone, Python and the installed versions of the dependencies the analysis uses.

    Returns
    -------
    dict of str to str
        Package name -> version (dependencies that are not installed are left out).
    """
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {"sfone": __version__, "python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions

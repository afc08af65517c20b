"""Output folders: sfone replaces or writes into only a folder it wrote itself.

Every folder that ``sfone reproduce`` or ``sfone batch`` writes holds a marker,
``.sfone-output.json``: which command wrote it, when, where (host, working folder, command
line, process), with which sfone and Python, and the files it wrote (their names, or for a
batch the patterns of its outputs). A folder may then be

* **replaced** as a whole (``reproduce``): when it is new or empty, or holds the marker of the
  same command and no file the marker does not list; anything else is refused with an error
  naming the files that would be lost. A reproduce output from before the marker counts by its
  ``provenance.json``, which lists the figures it drew;
* **written into** (``batch``): when it is new or empty, or holds the marker of the same
  command (files added there by hand are left alone: a batch never deletes).

A replacement is built in a hidden sibling ``.<name>.partial-<host>-<pid>`` and swapped in by
two renames at the end. A run killed outright (SIGKILL, power loss) leaves that sibling (or,
between the two renames, ``.<name>.old-<host>-<pid>``); the next run on the same host removes
the ones whose process is no longer running (restoring an ``.old`` one when the folder itself
is missing), never one of another host or of a live process.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
import re
import socket
import sys
import time
from fnmatch import fnmatchcase
from pathlib import Path

from . import __version__
from ._atomic import _alive, _owner_tag, _remove, atomic_path
from .exceptions import SfoneError

__all__ = ["MARKER_NAME", "read_marker", "check_output_dir", "claim_output_dir",
           "replacing_output_dir", "remove_stale_builds"]

MARKER_NAME = ".sfone-output.json"
_LISTED = 8  # names shown in an error before "and N more"


def read_marker(folder) -> dict | None:
    """The marker of ``folder`` (a dict), or None when it has none or it is not sfone's.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder.

    Returns
    -------
    dict or None
        The marker's content (``kind``, ``files``, ``patterns``, provenance fields).
    """
    path = Path(folder) / MARKER_NAME
    if not path.is_file() or path.is_symlink():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("sfone_output") != 1:
        return None
    return marker


def _is_temporary(name: str) -> bool:
    """A hidden temporary output of :func:`sfone._atomic.atomic_path` (``.<name>.*.part``)."""
    return name.startswith(".") and name.endswith(".part")


def _walk_error(exc: OSError) -> None:
    raise SfoneError(f"{exc.filename}: cannot be listed ({exc.strerror}), so sfone cannot tell "
                     "whether it holds files it did not write; nothing was changed")


def _foreign(folder: Path, marker: dict | None) -> list[str]:
    """Entries of ``folder`` that the marker does not account for (a folder holding none of
    sfone's files is named once, ``name/``), relative POSIX paths in walk order."""
    files = set(marker.get("files", [])) if marker else set()
    patterns = list(marker.get("patterns", [])) if marker else []
    fixed = [re.split(r"[*?\[]", p, maxsplit=1)[0] for p in patterns]  # before a wildcard
    owned_dirs = set().union(*map(_ancestors, files), *map(_ancestors, fixed))

    def ours(rel: str) -> bool:
        return (rel == MARKER_NAME or rel in files or _is_temporary(rel.rsplit("/", 1)[-1])
                or any(fnmatchcase(rel, p) and rel.count("/") == p.count("/")
                       for p in patterns))

    foreign = []
    for root, dirnames, filenames in os.walk(folder, onerror=_walk_error):
        base = Path(root).relative_to(folder).as_posix()
        prefix = "" if base == "." else base + "/"
        for name in sorted(dirnames):
            rel = prefix + name
            if (Path(root) / name).is_symlink():  # listed, never followed
                dirnames.remove(name)
                if not ours(rel):
                    foreign.append(rel)
            elif rel not in owned_dirs:
                dirnames.remove(name)
                foreign.append(rel + "/")
        foreign += [prefix + name for name in sorted(filenames) if not ours(prefix + name)]
    return foreign


def _ancestors(rel: str) -> set[str]:
    """The folders above a relative POSIX path: ``"a/b/c.png"`` -> ``{"a", "a/b"}``."""
    parts = rel.split("/")[:-1]
    return {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def _legacy_reproduce_marker(folder: Path) -> dict | None:
    """The marker of a ``sfone reproduce`` output written before markers existed, from its own
    ``provenance.json`` (sfone's version and the figures it drew): those figures in their three
    formats, ``stats.csv``, ``labels.csv``, ``report.html`` and ``provenance.json`` count as
    sfone's; anything else in the folder is still refused."""
    try:
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not (isinstance(provenance, dict) and isinstance(provenance.get("versions"), dict)
            and "sfone" in provenance["versions"]
            and isinstance(provenance.get("figures"), list)):
        return None
    files = {"provenance.json", "report.html", "stats.csv", "labels.csv"}
    for figure in provenance["figures"]:
        name = figure.get("file") if isinstance(figure, dict) else None
        if isinstance(name, str) and re.fullmatch(r"figures/[^/]+\.png", name):
            files |= {name[:-4] + suffix for suffix in (".png", ".svg", ".pdf")}
    return {"sfone_output": 1, "kind": "reproduce", "files": sorted(files)}


def check_output_dir(folder, *, kind: str, replace: bool) -> None:
    """Refuse an output folder that sfone did not write (see the module docstring).

    Parameters
    ----------
    folder : str or os.PathLike
        The output folder asked for (``--out``).
    kind : str
        The command that will write it (``"reproduce"``, ``"batch"``).
    replace : bool
        True when the folder will be replaced as a whole (then every file in it must be listed
        by its marker); False when outputs are only added to it.

    Raises
    ------
    SfoneError
        Naming the folder and the files that would be lost or mixed with sfone's outputs.
    """
    folder = Path(folder)
    if folder.is_symlink():
        raise SfoneError(f"{folder}: is a symbolic link, not a folder sfone wrote; give the "
                         "folder it points to, or a new one")
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SfoneError(f"{folder}: exists and is not a folder; give a new or empty folder")
    if not any(folder.iterdir()):
        return
    marker = read_marker(folder)
    if marker is None and kind == "reproduce":
        marker = _legacy_reproduce_marker(folder)
    if marker is None:
        entries = _foreign(folder, None)
        raise SfoneError(f"{folder}: is not an earlier `sfone {kind}` output (no {MARKER_NAME}); "
                         f"it holds {_listing(entries)}, which sfone did not write and would "
                         f"{'lose' if replace else 'mix with its outputs'}: give a new or empty "
                         "folder")
    if marker.get("kind") != kind:
        raise SfoneError(f"{folder}: is an `sfone {marker.get('kind')}` output, not an "
                         f"`sfone {kind}` one; give a new or empty folder")
    if replace:
        entries = _foreign(folder, marker)
        if entries:
            raise SfoneError(f"{folder}: replacing this earlier `sfone {kind}` output would lose "
                             f"files sfone did not write: {_listing(entries)}; move them out "
                             "or give a new folder")


def _provenance(kind: str) -> dict:
    return {"sfone_output": 1, "kind": kind, "sfone": __version__,
            "python": platform.python_version(),
            "created_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "host": socket.gethostname(), "pid": os.getpid(), "cwd": os.getcwd(),
            "command": sys.argv[:]}


def _write_marker(folder: Path, marker: dict) -> Path:
    with atomic_path(folder / MARKER_NAME) as tmp:
        tmp.write_text(json.dumps(marker, indent=2, default=str) + "\n", encoding="utf-8")
    return folder / MARKER_NAME


def claim_output_dir(folder, *, kind: str, patterns: list[str]) -> Path:
    """Check ``folder`` (:func:`check_output_dir`, outputs added) and mark it as sfone's.

    Parameters
    ----------
    folder : str or os.PathLike
        The output folder; created when missing.
    kind : str
        The command writing it (``"batch"``).
    patterns : list of str
        Glob patterns (relative POSIX paths) of the files the command writes there.

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    SfoneError
        If the folder holds files sfone did not write or is another command's output.
    """
    folder = Path(folder)
    check_output_dir(folder, kind=kind, replace=False)
    folder.mkdir(parents=True, exist_ok=True)
    if read_marker(folder) is None:
        _write_marker(folder, {**_provenance(kind), "patterns": list(patterns)})
    return folder


def _build_name(dest: Path, what: str, tag: str) -> Path:
    return dest.with_name(f".{dest.name}.{what}-{tag}")


def remove_stale_builds(dest) -> list[Path]:
    """Remove the hidden build folders of ``dest`` left by killed runs on this host.

    ``.<name>.partial-<host>-<pid>`` is removed when no process ``<pid>`` runs; a
    ``.<name>.old-<host>-<pid>`` (a kill between the two renames of a swap) is removed, or
    renamed back to ``dest`` when ``dest`` is missing. Folders named without a host (sfone
    before these markers: ``.<name>.partial-<pid>``) count as this host's.

    Parameters
    ----------
    dest : str or os.PathLike
        The output folder.

    Returns
    -------
    list of pathlib.Path
        What was removed or restored.
    """
    dest = Path(dest)
    if not dest.parent.is_dir():
        return []
    host = socket.gethostname().replace(".", "_")
    done = []
    for what in ("old", "partial"):  # a restored .old first, so that dest exists after
        for prefix in (f".{dest.name}.{what}-{host}-", f".{dest.name}.{what}-"):
            for path in sorted(dest.parent.glob(f"{glob.escape(prefix)}*")):
                pid = path.name[len(prefix):]
                if not pid.isdigit() or _alive(int(pid)) or not path.is_dir() or \
                        path.is_symlink():
                    continue
                if what == "old" and not dest.exists():
                    path.rename(dest)
                else:
                    _remove(path)
                done.append(path)
    return done


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.name != MARKER_NAME)


@contextlib.contextmanager
def replacing_output_dir(dest, *, kind: str):
    """Yield an empty hidden folder beside ``dest`` that replaces ``dest`` on success.

    ``dest`` is checked first (:func:`check_output_dir` with ``replace=True``), and again just
    before the swap (a file added by hand during the run is not lost). On success the marker,
    listing every file of the new folder, is written into it and the folder replaces ``dest``;
    on any exception (Ctrl-C included) the build folder is removed and ``dest`` is unchanged.

    Parameters
    ----------
    dest : str or os.PathLike
        The output folder.
    kind : str
        The command writing it (``"reproduce"``).

    Yields
    ------
    pathlib.Path
        The folder to write the outputs into.

    Raises
    ------
    SfoneError
        If ``dest`` holds files sfone did not write (nothing is built then).
    """
    dest = Path(dest).absolute()
    check_output_dir(dest, kind=kind, replace=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(dest)
    tag = _owner_tag()
    build = _build_name(dest, "partial", tag)
    _remove(build)
    build.mkdir()
    try:
        yield build
        _write_marker(build, {**_provenance(kind), "files": _files(build)})
        check_output_dir(dest, kind=kind, replace=True)
        if dest.exists():
            old = _build_name(dest, "old", tag)
            os.rename(dest, old)
            os.rename(build, dest)
            _remove(old)
        else:
            os.rename(build, dest)
    except BaseException:
        _remove(build)
        raise

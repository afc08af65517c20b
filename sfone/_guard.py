"""Input guards every reader shares: file kinds, bounded reads, size, nesting and alias budgets.

A data file (or a manifest, study or protocol YAML) is untrusted input: it must not make sfone
block, run for minutes or allocate gigabytes, and every refusal is a one-line
:class:`~sfone.exceptions.FormatError` naming the file, the quantity and the limit.

* :func:`check_input_kind`: only regular files and folders are read; a FIFO (which blocks until
  a writer appears), a device (``/dev/zero`` never ends) or a socket is refused before opening.
* :func:`read_head` / :func:`head_lines`: what sniffers read, at most ``max_bytes`` (never an
  unbounded ``readline()``).
* :func:`declared_limit` / :func:`check_declared_size`: a size a header declares, against the
  size of the file that declares it (options ``max_expansion``, ``min_declared_bytes``).
* :func:`check_expansion`: the size of an object tree as a consumer sees it, every shared
  reference counted each time it is reached (pickle memo references, YAML aliases: "billion
  laughs"), and its nesting depth; walked iteratively, stopped at the budget.
* :func:`loads_json` and :func:`load_yaml`: JSON and YAML parsed under those budgets (YAML with
  :class:`yaml.SafeLoader`, so a ``!!python/...`` tag builds nothing).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from pathlib import Path

from ._options import get_option
from .exceptions import FormatError

__all__ = ["MAX_DEPTH", "MAX_TEXT_BYTES", "MIN_NODES", "MIN_YAML_NODES", "special_kind", "check_input_kind",
           "check_folder_members", "read_head", "head_lines", "footprint", "declared_limit",
           "check_declared_size", "node_budget", "check_expansion", "loads_json", "load_yaml"]

#: deepest nesting of containers accepted in pickles, JSON attributes and YAML documents
MAX_DEPTH = 100
#: largest YAML document (manifest, study, protocol) read, in bytes
MAX_TEXT_BYTES = 4 * 2**20
#: containers, strings and arrays reached in a pickled object tree, always accepted
MIN_NODES = 1_000_000
#: the same for a YAML document (a manifest of 10,000 sessions reaches about 100,000)
MIN_YAML_NODES = 200_000

_KINDS = ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


def _kind(mode: int) -> str | None:
    """None for a regular file or folder, else what the mode says the path is."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "special file")


def _refuse_kind(path, kind: str, where: str = "") -> None:
    raise FormatError(f"{where}is a {kind}, not a regular file; sfone reads only regular files "
                      "and folders (a pipe or device can block forever or never end)", path=path)


def special_kind(path) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder ("FIFO (named pipe)",
    "character device", ...; symbolic links followed), else None (also for a missing path)."""
    try:
        return _kind(os.stat(path).st_mode)
    except OSError:
        return None


def check_input_kind(path) -> None:
    """Refuse ``path`` unless it is a regular file or a folder (symbolic links followed).

    A missing path is left to the caller (it reports it in its own words).
    """
    kind = special_kind(path)
    if kind:
        _refuse_kind(path, kind)


def check_folder_members(folder) -> None:
    """Refuse a folder holding a FIFO, device or socket (directly or through a link), which a
    folder reader would open; links to folders are not followed."""
    folder = Path(folder)
    for root, dirs, files in os.walk(folder):
        for name in [*files, *dirs]:
            member = Path(root) / name
            try:
                kind = _kind(os.stat(member).st_mode)
            except OSError:  # a dangling link: the reader reports it if it needs the file
                continue
            if kind:
                _refuse_kind(folder, kind, f"{member.relative_to(folder)} ")


def read_head(path, max_bytes: int = 4096) -> bytes:
    """The first ``max_bytes`` of a regular file (a special file is a ``FormatError``)."""
    check_input_kind(path)
    with open(path, "rb") as fh:
        return fh.read(max_bytes)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # universal newlines, as readline()


def head_lines(path, n_lines: int, *, max_bytes: int = 65536,
               encoding: str = "utf-8-sig") -> list[str]:
    """The first ``n_lines`` lines of a text file (with their line ends, ``""`` past the end, as
    ``readline()`` gives), from at most ``max_bytes``; a longer line is cut there."""
    text = read_head(path, max_bytes).decode(encoding, errors="replace")
    lines = [line for line in _LINE.findall(text) if line][:n_lines]
    return lines + [""] * (n_lines - len(lines))


def footprint(path) -> tuple[int, int]:
    """(total size, latest mtime in ns) of a file or of every file under a folder."""
    path = Path(path)
    if path.is_dir():
        stats = [p.stat() for p in path.rglob("*") if p.is_file()]
        return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)
    stat_ = path.stat()
    return stat_.st_size, stat_.st_mtime_ns


def declared_limit(file_size: int) -> int:
    """Largest declared size (bytes) accepted from a file of ``file_size`` bytes:
    ``max(min_declared_bytes, max_expansion * file_size)`` (see :func:`sfone.set_options`)."""
    return int(max(get_option("min_declared_bytes"), get_option("max_expansion") * file_size))


def check_declared_size(n_bytes: int, *, what: str, path, file_size: int | None = None) -> None:
    """Refuse to allocate ``n_bytes`` declared by a header that the file cannot hold.

    Accepted below ``min_declared_bytes`` or up to ``max_expansion`` times the file size
    (``file_size``, default: the size of ``path``, or of every file under a folder).
    """
    size = footprint(path)[0] if file_size is None else file_size
    limit = declared_limit(size)
    if n_bytes > limit:
        raise FormatError(f"{what} declares {n_bytes} bytes of data but the file is {size} "
                          f"bytes; refused before allocating (limit {limit} bytes, see "
                          "sfone.set_options(max_expansion=...))", path=path)


def node_budget(file_size: int, minimum: int = MIN_NODES) -> int:
    """Objects an object tree read from ``file_size`` bytes may reach: every object a pickle or
    YAML document writes out costs it at least one byte, so only shared references (memo,
    aliases) can exceed ``minimum + file_size``."""
    return minimum + int(file_size)


def _children(obj):
    """An iterator over what ``obj`` contains (dict keys and values, sequence and set items, the
    elements of an object array), or None for a leaf."""
    if isinstance(obj, dict):
        return itertools.chain(obj.keys(), obj.values()) if obj else None
    if isinstance(obj, list | tuple | set | frozenset):
        return iter(obj) if obj else None
    if getattr(getattr(obj, "dtype", None), "hasobject", False) and getattr(obj, "size", 0):
        return iter(obj.flat)
    return None


def check_expansion(obj, *, what: str, path, max_nodes: int, max_depth: int = MAX_DEPTH,
                    max_bytes: int | None = None) -> None:
    """Refuse an object tree that expands beyond ``max_nodes`` objects (each shared reference
    counted every time it is reached), ``max_bytes`` of text and array data, or ``max_depth``.

    The walk is depth-first over iterators (memory proportional to the depth) and stops at the
    first budget exceeded, so checking a hostile tree costs at most ``max_nodes`` steps.
    """
    max_bytes = declared_limit(0) if max_bytes is None else max_bytes
    nodes = size = 0
    stack = [iter((obj,))]
    while stack:
        for item in stack[-1]:
            nodes += 1
            kind = type(item)
            if kind in _TEXT:
                size += len(item)
            elif kind in _SCALARS:
                size += 8
            else:
                size += int(getattr(item, "nbytes", 8) or 8)
            if nodes > max_nodes or size > max_bytes:
                found = (f"more than {max_nodes} objects" if nodes > max_nodes
                         else f"more than {max_bytes} bytes of text and arrays")
                raise FormatError(f"{what} expands to {found} once its shared references are "
                                  "followed (a small file built to exhaust memory or time); "
                                  "refused", path=path)
            if kind in _TEXT or kind in _SCALARS:
                continue
            children = _children(item)
            if children is not None:
                if len(stack) > max_depth:
                    raise FormatError(f"{what} is nested more than {max_depth} levels deep; "
                                      "refused (no file sfone reads nests that deeply)",
                                      path=path)
                stack.append(children)
                break  # descend first; this level's iterator resumes afterwards
        else:
            stack.pop()


_TEXT = frozenset({str, bytes, bytearray})
_SCALARS = frozenset({int, float, bool, complex, type(None)})


def loads_json(text, *, what: str, path, max_depth: int = MAX_DEPTH):
    """``json.loads(text)`` whose failures (invalid, or nested too deeply) are a
    :class:`FormatError` naming ``what`` and the file; the result is at most ``max_depth`` deep."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise FormatError(f"{what} is JSON nested too deeply to parse; refused",
                          path=path) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{what} is not valid JSON: {exc}", path=path) from None
    check_expansion(value, what=what, path=path, max_nodes=node_budget(len(text)),
                    max_depth=max_depth)
    return value


def _bounded_loader():
    import yaml
    from yaml.events import AliasEvent

    class BoundedLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that stops composing past :data:`MAX_DEPTH` levels (before
        the recursive composer exhausts the stack) or :data:`MIN_YAML_NODES` alias uses."""

        depth = aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):
                self.aliases += 1
                if self.aliases > MIN_YAML_NODES:
                    raise yaml.YAMLError(f"more than {MIN_YAML_NODES} alias uses")
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _yaml_problem(exc) -> str:
    """PyYAML's error as one line: the problem and where (line, column)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        return " ".join(str(exc).split())
    context = f"{exc.context} " if getattr(exc, "context", None) else ""
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{context}{problem}{where}"


def load_yaml(path, *, error=FormatError, what: str = "YAML"):
    """Parse the YAML file at ``path`` as plain data, within the input budgets.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file of at most :data:`MAX_TEXT_BYTES` bytes.
    error : type
        The exception raised for a bad document (``FormatError``, ``ProtocolError``, ...);
        built with one message that starts with the path.
    what : str
        What the file is, for messages ("cohort manifest", "study file").

    Returns
    -------
    object
        What :func:`yaml.safe_load` returns: dicts, lists, strings, numbers, dates, None.

    Raises
    ------
    error
        Not valid YAML (a ``!!python/...`` tag included), larger than :data:`MAX_TEXT_BYTES`,
        nested more than :data:`MAX_DEPTH` levels, or aliases expanding past the node budget.
    """
    import yaml

    path = Path(path)
    try:
        check_input_kind(path)
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise FormatError(f"{what} is {size} bytes; sfone reads YAML files of at most "
                              f"{MAX_TEXT_BYTES} bytes", path=path)
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT_BYTES + 1)
        try:
            data = yaml.load(raw.decode("utf-8"), Loader=_bounded_loader())  # noqa: S506
        except UnicodeDecodeError as exc:
            raise FormatError(f"{what} is not UTF-8 text ({exc})", path=path) from None
        except yaml.YAMLError as exc:
            raise FormatError(f"not valid YAML ({what}): {_yaml_problem(exc)}",
                              path=path) from None
        check_expansion(data, what=what, path=path,
                        max_nodes=node_budget(size, MIN_YAML_NODES))
    except FormatError as exc:
        if error is FormatError:
            raise
        raise error(str(exc)) from None
    return data

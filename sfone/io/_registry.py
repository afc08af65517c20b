"""Format registry: one loader module per vendor format, detection by suffix then content sniff.

Built-in formats are declared in the ``FORMATS`` list of their modality package
(:mod:`sfone.io.imaging`, :mod:`sfone.io.photometry`, :mod:`sfone.io.calorimetry`,
:mod:`sfone.io.events`, and :mod:`sfone.io` for sfone's own netCDF/zarr), with the reader and the
sniffer named as ``"module:function"``::

    FormatInfo(name="suite2p", modality="imaging", reader="sfone.io.imaging.suite2p:read_suite2p",
               sniff="sfone.io.imaging.suite2p:_sniff", directory=True, lazy=True)

so listing formats (``sfone formats``) imports no reader module; a reader module is imported
when a file is detected or read. Third parties declare the entry-point group ``sfone.loaders``
whose object is a :class:`FormatInfo` (callables or ``"module:function"`` strings), or call
:func:`register_format`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._guard import check_input_kind
from .._hdf5 import is_hdf5
from .._logging import logger, warn
from ..exceptions import FormatError, SfoneWarning
from ._hdf5_probe import probe_hdf5

__all__ = ["FormatInfo", "register_format", "get_format", "list_formats", "detect_format"]

ENTRY_POINT_GROUP = "sfone.loaders"
_BUILTIN_PACKAGES = ("sfone.io", "sfone.io.imaging", "sfone.io.photometry",
                     "sfone.io.calorimetry", "sfone.io.events")


def _resolve(ref):
    """A callable, or the object a ``"module:function"`` string names (imported on first use)."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class FormatInfo:
    """Everything the registry knows about one format.

    Attributes
    ----------
    name : str
        Short unique name (``"suite2p"``); ``read(path, format=name)`` selects it.
    modality : str
        ``"imaging"``, ``"photometry"``, ``"calorimetry"`` or ``"events"``.
    reader : callable or str
        ``read_<name>(path, *, ...)`` returning a contract-valid :class:`xarray.Dataset`, or
        its ``"module:function"`` name (imported on first use; see :meth:`read_function`).
    sniff : callable or str
        ``sniff(path) -> bool``; cheap (reads at most a few kB) and never raises; or its
        ``"module:function"`` name.
    suffixes : tuple of str
        Lower-case file-name endings (``".csv"``, ``".ppd"``); for folders, ``()`` or ``(".zarr",)``.
    description : str
        One line shown by ``sfone formats``.
    directory : bool
        The format is a folder (suite2p output, TDT block, zarr store).
    generic : bool
        A catch-all (generic CSV): used only when no specific format claims the file.
    extra : str or None
        The pip extra the reader needs (``pip install 'sfone[extra]'``).
    requires : tuple of str
        Importable module names the reader needs; availability is checked with ``find_spec``.
    hints : dict
        File-name ending -> advice shown when such a file cannot be read directly.
    lazy : bool
        The reader takes ``chunks=`` and then returns dask arrays over the file without reading
        the data (:func:`sfone.read` and cohorts pass it; other formats are read, then chunked).
    multi_file : bool
        The reader takes a list of files of this format and returns one Dataset (CLAMS per-cage
        exports); :func:`sfone.read` then accepts a list of paths.
    options : dict or str
        Reader keywords worth offering on a command line, name -> one-line help (with units),
        e.g. ``{"leds": "LEDs interleaved ... (nm)"}``; or its ``"module:NAME"`` (imported on
        first use; see :meth:`reader_options`). Every keyword of the reader is accepted by
        :func:`sfone.read` whether listed here or not.
    """

    name: str
    modality: str
    reader: Callable | str
    sniff: Callable[[Path], bool] | str
    suffixes: tuple[str, ...] = ()
    directory: bool = False
    generic: bool = False
    extra: str | None = None
    requires: tuple[str, ...] = ()
    description: str = ""
    hints: dict = field(default_factory=dict)
    lazy: bool = False
    multi_file: bool = False
    options: dict | str = field(default_factory=dict)

    def read_function(self) -> Callable:
        """The reader (imports its module the first time).

        Returns
        -------
        callable
            ``read_<name>(path, *, ...) -> xarray.Dataset``.
        """
        return _resolve(self.reader)

    def reader_options(self) -> dict:
        """The documented reader keywords of :attr:`options` (imports their module if named).

        Returns
        -------
        dict
            Keyword name -> one-line help.
        """
        return dict(_resolve(self.options))

    @property
    def available(self) -> bool:
        """Whether every module in :attr:`requires` is importable (checked with ``find_spec``)."""
        return all(importlib.util.find_spec(mod) is not None for mod in self.requires)

    def matches_suffix(self, path: Path) -> bool:
        """Whether the file name of ``path`` ends with one of :attr:`suffixes` (case-insensitive).

        Parameters
        ----------
        path : pathlib.Path
            File or folder whose name is compared.

        Returns
        -------
        bool
        """
        name = path.name.lower()
        return any(name.endswith(suffix) for suffix in self.suffixes)

    def safe_sniff(self, path: Path) -> bool:
        """Run the sniffer on ``path``; an exception counts as no match (logged at debug level).

        Parameters
        ----------
        path : pathlib.Path
            File or folder to test.

        Returns
        -------
        bool
            True when the format claims ``path``.
        """
        try:
            return bool(_resolve(self.sniff)(path))
        except Exception as exc:  # a sniffer must never break detection
            logger.debug("sniffer of %s failed on %s: %r", self.name, path, exc)
            return False


_REGISTRY: dict[str, FormatInfo] = {}
_DISCOVERED = False


def register_format(info: FormatInfo) -> FormatInfo:
    """Add a format to the registry (a duplicate name warns and keeps the first).

    Parameters
    ----------
    info : FormatInfo
        The format to add.

    Returns
    -------
    FormatInfo
        The registered entry: ``info``, or the earlier one of the same name.
    """
    if info.name in _REGISTRY and _REGISTRY[info.name].reader != info.reader:
        first = _REGISTRY[info.name].reader
        warn(f"format {info.name!r} is registered twice; keeping the first "
             f"({first if isinstance(first, str) else first.__module__})", SfoneWarning)
        return _REGISTRY[info.name]
    _REGISTRY[info.name] = info
    return info


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for package_name in _BUILTIN_PACKAGES:
        for info in importlib.import_module(package_name).FORMATS:
            register_format(info)
    from .._plugins import load_entry_points

    for _, obj in load_entry_points(ENTRY_POINT_GROUP, "loader"):
        if isinstance(obj, FormatInfo):  # else a module that registered its formats on import
            register_format(obj)


def list_formats() -> list[FormatInfo]:
    """Every registered format, sorted by modality then name.

    Returns
    -------
    list of FormatInfo
        Built-in formats and those of ``sfone.loaders`` entry points.
    """
    _discover()
    return sorted(_REGISTRY.values(), key=lambda f: (f.modality, f.name))


def get_format(name: str) -> FormatInfo:
    """The :class:`FormatInfo` called ``name``.

    Parameters
    ----------
    name : str
        Format name, e.g. ``"suite2p"`` (see ``sfone formats``).

    Returns
    -------
    FormatInfo

    Raises
    ------
    FormatError
        If no format has that name (the message lists the known names).
    """
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise FormatError(f"unknown format {name!r}; known formats: {known}") from None


def _closest_text(path: Path, candidates: list[FormatInfo]) -> str:
    """One line: the formats that take this suffix (or the file's hint), then ``sfone formats``."""
    name = path.name.lower()
    for info in list_formats():
        for ending, hint in info.hints.items():
            if name.endswith(ending):
                return f"{hint}; see `sfone formats`"
    if candidates:
        names = ", ".join(f.name for f in candidates)  # every one: the user picks from them
        what = "folder formats" if path.is_dir() else f"formats for {path.suffix or 'this name'}"
        return f"{what}: {names}; pass format=<name> or see `sfone formats`"
    return f"no format reads {path.suffix or 'such'} files; see `sfone formats`"


def detect_format(path) -> FormatInfo:
    """Find the format of ``path``: suffix candidates first, then a content sniff.

    Parameters
    ----------
    path : str or os.PathLike
        File or folder to identify.

    Returns
    -------
    FormatInfo
        The one format whose sniffer claims ``path``; a specific format wins over a generic one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        When no format, or more than one, claims it (naming the file, the candidate formats and a
        hint), or ``path`` is a FIFO, device or socket.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file or directory: '{path}'")
    check_input_kind(path)  # a FIFO or device would block or never end in the sniffers
    if path.is_file() and is_hdf5(path):
        probe_hdf5(path)  # the sniffers open HDF5 files: a corrupted one can crash the library
    formats = [f for f in list_formats() if f.directory == path.is_dir()]
    by_suffix = [f for f in formats if f.matches_suffix(path)]
    no_suffix = [f for f in formats if not f.suffixes]
    for candidates in (by_suffix + no_suffix, formats):
        specific = [f for f in candidates if not f.generic and f.safe_sniff(path)]
        if len(specific) > 1:
            names = ", ".join(f.name for f in specific)
            raise FormatError(f"ambiguous file: it looks like each of {names}. "
                              "Pass format=<name> to choose.", path=path)
        if specific:
            return specific[0]
        generic = [f for f in candidates if f.generic and f.safe_sniff(path)]
        if len(generic) == 1:
            return generic[0]
        if len(generic) > 1:
            names = ", ".join(f.name for f in generic)
            raise FormatError(f"ambiguous file: it could be read as {names}. "
                              "Pass format=<name> to choose.", path=path)
    kind = "folder" if path.is_dir() else "file"
    raise FormatError(f"unrecognised {kind}: no known format matches its content "
                      f"({_closest_text(path, formats if path.is_dir() else by_suffix)})", path=path)


def check_reader_options(info: FormatInfo, options: dict) -> None:
    """Reject options the reader does not take, naming the ones it does."""
    params = inspect.signature(info.read_function()).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"read_{info.name.replace('-', '_')}() got unknown option(s) "
                        f"{', '.join(unknown)}; it accepts: {', '.join(accepted) or 'none'}")

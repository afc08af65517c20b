"""Cohorts: a manifest of sessions (CSV or YAML) opened lazily, indexed by subject and session.

Manifest columns (CSV header or YAML list of mappings under ``sessions:``):

``path`` (required)
    Recording file or folder, relative to the manifest's folder unless absolute.
``subject``, ``session`` (required)
    Identifiers; each (subject, session) pair appears once. They name output files, so they may
    not contain ``/``, ``\\``, control characters, or be ``.`` or ``..``.
``group``, ``day`` (optional)
    Experimental group and training day.
``runs``, ``classification_protocol`` (optional)
    Run-epochs CSV (``start_s,end_s``) and a classification protocol YAML for that session
    (batch tasks ``classify`` and ``dff``).
``calr_session`` (optional)
    CalR session file (groups, diets, window, light schedule; batch task
    ``calorimetry-summary``).
``format`` (optional)
    Format name, when detection should be skipped.
``fs``, ``repair``, ``leds``, ``neuropil_coefficient``, ``plane``, ``cells_only`` (optional)
    Reading options of the session, with the meaning of the command line's ``--fs`` ...
    ``--cells-only`` (:data:`sfone.io._reading_options.READING_OPTIONS`).
``time_limit_s`` (optional)
    Time limit of the session in a batch run, in s (a number > 0); without it the batch's
    limit applies (``sfone batch --time-limit``, default 3600 s).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from ._guard import check_input_kind, load_yaml
from .exceptions import FormatError
from .io._reading_options import READING_OPTIONS, parse_reading_options, read_with_options

__all__ = ["Session", "load_manifest", "open_cohort", "Cohort", "lazy_formats"]

REQUIRED_COLUMNS = ("path", "subject", "session")
OPTIONAL_COLUMNS = ("group", "day", "runs", "classification_protocol", "calr_session",
                    *READING_OPTIONS, "time_limit_s")
PATH_COLUMNS = ("path", "runs", "classification_protocol", "calr_session")
# columns of older manifests: what each one became
RENAMED_COLUMNS = {
    "protocol": "column 'protocol' was split by what it names: 'classification_protocol' (a "
                "classification protocol YAML; tasks classify and dff) or 'calr_session' (a "
                "CalR session file; task calorimetry-summary); rename it in the header",
}


@dataclass(frozen=True)
class Session:
    """One row of a manifest, with paths resolved.

    Parameters
    ----------
    path : pathlib.Path
        Recording file or folder (absolute, resolved against the manifest's folder).
    subject : str
        Subject identifier.
    session : str
        Session identifier; ``(subject, session)`` is unique within a manifest.
    group : str or None, default None
        Experimental group.
    day : str or None, default None
        Training day, as written in the manifest.
    runs : pathlib.Path or None, default None
        Run-epochs CSV (``start_s,end_s``) of the session.
    classification_protocol : pathlib.Path or None, default None
        Classification protocol YAML of the session (tasks ``classify`` and ``dff``).
    calr_session : pathlib.Path or None, default None
        CalR session file of the session (task ``calorimetry-summary``).
    format : str or None, default None
        Format name for :func:`sfone.read`; ``None`` detects the format from the file.
    fs, repair, leds, neuropil_coefficient, plane, cells_only : optional
        The other reading options (:data:`sfone.io._reading_options.READING_OPTIONS`); None:
        not given.
    time_limit_s : float or None, default None
        Time limit of the session in a batch run, in s; ``None``: the batch's limit.
    """

    path: Path
    subject: str
    session: str
    group: str | None = None
    day: str | None = None
    runs: Path | None = None
    classification_protocol: Path | None = None
    calr_session: Path | None = None
    format: str | None = None
    fs: float | None = None
    repair: str | None = None
    leds: tuple | None = None
    neuropil_coefficient: float | None = None
    plane: int | None = None
    cells_only: bool | None = None

    @property
    def reading_options(self) -> dict:
        """The reading options given for this session (keywords of ``read_with_options``)."""
        return {n: getattr(self, n) for n in READING_OPTIONS if getattr(self, n) is not None}
    time_limit_s: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The ``(subject, session)`` pair that identifies the session in a :class:`Cohort`."""
        return (self.subject, self.session)


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in {".yaml", ".yml"}:
        # plain data only (a !!python/... tag is an error, never run), within size, depth and
        # alias budgets
        data = load_yaml(path, what="YAML manifest")
        rows = data.get("sessions") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise FormatError("expected a YAML list of sessions (or a mapping with 'sessions:')",
                              path=path)
        return pd.DataFrame(rows, dtype=object)
    return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)


def _optional(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _check_name(value: str, column: str, line: int, path: Path) -> None:
    """Subject and session names become output file names: no path separators or ``..``."""
    bad = [c for c in ("/", "\\") if c in value]
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        bad.append("a control character")
    if bad or value in {".", ".."}:
        found = ", ".join(repr(c) if len(c) == 1 else c for c in bad) or repr(value)
        raise FormatError(f"row {line}: {column} {value!r} contains {found}; subject and "
                          "session names become output file names and must not contain path "
                          "separators or control characters, nor be '.' or '..'", path=path)


def _time_limit(text: str, line: int, path: Path) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value <= 0:
        raise FormatError(f"row {line}: time_limit_s {text!r} is not a number of seconds "
                          "greater than 0", path=path)
    return value


def load_manifest(path) -> list[Session]:
    """Read and check a cohort manifest; paths are resolved against its folder.

    Parameters
    ----------
    path : str or os.PathLike
        Manifest file: a CSV with a header row, or a YAML list of mappings (optionally under
        ``sessions:``). The columns are described in the module docstring of :mod:`sfone.cohort`.

    Returns
    -------
    list of Session
        One :class:`Session` per row, in file order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        If the YAML is invalid, a required column is missing or empty, a column is unknown, a
        subject or session name is not a safe file name, a ``(subject, session)`` pair repeats, or
        the manifest lists no sessions (the message names the row).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file or directory: '{path}'")
    check_input_kind(path)  # a FIFO or /dev/zero would block or never end
    table = _read_table(path)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise FormatError(f"manifest lacks column(s) {', '.join(missing)}; found "
                          f"{', '.join(table.columns)}", path=path)
    for old, message in RENAMED_COLUMNS.items():
        if old in table.columns:
            raise FormatError(message, path=path)
    unknown = sorted(set(table.columns) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS))
    if unknown:
        raise FormatError(f"unknown manifest column(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}", path=path)
    base = path.parent
    sessions, seen = [], {}
    for index, row in enumerate(table.to_dict("records")):
        line = index + 2 if path.suffix.lower() == ".csv" else index + 1
        values = {c: _optional(row.get(c)) for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        for column in REQUIRED_COLUMNS:
            if values[column] is None:
                raise FormatError(f"row {line}: empty {column!r}", path=path)
        for column in ("subject", "session"):
            _check_name(values[column], column, line, path)
        if values["time_limit_s"] is not None:
            values["time_limit_s"] = _time_limit(values["time_limit_s"], line, path)
        for column in PATH_COLUMNS:
            if values[column] is not None:
                values[column] = (base / values[column]).resolve()
        try:
            values.update(parse_reading_options(values, where=f"row {line}"))
        except FormatError as exc:
            raise FormatError(str(exc), path=path) from None
        session = Session(**values)
        if session.key in seen:
            raise FormatError(f"row {line}: subject {session.subject!r} session "
                              f"{session.session!r} already listed at row {seen[session.key]}",
                              path=path)
        seen[session.key] = line
        sessions.append(session)
    if not sessions:
        raise FormatError("manifest lists no sessions", path=path)
    return sessions


def _open_lazily(session: Session, chunks) -> xr.Dataset:
    """The session read with ``chunks`` (see :func:`sfone.read`: lazy formats build dask arrays
    over the file; the others are parsed, then chunked)."""
    return read_with_options(session.path, chunks=chunks, **session.reading_options)


def lazy_formats() -> list[str]:
    """Names of the formats whose readers open files without reading the data (``chunks=``).

    Returns
    -------
    list of str
        Format names, as accepted by ``sfone.read(..., format=...)``.
    """
    from .io import list_formats

    return [f.name for f in list_formats() if f.lazy]


class Cohort(Mapping):
    """Sessions of a cohort keyed by ``(subject, session)``; each opened on first access.

    With ``chunks`` (default ``"auto"``) every session comes back dask-backed. Formats in
    :func:`lazy_formats` (suite2p, CaImAn, Inscopix ``.isxd``, NWB, sfone netCDF/zarr) are
    opened without reading their traces: dask arrays over the files, read when computed. The
    other formats (text exports, photometry and calorimetry files: a few MB per session) are
    parsed on first access and then chunked. ``chunks=None`` gives plain in-memory Datasets.

    Parameters
    ----------
    sessions : list of Session
        The sessions, e.g. from :func:`load_manifest`.
    chunks : "auto", int, tuple, dict or None, default "auto"
        Dask chunks of each opened Dataset (as in :meth:`xarray.Dataset.chunk`); a tuple gives the
        sizes along ``(roi, time)``; dimensions a Dataset lacks are ignored. ``None`` reads eagerly.

    Notes
    -----
    Indexing with ``(subject, session)`` returns the session's :class:`xarray.Dataset`, with
    ``subject``, ``session`` (and ``group`` when known) added to its attrs.
    """

    def __init__(self, sessions: list[Session], *, chunks="auto"):
        self.sessions = {s.key: s for s in sessions}
        self.chunks = chunks
        self._opened: dict[tuple[str, str], xr.Dataset] = {}

    def __getitem__(self, key: tuple[str, str]) -> xr.Dataset:
        if key not in self._opened:
            ds = _open_lazily(self.sessions[key], self.chunks)
            session = self.sessions[key]
            ds.attrs.update({"subject": session.subject, "session": session.session})
            if session.group is not None:
                ds.attrs["group"] = session.group
            self._opened[key] = ds
        return self._opened[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.sessions)

    def __len__(self) -> int:
        return len(self.sessions)

    def table(self) -> pd.DataFrame:
        """The manifest as a DataFrame (one row per session).

        Returns
        -------
        pandas.DataFrame
            One column per :class:`Session` field (``path``, ``subject``, ``session``,
            ``group``, ...); one row per session.
        """
        return pd.DataFrame([s.__dict__ for s in self.sessions.values()])


def open_cohort(manifest, *, chunks="auto") -> Cohort:
    """Open every session of ``manifest`` lazily (see :class:`Cohort`).

    Parameters
    ----------
    manifest : str, os.PathLike or list of Session
        A manifest file (read with :func:`load_manifest`) or sessions already read.
    chunks : "auto", int, tuple, dict or None, default "auto"
        Dask chunks of each session's Dataset; ``None`` opens in-memory Datasets (see
        :class:`Cohort`).

    Returns
    -------
    Cohort
        A mapping ``(subject, session) -> xarray.Dataset``; nothing is read until a session is
        accessed.
    """
    sessions = manifest if isinstance(manifest, list) else load_manifest(manifest)
    return Cohort(sessions, chunks=chunks)


def combine_per_roi(results: Mapping[tuple[str, str], xr.Dataset]) -> xr.Dataset:
    """Concatenate per-ROI results (1-D over ``roi``) of many sessions along ``unit``.

    Each unit keeps ``subject``, ``session``, ``roi`` (and any other per-ROI coordinate) as
    coordinates, so a cohort's labels form one table (``.to_dataframe()``).

    Parameters
    ----------
    results : Mapping of (str, str) to xarray.Dataset
        ``(subject, session) -> Dataset`` whose variables are all 1-D over ``roi``.

    Returns
    -------
    xarray.Dataset
        The variables of ``results`` over a new dimension ``unit`` (sessions in the mapping's
        order), with coordinates ``subject``, ``session``, ``roi`` and the sessions' other
        coordinates; each variable keeps the attrs (units) of the first session.

    Raises
    ------
    ValueError
        If a session's result has a variable that is not 1-D over ``roi``, or ``results`` is empty.
    """
    frames, coord_names = [], {"subject", "session", "roi"}
    for (subject, session), ds in results.items():
        not_per_roi = [name for name, var in ds.variables.items() if var.dims != ("roi",)]
        if not_per_roi:
            raise ValueError(f"result of {subject}/{session}: {', '.join(map(str, not_per_roi))} "
                             "are not 1-D over 'roi'")
        coord_names |= {str(c) for c in ds.coords}
        frame = ds.to_dataframe().reset_index()
        frame.insert(0, "session", session)
        frame.insert(0, "subject", subject)
        frames.append(frame)
    if not frames:
        raise ValueError("no per-session results to combine")
    table = pd.concat(frames, ignore_index=True).rename_axis("unit")
    combined = xr.Dataset.from_dataframe(table)
    combined = combined.set_coords([c for c in coord_names if c in combined.variables])
    first = next(iter(results.values()))
    for name in first.variables:
        if name in combined.variables:
            combined[name].attrs = dict(first[name].attrs)
    return combined

"""A study file (``study.yaml``): every input of ``sfone reproduce`` named in one place.

A lab describes its own recordings in one YAML file; paths are relative to the file's folder.
Which figures are made follows from the sections present (imaging -> figures 1-4 and 11, Bdnf
counts -> 5, stress test -> 6-7, endurance -> 8, glucose -> 9, calorimetry -> 10, photometry ->
12-13); the report numbers the figures made 1..N and names each one's number in the full
reproduction (the sample study, which makes them all)::

    name: my study
    imaging:
      protocol: classification.yaml       # a YAML path or a shipped protocol name
      compare: [day1, day8]               # the two days compared (default: the two days listed)
      sessions:
        - {path: m1_d1/suite2p, subject: m1, day: day1, group: trained, runs: m1_d1_runs.csv}
        - {path: m1_d8.nwb, subject: m1, day: day8, ttl: {path: m1_d8_ttl.csv, variable: ttl}}
        - {path: m2_d1/suite2p, subject: m2, day: day1, runs: m2_d1_runs.csv, fs: 15.0,
           cells_only: true, neuropil_coefficient: 0.7}
    photometry:
      protocol: classification            # windows and rule of the post-run label
      by: group                           # compare groups (default) or days
      compare: [control, trained]
      sessions:
        - {path: m1.ppd, subject: m1, day: day1, group: control, signal: analog_1,
           control: analog_2, method: signal-only, runs: m1_runs.csv}
    stress_test:
      protocol: stress_test
      groups: [control, silenced]
      sessions: [{path: c1.csv, subject: c1, group: control}]
    calorimetry: {files: [cages.csv], session: calr_session.csv, repair: decimal}
    tables: {bdnf_counts: bdnf.csv, endurance: endurance.csv, glucose: glucose.csv}

Every session (imaging, photometry, stress test) takes the reading options of a manifest row
and of the command line, with one meaning everywhere
(:class:`sfone.io._session_reading.SessionReading`): ``format``, ``fs`` (Hz, for files that do
not store it, e.g. suite2p without ``ops.npy``), ``repair``, ``leds``, ``neuropil_coefficient``
(default: the file's; a file with neuropil traces and none gets 0.7 with a warning naming it),
``plane`` and ``cells_only``. A reading option the file's reader does not take is an error
before any computation. The same recording (same sha256) listed twice is refused unless the
later entry sets ``duplicate_ok: true``. Sessions of different acquisition systems are combined
on the per-ROI coordinates they share (a warning names what is dropped).

:func:`load_study` validates the structure with pydantic (errors give the field path, e.g.
``imaging.sessions[3].day``) and :func:`check_study` checks, before any computation, that every
file exists, that entries are consistent (one session per subject and day, groups known, table
columns present, reading options the readers take) and names the entry that is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .._guard import load_yaml, special_kind
from ..exceptions import SfoneError
from ..io._session_reading import SessionReading

__all__ = ["Study", "StudyError", "load_study", "parse_study", "check_study", "figures_for"]


class StudyError(SfoneError, ValueError):
    """A study file is malformed or names inputs that are missing or inconsistent."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalRuns(_Model):
    """Run epochs from a TTL line or a treadmill speed trace stored in a readable file."""

    path: Path
    variable: str
    threshold: float | None = None
    min_duration_s: float = Field(default=10.0, ge=0.0)


class _Recording(SessionReading):
    """A recording of one mouse on one day, with its reading options (:class:`SessionReading`:
    ``format``, ``fs``, ``repair``, ``leds``, ``neuropil_coefficient``, ``plane``,
    ``cells_only``) and ``duplicate_ok`` (the same file is listed elsewhere on purpose)."""

    path: Path
    subject: str = Field(min_length=1)
    day: str = Field(min_length=1)
    group: str | None = None
    duplicate_ok: bool = False
    runs: Path | None = None
    ttl: SignalRuns | None = None
    speed: SignalRuns | None = None

    @property
    def label(self) -> str:
        return f"{self.subject}/{self.day}"

    def _one_runs_source(self, required: bool):
        given = [name for name in ("runs", "ttl", "speed") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one run source, got {' and '.join(given)}")
        if required and not given:
            raise ValueError("needs a run source: runs (a runs CSV), ttl or speed")
        return self


class ImagingSession(_Recording):
    """One imaging session; ``footprints`` optionally names a file used for ROI tracking."""

    protocol: str | None = None
    footprints: Path | None = None

    @model_validator(mode="after")
    def _runs(self):
        return self._one_runs_source(required=True)


class PhotometrySession(_Recording):
    """One photometry session: ``signal`` and ``control`` name the file's channels; ``method``
    is the dF/F control fit of ``sfone photometry dff`` (``signal-only`` for a control that is
    not isosbestic, such as tdTomato)."""

    signal: str = Field(min_length=1)
    control: str | None = None
    method: Literal["irls", "ols", "signal-only"] = "irls"

    @model_validator(mode="after")
    def _runs(self):
        if self.control is None and self.method != "signal-only":
            raise ValueError(f"method {self.method!r} fits a control channel: give control "
                             "(the channel's name) or method: signal-only")
        return self._one_runs_source(required=True)


class Imaging(_Model):
    protocol: str = "classification"
    compare: tuple[str, str] | None = None
    sessions: list[ImagingSession] = Field(min_length=1)


class Photometry(_Model):
    """Photometry sessions, classified like imaging ROIs (one per session's signal channel),
    compared between two values of ``by`` (default ``group`` when the sessions name two or
    more groups, else ``day``)."""

    protocol: str = "classification"
    by: Literal["group", "day"] | None = None
    compare: tuple[str, str] | None = None
    sessions: list[PhotometrySession] = Field(min_length=1)

    @property
    def grouping(self) -> str:
        """The session field the figures compare: ``by``, else ``group`` or ``day``."""
        if self.by is not None:
            return self.by
        groups = {s.group for s in self.sessions}
        return "group" if None not in groups and len(groups) >= 2 else "day"

    @property
    def levels(self) -> tuple[str, ...]:
        """The values of :attr:`grouping` shown, in order: ``compare`` first, then the rest."""
        present = list(dict.fromkeys(str(getattr(s, self.grouping)) for s in self.sessions))
        first = [c for c in (self.compare or ()) if c in present]
        return tuple(first + [p for p in present if p not in first])


class StressSession(SessionReading):
    path: Path
    subject: str = Field(min_length=1)
    group: str = Field(min_length=1)
    duplicate_ok: bool = False


class StressTest(_Model):
    protocol: str = "stress_test"
    groups: tuple[str, str] | None = None
    sessions: list[StressSession] = Field(min_length=2)


class Calorimetry(_Model):
    files: list[Path] = Field(min_length=1)
    session: Path
    repair: Literal["decimal"] | None = None


class Tables(_Model):
    bdnf_counts: Path | None = None
    endurance: Path | None = None
    glucose: Path | None = None


class Study(_Model):
    """The validated content of a study file; paths are resolved against ``root``.

    Parameters
    ----------
    name : str, default "study"
        Study name.
    description : str, default ""
        Free text.
    root : pathlib.Path, default Path(".")
        Folder of the study file; relative paths are resolved against it.
    imaging : Imaging, optional
        Imaging sessions and their classification protocol (figures 1-4, 11).
    photometry : Photometry, optional
        Photometry sessions, their classification protocol and the comparison (figures 12-13).
    stress_test : StressTest, optional
        Treadmill stress-test sessions and protocol (figures 6-7).
    calorimetry : Calorimetry, optional
        Metabolic-cage files and CalR session (figure 10).
    tables : Tables, default Tables()
        Bdnf counts, endurance and glucose tables (figures 5, 8, 9).
    """

    name: str = "study"
    description: str = ""
    root: Path = Path(".")
    imaging: Imaging | None = None
    photometry: Photometry | None = None
    stress_test: StressTest | None = None
    calorimetry: Calorimetry | None = None
    tables: Tables = Tables()

    def resolve(self, path) -> Path:
        """``path`` against the study's folder (absolute paths unchanged).

        Parameters
        ----------
        path : str, os.PathLike or None
            A path from the study file.

        Returns
        -------
        pathlib.Path or None
            The resolved path (None for None).
        """
        return (self.root / Path(path)).resolve() if path is not None else None

    @property
    def days(self) -> tuple[str, str]:
        """The two imaging days compared."""
        if self.imaging.compare is not None:
            return self.imaging.compare
        return tuple(dict.fromkeys(s.day for s in self.imaging.sessions))[:2]


#: table -> (columns it needs, the figure it feeds)
TABLE_COLUMNS = {
    "bdnf_counts": (("subject", "condition", "region", "n_sf1", "n_bdnf_sf1"), 5),
    "endurance": (("subject", "group", "day", "distance_m"), 8),
    "glucose": (("subject", "group", "time_min", "glucose_mg_dl"), 9),
}


def _field_path(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def parse_study(data, *, source="<dict>", root=None) -> Study:
    """Validate a study given as a mapping (as loaded from YAML; structure only).

    Parameters
    ----------
    data : dict
        The study's fields (``name``, ``imaging``, ``stress_test``, ...).
    source : str, default "<dict>"
        Name used in the messages (the study file).
    root : str or os.PathLike, optional
        Folder relative paths are resolved against; default the working directory.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        If ``data`` is not a mapping, sets ``root``, or breaks the study structure (naming the
        field path).
    """
    if not isinstance(data, dict):
        raise StudyError(f"{source}: expected a mapping (name, imaging, stress_test, ...), got "
                         f"{type(data).__name__}")
    if "root" in data:
        raise StudyError(f"{source}: 'root' is not a study field (paths are relative to the "
                         "study file's folder)")
    try:
        return Study.model_validate({**data, "root": Path(root or ".")})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            found = err.get("input")
            found_text = "" if isinstance(found, dict | list) else f" (found {found!r})"
            lines.append(f"{_field_path(err['loc'])}: {err['msg']}{found_text}")
        raise StudyError(f"{source}: invalid study file:\n  - " + "\n  - ".join(lines)) from None


def load_study(path) -> Study:
    """Read and validate ``study.yaml`` (structure only; see :func:`check_study`).

    Parameters
    ----------
    path : str or os.PathLike
        The study YAML.

    Returns
    -------
    Study
        With ``root`` the file's folder.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    StudyError
        If the YAML is invalid or breaks the study structure (naming the field path).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such study file: '{path}'")
    data = load_yaml(path, error=StudyError, what="study file")
    return parse_study(data, source=path, root=path.parent.resolve())


def figures_for(study: Study) -> list[int]:
    """The figure numbers the study's inputs allow, in order.

    Parameters
    ----------
    study : Study
        The study.

    Returns
    -------
    list of int
        Imaging -> 1-4 and 11, Bdnf counts -> 5, stress test -> 6-7, endurance -> 8, glucose
        -> 9, calorimetry -> 10, photometry -> 12-13.
    """
    numbers = []
    if study.imaging is not None:
        numbers += [1, 2, 3, 4, 11]  # 11 only when a mouse can be tracked (footprints)
    if study.photometry is not None:
        numbers += [12, 13]
    if study.tables.bdnf_counts is not None:
        numbers.append(5)
    if study.stress_test is not None:
        numbers += [6, 7]
    if study.tables.endurance is not None:
        numbers.append(8)
    if study.tables.glucose is not None:
        numbers.append(9)
    if study.calorimetry is not None:
        numbers.append(10)
    return sorted(numbers)


def _csv_header(path: Path) -> list[str]:
    from ..io._text import csv_header

    return csv_header(path) or []  # a line that is no CSV header is never quoted back


def _reading_problems(study: Study, where: str, entry) -> list[str]:
    """A session's reading options against its file's reader (format detected, not read)."""
    from ..exceptions import FormatError
    from ..io import detect_format, get_format
    from ..io._registry import check_reader_options
    from ..io._session_reading import READ_KEYWORDS, read_keywords

    keywords, _ = read_keywords(entry)
    name = keywords.pop("format", None)
    path = study.resolve(entry.path)
    if not path.exists():
        return []  # reported as a missing file
    try:
        info = get_format(name) if name else detect_format(path)
    except FormatError as exc:
        return [f"{where}: {exc}" + ("" if name else "; set format: for the session")]
    try:
        check_reader_options(info, keywords)
    except TypeError:
        fields = {kw: field for field, kw in READ_KEYWORDS.items()}
        given = ", ".join(fields.get(k, k) for k in keywords)
        return [f"{where}: {given} given, but {path.name} is read as format {info.name!r}, "
                "whose reader does not take it; remove the field or set format:"]
    return []


def _entry_problems(study: Study) -> list[str]:
    problems = []

    def need(where: str, path, what: str = "file", folder_ok: bool = True) -> None:
        if path is None:
            return
        resolved = study.resolve(path)
        if not resolved.exists() or (not folder_ok and resolved.is_dir()):
            problems.append(f"{where}: {what} '{path}' not found (looked for {resolved})")
        elif special_kind(resolved):  # a FIFO would block the run, a device never end
            problems.append(f"{where}: {what} '{path}' is a {special_kind(resolved)}, not a file")

    def protocol(where: str, name) -> None:
        from ..protocols import protocol_path

        candidate = study.resolve(name)
        if candidate.exists():
            return
        try:
            protocol_path(name)
        except FileNotFoundError as exc:
            problems.append(f"{where}: {exc}")

    if study.imaging is not None:
        protocol("imaging.protocol", study.imaging.protocol)
        seen: dict[tuple[str, str], int] = {}
        for i, s in enumerate(study.imaging.sessions):
            where = f"imaging.sessions[{i}] ({s.label})"
            need(where, s.path, "recording")
            problems += _reading_problems(study, where, s)
            need(where, s.runs, "runs file", folder_ok=False)
            need(where, s.footprints, "footprints file")
            for name in ("ttl", "speed"):
                source = getattr(s, name)
                if source is not None:
                    need(f"{where}.{name}", source.path, f"{name} file", folder_ok=False)
            if s.protocol is not None:
                protocol(f"{where}.protocol", s.protocol)
            if (s.subject, s.day) in seen:
                problems.append(f"{where}: subject {s.subject!r} day {s.day!r} is already "
                                f"listed at imaging.sessions[{seen[s.subject, s.day]}]")
            seen.setdefault((s.subject, s.day), i)
        days = list(dict.fromkeys(s.day for s in study.imaging.sessions))
        if study.imaging.compare is None and len(days) != 2:
            problems.append(f"imaging: figures 1-4 compare two days; the sessions have "
                            f"{len(days)} ({', '.join(days)}): list two in imaging.compare")
        compare = study.days if len(days) >= 2 or study.imaging.compare else ()
        for day in compare:
            if day not in days:
                problems.append(f"imaging.compare: no session on day {day!r}; session days are "
                                f"{', '.join(days)}")
    if study.photometry is not None:
        ph = study.photometry
        protocol("photometry.protocol", ph.protocol)
        seen = {}
        for i, s in enumerate(ph.sessions):
            where = f"photometry.sessions[{i}] ({s.label})"
            need(where, s.path, "recording")
            need(where, s.runs, "runs file", folder_ok=False)
            for name in ("ttl", "speed"):
                source = getattr(s, name)
                if source is not None:
                    need(f"{where}.{name}", source.path, f"{name} file", folder_ok=False)
            problems += _reading_problems(study, where, s)
            if (s.subject, s.day) in seen:
                problems.append(f"{where}: subject {s.subject!r} day {s.day!r} is already "
                                f"listed at photometry.sessions[{seen[s.subject, s.day]}]")
            seen.setdefault((s.subject, s.day), i)
            if ph.grouping == "group" and s.group is None:
                problems.append(f"{where}: no group, but photometry.by is 'group'")
        present = {str(getattr(s, ph.grouping)) for s in ph.sessions}
        for value in ph.compare or ():
            if value not in present:
                problems.append(f"photometry.compare: no session with {ph.grouping} {value!r}; "
                                f"the sessions have {', '.join(sorted(present))}")
    if study.stress_test is not None:
        st = study.stress_test
        protocol("stress_test.protocol", st.protocol)
        groups = list(dict.fromkeys(s.group for s in st.sessions))
        subjects: dict[str, int] = {}
        for i, s in enumerate(st.sessions):
            where = f"stress_test.sessions[{i}] ({s.subject})"
            need(where, s.path, "stress-test file", folder_ok=False)
            problems += _reading_problems(study, where, s)
            if st.groups is not None and s.group not in st.groups:
                problems.append(f"{where}: group {s.group!r} is not in stress_test.groups "
                                f"{list(st.groups)}")
            if s.subject in subjects:
                problems.append(f"{where}: subject {s.subject!r} is already listed at "
                                f"stress_test.sessions[{subjects[s.subject]}]")
            subjects.setdefault(s.subject, i)
        if st.groups is None and len(groups) != 2:
            problems.append(f"stress_test: figures 6-7 compare two groups; the sessions have "
                            f"{len(groups)} ({', '.join(groups)}): list two in stress_test.groups")
        for group in st.groups or ():
            if group not in groups:
                problems.append(f"stress_test.groups: no session of group {group!r}")
    if study.calorimetry is not None:
        for i, path in enumerate(study.calorimetry.files):
            need(f"calorimetry.files[{i}]", path, "calorimetry file")
        need("calorimetry.session", study.calorimetry.session, "CalR session file",
             folder_ok=False)
    for name, (columns, figure) in TABLE_COLUMNS.items():
        path = getattr(study.tables, name)
        if path is None:
            continue
        resolved = study.resolve(path)
        if not resolved.is_file():
            problems.append(f"tables.{name}: table '{path}' not found (looked for {resolved})")
            continue
        header = _csv_header(resolved)
        missing = [c for c in columns if c not in header]
        if missing:
            problems.append(f"tables.{name} ({path}): figure {figure} needs column(s) "
                            f"{', '.join(missing)}; found {', '.join(header) or 'none'}")
    return problems


def check_study(study: Study, *, source="study") -> Study:
    """Check, before any computation, that every entry's files exist and entries agree.

    Parameters
    ----------
    study : Study
        The study to check.
    source : str, default "study"
        Name used in the messages (the study file).

    Returns
    -------
    Study
        ``study`` itself.

    Raises
    ------
    StudyError
        Listing every problem, each naming its entry (or when the study lists no inputs).
    """
    if not figures_for(study):
        raise StudyError(f"{source}: the study lists no inputs (imaging, photometry, "
                         "stress_test, calorimetry or tables)")
    problems = _entry_problems(study)
    if problems:
        raise StudyError(f"{source}: {len(problems)} problem(s) before any computation:\n  - "
                         + "\n  - ".join(problems))
    return study

"""Library hints rewritten for the command line: a Python keyword becomes the flag of the
command that was run, the study field (``reproduce``) or a manifest column (``batch``).

:data:`RULES` is the whole table: a pattern of a library message and what it becomes. A hint
that has no command-line form says so in a parenthesis ``(in Python: ...)`` instead of
presenting Python syntax as an instruction. ``tests/test_cli_hints.py`` walks every library
message with a Python-keyword hint and checks that its rewrite names a flag that exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import click

from ..io._reading_options import READING_OPTIONS

#: how a hint without a command-line form ends: ``(in Python: ...; <this>)``
PYTHON_ONLY = "there is no command-line option for it"

# commands whose sessions come from a file: where a reading option lives instead of a flag
_FIELD_COMMANDS = {"reproduce": "field `{name}:` of the session in the study file",
                   "batch": "manifest column `{name}`"}


def _study_fields() -> set[str]:
    """Fields of a study's imaging session (the reading options it takes so far)."""
    import importlib

    for module in ("sfone.reproduce.study", "sfone.study"):
        try:
            study = importlib.import_module(module)
        except ImportError:
            continue
        session = getattr(study, "ImagingSession", None)
        if session is not None and hasattr(session, "model_fields"):
            return set(session.model_fields)
    return set()


def _field_hint(command, name: str) -> str | None:
    """Where a reading option lives for ``batch`` (column) and ``reproduce`` (study field)."""
    where = getattr(command, "name", "")
    if where == "reproduce" and name not in _study_fields():
        return None
    template = _FIELD_COMMANDS.get(where)
    return template.format(name=name) if template else None


@dataclass(frozen=True)
class Rule:
    """One rewrite: ``pattern`` in a library message becomes ``replace(match, command)``.

    Parameters
    ----------
    pattern : str
        Regular expression matched in the message.
    replace : callable
        ``(match, command) -> str``, the CLI wording for the running click command.
    """

    pattern: str
    replace: Callable[[re.Match, click.Command | None], str]


def command_flags(command: click.Command | None) -> set[str]:
    """Every option spelling of ``command`` (``--fs``, ``--cells-only``, ``--all-rois`` ...).

    Parameters
    ----------
    command : click.Command or None
        A sub-command.

    Returns
    -------
    set of str
        Its options' flags (primary and secondary spellings).
    """
    flags = set()
    for param in getattr(command, "params", ()):
        if isinstance(param, click.Option):
            flags.update(param.opts)
            flags.update(param.secondary_opts)
    return flags


def _reading(name: str, value: str | None = None):
    """The hint for reading option ``name``: its flag, the study/manifest field, or convert."""
    option = READING_OPTIONS[name]

    def replace(match: re.Match, command) -> str:
        shown = value if value is not None else option.metavar
        flag = f"{option.flag} {shown}".strip()
        if option.flag in command_flags(command):
            return f"pass {flag}"
        field = _field_hint(command, name)
        if field:
            return "set the " + field
        return (f"convert it first with `sfone convert PATH --out OUT.nc {flag}` and pass "
                "OUT.nc")

    return replace


def _reading_named(match: re.Match, command) -> str:
    names = re.findall(r"'(\w+)'", match.group(1))
    spelled = []
    for name in names:
        option = READING_OPTIONS.get(name)
        if option is None:
            spelled.append(f"'{name}'")
        elif option.flag in command_flags(command):
            spelled.append(option.flag)
        elif _field_hint(command, name):
            spelled.append(f"`{name}`")
        else:
            spelled.append(option.flag)
    return ("option " if len(spelled) == 1 else "options ") + ", ".join(spelled)


def _all_rois(match: re.Match, command) -> str:
    if "--all-rois" in command_flags(command):
        return "--all-rois"
    return "`cells_only: false`"


def _leds(match: re.Match, command) -> str:
    first = ",".join(p.strip() for p in match.group(1).split(",") if p.strip())
    second = ",".join(p.strip() for p in match.group(3).split(",") if p.strip())
    hint = _reading("leds", first)(match, command)
    if READING_OPTIONS["leds"].flag in command_flags(command):
        return f"{hint}{match.group(2)}or {READING_OPTIONS['leds'].flag} {second}"
    return f"{hint}{match.group(2).rstrip()} ({second} alone for one LED)"


def _flag_or_python(flag: str, metavar: str, python: str):
    def replace(match: re.Match, command) -> str:
        if flag in command_flags(command):
            return f"pass {flag} {metavar}".rstrip()
        return f"(in Python: {python}; {PYTHON_ONLY})"

    return replace


def _python(text: str):
    def replace(match: re.Match, command) -> str:
        return f"(in Python: {text.format(*match.groups())}; {PYTHON_ONLY})"

    return replace


def _mask_flagged(match: re.Match, command) -> str:
    if "--mask-flagged" in command_flags(command):
        return "pass --mask-flagged to set them to NaN"
    return "`sfone calorimetry summary --mask-flagged` sets them to NaN"


def _method(match: re.Match, command) -> str:
    for param in getattr(command, "params", ()):
        if "--method" in getattr(param, "opts", ()) and "signal-only" in getattr(
                param.type, "choices", ()):
            return "--method signal-only"
    return "the signal-only method"


def _flag_named(name: str, value: str = ""):
    """The flag of reading option ``name`` (with ``value``), or the option's plain name."""
    option = READING_OPTIONS[name]

    def replace(match: re.Match, command) -> str:
        if option.flag in command_flags(command):
            return f"{option.flag} {value}".strip()
        return f"the reading option {name}" + (f" {value}" if value else "")

    return replace


def _nwb_flag(flag: str, cli: str, python: str):
    """``cli`` when the command has ``flag`` (``sfone convert`` to NWB), else the Python form."""
    def replace(match: re.Match, command) -> str:
        if flag in command_flags(command):
            return cli.format(*match.groups())
        return _python(python)(match, command)

    return replace


#: every rewrite, applied in order
RULES: tuple[Rule, ...] = (
    Rule(r"[Pp]ass fs= \(Hz\)", _reading("fs")),
    Rule(r"pass it as fs= \(Hz; --fs on the command line\)", _reading("fs")),
    Rule(r"\(pass body_mass= to set it\)",
         _python("sfone.read(PATH, body_mass={{'m1': 25.0}}) sets it, in g")),
    Rule(r"pass time_unit='s' or 'ms'", _python("sfone.read(PATH, leds=..., time_unit='s')")),
    Rule(r"argument fs=", _flag_named("fs")),
    Rule(r"repair='decimal' could not fix", lambda m, c: _flag_named("repair", "decimal")(m, c)
         + " could not fix"),
    Rule(r"consider method='signal-only'", lambda m, c: "consider " + _method(m, c)),
    Rule(r"no light= given", lambda m, c: "no --light given" if "--light" in command_flags(c)
         else "no light schedule given"),
    Rule(r"\('# body_mass_g:' line or body_mass=\)",
         lambda m, c: "(a '# body_mass_g: <g>' line in the file) "
                      + _python("sfone.read(PATH, body_mass=...)")(m, c)),
    Rule(r"[Pp]ass repair='decimal'", _reading("repair", "decimal")),
    Rule(r"[Pp]ass format=<name>", _reading("format")),
    Rule(r"pass coefficient=", _reading("neuropil_coefficient")),
    Rule(r"pass leds=\(([\d, ]+)\)(.*?)or leds=\(([\d, ]+)\)", _leds),
    Rule(r"reading option '(\w+)' false", lambda m, c: _all_rois(m, c)),
    Rule(r"(row \d+: )reading option '(\w+)'",
         lambda m, c: f"{m.group(1)}column `{m.group(2)}`"),
    Rule(r"(?:the )?reading options? ('\w+'(?:, '\w+')*)", _reading_named),
    Rule(r"mask them with sfone\.calorimetry\.mask_flagged\(ds\)", _mask_flagged),
    Rule(r"\(pass names= / --names\)", _flag_or_python("--names", "A,B,...",
                                                      "sfone.track(..., names=[...])")),
    Rule(r"give variable=", _flag_or_python("--variable", "NAME", "variable=NAME")),
    Rule(r"track one plane at a time \(plane=\)",
         lambda m, c: "track one plane at a time (" + _reading("plane")(m, c) + ")"),
    Rule(r"\(cells_only=(\w+), plane=(\w+)\)",
         lambda m, c: f"(cells only: {m.group(1)}, plane: {m.group(2)}"
                      + ("; see --all-rois, --plane)" if "--plane" in command_flags(c) else ")")),
    Rule(r"light=\(on, off\) / --light ON OFF",
         lambda m, c: "--light ON OFF" if "--light" in command_flags(c)
         else "the study's calorimetry session file (its light schedule)"),
    Rule(r"use_light_sensor / --light-sensor",
         lambda m, c: "--light-sensor" if "--light-sensor" in command_flags(c)
         else "the light sensor"),
    Rule(r"set sfone\.set_options\(strict=False\) to",
         lambda m, c: "unset the environment variable SFONE_STRICT to"),
    Rule(r"see sfone\.set_options\(max_expansion=\.\.\.\)",
         _python("sfone.set_options(max_expansion=...)")),
    Rule(r"read its intervals/events with read_nwb_events\(\)",
         _python("sfone.io.imaging.nwb.read_nwb_events(PATH) reads its intervals/events")),
    Rule(r"read it with read_nwb_segmentation\(\)",
         _python("sfone.io.imaging.nwb.read_nwb_segmentation(PATH) reads it")),
    Rule(r"PlaneSegmentation tables \(([^)]*)\); pass name=",
         lambda m, c: f"PlaneSegmentation tables ({m.group(1)}) "
                      + _python("read_nwb_segmentation(PATH, name=...) picks one")(m, c)),
    Rule(r"Read the epocs \(events\) only with read_tdt\(path, signals=False\) or "
         r"read_tdt_epocs\(\)",
         _python("sfone.read(PATH, signals=False) reads the epocs (events) only")),
    Rule(r"pass columns=\{\{?'vo2': '<name>', \.\.\.\}\}?",
         _python("sfone.read(PATH, columns={{'vo2': '<name>', ...}})")),
    Rule(r"\(pass gas_units=\)", _python("sfone.read(PATH, gas_units=...)")),
    Rule(r"pass time_column=(NAME)?", _python("sfone.read(PATH, time_column=NAME)")),
    Rule(r"\(or pass timestamps=<file>\)", _python("sfone.read(PATH, leds=..., timestamps=FILE)")),
    Rule(r"pass timezone= \(e\.g\. '([^']+)'; `sfone convert --timezone`\)",
         _nwb_flag("--timezone", "pass --timezone ZONE (e.g. '{0}')",
                   "write_nwb(ds, path, timezone='{0}')")),
    Rule(r"pass session_start_time= \(ISO 8601 with a zone\)",
         _nwb_flag("--metadata", "give `session_start_time:` (ISO 8601 with a zone) in the "
                   "--metadata YAML",
                   "write_nwb(ds, path, session_start_time=...)")),
)


def rewrite(message: str, command: click.Command | None) -> str:
    """``message`` with every library hint turned into what ``command`` offers.

    Parameters
    ----------
    message : str
        A library error or warning message.
    command : click.Command or None
        The sub-command being run (None: outside a command).

    Returns
    -------
    str
        The rewritten message.
    """
    for rule in RULES:
        message = re.sub(rule.pattern, lambda m, r=rule: r.replace(m, command), message)
    return message

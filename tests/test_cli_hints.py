"""Every library message with a Python-keyword hint, rewritten for every command that can raise
it, names a flag that exists on that command (issue 29).

The walk finds the hints in the source (string constants of ``sfone/`` outside the CLI that
give Python syntax: ``pass fs=``, ``leds=(415, 470)``, ``mask_flagged(ds)``); each must be in
:data:`HINTS`, with a full sample message (which must contain the source text) and the
commands that can print it, or in :data:`NOT_SHOWN` with the reason no command prints it.
"""

import ast
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfone.cli import main
from sfone.cli._hints import PYTHON_ONLY, command_flags, rewrite

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sfone"

#: Python syntax in a message: an instruction verb before a call, or ``keyword=``
PY_HINT = re.compile(r"\b(?:[Pp]ass|give|set|see|with)\s+[\w.]*\w+\(|\b[a-z_][a-z_0-9]*=(?![=\d])")
PY_ASIDE = re.compile(r"\(in Python: .*?; " + re.escape(PYTHON_ONLY) + r"\)")
SFONE_SPAN = re.compile(r"`sfone ((?:[a-z][a-z-]* ?)+)([^`]*)`")

READERS = ["info", "convert", "classify", "track", "batch", "photometry dff",
           "calorimetry summary", "calorimetry stress-test", "calorimetry ancova", "reproduce"]
IMAGING = ["info", "convert", "classify", "track", "batch", "reproduce"]
CALORIMETRY = ["info", "convert", "batch", "calorimetry summary", "calorimetry stress-test",
               "calorimetry ancova", "reproduce"]
PHOTOMETRY = ["info", "convert", "classify", "batch", "photometry dff", "reproduce"]

#: source text -> (a full message as the library prints it, commands that can print it)
HINTS = {
    "pass fs= (Hz)": ("/d/plane0: no frame rate: ops.npy has no 'fs' and no Bruker PrairieView "
                      ".xml/.env is beside the outputs; pass fs= (Hz)", IMAGING),
    "pass it as fs= (Hz;": ("/d/plane0: ops fs 10 Hz, /d/x.xml 20 Hz); the time of every "
                            "frame, decay times and responses depend on it: check which is right "
                            "and pass it as fs= (Hz; --fs on the command line)", IMAGING),
    "(pass body_mass= to set it)": ("/d/x.csv: animal 'm1': body-mass readings spread from 20 to "
                                    "31 g (10th-90th percentile); body_mass is their median 25 g "
                                    "(pass body_mass= to set it)", CALORIMETRY),
    "pass time_unit=": ("/d/x.csv: 3 per frame (median): neither ms (a frame every 5-100 ms) nor s "
                        "(0.005-0.1 s); pass time_unit='s' or 'ms'", ["info", "convert"]),
    "cannot infer fs: pass fs= (Hz)": ("cannot infer fs: pass fs= (Hz)",
                                       ["classify", "batch", "reproduce"]),
    "argument fs=": ("/d/plane0: argument fs= must be a finite number > 0 Hz; got nan",
                     IMAGING),
    "pass coefficient=": ("no neuropil coefficient in the file: pass coefficient=",
                          ["classify", "batch", "reproduce"]),
    "pass format=<name>": ("/d/x.csv: unrecognised file: no known format matches its content "
                           "(formats for .csv: calr, npm; pass format=<name> or see `sfone "
                           "formats`)", READERS),
    "Pass format=<name> to choose.": ("/d/x.csv: ambiguous file: it looks like each of npm, "
                                      "inscopix. Pass format=<name> to choose.", READERS),
    "Pass repair='decimal'": ("/d/t.csv: implausible values in RER. Pass repair='decimal' to "
                              "divide the cells of these columns that lost their decimal "
                              "separator by 1000 (check the result).", CALORIMETRY),
    "repair='decimal' could not fix": ("/d/t.csv: repair='decimal' could not fix: RER",
                                       CALORIMETRY),
    "pass leds=(415, 470)": ("/d/b.csv: a headerless NPM file does not say which LEDs are "
                             "interleaved: pass leds=(415, 470) (the first frame's LED first) "
                             "or leds=(470,)", PHOTOMETRY),
    "(or pass timestamps=<file>)": ("/d/b.csv: the first column does not increase, so it is not "
                                    "a clock: expected a timestamp then one value per fiber (or "
                                    "pass timestamps=<file>)", PHOTOMETRY),
    "mask_flagged(ds)": ("/d/c.csv: 3 reading(s) with RER outside (0.5, 1.5) flagged (qc_flag "
                         "bit 1). They are kept; mask them with "
                         "sfone.calorimetry.mask_flagged(ds).", CALORIMETRY),
    "pass columns=": ("/d/t.csv: no column for vo2, vco2; pass columns={'vo2': '<name>', ...}",
                      CALORIMETRY),
    "(pass gas_units=)": ("/d/t.csv: gas units 'x' are not one of ml/min (pass gas_units=)",
                          CALORIMETRY),
    "body_mass=)": ("/d/t.csv: VO2 is per kg but no body mass is given ('# body_mass_g:' line "
                    "or body_mass=)", CALORIMETRY),
    "no light= given": ("light 07:00-19:00 (default: no session light and no light= given)",
                        ["calorimetry summary", "calorimetry ancova", "batch", "reproduce"]),
    "light=(on, off) / --light ON OFF": (
        "/d/c.csv: use_light_sensor / --light-sensor needs a cage light sensor (variable "
        "'light', e.g. CLAMS ROOM LIGHT or TSE LightC) but the data have none; give the clock "
        "schedule with light=(on, off) / --light ON OFF",
        ["calorimetry summary", "calorimetry ancova", "batch", "reproduce"]),
    "pass time_column=NAME": ("/d/p.csv: no column (Time) is named like Time, Time(s) or "
                              "Timestamp; pass time_column=NAME", PHOTOMETRY),
    "; pass time_column=": ("/d/p.csv: 2 clocks ['Time', 'Stamp']; pass time_column=",
                            PHOTOMETRY),
    "read_nwb_events()": ("/d/x.nwb: no processing/ophys module: not an NWB ophys file (it "
                          "holds intervals: runs; read its intervals/events with "
                          "read_nwb_events())", IMAGING),
    "read_nwb_segmentation()": ("/d/x.nwb: no raw fluorescence series (found none); expected "
                                "Fluorescence/RoiResponseSeries; the file holds a segmentation "
                                "only: read it with read_nwb_segmentation()", IMAGING),
    "); pass name=": ("/d/x.nwb: 2 PlaneSegmentation tables (a, b); pass name=",
                      ["track", "reproduce"]),
    "read_tdt(path, signals=False)": ("/d/block: signal file b.tev is missing (and no .sev "
                                      "files): the stream stores x cannot be read. Read the "
                                      "epocs (events) only with read_tdt(path, signals=False) "
                                      "or read_tdt_epocs()", PHOTOMETRY),
    "sfone.set_options(strict=False)": ("/d/x.csv: gaps (strict mode: set "
                                        "sfone.set_options(strict=False) to read it with a "
                                        "warning)", READERS),
    "sfone.set_options(max_expansion=...)": ("/d/x.h5: F declares 9 bytes of data but the file "
                                             "is 1 bytes; refused before allocating (limit 1 "
                                             "bytes, see sfone.set_options(max_expansion=...))",
                                             READERS),
    "give variable=": ("cannot pick the traces to align: give variable= (the dataset has no "
                       "'F' and its analog channels ['a', 'b'] use clocks ['t1', 't2'])",
                       ["classify", "batch", "reproduce"]),
    "(pass names= / --names)": ("session names ['a', 'a'] must be 2 distinct names (pass "
                                "names= / --names)", ["track"]),
    "(plane=)": ("session 'a' has ROIs of planes [0, 1]; track one plane at a time (plane=)",
                 ["track", "reproduce"]),
    "no ROIs left to track (cells_only=": ("session 'a': no ROIs left to track "
                                           "(cells_only=False, plane=None)",
                                           ["track", "reproduce"]),
    "consider method='signal-only'": ("/d/r.ppd: the control explains 1% of the signal (r = "
                                      "0.1): the control does not track the signal (swapped or unrelated "
                                      "channels?); consider "
                                      "method='signal-only'", ["photometry dff", "reproduce"]),
    "pass timezone= (e.g.": ("/d/x.doric: session start 2024-01-02T10:00:00 has no time zone and "
                             "NWB needs one: pass timezone= (e.g. 'Europe/Berlin'; `sfone convert "
                             "--timezone`) or set 'timezone:' in the metadata YAML", ["convert"]),
    "pass session_start_time=": ("/d/x.csv: NWB needs a session start: pass "
                                      "session_start_time= (ISO 8601 with a zone) or set "
                                      "session_start_time in the metadata", ["convert"]),
}

#: source text -> why no command prints it as a hint
NOT_SHOWN = {
    "pass wilcoxon=True": "a note in reproduce's stats table (issue 29, statistics helper)",
    "paired_cells=True": "a keyword of the Python statistics API only",
    "given for method='glm'": "PostRunClassifier, the Python estimator API only",
    "when baseline='window'": "compute_dff(baseline='window'): no command chooses the baseline",
    "timestamps= against": "read_suite2p(timestamps=): Python only",
    "n_fibers=": "read_npm_headerless(n_fibers=): Python only",
    "n_analog_signals=": "names the file's header field, not a keyword",
    "allow_pickle=True": "advice not to run np.load, not an instruction",
    "signals=False: epocs only": "format description in the README's formats table",
    "(format='npm-headerless', leds=...)": "format description in the README's formats table",
    "needs leds=(415, 470, ...)": "format description in `sfone formats`",
    "import h5py": "code the HDF5 probe runs in a child process, not a message",
    "or pass subjects=": "sfone.stats.session_fractions(subjects=): Python only; reproduce "
                         "names every session's mouse from the study file",
    "time_unit='zt'": "figure_metabolic(time_unit='zt'): Python only; reproduce gives it the "
                      "study's lights-on hour and reads the readings' clock before drawing",
}


def _library_strings():
    """(file, line, text) of every non-docstring string constant outside the CLI and report."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[1] == "cli" or path.name in ("report.py", "evidence_page.py",
                                                       "_lazy.py"):
            continue  # the CLI itself; HTML attributes, CSS and script of pages; a repr
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings and PY_HINT.search(node.value)):
                yield str(relative), node.lineno, node.value


def _subcommand(path: str):
    found = main
    for name in path.split():
        found = found.commands[name]
    return found


def test_every_library_hint_is_in_the_table():
    samples = [sample for sample, _ in HINTS.values()]
    unclassified = [(f, line, text) for f, line, text in _library_strings()
                    if not any(key in text for key in [*HINTS, *NOT_SHOWN])
                    and not any(text in sample for sample in samples)]  # an f-string's part
    assert unclassified == [], ("new Python-keyword hint(s): add each to HINTS (sample "
                                "message + commands) or NOT_SHOWN (why no command prints it)")


def test_each_sample_message_holds_the_source_text():
    texts = [text for _, _, text in _library_strings()]
    for key, (sample, _) in HINTS.items():
        sources = [t for t in texts if key in t]
        assert sources, f"{key!r} is no longer in the library: drop it from HINTS"
        assert any(t.strip(" ;.") in sample for t in sources), (key, sources)


def _checked(message: str, path: str) -> None:
    """No Python syntax left outside an ``(in Python: ...)`` aside; every flag exists."""
    plain = PY_ASIDE.sub("", message)
    assert not PY_HINT.search(plain), f"sfone {path}: Python syntax left in {message!r}"
    for named, options in SFONE_SPAN.findall(plain):  # `sfone convert PATH --out OUT.nc --fs HZ`
        other = _subcommand(" ".join(w for w in named.split() if w.islower() and w.isalpha()
                                     and w not in ("path",)))
        for flag in re.findall(r"--[a-z][a-z-]*", options):
            assert flag in command_flags(other), f"`sfone {named.strip()}` has no {flag}"
    for flag in re.findall(r"(?<![\w`-])--[a-z][a-z-]*", SFONE_SPAN.sub("", plain)):
        assert flag in command_flags(_subcommand(path)), f"sfone {path} has no {flag}: {message}"


@pytest.mark.parametrize("key", list(HINTS))
def test_each_hint_names_a_flag_of_each_command_that_can_print_it(key):
    sample, paths = HINTS[key]
    for path in paths:
        rewritten = rewrite(sample, _subcommand(path))
        assert rewritten != sample, f"sfone {path}: {key!r} not rewritten"
        _checked(rewritten, path)


def test_a_reading_option_hint_is_the_flag_where_the_command_has_it():
    fs = HINTS["pass fs= (Hz)"][0]
    assert rewrite(fs, _subcommand("classify")).endswith("pass --fs HZ")
    assert rewrite(fs, _subcommand("batch")).endswith("pass --fs HZ")
    study = rewrite(fs, _subcommand("reproduce"))
    assert ("set the field `fs:` of the session in the study file" in study
            or "`sfone convert PATH --out OUT.nc --fs HZ`" in study)
    leds = rewrite(HINTS["pass leds=(415, 470)"][0], _subcommand("photometry dff"))
    assert "pass --leds 415,470 (the first frame's LED first) or --leds 470" in leds
    mask = HINTS["mask_flagged(ds)"][0]
    assert rewrite(mask, _subcommand("calorimetry summary")).endswith(
        "pass --mask-flagged to set them to NaN.")
    assert "`sfone calorimetry summary --mask-flagged`" in rewrite(
        mask, _subcommand("calorimetry ancova"))


def test_a_warning_hint_is_rewritten_on_the_command_line(tmp_path, monkeypatch):
    import sfone.summary
    from sfone.exceptions import QualityWarning

    real = sfone.summary.describe

    def describe(ds):
        warnings.warn(HINTS["mask_flagged(ds)"][0], QualityWarning, stacklevel=1)
        return real(ds)

    monkeypatch.setattr(sfone.summary, "describe", describe)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["info", str(ROOT / "data_samples" /
                                                       "calorimetry_clams_cage0101.csv")])
    assert result.exit_code == 0, result.output
    assert "`sfone calorimetry summary --mask-flagged` sets them to NaN" in result.stderr
    assert "mask_flagged(ds)" not in result.stderr

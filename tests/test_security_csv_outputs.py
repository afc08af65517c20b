"""Every CSV output sfone writes, fed text from hostile input files (names starting with ``=``,
``@``, ``+``, ``-``) through its real entry point: the text reaches the CSV only with a leading
``'`` (inert in a spreadsheet), genuine numbers (``-1.5``) stay numbers. And no module of
``sfone/`` writes a CSV without :func:`sfone._atomic.write_csv`."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sfone.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
EQ = "=cmd|' /C calc'!A0"
EQ_NO_SLASH = "=cmd|' -C calc'!A0"  # for names that become file or folder names
AT, PLUS, MINUS = "@SUM(1+1)", "+1+1", "-1+1"
# written independently of sfone._atomic: a cell a spreadsheet would run, unless it is a number
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?inf", re.IGNORECASE)


def _cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _assert_inert(path: Path, *hostile: str) -> list[list[str]]:
    """No cell of ``path`` runs as a formula; each hostile text is there, behind a ``'``."""
    rows = _cells(path)
    cells = [cell for row in rows for cell in row]
    live = [cell for cell in cells if cell.startswith(FORMULA) and not NUMBER.fullmatch(cell)]
    assert live == [], f"{path.name}: cells a spreadsheet would run: {live}"
    for text in hostile:
        assert any(cell.startswith("'" + text) for cell in cells), \
            f"{path.name}: {text!r} is not there (neutralised)"
    return rows


def _column(rows: list[list[str]], name: str) -> list[str]:
    rows = [row for row in rows if not (row and row[0].startswith("#"))]  # provenance lines
    at = rows[0].index(name)
    return [row[at] for row in rows[1:]]


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is missing (sfone samples data_samples)")
    return path


def test_classify_labels_neutralise_a_channel_name_from_the_file(tmp_path):
    source = _need(SAMPLES / "photometry_generic.csv").read_text().splitlines()
    assert source[0] == "Time(s),signal,control,TTL"
    data = tmp_path / "photometry.csv"
    # the columns are declared dF/F by name (sfone refuses raw channels)
    data.write_text("\n".join([f"Time(s),{AT}_dff,control_dff,TTL", *source[1:]]) + "\n")
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n60,100\n")
    out = tmp_path / "labels.csv"
    protocol = tmp_path / "short_baseline.yaml"  # the sample's 50 s baseline, accepted knowingly
    protocol.write_text("kind: classification\nbaseline_s: [-50, 0]\npost_run_s: [0, 70]\n"
                        "min_baseline_s: 30\n")
    _invoke("classify", data, "--runs", runs, "--baseline-s", "-50", "0", "--post-run-s", "0",
            "70", "--protocol", protocol, "--out", out)
    rows = _assert_inert(out, AT)
    assert _column(rows, "roi") == ["'" + AT + "_dff", "control_dff"]
    effect = [float(v) for v in _column(rows, "effect")]  # numbers, not quoted text
    assert all(np.isfinite(effect))


def _clams_with_subject(tmp_path: Path, subject: str) -> Path:
    text = _need(SAMPLES / "calorimetry_clams_cage0101.csv").read_bytes().decode("ascii")
    assert "\r\nSubject ID,M01\r\n" in text
    path = tmp_path / "cage.csv"
    path.write_bytes(text.replace("\r\nSubject ID,M01\r\n",
                                  f"\r\nSubject ID,{subject}\r\n").encode("ascii"))
    return path


def test_calorimetry_summary_neutralises_the_subject_id_from_the_file(tmp_path):
    out = tmp_path / "summary.csv"
    _invoke("calorimetry", "summary", _clams_with_subject(tmp_path, EQ), "--out", out)
    rows = _assert_inert(out, EQ)
    assert set(_column(rows, "subject")) == {"'" + EQ}
    assert float(_column(rows, "ee_kcal_h")[0]) > 0


def _treadmill(tmp_path: Path, source: str, subject: str, group: str) -> Path:
    lines = _need(SAMPLES / "stress_test_cohort" / source).read_text().splitlines()
    assert lines[1].startswith("# subject: ") and lines[2].startswith("# group: ")
    lines[1], lines[2] = f"# subject: {subject}", f"# group: {group}"
    path = tmp_path / source
    path.write_text("\n".join(lines) + "\n")
    return path


def test_stress_test_outputs_neutralise_subject_and_group_names(tmp_path):
    files = [_treadmill(tmp_path, "control1.csv", EQ, AT),
             _treadmill(tmp_path, "silenced1.csv", PLUS, MINUS)]
    out, stages, compare = tmp_path / "endpoints.csv", tmp_path / "stages.csv", tmp_path / "cmp.csv"
    _invoke("calorimetry", "stress-test", *files, "--protocol", "stress_test", "--out", out,
            "--stages", stages, "--compare", compare)
    rows = _assert_inert(out, EQ, AT, PLUS, MINUS)
    assert _column(rows, "subject") == ["'" + EQ, "'" + PLUS]
    assert _column(rows, "group") == ["'" + AT, "'" + MINUS]
    assert float(_column(rows, "vo2max_ml_kg_h")[0]) > 1000
    assert set(_column(_assert_inert(stages, EQ, PLUS), "subject")) == {"'" + EQ, "'" + PLUS}
    comparisons = set(_column(_assert_inert(compare, MINUS), "comparison"))
    assert comparisons == {f"'{MINUS} vs {AT}"}


def test_ancova_outputs_neutralise_group_names_from_the_session_file(tmp_path):
    session = _need(SAMPLES / "tables" / "calr_session_promethion.csv").read_text()
    assert session.count(",control,") == 1 and session.count(",treated,") == 1
    hostile = tmp_path / "session.csv"
    hostile.write_text(session.replace(",control,", f",{EQ},").replace(",treated,", f",{MINUS},"))
    out, pairs = tmp_path / "ancova.csv", tmp_path / "pairs.csv"
    _invoke("calorimetry", "ancova", _need(SAMPLES / "calorimetry_promethion_macro.csv"),
            "--session", hostile, "--out", out, "--pairwise", pairs)
    rows = _assert_inert(out, EQ, MINUS)
    assert set(_column(rows, "group")) == {"'" + EQ, "'" + MINUS}
    rows = _assert_inert(pairs, EQ, MINUS)
    assert {frozenset(pair) for pair in zip(_column(rows, "group_a"), _column(rows, "group_b"),
                                            strict=True)} == {frozenset(["'" + EQ, "'" + MINUS])}
    back = pd.read_csv(pairs)  # the difference of adjusted means stays a number
    assert back["difference"].dtype == float and np.isfinite(back["difference"]).all()


def test_batch_session_outputs_combined_and_errors_neutralise_manifest_and_file_names(tmp_path):
    pytest.importorskip("distributed")
    # the manifest refuses '/' in names: EQ_NO_SLASH, also as the file's subject id, which
    # the per-session tables carry and the combined table joins the manifest columns on
    _clams_with_subject(tmp_path, EQ_NO_SLASH)
    (tmp_path / "broken.csv").write_bytes(b"\x00garbage")
    (tmp_path / "manifest.csv").write_text(
        "path,subject,session,day\n"
        f"cage.csv,\"{EQ_NO_SLASH}\",{AT},{PLUS}\n"
        f"broken.csv,{EQ_NO_SLASH},{MINUS},{PLUS}\n")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "manifest.csv"), "--task",
                                       "calorimetry-summary", "--out", str(tmp_path / "out"),
                                       "--workers", "1"])
    assert result.exit_code == 1, result.output  # the broken session failed, the other ran
    assert "1 done, 0 skipped (already done), 1 failed" in result.output
    (session_csv,) = (tmp_path / "out" / "sessions").glob("*.csv")
    rows = _assert_inert(session_csv, EQ_NO_SLASH)
    assert set(_column(rows, "subject")) == {"'" + EQ_NO_SLASH}
    assert float(_column(rows, "ee_kcal_h")[0]) > 0
    rows = _assert_inert(tmp_path / "out" / "combined.csv", EQ_NO_SLASH, AT, PLUS)
    assert set(_column(rows, "session")) == {"'" + AT}
    assert set(_column(rows, "day")) == {"'" + PLUS}
    errors = _assert_inert(tmp_path / "out" / "errors.csv", EQ_NO_SLASH, MINUS)
    assert _column(errors, "subject") == ["'" + EQ_NO_SLASH]
    assert _column(errors, "session") == ["'" + MINUS]


def test_track_neutralises_session_names_taken_from_file_names(tmp_path):
    from sfone.simulate.imaging import simulate_session, write_caiman_hdf5

    session = simulate_session(n_rois=30, n_frames=50, n_noncells=0, shape=(96, 96),
                               random_state=0)
    day1 = write_caiman_hdf5(session, tmp_path / f"{EQ_NO_SLASH}.hdf5")
    day8 = write_caiman_hdf5(session, tmp_path / f"{AT}.hdf5")
    out = tmp_path / "tracks.csv"
    _invoke("track", day1, day8, "--out", out)
    rows = _assert_inert(out, EQ_NO_SLASH, AT)
    assert rows[0] == ["track", "'" + EQ_NO_SLASH, "'" + AT, "p_same"]
    assert len(rows) == 31 and all(row[1] == row[2] != "" for row in rows[1:])


def test_runs_csv_writer_neutralises_labels_and_keeps_negative_times(tmp_path):
    from sfone.io.events.runs_csv import write_runs_csv
    from sfone.schema import make_events

    events = make_events(np.array([-1.5, 10.0]), np.array([2.0, 20.0]), label=[EQ, "run"])
    rows = _assert_inert(write_runs_csv(events, tmp_path / "runs.csv"), EQ)
    assert rows[1:] == [["-1.500000", "2.000000", "'" + EQ], ["10.000000", "20.000000", "run"]]


def test_calr_writers_neutralise_subject_and_group_names_read_from_files(tmp_path):
    """A CLAMS file converted to CalR, and a CalR session file read and written back."""
    import sfone
    from sfone.io.calorimetry.calr import read_calr_session, write_calr, write_calr_session

    ds = sfone.read(_clams_with_subject(tmp_path, EQ))
    rows = _assert_inert(write_calr(ds, tmp_path / "calr.csv"), EQ)
    assert set(_column(rows, "subject.id")) == {"'" + EQ}
    assert float(_column(rows, "vo2")[0]) > 0
    text = _need(SAMPLES / "tables" / "calr_session_promethion.csv").read_text()
    (tmp_path / "in.csv").write_text(text.replace(",control,", f",{AT},"))
    session = read_calr_session(tmp_path / "in.csv")
    assert AT in session.groups
    rows = _assert_inert(write_calr_session(session, tmp_path / "session.csv"), AT)
    assert "'" + AT in _column(rows, "group_names")


def test_inscopix_writer_refuses_a_formula_in_the_status_row(tmp_path):
    """The data contract allows only accepted / undecided / rejected / unknown as a status, so
    a formula never reaches the status row (the writer also neutralises text it writes)."""
    from sfone.exceptions import SchemaError
    from sfone.simulate.imaging import simulate_session, write_inscopix_csv

    ds = simulate_session(n_rois=3, n_frames=20, n_noncells=0, shape=(32, 32), random_state=1)
    ds = ds.assign_coords(status=("roi", [AT, "accepted", "rejected"]))
    with pytest.raises(SchemaError, match="coordinate 'status' holds"):
        write_inscopix_csv(ds, tmp_path / "cells.csv")
    assert not (tmp_path / "cells.csv").exists()
    ds = ds.assign_coords(status=("roi", ["undecided", "accepted", "rejected"]))
    lines = write_inscopix_csv(ds, tmp_path / "cells.csv").read_text().splitlines()
    assert lines[1].split(", ") == ["Time(s)/Cell Status", "undecided", "accepted", "rejected"]
    assert [float(v) for v in lines[2].split(", ")][0] == 0.0  # the body is numbers


# ------------------------------------------------------------ the rule stays enforced

#: CSV files written without write_csv, each with its reason (checked to still exist).
ALLOWED = {
    ("sfone/io/imaging/_writers.py", "write_inscopix_csv"):
        "IDPS's ', ' separators: numbers through np.savetxt, status text neutralised",
    ("sfone/simulate/calorimetry.py", "write_clams_csv"):
        "Oxymax header block and ==== rules line by line; subject and cage neutralised",
}
WRITERS = {"to_csv", "savetxt", "writer", "DictWriter", "writerow", "writerows"}
TEXT_WRITES = {"write_text", "write_bytes", "write"}


def _csv_writes(path: Path) -> list[tuple[str, int, str]]:
    """``(function, line, call)`` of every CSV write in ``path`` (``<module>`` outside
    functions): a call of a CSV writer, or a text write inside a function named for CSV
    (``write_x_csv``)."""
    found = []

    def visit(node, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in WRITERS or (name in TEXT_WRITES and "csv" in function.lower()):
                found.append((function, node.lineno, name))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_no_csv_is_written_without_write_csv():
    bypass, seen = [], set()
    for path in sorted((ROOT / "sfone").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "sfone/_atomic.py":
            continue
        for function, line, call in _csv_writes(path):
            if (rel, function) in ALLOWED:
                seen.add((rel, function))
            else:
                bypass.append(f"{rel}:{line} {function}() calls .{call}(")
    assert bypass == [], "write CSV through sfone._atomic.write_csv:\n" + "\n".join(bypass)
    assert seen == set(ALLOWED), "stale ALLOWED entries: update the list"


def test_the_csv_write_finder_sees_a_bypass(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def save(t, p):\n    t.to_csv(p)\n\n"
                      "def write_x_csv(p):\n    p.write_text('a,b\\n')\n\n"
                      "def notes(p):\n    p.write_text('hello')\n\n"
                      "import csv\ncsv.writer(open('x.csv', 'w')).writerow([1])\n")
    assert _csv_writes(module) == [("save", 2, "to_csv"), ("write_x_csv", 5, "write_text"),
                                   ("<module>", 11, "writerow"), ("<module>", 11, "writer")]


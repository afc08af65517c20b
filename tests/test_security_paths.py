"""Manifests and YAML files are untrusted: names that would escape ``--out`` are refused,
``!!python`` YAML tags run nothing, and batch outputs stay inside the output folder."""

from __future__ import annotations

import re

import pytest

from sfone.batch import run_batch
from sfone.cohort import Session, load_manifest
from sfone.exceptions import FormatError, ProtocolError
from sfone.io.events.runs_csv import write_runs_csv
from sfone.protocols import load_protocol


def _files(root):
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("column", "value", "found"), [
    ("subject", "../../evil", "'/'"), ("session", "/tmp/absolute", "'/'"),
    ("subject", "..", "'..'"), ("session", "a\\b", repr("\\"))])
def test_csv_manifest_refuses_names_that_are_paths(tmp_path, column, value, found):
    write_runs_csv(([1.0], [2.0]), tmp_path / "runs.csv")
    row = {"path": "runs.csv", "subject": "m1", "session": "d1", column: value}
    (tmp_path / "manifest.csv").write_text(
        "path,subject,session\n" + ",".join(row[c] for c in ("path", "subject", "session"))
        + "\n")
    with pytest.raises(FormatError, match=rf"manifest.csv: row 2: {column} .* contains "
                                          rf"{re.escape(found)}"):
        load_manifest(tmp_path / "manifest.csv")


def test_yaml_manifest_refuses_a_control_character(tmp_path):
    (tmp_path / "manifest.yaml").write_text(
        'sessions:\n  - {path: r.csv, subject: "m1\\tx", session: d1}\n')
    with pytest.raises(FormatError, match="manifest.yaml: row 1: subject .* control character"):
        load_manifest(tmp_path / "manifest.yaml")


def test_yaml_manifest_python_tag_runs_nothing(tmp_path):
    sentinel = tmp_path / "PWNED"
    (tmp_path / "manifest.yaml").write_text(
        f"sessions: !!python/object/apply:os.system ['touch {sentinel}']\n")
    with pytest.raises(FormatError, match="manifest.yaml: not valid YAML.*python"):
        load_manifest(tmp_path / "manifest.yaml")
    assert not sentinel.exists()


def test_protocol_yaml_python_tag_runs_nothing(tmp_path):
    sentinel = tmp_path / "PWNED"
    (tmp_path / "protocol.yaml").write_text(
        f"kind: classification\nbaseline_s: !!python/object/apply:os.system ['touch {sentinel}']\n")
    with pytest.raises(ProtocolError, match="protocol.yaml: not valid YAML.*python"):
        load_protocol(tmp_path / "protocol.yaml")
    assert not sentinel.exists()


@pytest.fixture
def runs_file(tmp_path):
    return write_runs_csv(([1.0], [2.0]), tmp_path / "data" / "runs.csv")


def test_batch_outputs_stay_inside_out_for_hostile_session_objects(tmp_path, runs_file):
    """Sessions built in code skip the manifest check; the output names are slugs anyway."""
    pytest.importorskip("distributed")
    sessions = [Session(path=runs_file, subject="../../..", session="/etc/cron.d/x"),
                Session(path=runs_file, subject="..\\..", session="..")]
    before = _files(tmp_path)
    out = tmp_path / "deep" / "out"
    result = run_batch(sessions, "convert", out, workers=1)
    assert result.ok and len(result.done) == 2
    created = _files(tmp_path) - before
    assert created and all(out in p.parents for p in created), sorted(created)
    assert {p.parent for p in created if p.suffix == ".nc"} == {out / "sessions"}


def test_batch_refuses_sessions_whose_outputs_would_collide(tmp_path, runs_file):
    sessions = [Session(path=runs_file, subject="m 1", session="d1"),
                Session(path=runs_file, subject="m-1", session="d1")]
    with pytest.raises(ValueError, match=r"\('m 1', 'd1'\) and \('m-1', 'd1'\) would both write "
                                         "m-1__d1"):
        run_batch(sessions, "convert", tmp_path / "out", workers=1)
    assert not list((tmp_path / "out" / "sessions").glob("*.nc"))

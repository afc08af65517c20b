"""Batches that always finish (issue 28): a session that kills its process, crashes, hangs,
finds the disk full or warns is named in errors.csv (or as a one-line warning) while every
other session finishes, through the real ``sfone batch`` command in a subprocess.

The hostile sessions come from a lab task plugin written here (an entry point on the
subprocess's path): it does to its own process what an out-of-memory kill, a crash in
compiled code, an endless loop or a full disk would. The full disk is the kernel's own ENOSPC
(``/dev/full``) and, for sfone's own output writer, the file-size limit ``RLIMIT_FSIZE``.
"""

from __future__ import annotations

import resource
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sfone
from sfone.cohort import load_manifest
from sfone.exceptions import FormatError
from sfone.io.events.runs_csv import write_runs_csv
from tests.cli_subprocess import ROOT, run_sfone, suite2p_plane

pytest.importorskip("distributed")

PLUGIN = '''
"""A lab's batch task whose sessions misbehave as their session name says."""
import ctypes
import os
import signal
import time
import warnings

import numpy as np

import sfone
from sfone.batch import BatchTask
from sfone.exceptions import QualityWarning


def _run(session):
    what = session.session
    if what == "killed":  # what the kernel's out-of-memory killer does
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "exits":
        os._exit(3)
    if what == "crash":  # a segmentation fault in compiled code
        ctypes.string_at(0)
    if what.startswith("stuck"):
        time.sleep(3600)
    if what == "fulldisk":  # the kernel's ENOSPC
        with open("/dev/full", "wb") as scratch:
            scratch.write(b"x" * 1_000_000)
            scratch.flush()
    if what == "warns":
        warnings.warn(f"{session.path.name}: 3 of 10 samples repaired", QualityWarning)
        np.mean(np.array([]))  # numpy's RuntimeWarning: Mean of empty slice
    return sfone.read(session.path)


HOSTILE = BatchTask(name="hostile", run=_run, description="misbehaving sessions (a test)")
'''


@pytest.fixture
def plugin_dir(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "hostile_tasks.py").write_text(PLUGIN)
    dist = folder / "hostile_tasks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hostile-tasks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[sfone.batch_tasks]\nhostile = hostile_tasks:HOSTILE\n")
    return folder


def _manifest(folder: Path, sessions: list[tuple[str, str]], extra: dict | None = None) -> Path:
    """A runs CSV per session and a manifest listing them (``extra``: key -> time_limit_s)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["path,subject,session,time_limit_s"]
    for i, (subject, session) in enumerate(sessions):
        name = f"s{i}.csv"
        write_runs_csv(([10.0 * i], [10.0 * i + 5]), folder / name)
        limit = (extra or {}).get((subject, session), "")
        rows.append(f"{name},{subject},{session},{limit}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def _sfone(args, cwd: Path, plugins: Path | None = None, **kwargs):
    return run_sfone(args, cwd, extra_path=(plugins,) if plugins else (), **kwargs)


def _errors(out: Path) -> dict[tuple[str, str], dict]:
    table = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["subject", "session", "path", "reason", "error"]
    return {(r.subject, r.session): r._asdict() for r in table.itertuples(index=False)}


def _outputs(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "sessions").iterdir())


@pytest.mark.slow
def test_killed_crashed_and_stuck_sessions_are_named_and_the_rest_finish(tmp_path, plugin_dir):
    sessions = [("m1", "good1"), ("m1", "killed"), ("m2", "good2"), ("m2", "exits"),
                ("m3", "crash"), ("m3", "stuck1"), ("m4", "stuck2"), ("m4", "good3")]
    manifest = _manifest(tmp_path / "cohort", sessions, {("m3", "stuck1"): 2})
    out = tmp_path / "out"
    args = ["batch", manifest, "--task", "hostile", "--out", out, "--workers", "2",
            "--time-limit", "4"]
    run = _sfone(args, tmp_path, plugin_dir)
    assert run.returncode == 1, run.stderr
    assert "3 done, 0 skipped (already done), 5 failed" in run.stdout
    assert "Internal error" not in run.stderr and "Traceback" not in run.stderr
    errors = _errors(out)
    assert set(errors) == {("m1", "killed"), ("m2", "exits"), ("m3", "crash"), ("m3", "stuck1"),
                           ("m4", "stuck2")}
    assert errors["m1", "killed"]["reason"] == "killed"
    assert "SIGKILL" in errors["m1", "killed"]["error"]
    assert "memory" in errors["m1", "killed"]["error"]
    assert errors["m2", "exits"]["reason"] == "killed"
    assert "exited with status 3" in errors["m2", "exits"]["error"]
    assert errors["m3", "crash"]["reason"] == "killed"
    assert "SIGSEGV" in errors["m3", "crash"]["error"]
    assert errors["m3", "stuck1"]["reason"] == "timeout"  # the manifest's own limit
    assert "time limit of 2 s" in errors["m3", "stuck1"]["error"]
    assert errors["m4", "stuck2"]["reason"] == "timeout"  # --time-limit
    assert "time limit of 4 s" in errors["m4", "stuck2"]["error"]
    for subject, session in errors:  # every bad session is also named on stderr
        assert f"failed: {subject}/{session} (" in run.stderr
    assert _outputs(out) == ["m1__good1.nc", "m2__good2.nc", "m4__good3.nc"]
    for i, (subject, session) in enumerate(sessions):
        if session.startswith("good"):
            written = sfone.read(out / "sessions" / f"{subject}__{session}.nc")
            np.testing.assert_array_equal(written["start"].values, [10.0 * i])

    # a rerun skips the finished sessions and tries each bad one once more, in bounded time
    again = _sfone(args, tmp_path, plugin_dir)
    assert again.returncode == 1, again.stderr
    assert "0 done, 3 skipped (already done), 5 failed" in again.stdout
    assert {k: v["reason"] for k, v in _errors(out).items()} == \
        {k: v["reason"] for k, v in errors.items()}


@pytest.mark.slow
def test_a_full_disk_stops_new_sessions_and_names_every_one(tmp_path, plugin_dir):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    sessions = [("m1", "good1"), ("m1", "fulldisk")] + [("m2", f"after{i}") for i in range(6)]
    manifest = _manifest(tmp_path / "cohort", sessions)
    out = tmp_path / "out"
    run = _sfone(["batch", manifest, "--task", "hostile", "--out", out, "--workers", "1"],
                 tmp_path, plugin_dir)
    assert run.returncode == 1, run.stderr
    errors = _errors(out)
    assert errors["m1", "fulldisk"]["reason"] == "disk full"
    assert "No space left on device" in errors["m1", "fulldisk"]["error"]
    done = {tuple(name[:-3].split("__")) for name in _outputs(out)}
    assert ("m1", "good1") in done
    assert done | set(errors) == set(sessions) and not done & set(errors)
    not_run = [key for key, row in errors.items() if row["reason"] == "not run"]
    # one worker thread keeps at most two sessions submitted: at most one more runs
    assert len(not_run) >= 5 and ("m2", "after5") in not_run
    assert all("m1/fulldisk found the disk full" in errors[key]["error"] for key in not_run)


def _file_size_limit(limit: int):
    """``ulimit -f`` for the subprocess and everything it starts (Python ignores SIGXFSZ, so a
    write past the limit fails with EFBIG, as one on a full disk fails with ENOSPC)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.slow
def test_an_output_too_big_for_the_disk_fails_alone_and_leaves_no_part(tmp_path):
    cohort = tmp_path / "cohort"
    manifest = _manifest(cohort, [("m1", "d1"), ("m2", "d1"), ("m3", "d1")])
    suite2p_plane(cohort / "big", 50, 20_000)  # about 8 MB
    manifest.write_text(manifest.read_text() + "big,mbig,d1,\n")
    out = tmp_path / "out"
    run = _sfone(["batch", manifest, "--task", "convert", "--out", out, "--workers", "2"],
                 tmp_path, preexec_fn=_file_size_limit(2_000_000))
    assert run.returncode == 1, run.stderr
    errors = _errors(out)
    assert list(errors) == [("mbig", "d1")]
    assert errors["mbig", "d1"]["reason"] == "disk full"
    assert "file size limit reached" in errors["mbig", "d1"]["error"]
    assert "mbig__d1.nc" in errors["mbig", "d1"]["error"]  # the output it could not write
    assert _outputs(out) == ["m1__d1.nc", "m2__d1.nc", "m3__d1.nc"]  # no .part left behind


@pytest.mark.slow
def test_session_warnings_reach_the_user_as_one_line_naming_the_session(tmp_path, plugin_dir):
    manifest = _manifest(tmp_path / "cohort", [("m1", "warns"), ("m2", "good")])
    run = _sfone(["batch", manifest, "--task", "hostile", "--out", tmp_path / "out"],
                 tmp_path, plugin_dir)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert "warning: m1/warns: s0.csv: 3 of 10 samples repaired" in lines
    assert "warning: m1/warns: RuntimeWarning: Mean of empty slice" in lines
    assert "warning: m1/warns: RuntimeWarning: invalid value encountered in scalar divide" in lines
    # not Python's two-line form (`file.py:12: QualityWarning: ...` and the source line)
    assert not [line for line in lines if "Warning:" in line and not line.startswith("warning:")]
    assert len([line for line in lines if line.startswith("warning:")]) == 3
    assert not [line for line in lines if "distributed" in line]  # nor dask's log lines


@pytest.mark.slow
def test_a_subject_name_too_long_for_a_file_name_runs_under_a_shortened_name(tmp_path):
    long = "a" * 300
    manifest = _manifest(tmp_path / "cohort", [(long, "d1"), ("m2", "d1")])
    out = tmp_path / "out"
    args = ["batch", manifest, "--task", "convert", "--out", out]
    run = _sfone(args, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "2 done, 0 skipped (already done), 0 failed" in run.stdout
    names = _outputs(out)
    assert "m2__d1.nc" in names and len(names) == 2
    short = next(n for n in names if n != "m2__d1.nc")
    assert short.startswith("a" * 100) and len(short) < 130
    warning = next(line for line in run.stderr.splitlines() if line.startswith("warning:"))
    assert f"{long}/d1" in warning and short[:-3] in warning
    np.testing.assert_array_equal(sfone.read(out / "sessions" / short)["start"].values, [0.0])
    again = _sfone(args, tmp_path)  # the same name again: the session is found done
    assert again.returncode == 0 and "0 done, 2 skipped" in again.stdout


def test_a_bad_manifest_time_limit_names_the_row(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,subject,session,time_limit_s\na.csv,m1,d1,60\nb.csv,m1,d2,soon\n")
    with pytest.raises(FormatError, match=r"m\.csv.*row 3: time_limit_s 'soon' is not a number"):
        load_manifest(manifest)
    manifest.write_text("path,subject,session,time_limit_s\na.csv,m1,d1,-5\n")
    with pytest.raises(FormatError, match="row 2: time_limit_s '-5'"):
        load_manifest(manifest)
    manifest.write_text("path,subject,session,time_limit_s\na.csv,m1,d1,90\nb.csv,m1,d2,\n")
    assert [s.time_limit_s for s in load_manifest(manifest)] == [90.0, None]


def test_the_time_limit_is_documented_with_its_default():
    from click.testing import CliRunner

    from sfone.batch import DEFAULT_TIME_LIMIT_S
    from sfone.cli import main

    help_text = " ".join(CliRunner().invoke(main, ["batch", "--help"]).output.split())
    assert "--time-limit SECONDS" in help_text and "default: 3600" in help_text
    assert DEFAULT_TIME_LIMIT_S == 3600.0
    text = (ROOT / "docs" / "hardening.md").read_text()
    assert "--time-limit" in text and "3600 s" in text


def test_combined_table_keeps_manifest_columns_but_not_the_time_limit(tmp_path):
    from sfone.batch.combine import _with_manifest_columns
    from sfone.cohort import Session

    sessions = [Session(path=tmp_path / "a", subject="m1", session="d1", group="ctrl",
                        time_limit_s=30.0)]
    table = pd.DataFrame({"subject": ["m1"], "session": ["d1"], "x": [1.0]})
    merged = _with_manifest_columns(table, sessions)
    assert list(merged.columns) == ["subject", "session", "group", "path", "x"]


def test_a_dataset_result_round_trips_through_the_session_process(tmp_path):
    """The session process returns the report as pickled data: a summary Dataset arrives
    identical, with the warnings raised meanwhile."""
    from sfone.batch.isolation import run_isolated

    result = run_isolated(_make_report, ("m1", "d1"), tmp_path, (tmp_path,), 60)
    assert result["status"] == "done" and result["warnings"] == [
        ("sfone.exceptions", "QualityWarning", "checked")]
    xr.testing.assert_identical(result["summary"], _summary_dataset())


def _summary_dataset() -> xr.Dataset:
    return xr.Dataset({"label": ("roi", ["activated", "unchanged"])}, coords={"roi": [3, 7]})


def _make_report(folder):
    import warnings

    from sfone.exceptions import QualityWarning

    warnings.warn("checked", QualityWarning, stacklevel=2)
    return {"key": ("m1", "d1"), "status": "done", "output": str(folder),
            "summary": _summary_dataset()}


def test_a_session_that_cannot_be_sent_back_is_a_failure_not_a_crash(tmp_path):
    from sfone.batch.isolation import run_isolated

    report = run_isolated(_unpicklable, ("m1", "d1"), tmp_path, (), 60)
    assert report["status"] == "failed" and report["reason"] == "error"
    assert "cannot be sent back" in report["error"]


def _unpicklable():
    import threading

    return {"key": ("m1", "d1"), "status": "done", "lock": threading.Lock()}


def test_the_session_process_ends_when_its_worker_stops_reading(tmp_path):
    from sfone.batch.isolation import SessionProcess

    process = SessionProcess()
    assert process.alive()
    process.close()
    assert not process.alive() and process.proc.returncode == 0
    killed = SessionProcess()
    killed.kill()
    assert killed.proc.returncode == -signal.SIGKILL


def test_without_distributed_batch_says_what_to_install_in_one_line(tmp_path, monkeypatch):
    """Issue 29: a core install without dask.distributed (now a core dependency) gave
    'Internal error (ModuleNotFoundError)', exit 3."""
    import builtins

    from click.testing import CliRunner

    from sfone.cli import main

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ModuleNotFoundError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    manifest = _manifest(tmp_path / "cohort", [("m1", "d1")])
    monkeypatch.setattr(builtins, "__import__", no_distributed)
    result = CliRunner().invoke(main, ["batch", str(manifest), "--task", "convert", "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        "Error: sfone batch needs dask.distributed, which is not importable (No module named "
        "'distributed'); install it with `pip install 'distributed>=2024.6'` (or reinstall "
        "sfone, which depends on it)"]


def test_dask_and_distributed_are_core_dependencies():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("[")[0] for d in project["dependencies"]}
    assert {"dask", "distributed"} <= names

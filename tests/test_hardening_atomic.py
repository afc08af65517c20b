"""Every writer on main leaves the previous output intact when the write dies part-way.

Two kinds of interruption: an exception raised by the underlying writer after it has written
part of the file (disk full), and a real SIGKILL of a process in the middle of a large netCDF.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import sfone
from sfone.batch import failures, outputs
from sfone.cli import main
from sfone.figures import save_figure
from sfone.io.events.runs_csv import write_runs_csv
from sfone.reproduce import report
from tests.cli_subprocess import run_sfone, sfone_env, suite2p_plane

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DORIC = ROOT / "data_samples" / "photometry_doric_v6.doric"
OLD = b"previous output, must survive\n"


class DiskFull(OSError):
    pass


def _dies_after_partial_write(target_arg: int = 0):
    """A replacement writer: writes a few bytes to its target path, then fails like a full disk."""

    def writer(*args, **kwargs):
        target = args[target_arg] if len(args) > target_arg else next(iter(kwargs.values()))
        Path(target).write_bytes(b"PARTIAL")
        raise DiskFull(28, "No space left on device")

    return writer


def _assert_previous_intact(folder: Path, dests: list[Path]) -> None:
    for dest in dests:
        assert dest.read_bytes() == OLD, f"{dest.name} was damaged"
    assert sorted(p.name for p in folder.iterdir()) == sorted(d.name for d in dests), \
        "a partial or temporary file was left behind"


def _previous(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    dests = [folder / name for name in names]
    for dest in dests:
        dest.write_bytes(OLD)
    return dests


@pytest.fixture
def netcdf_dies(monkeypatch):
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, path, **kw:
                        _dies_after_partial_write()(path))


@pytest.fixture
def csv_dies(monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, **kw:
                        _dies_after_partial_write()(path))


def _photometry() -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sfone.read(DORIC)


def test_write_dataset(tmp_path, netcdf_dies):
    dests = _previous(tmp_path, "out.nc")
    with pytest.raises(DiskFull):
        sfone.write_dataset(_photometry(), dests[0])
    _assert_previous_intact(tmp_path, dests)


def test_write_dataset_zarr_folder(tmp_path, monkeypatch):
    pytest.importorskip("zarr")
    store = tmp_path / "out.zarr"
    sfone.write_dataset(_photometry(), store)
    before = sorted(p.relative_to(store) for p in store.rglob("*"))

    def dies(self, path, **kw):
        Path(path).mkdir()
        (Path(path) / "zarr.json").write_text("{")
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_zarr", dies)
    with pytest.raises(DiskFull):
        sfone.write_dataset(_photometry(), store)
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.zarr"]


def test_cli_convert(tmp_path, netcdf_dies):
    dests = _previous(tmp_path / "out", "session.nc")
    result = CliRunner().invoke(main, ["convert", str(DORIC), "--out", str(dests[0])])
    assert result.exit_code != 0 and "No space left" in result.output
    _assert_previous_intact(tmp_path / "out", dests)


def test_cli_photometry_dff(tmp_path, netcdf_dies):
    dests = _previous(tmp_path / "out", "dff.nc")
    result = CliRunner().invoke(main, ["photometry", "dff", str(DORIC), "--signal",
                                       "AIN01xAOUT01-LockIn", "--control", "AIN02xAOUT02-LockIn",
                                       "--out", str(dests[0])])
    assert result.exit_code != 0 and "No space left" in result.output
    _assert_previous_intact(tmp_path / "out", dests)


def test_save_figure_keeps_every_previous_format(tmp_path, monkeypatch):
    dests = _previous(tmp_path, "fig.png", "fig.svg")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    calls = []

    def savefig(self, path, **kwargs):  # first format succeeds, second dies part-way
        calls.append(path)
        if len(calls) == 2:
            _dies_after_partial_write()(path)
        Path(path).write_bytes(b"NEW")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    with pytest.raises(DiskFull):
        save_figure(fig, tmp_path / "fig", formats=("png", "svg"))
    plt.close(fig)
    assert dests[0].read_bytes() == b"NEW"  # written completely before the failure
    assert dests[1].read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]


def test_stats_table_write(tmp_path, csv_dies):
    dests = _previous(tmp_path, "stats.csv")
    table = report.StatsTable()
    table.add("fig1", "fraction_activated", "ctrl", 0.25, n=12)
    with pytest.raises(DiskFull):
        table.write(dests[0])
    _assert_previous_intact(tmp_path, dests)


def test_write_report_html(tmp_path, monkeypatch):
    dests = _previous(tmp_path, "report.html")
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k:
                        _dies_after_partial_write()(self))
    with pytest.raises(DiskFull):
        report.write_report_html(tmp_path, {}, {"stats": pd.DataFrame({"a": [1]})}, {}, "0.1")
    _assert_previous_intact(tmp_path, dests)


def test_runs_csv_writer(tmp_path, csv_dies):
    dests = _previous(tmp_path, "runs.csv")
    with pytest.raises(DiskFull):
        write_runs_csv(([1.0], [2.0]), dests[0])
    _assert_previous_intact(tmp_path, dests)


def test_batch_session_errors_and_combined_outputs(tmp_path, netcdf_dies, csv_dies):
    folder = tmp_path / "sessions"
    dests = _previous(folder, "m1_d1.nc", "m1_d2.csv")
    with pytest.raises(DiskFull):
        outputs.write_output(_photometry(), folder / "m1_d1")
    with pytest.raises(DiskFull):
        outputs.write_output(pd.DataFrame({"a": [1]}), folder / "m1_d2")
    _assert_previous_intact(folder, dests)
    top = _previous(tmp_path / "out", "errors.csv")
    with pytest.raises(DiskFull):
        failures.write_errors(tmp_path / "out", [])
    _assert_previous_intact(tmp_path / "out", top)


# -- a real kill -----------------------------------------------------------------------------

WRITER = """
import sys
import numpy as np, xarray as xr
import sfone
from sfone.schema import finalize_dataset
n = 40_000_000  # 320 MB of float64: long enough to be killed mid-write
ds = xr.Dataset({"x": ("time", np.random.default_rng(0).random(n), {"units": "V"})},
                coords={"time": ("time", np.arange(n) / 1000.0, {"units": "s"})})
ds = finalize_dataset(ds, modality="photometry", source_format="simulated", source_file="sim")
print("writing", flush=True)
sfone.write_dataset(ds, sys.argv[1])
print("done", flush=True)
"""


@pytest.mark.slow
def test_sigkill_during_a_large_netcdf_write_keeps_previous_output(tmp_path):
    dest = tmp_path / "session.nc"
    previous = sfone.write_dataset(_photometry(), dest).read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(dest)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 60
        parts: list[Path] = []
        while time.monotonic() < deadline:  # wait until the temporary file is growing
            parts = list(tmp_path.glob(".session.nc.*.part"))
            if parts and parts[0].stat().st_size > 1_000_000:
                break
            time.sleep(0.02)
        assert parts, "the writer never started writing its temporary file"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert dest.read_bytes() == previous  # the previous output is intact and still readable
    assert "AIN01xAOUT01-LockIn" in sfone.read(dest)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "session.nc"]
    assert leftovers and all(n.startswith(".session.nc.") and n.endswith(".part")
                             for n in leftovers)  # hidden, never mistaken for an output
    sfone.write_dataset(_photometry(), dest)  # the next write cleans up after the killed one
    assert [p.name for p in tmp_path.iterdir()] == ["session.nc"]


def test_cli_calorimetry_summary(tmp_path, csv_dies):
    source = ROOT / "data_samples" / "calorimetry_clams_cage0101.csv"
    if not source.exists():
        pytest.skip("calorimetry sample not built")
    dests = _previous(tmp_path / "out", "summary.csv")
    result = CliRunner().invoke(main, ["calorimetry", "summary", str(source), "--out",
                                       str(dests[0])])
    assert result.exit_code != 0 and "No space left" in result.output
    _assert_previous_intact(tmp_path / "out", dests)


def test_cli_classify(tmp_path, csv_dies):
    session = ROOT / "data_samples" / "imaging_suite2p_session"
    if not session.exists():
        pytest.skip("imaging sample not built")
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n40,60\n100,120\n150,170\n")
    dests = _previous(tmp_path / "out", "labels.csv")
    result = CliRunner().invoke(main, ["classify", str(session), "--runs", str(runs),
                                       "--method", "threshold", "--baseline-s", "-20", "0",
                                       "--post-run-s", "0", "20", "--out", str(dests[0])])
    assert result.exit_code != 0 and "No space left" in result.output, result.output
    _assert_previous_intact(tmp_path / "out", dests)


# -- a full disk, Ctrl-C and kill -9 through the real command line (issue 28) ---------------

@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_cli_convert_on_a_full_disk_exits_1_naming_the_output(tmp_path, suffix):
    """RLIMIT_FSIZE makes every write past 100 kB in a file fail (EFBIG) as a full disk does
    (ENOSPC); before, HDF5's half-closed file crashed the interpreter after the error (exit
    139)."""
    import resource

    if suffix == ".zarr":
        pytest.importorskip("zarr")
    big = suite2p_plane(tmp_path / "big", 50, 20_000)  # about 8 MB of traces
    out = tmp_path / "out"
    out.mkdir()
    dest = out / f"session{suffix}"
    previous = run_sfone(["convert", ROOT / "data_samples" / "photometry_doric_v6.doric", "--out", dest],
                      tmp_path)
    assert previous.returncode == 0, previous.stderr
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    run = run_sfone(["convert", big, "--out", dest], tmp_path, preexec_fn=limit)
    assert run.returncode == 1, (run.returncode, run.stderr)
    assert run.stderr.startswith(f"Error: [Errno 27] {dest}: cannot write it: file size limit "
                                 "reached"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # no .part, old intact
    assert "AIN01xAOUT01-LockIn" in sfone.read(dest)


def test_ctrl_c_at_any_moment_of_a_netcdf_write_exits_130_with_nothing_half_written(tmp_path):
    """SIGINT as soon as the temporary file appears, then a little later each time: a
    KeyboardInterrupt that h5py swallows (raised inside a weakref callback) used to let the
    write finish and the command exit 0."""
    big = suite2p_plane(tmp_path / "big", 200, 20_000)  # about 32 MB: the write takes a while
    env = sfone_env()
    for delay in (0.0, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.08):
        out = tmp_path / f"out{delay}"
        out.mkdir()
        proc = subprocess.Popen([sys.executable, "-m", "sfone", "convert", str(big), "--out",
                                 str(out / "s.nc")], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not list(out.glob(".s.nc.*.part")) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert not list(out.glob(".*.part")), delay
        if proc.returncode == -signal.SIGINT:
            # the signal came while the interpreter shut down, after the write: the shell shows
            # this as status 130 too; the output must then be whole
            assert "F" in sfone.read(out / "s.nc"), delay
            continue
        assert proc.returncode == 130, (delay, proc.returncode, stderr)
        assert stderr.strip().splitlines()[-1] == "Interrupted.", stderr
        assert not (out / "s.nc").exists() or "F" in sfone.read(out / "s.nc"), delay


STUDY = "name: tables only\ntables: {bdnf_counts: %s}\n"


def test_cli_reproduce_and_batch_refuse_a_folder_they_did_not_write(tmp_path):
    """A folder holding an earlier run's report.html and stats.csv and the user's own files:
    neither command touches it, and the error names what would be lost."""
    (tmp_path / "study.yaml").write_text(STUDY % (ROOT / "data_samples" / "tables" /
                                                  "bdnf_counts.csv"))
    thesis = tmp_path / "thesis"
    (thesis / "raw_data").mkdir(parents=True)
    (thesis / "raw_data" / "mouse1.csv").write_text("t,x\n0,1\n")
    (thesis / "thesis_chapter3.docx").write_bytes(b"PK my chapter")
    (thesis / "report.html").write_text("<html>earlier</html>")
    (thesis / "stats.csv").write_text("figure,quantity\n")
    before = {p: p.read_bytes() for p in thesis.rglob("*") if p.is_file()}
    manifest = tmp_path / "manifest.csv"
    write_runs_csv(([1.0], [2.0]), tmp_path / "runs.csv")
    manifest.write_text("path,subject,session\nruns.csv,m1,d1\n")
    for args in (["reproduce", "--study", tmp_path / "study.yaml", "--out", thesis],
                 ["batch", manifest, "--task", "convert", "--out", thesis]):
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exit_code == 1, result.output
        line = result.output.strip()
        assert line.startswith("Error: ") and len(line.splitlines()) == 1
        assert "thesis_chapter3.docx" in line and "raw_data/" in line
        assert {p: p.read_bytes() for p in thesis.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "runs.csv",
                                                          "study.yaml", "thesis"]


@pytest.mark.slow
def test_kill_9_during_reproduce_leaves_a_build_folder_the_next_run_removes(tmp_path):
    (tmp_path / "study.yaml").write_text(STUDY % (ROOT / "data_samples" / "tables" /
                                                  "bdnf_counts.csv"))
    out = tmp_path / "out"
    first = run_sfone(["reproduce", "--study", "study.yaml", "--out", out], tmp_path)
    assert first.returncode == 0, first.stderr
    report = (out / "report.html").read_bytes()
    env = sfone_env()
    proc = subprocess.Popen([sys.executable, "-m", "sfone", "reproduce", "--study", "study.yaml",
                             "--out", str(out)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list(tmp_path.glob(".out.partial-*"))
    assert len(left) == 1 and left[0].name.endswith(f"-{proc.pid}")
    assert (out / "report.html").read_bytes() == report  # the earlier output is intact
    again = run_sfone(["reproduce", "--study", "study.yaml", "--out", out], tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "study.yaml"]
    assert (out / "report.html").exists() and (out / ".sfone-output.json").exists()

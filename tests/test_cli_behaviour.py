"""How the command line behaves: one-line warnings, Ctrl-C, exit codes as in the README, hints
that name flags which exist, `info` on a converted file, progress without a terminal, and
`batch`'s combined table keeping the manifest's columns."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from shared_fixtures import fixture_path

import sfone
from sfone.cli import main
from sfone.exceptions import QualityWarning
from sfone.schema import finalize_dataset

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
MANGLED_TSE = ("calorimetry", "tse_labmaster_v6.4.5_semicolon_excel_mangled_dako.csv")


def invoke(args):
    with warnings.catch_warnings():  # the CLI shows warnings; pytest would make them errors
        warnings.simplefilter("always")
        return CliRunner().invoke(main, args)


@pytest.fixture
def imaging_nc(tmp_path):
    ds = xr.Dataset({"F": (("roi", "time"), np.ones((2, 50), np.float32), {"units": "a.u."})},
                    coords={"roi": np.arange(2),
                            "time": ("time", np.arange(50) / 10.0, {"units": "s"}),
                            "iscell": ("roi", np.array([True, False]))})
    ds = finalize_dataset(ds, modality="imaging", source_format="suite2p",
                          source_file="/data/m1/suite2p", fs=10.0)
    return sfone.write_dataset(ds, tmp_path / "session.nc")


def test_warnings_print_as_one_line_and_debug_keeps_the_python_form(imaging_nc, monkeypatch):
    import sfone.summary

    real = sfone.summary.describe

    def describe(ds):
        warnings.warn("3 ROIs have a flat\n    trace", QualityWarning, stacklevel=1)
        return real(ds)

    monkeypatch.setattr(sfone.summary, "describe", describe)
    result = invoke(["info", str(imaging_nc)])
    assert result.exit_code == 0, result.output
    assert "warning: 3 ROIs have a flat trace\n" in result.stderr
    assert "QualityWarning" not in result.stderr and ".py:" not in result.stderr
    debug = invoke(["--debug", "info", str(imaging_nc)])
    assert "QualityWarning: 3 ROIs have a flat" in debug.stderr and ".py:" in debug.stderr


def test_info_on_a_converted_file_shows_it_and_its_source(imaging_nc):
    result = invoke(["info", str(imaging_nc)])
    lines = dict(line.split(None, 1) if " " not in line[:16].strip() else
                 (line[:16].strip(), line[16:].strip()) for line in result.output.splitlines())
    assert lines["file"].strip() == str(imaging_nc)
    assert lines["format"].strip() == "sfone-netcdf"
    assert lines["source file"] == "/data/m1/suite2p" and lines["source format"] == "suite2p"


def _interrupted(module: str, args: list[str], debug: bool = False) -> subprocess.CompletedProcess:
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def fake(name, *a, **k):\n"
        f"    if name == {module!r}:\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = fake\n"
        f"sys.argv = ['sfone', *{(['--debug'] if debug else []) + args!r}]\n"
        "import sfone.__main__ as entry\n"
        "entry.run()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})


@pytest.mark.parametrize("module", ["click", "pandas"])  # while starting, while in a command
def test_ctrl_c_during_imports_prints_one_line_and_exits_130(module, imaging_nc):
    done = _interrupted(module, ["info", str(imaging_nc)])
    assert done.returncode == 130, done.stderr
    assert done.stderr == "Interrupted.\n" and "Traceback" not in done.stderr
    debug = _interrupted(module, ["info", str(imaging_nc)], debug=True)
    assert "Traceback" in debug.stderr and "KeyboardInterrupt" in debug.stderr


@pytest.mark.parametrize("args", [
    ["info", "{missing}"],
    ["convert", "{missing}", "--out", "{tmp}/out.nc"],
    ["batch", "{missing}", "--task", "convert", "--out", "{tmp}/b"],
    ["classify", "{missing}", "--runs", "{missing}", "--out", "{tmp}/l.csv"],
    ["calorimetry", "summary", "{missing}", "--out", "{tmp}/s.csv"],
    ["photometry", "dff", "{missing}", "--signal", "s", "--out", "{tmp}/d.nc"],
    ["reproduce", "--study", "{missing}", "--out", "{tmp}/r"],
], ids=lambda a: " ".join(a[:2]))
def test_a_missing_path_exits_1_with_one_line_for_every_command(args, tmp_path):
    missing = str(tmp_path / "absent.csv")
    result = invoke([a.format(missing=missing, tmp=tmp_path) for a in args])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error:") and "absent.csv" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Usage:" not in result.output


def test_wrong_signal_and_missing_control_exit_1_naming_the_file(tmp_path):
    from sfone.simulate.photometry import simulate_photometry, write_ppd

    src = write_ppd(simulate_photometry(duration_s=30, random_state=5), tmp_path / "rec.ppd")
    wrong = invoke(["photometry", "dff", str(src), "--signal", "G0", "--control", "analog_2",
                    "--out", str(tmp_path / "d.nc")])
    assert wrong.exit_code == 1 and "Usage:" not in wrong.output
    assert wrong.output.startswith(f"Error: {src}: no channel G0") and "analog_1" in wrong.output
    missing = invoke(["photometry", "dff", str(src), "--signal", "analog_1",
                      "--out", str(tmp_path / "d.nc")])
    assert missing.exit_code == 1
    assert str(src) in missing.output and "--control NAME" in missing.output
    usage = invoke(["photometry", "dff", str(src), "--signal", "analog_1", "--nope"])
    assert usage.exit_code == 2 and "No such option" in usage.output  # command-line misuse


def test_the_readme_states_these_exit_codes():
    readme = (ROOT / "README.md").read_text()
    assert "exit with status 1" in readme and "2 for a malformed command line" in readme
    assert "130" in readme


def test_repair_hint_names_the_flag_of_the_command_and_the_flag_works(tmp_path):
    path = fixture_path(*MANGLED_TSE)
    info = invoke(["info", str(path)])
    assert info.exit_code == 1 and "pass --repair decimal" in info.output
    assert "repair='decimal'" not in info.output
    summary = invoke(["calorimetry", "summary", str(path), "--out", str(tmp_path / "s.csv")])
    assert summary.exit_code == 1
    assert "pass --repair decimal" in summary.output and "sfone convert" not in summary.output
    fixed = invoke(["convert", str(path), "--out", str(tmp_path / "fixed.nc"), "--repair",
                    "decimal"])
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stderr.startswith("warning: ") and "repaired" in fixed.stderr
    assert sfone.read(tmp_path / "fixed.nc")["rer"].notnull().any()


def _suite2p_without_fs(tmp_path) -> Path:
    from sfone.io.imaging._writers import write_suite2p
    from sfone.simulate.neurons import make_imaging_session

    ds, _ = make_imaging_session(4, fs=5.0, baseline_s=20, run_s=20, post_s=20, random_state=1)
    write_suite2p(ds, tmp_path / "s2p")
    removed = 0
    for path in (tmp_path / "s2p").rglob("*.npy"):  # settings / db / ops dicts
        content = np.load(path, allow_pickle=True)
        if content.dtype == object and content.ndim == 0 and isinstance(content.item(), dict):
            meta = content.item()
            removed += meta.pop("fs", None) is not None
            np.save(path, meta, allow_pickle=True)
    assert removed
    return tmp_path / "s2p"


def test_fs_hint_names_the_flag_and_the_flag_works(tmp_path):
    folder = _suite2p_without_fs(tmp_path)
    info = invoke(["info", str(folder)])
    assert info.exit_code == 1 and "pass --fs HZ" in info.output and "fs=" not in info.output
    classify = invoke(["classify", str(folder), "--runs", str(SAMPLES / "imaging_cohort" /
                                                              "mouse1_day1_runs.csv"),
                       "--out", str(tmp_path / "l.csv")])
    assert classify.exit_code == 1
    assert "pass --fs HZ" in classify.output and "fs=" not in classify.output
    ok = invoke(["info", str(folder), "--fs", "5"])
    assert ok.exit_code == 0 and "5 Hz" in ok.output


def test_ancova_without_groups_points_to_the_session_flag(tmp_path):
    from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv

    cages = simulate_metabolic_cages(n_per_group=2, days=1.0, interval_min=15.0, random_state=4)
    files = [str(write_clams_csv(cages, tmp_path / f"cage{i}.csv", subject=i)) for i in range(4)]
    result = invoke(["calorimetry", "ancova", *files, "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 1
    assert "pass --session SESSION.csv" in result.output


def test_reproduce_prints_one_line_per_stage_without_a_terminal(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(f"name: two tables\ntables:\n  bdnf_counts: {SAMPLES}/tables/bdnf_counts.csv"
                     f"\n  endurance: {SAMPLES}/tables/endurance_training.csv\n")
    result = invoke(["reproduce", "--study", str(study), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert [line.split(" (at")[0] for line in lines] == ["reproduce [1/2] bdnf",
                                                         "reproduce [2/2] endurance"]
    assert "\r" not in result.stderr  # no progress bars


def test_reproduce_shows_no_nested_progress_bars(tmp_path, monkeypatch):
    import sfone._logging
    from sfone.reproduce import reproduce

    shown = []
    real = sfone._logging.progress

    def spy(iterable, **kwargs):
        bar = real(iterable, **kwargs)
        shown.append((kwargs.get("desc"), not bar.disable))
        return bar

    monkeypatch.setattr(sfone._logging, "progress", spy)
    monkeypatch.setattr("sfone.reproduce.pipeline.progress", spy)
    monkeypatch.setattr("sfone.classify._labels.progress", spy, raising=False)
    sfone._logging.set_progress(True)
    try:
        study = {"name": "imaging", "imaging": {
            "protocol": str(SAMPLES / "imaging_cohort" / "classification.yaml"),
            "compare": ["day1", "day8"],
            "sessions": [{"path": str(SAMPLES / "imaging_cohort" / f"mouse1_{d}"),
                          "subject": "mouse1", "day": d,
                          "runs": str(SAMPLES / "imaging_cohort" / f"mouse1_{d}_runs.csv")}
                         for d in ("day1", "day8")]}}
        from sfone.reproduce import parse_study

        reproduce(parse_study(study), tmp_path / "out")
    finally:
        sfone._logging.set_progress(None)
    visible = [desc for desc, on in shown if on]
    assert visible == ["reproduce"]
    assert any(desc == "ROI blocks" for desc, _ in shown)  # the inner loop ran, hidden


def test_batch_combined_csv_keeps_every_manifest_column(tmp_path):
    cohort = SAMPLES / "imaging_cohort"
    rows = ["path,subject,session,group,day,runs,classification_protocol"]
    for session, day in (("day1", 1), ("day8", 8)):
        rows.append(f"{cohort / f'mouse2_{session}'},mouse2,{session},trained,{day},"
                    f"{cohort / f'mouse2_{session}_runs.csv'},{cohort / 'classification.yaml'}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    result = invoke(["batch", str(tmp_path / "m.csv"), "--task", "dff", "--out",
                     str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "combined.csv")
    for column in ("subject", "session", "group", "day", "path", "runs",
                   "classification_protocol"):
        assert column in table.columns
    assert set(table["group"]) == {"trained"} and sorted(set(table["day"])) == [1, 8]
    per_session = table.groupby("session")["day"].unique()
    assert per_session["day1"].tolist() == [1] and per_session["day8"].tolist() == [8]

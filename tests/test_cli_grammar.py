"""One command-line grammar (issue 29): the reading options on every command that reads data
(and as manifest columns), ``--out`` everywhere with a folder that must exist, one spelling per
window with the old spellings deprecated, EPIPE, warnings, dF/F CSV with digital lines,
``--compare`` with one-subject groups, and every command taking what ``convert`` wrote."""

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
from sfone.cli._hints import command_flags
from sfone.io._reading_options import CELLS_ONLY_DEFAULT, READING_OPTIONS
from sfone.schema import finalize_dataset

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
PROTOCOL = ROOT / "protocols" / "stress_test.yaml"
MANGLED_TSE = ("calorimetry", "tse_labmaster_v6.4.5_semicolon_excel_mangled_dako.csv")

#: every command that reads a data file
READING_COMMANDS = [("info",), ("convert",), ("classify",), ("track",), ("batch",),
                    ("photometry", "dff"), ("calorimetry", "summary"),
                    ("calorimetry", "stress-test"), ("calorimetry", "ancova")]


def invoke(*args):
    with warnings.catch_warnings():  # the CLI shows warnings; pytest would make them errors
        warnings.simplefilter("always")
        return CliRunner().invoke(main, [str(a) for a in args])


def command(*names):
    found = main
    for name in names:
        found = found.commands[name]
    return found


def imaging(tmp_path, *, planes=None, fneu=False, name="session.nc"):
    """4 ROIs, the third not a cell; ``planes``: the plane of each ROI."""
    rng = np.random.default_rng(0)
    data = {"F": (("roi", "time"), rng.normal(100, 5, (4, 400)).astype(np.float32),
                  {"units": "a.u."})}
    if fneu:
        data["Fneu"] = (("roi", "time"), rng.normal(20, 1, (4, 400)).astype(np.float32),
                        {"units": "a.u."})
    coords = {"roi": np.arange(4), "time": ("time", np.arange(400) / 20.0, {"units": "s"}),
              "iscell": ("roi", np.array([True, True, False, True]))}
    if planes is not None:
        coords["plane"] = ("roi", np.asarray(planes))
    ds = finalize_dataset(xr.Dataset(data, coords=coords), modality="imaging",
                          source_format="test", source_file="sim", fs=20.0)
    return sfone.write_dataset(ds, tmp_path / name)


# --- one set of reading options -------------------------------------------------------------

@pytest.mark.parametrize("names", READING_COMMANDS, ids=" ".join)
def test_every_reading_command_has_every_reading_option(names):
    flags = command_flags(command(*names))
    wanted = {o.flag for o in READING_OPTIONS.values()} | {"--all-rois"}
    assert wanted <= flags, f"sfone {' '.join(names)} lacks {sorted(wanted - flags)}"


def test_the_reading_options_are_one_table_with_read_keywords():
    assert list(READING_OPTIONS) == ["format", "fs", "repair", "leds", "neuropil_coefficient",
                                     "plane", "cells_only"]
    assert {n: o.keyword for n, o in READING_OPTIONS.items() if o.keyword} == {
        "format": "format", "fs": "fs", "repair": "repair", "leds": "leds"}
    assert all(o.flag == "--" + n.replace("_", "-") for n, o in READING_OPTIONS.items())


def test_cells_only_is_the_default_of_classify_and_track_and_convert_keeps_every_roi(tmp_path):
    assert CELLS_ONLY_DEFAULT is True
    path = imaging(tmp_path)
    for names in (("classify",), ("track",)):
        option = next(p for p in command(*names).params if "--cells-only" in p.opts)
        assert option.default is True
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n8,10\n")
    windows = ["--baseline-window", "-6", "0", "--post-run-window", "0", "6", "--method",
               "threshold"]
    cells = invoke("classify", path, "--runs", runs, *windows, "--out", tmp_path / "c.csv")
    assert cells.exit_code == 0, cells.output
    assert pd.read_csv(tmp_path / "c.csv", comment="#")["roi"].tolist() == [0, 1, 3]
    every = invoke("classify", path, "--runs", runs, *windows, "--all-rois",
                   "--out", tmp_path / "a.csv")
    assert every.exit_code == 0, every.output
    assert pd.read_csv(tmp_path / "a.csv", comment="#")["roi"].tolist() == [0, 1, 2, 3]
    assert invoke("convert", path, "--out", tmp_path / "all.nc").exit_code == 0
    assert sfone.read(tmp_path / "all.nc").sizes["roi"] == 4
    assert invoke("convert", path, "--cells-only", "--out", tmp_path / "c.nc").exit_code == 0
    assert sfone.read(tmp_path / "c.nc")["roi"].values.tolist() == [0, 1, 3]


def test_plane_selects_the_rois_of_one_plane_and_names_the_flag_when_absent(tmp_path):
    path = imaging(tmp_path, planes=[0, 1, 1, 0])
    done = invoke("convert", path, "--plane", "1", "--out", tmp_path / "p1.nc")
    assert done.exit_code == 0, done.output
    assert sfone.read(tmp_path / "p1.nc")["roi"].values.tolist() == [1, 2]
    absent = invoke("info", path, "--plane", "4")
    assert absent.exit_code == 1
    assert "option --plane is 4" in absent.output and "[0, 1]" in absent.output


def test_neuropil_coefficient_replaces_the_files_and_needs_fneu(tmp_path):
    with_fneu = imaging(tmp_path, fneu=True)
    done = invoke("convert", with_fneu, "--neuropil-coefficient", "0.5", "--out",
                  tmp_path / "c.nc")
    assert done.exit_code == 0, done.output
    assert sfone.read(tmp_path / "c.nc").attrs["neuropil_coefficient"] == 0.5
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n8,10\n")
    labels = {}
    for c in ("0", "1"):
        result = invoke("classify", with_fneu, "--runs", runs, "--method", "threshold",
                        "--baseline-window", "-6", "0", "--post-run-window", "0", "6",
                        "--neuropil-coefficient", c, "--out", tmp_path / f"l{c}.csv")
        assert result.exit_code == 0, result.output
        labels[c] = pd.read_csv(tmp_path / f"l{c}.csv", comment="#")["effect"].to_numpy()
    assert not np.allclose(labels["0"], labels["1"])  # the coefficient reached the traces
    without = invoke("info", imaging(tmp_path, name="plain.nc"), "--neuropil-coefficient", "0.7")
    assert without.exit_code == 1
    assert "option --neuropil-coefficient given but the file has no Fneu" in without.output


def test_leds_reach_the_reader_and_a_format_without_them_names_the_flag(tmp_path):
    headerless = tmp_path / "bonsai.csv"
    headerless.write_text("".join(f"{i * 0.02:.2f} {1 + i % 2:.1f} {2 + i % 2:.1f}\n" for i in range(8)))
    unknown = invoke("info", headerless)  # bare numbers: no format claims them
    assert unknown.exit_code == 1 and "pass --format NAME" in unknown.output
    assert "npm-headerless, photometry-csv;" in unknown.output  # the list is not cut off
    missing = invoke("info", headerless, "--format", "npm-headerless")
    assert missing.exit_code == 1
    assert "pass --leds 415,470 (the first frame's LED first) or --leds 470" in missing.output
    assert "leds=" not in missing.output
    read = invoke("info", headerless, "--format", "npm-headerless", "--leds", "415,470")
    assert read.exit_code == 0, read.output
    assert "G0_415" in read.output and "G0_470" in read.output
    refused = invoke("info", SAMPLES / "imaging_inscopix_session.csv", "--leds", "415,470")
    assert refused.exit_code == 1
    assert "format 'inscopix' does not take option --leds" in refused.output
    bad = invoke("info", headerless, "--format", "npm-headerless", "--leds", "415,blue")
    assert bad.exit_code == 2 and "--leds" in bad.output


def test_the_manifest_takes_the_same_options_and_batch_flags_fill_empty_cells(tmp_path):
    path = imaging(tmp_path, planes=[0, 1, 1, 0])
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,subject,session,plane,cells_only\n{path},m1,d1,1,no\n"
                        f"{path},m1,d2,,\n")
    result = invoke("batch", manifest, "--task", "convert", "--workers", "1", "--cells-only",
                    "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "out" / "sessions").glob("*.nc"))
    rois = {p.stem: sfone.read(p)["roi"].values.tolist() for p in written}
    assert sorted(rois.values()) == [[0, 1, 3], [1, 2]]  # row 1: plane 1, every ROI
    manifest.write_text(f"path,subject,session,plane\n{path},m1,d1,one\n")
    bad = invoke("batch", manifest, "--task", "convert", "--out", tmp_path / "out2")
    assert bad.exit_code == 1
    assert "row 2: column `plane` must be a whole number >= 0; got 'one'" in bad.output


# --- --out and windows: one spelling, old spellings deprecated ------------------------------

OUTPUT_COMMANDS = [
    ["convert", "{nc}", "--out", "{out}/x.nc"],
    ["classify", "{nc}", "--runs", "{runs}", "--out", "{out}/x.csv"],
    ["track", "{nc}", "{nc}", "--out", "{out}/x.csv"],
    ["photometry", "dff", "{ppd}", "--signal", "analog_1", "--out", "{out}/x.nc"],
    ["calorimetry", "summary", "{ppd}", "--out", "{out}/x.csv"],
    ["batch", "{runs}", "--task", "convert", "--out", "{out}/folder"],
    ["reproduce", "--study", "{runs}", "--out", "{out}/folder"],
    ["samples", "--out", "{out}/folder"],
]


@pytest.mark.parametrize("args", OUTPUT_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_output_in_a_missing_folder_is_refused_and_nothing_is_created(args, tmp_path):
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n1,2\n")
    missing = tmp_path / "no" / "such"
    values = {"nc": imaging(tmp_path), "runs": runs, "out": missing,
              "ppd": SAMPLES / "photometry_pyphotometry.ppd"}
    result = invoke(*[a.format(**values) for a in args])
    assert result.exit_code == 1, result.output
    assert f"folder '{missing}' does not exist: create it first" in result.output
    assert not (tmp_path / "no").exists()


def test_convert_takes_out_and_the_old_positional_out_with_a_deprecation_line(tmp_path):
    path = imaging(tmp_path)
    new = invoke("convert", path, "--out", tmp_path / "new.nc")
    assert new.exit_code == 0 and new.stderr == ""
    old = invoke("convert", path, tmp_path / "old.nc")
    assert old.exit_code == 0, old.output
    assert old.stderr == (f"warning: OUT as a positional argument ({tmp_path / 'old.nc'}) is "
                          f"deprecated, use --out {tmp_path / 'old.nc'}\n")
    xr.testing.assert_identical(sfone.read(tmp_path / "new.nc"), sfone.read(tmp_path / "old.nc"))
    both = invoke("convert", path, tmp_path / "a.nc", "--out", tmp_path / "b.nc")
    assert both.exit_code == 2 and "OUT given twice" in both.output
    assert "--out" in invoke("convert", "--help").output


@pytest.mark.parametrize("old, new", [("--baseline-s", "--baseline-window"),
                                      ("--post-run-s", "--post-run-window")])
def test_old_classify_window_spellings_work_warn_once_and_are_out_of_help(old, new, tmp_path):
    path = imaging(tmp_path)
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n8,10\n")
    base = ["classify", path, "--runs", runs, "--method", "threshold"]
    windows = {"--baseline-window": ["-6", "0"], "--post-run-window": ["0", "6"]}
    spelled = [x for flag, values in windows.items() for x in (old if flag == new else flag,
                                                               *values)]
    result = invoke(*base, *spelled, "--out", tmp_path / "old.csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"warning: {old} is deprecated, use {new}\n"
    reference = invoke(*base, *[x for f, v in windows.items() for x in (f, *v)],
                       "--out", tmp_path / "new.csv")
    assert reference.stderr == ""
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "old.csv", comment="#"),
                                  pd.read_csv(tmp_path / "new.csv", comment="#"))
    shown = invoke("classify", "--help").output
    assert new in shown and old not in shown


def test_calorimetry_window_has_one_spelling_and_the_old_one_warns(tmp_path):
    cages = SAMPLES / "calorimetry_clams_cage0101.csv"
    new = invoke("calorimetry", "summary", cages, "--analysis-window", "0", "24", "--out",
                 tmp_path / "new.csv")
    assert new.exit_code == 0, new.output
    old = invoke("calorimetry", "summary", cages, "--window", "0", "24", "--out",
                 tmp_path / "old.csv")
    assert old.exit_code == 0, old.output
    assert "warning: --window is deprecated, use --analysis-window\n" in old.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "new.csv"),
                                  pd.read_csv(tmp_path / "old.csv"))
    assert "--window " not in invoke("calorimetry", "summary", "--help").output


def test_every_window_option_is_spelled_what_window():
    def walk(group, prefix=()):
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):
                yield from walk(sub, (*prefix, name))
            else:
                yield (*prefix, name), sub

    windows = {}
    for names, sub in walk(main):
        for param in sub.params:
            shown = [o for o in param.opts if o not in getattr(param, "old_spellings", ())]
            if param.nargs == 2 and any("window" in o or o.endswith("-s") for o in param.opts):
                windows[" ".join(names)] = shown
    assert windows and all(o.endswith("-window") for opts in windows.values() for o in opts), \
        windows


# --- EPIPE, warnings --------------------------------------------------------------------------

def test_a_closed_stdout_ends_quietly_like_a_unix_tool():
    process = subprocess.Popen([sys.executable, "-m", "sfone", "formats"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={"PYTHONPATH": str(ROOT), "PATH": ""})
    process.stdout.close()  # `| head` that has gone before the first line
    _, stderr = process.communicate(timeout=120)
    assert stderr == b"" and process.returncode == 141


def test_a_neuroconv_nwb_file_prints_no_cached_namespace_warning():
    pytest.importorskip("pynwb")
    path = fixture_path("imaging", "neuroconv_nwb", "caiman_msr1.nwb")
    result = invoke("info", path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_library_future_warnings_are_silenced_unless_debug(tmp_path, monkeypatch):
    import sfone.summary

    real = sfone.summary.describe

    def describe(ds):
        warnings.warn("the default of join will change", FutureWarning, stacklevel=1)
        return real(ds)

    monkeypatch.setattr(sfone.summary, "describe", describe)
    path = imaging(tmp_path)
    assert invoke("info", path).stderr == ""
    assert "FutureWarning: the default of join" in invoke("--debug", "info", path).stderr


def test_the_f0_warning_names_the_file(tmp_path):
    from sfone.exceptions import QualityWarning
    from sfone.imaging import compute_dff

    ds = sfone.read(imaging(tmp_path))
    ds["F"][0] = -1.0
    ds.attrs["source_file"] = "/data/m7/day1.csv"
    with pytest.warns(QualityWarning, match=r"^/data/m7/day1.csv: baseline F0 <= 0.0 in 1 ROI"):
        compute_dff(ds)


# --- photometry dF/F CSV, --compare, convert outputs everywhere -------------------------------

def test_dff_writes_a_csv_with_the_digital_lines_and_keeps_them_in_the_netcdf(tmp_path):
    src = SAMPLES / "photometry_pyphotometry.ppd"
    result = invoke("photometry", "dff", src, "--signal", "analog_1", "--control", "analog_2",
                    "--out", tmp_path / "d.nc", "--csv", tmp_path / "d.csv")
    assert result.exit_code == 0, result.output
    raw, nc = sfone.read(src), sfone.read(tmp_path / "d.nc")
    table = pd.read_csv(tmp_path / "d.csv")
    assert list(table.columns) == ["time_s", "dff", "digital_1", "digital_2"]
    np.testing.assert_array_equal(table["time_s"], raw["time_analog_1"].values)
    np.testing.assert_allclose(table["dff"], nc["dff"].values, equal_nan=True)
    for line in ("digital_1", "digital_2"):
        np.testing.assert_array_equal(nc[line].values, raw[line].values)
    np.testing.assert_array_equal(table["digital_1"], raw["digital_1"].values)  # same clock
    # digital_2 is on the control's clock: its last state at or before each dF/F time
    t2, v2 = raw["time_analog_2"].values, raw["digital_2"].values
    index = np.searchsorted(t2, table["time_s"].to_numpy(), side="right") - 1
    expected = np.where(index >= 0, v2[np.clip(index, 0, None)], np.nan)
    np.testing.assert_array_equal(table["digital_2"].to_numpy(), expected)
    only_csv = invoke("photometry", "dff", src, "--signal", "analog_1", "--control",
                      "analog_2", "--out", tmp_path / "only.csv")
    assert only_csv.exit_code == 0, only_csv.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "only.csv"), table)


def test_compare_with_one_subject_per_group_leaves_p_empty_with_a_warning(tmp_path):
    from sfone.protocols import load_protocol
    from sfone.simulate.calorimetry import simulate_stress_test, write_treadmill_csv

    ds = simulate_stress_test(load_protocol(PROTOCOL), n_per_group=1, random_state=3)
    paths = [write_treadmill_csv(ds, tmp_path / f"t{i}.csv", subject=i)
             for i in range(ds.sizes["subject"])]
    result = invoke("calorimetry", "stress-test", *paths, "--protocol", PROTOCOL, "--out",
                    tmp_path / "e.csv", "--compare", tmp_path / "c.csv")
    assert result.exit_code == 0, result.output
    compare = pd.read_csv(tmp_path / "c.csv")
    assert compare["p"].isna().all() and compare["statistic"].isna().all()
    assert compare["test"].str.contains("p is 1.0 whatever the data").any()
    assert "warning: --compare: p and statistic left empty" in result.stderr
    assert "at least 2 subjects per group" in result.stderr


def test_calorimetry_commands_take_the_netcdf_convert_wrote(tmp_path):
    converted = tmp_path / "fixed.nc"
    done = invoke("convert", fixture_path(*MANGLED_TSE), "--repair", "decimal", "--out",
                  converted)
    assert done.exit_code == 0, done.output
    assert "calorimetry" in invoke("info", converted).output
    summary = invoke("calorimetry", "summary", converted, "--out", tmp_path / "s.csv")
    assert summary.exit_code == 0, summary.output
    direct = invoke("calorimetry", "summary", fixture_path(*MANGLED_TSE), "--repair", "decimal",
                    "--out", tmp_path / "d.csv")
    assert direct.exit_code == 0, direct.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s.csv"), pd.read_csv(tmp_path / "d.csv"))
    imaging_nc = imaging(tmp_path)
    refused = invoke("calorimetry", "summary", imaging_nc, "--out", tmp_path / "x.csv")
    assert refused.exit_code == 1
    assert f"not calorimetry file(s): {imaging_nc} (imaging)" in refused.output


def test_a_missing_output_folder_names_the_old_positional_out(tmp_path):
    """The deprecated positional OUT has no name of its own in click's messages: the error
    says OUT, not ''."""
    missing = tmp_path / "no" / "out.nc"
    for args in ((missing,), ("--out", missing)):
        result = invoke("convert", SAMPLES / "photometry_generic.csv", *args)
        assert result.exit_code == 1, result.output  # sfone's usage errors exit 1
        assert "does not exist: create it first" in result.output
        assert "''" not in result.output
    assert "Invalid value for OUT:" in invoke("convert", SAMPLES / "photometry_generic.csv",
                                              missing).output
    assert not missing.parent.exists()

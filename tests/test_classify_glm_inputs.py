"""The default classifier through the CLI on inputs that used to end silently (issue 26): a
gap of dropped frames, a ROI without data, a short pre-run baseline, the provenance of the
labels file, and the run-time-unit warning only where it is likely."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import sfone
from sfone.cli import main
from sfone.io import write_dataset
from validation.generator import simulate_session, write_session

# warnings are part of what is tested: printed by the CLI, not raised by pytest's filter
pytestmark = pytest.mark.filterwarnings("default::sfone.exceptions.SfoneWarning")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A one-run session of the independent generator (40 ROIs, 10 Hz, 600 s rest, 20 min
    run, 40 min after), read back as sfone reads it; ``runs.csv`` beside it."""
    folder = tmp_path_factory.mktemp("glm_inputs")
    s = simulate_session("single", "clean", fs=10.0, n_rois=40, seed=7,
                         fractions={"null": 0.5, "activated": 0.5})
    plane = write_session(s, folder)
    return folder, sfone.read(plane), s.truth


def _classify(folder, path, runs, *extra):
    out = folder / f"labels_{path.stem}_{runs.stem}.csv"
    result = CliRunner().invoke(main, ["classify", str(path), "--runs", str(runs), "--all-rois",
                                       "--out", str(out), *extra])
    return result, out


def test_a_gap_of_nan_frames_is_dropped_with_a_warning_and_labels_stay(session, tmp_path):
    folder, ds, truth = session
    gap = (ds["time"] > 2000.0) & (ds["time"] < 2040.0)  # 40 s of dropped frames in every ROI
    ds = ds.assign(F=ds["F"].where(~gap), Fneu=ds["Fneu"].where(~gap))
    path = write_dataset(ds, tmp_path / "gap.nc")
    result, out = _classify(tmp_path, path, folder / "runs.csv")
    assert result.exit_code == 0, result.output
    assert "hold no data in any ROI" in result.output and "left out" in result.output
    table = pd.read_csv(out, comment="#")
    assert table["p_value"].notna().all()
    activated = truth["kind"].to_numpy() == "activated"
    assert (table["label"].to_numpy()[activated] == "activated").mean() >= 0.8


def test_a_roi_without_data_is_labelled_insufficient_data(session, tmp_path):
    folder, ds, _ = session
    F = ds["F"].copy()
    F[3] = np.nan  # ROI 3 recorded nothing
    F[5, : F.shape[1] // 2] = np.nan  # ROI 5 lost its first half (its baseline and the run)
    path = write_dataset(ds.assign(F=F), tmp_path / "holes.nc")
    result, out = _classify(tmp_path, path, folder / "runs.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, comment="#").set_index("roi")
    assert table.loc[3, "label"] == table.loc[5, "label"] == "insufficient data"
    assert np.isnan(table.loc[3, "p_value"]) and np.isnan(table.loc[5, "q_value"])
    assert table["label"].drop([3, 5]).isin(["activated", "inhibited", "unchanged"]).all()
    assert "2 ROI(s) hold too little data to test" in result.output
    assert "insufficient data" in result.output.splitlines()[-1]


def test_a_pre_run_baseline_under_five_minutes_is_refused(session, tmp_path):
    folder, ds, _ = session
    runs = tmp_path / "late_start.csv"
    # the run starts 120 s into the analysed window: the recording is cut to begin at 480 s
    pd.DataFrame({"start_s": [600.0], "end_s": [1800.0]}).to_csv(runs, index=False)
    cut = write_dataset(ds.sel(time=slice(480.0, None)), tmp_path / "cut.nc")
    result, _ = _classify(tmp_path, cut, runs)
    assert result.exit_code == 1
    assert "pre-run baseline holds 120 s" in result.output and "min_baseline_s" in result.output


def test_the_labels_file_records_the_model_it_came_from(session, tmp_path):
    folder, ds, _ = session
    result, out = _classify(tmp_path, folder / "suite2p" / "plane0", folder / "runs.csv")
    assert result.exit_code == 0, result.output
    header = dict(line[2:].split(": ", 1) for line in out.read_text().splitlines()
                  if line.startswith("# "))
    assert header["sfone_version"] == sfone.__version__
    assert header["method"] == "glm" and "pooled over ROIs" in header["null"]
    assert header["baseline_window_s"] == "[0.0, 600.0]"
    assert header["trend_degree"] == "0" and float(header["noise_share"]) >= 0.0
    assert len(pd.read_csv(out, comment="#")) == 40


def test_the_seconds_question_is_asked_only_when_the_runs_look_like_minutes(session, tmp_path):
    folder, ds, _ = session
    minutes = tmp_path / "minutes.csv"  # 10-30 written in minutes: all runs in the first 1 %
    pd.DataFrame({"start_s": [10.0], "end_s": [30.0]}).to_csv(minutes, index=False)
    result, _ = _classify(tmp_path, folder / "suite2p" / "plane0", minutes)
    assert "Are the run times in seconds" in result.output
    result, _ = _classify(tmp_path, folder / "suite2p" / "plane0", folder / "runs.csv")
    assert result.exit_code == 0 and "Are the run times in seconds" not in result.output


def test_summary_csv_has_one_row_with_the_estimated_fractions(session, tmp_path):
    folder, ds, truth = session
    summary = tmp_path / "summary.csv"
    result, _ = _classify(tmp_path, folder / "suite2p" / "plane0", folder / "runs.csv",
                          "--summary", str(summary))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(summary, comment="#")
    assert len(table) == 1
    for name in ("activated", "inhibited"):
        for what in ("labelled", "estimate", "ci_low", "ci_high"):
            assert f"fraction_{name}_{what}" in table.columns
    row = table.iloc[0]
    assert row.n_rois == 40 and row.detectable_gain_80 > 1.0
    true = float(np.mean(truth["kind"] == "activated"))  # 0.5
    assert row.fraction_activated_ci_low <= true <= row.fraction_activated_ci_high
    assert row.fraction_activated_ci_low <= row.fraction_activated_estimate \
        <= row.fraction_activated_ci_high  # its accuracy on 300-ROI sessions: validation.md
    assert "estimated (95% CI" in result.output

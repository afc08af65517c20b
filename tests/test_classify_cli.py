"""``sfone classify`` on files that sfone.read opens."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sfone.cli import main
from sfone.io import write_dataset
from sfone.io.events.runs_csv import write_runs_csv
from sfone.simulate.neurons import make_imaging_session


@pytest.fixture(scope="module")
def session_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    ds, epochs = make_imaging_session(60, fs=5.0, run_s=300.0, post_s=1800.0, random_state=31)
    write_dataset(ds, folder / "session.nc")
    write_runs_csv(epochs, folder / "runs.csv")
    return folder, ds


def test_classify_writes_one_row_per_roi(session_files):
    folder, ds = session_files
    out = folder / "labels.csv"
    result = CliRunner().invoke(main, ["classify", str(folder / "session.nc"), "--runs",
                                       str(folder / "runs.csv"), "--post-run-window", "0",
                                       "1800", "--method", "test", "--all-rois",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, comment="#")
    assert list(table.columns) == ["roi", "label", "effect", "p_value", "q_value", "iscell"]
    assert len(table) == 60
    assert np.mean(table["label"].to_numpy() == ds["true_label"].values) >= 0.9
    n_act = int(np.sum(table["label"] == "activated"))
    assert f"{n_act} activated" in result.output


def test_cells_only_and_threshold_method(session_files):
    folder, ds = session_files
    out = folder / "cells.csv"
    result = CliRunner().invoke(main, ["classify", str(folder / "session.nc"), "--runs",
                                       str(folder / "runs.csv"), "--post-run-window", "0",
                                       "1800", "--method", "threshold", "--cells-only", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, comment="#")
    assert len(table) == int(ds["iscell"].sum()) and table["iscell"].all()
    assert table["p_value"].isna().all()


def test_bad_runs_file_is_reported_with_its_name(session_files, tmp_path):
    folder, _ = session_files
    bad = tmp_path / "bad_runs.csv"
    bad.write_text("begin,stop\n1,2\n")
    result = CliRunner().invoke(main, ["classify", str(folder / "session.nc"), "--runs",
                                       str(bad), "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0
    assert "bad_runs.csv" in result.output and "start_s" in result.output
    assert not (tmp_path / "x.csv").exists()

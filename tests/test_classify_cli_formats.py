"""`sfone classify` on every input kind the issue names: suite2p, CaImAn, Inscopix, photometry."""

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sfone.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
# the 200-s imaging samples and 180-s photometry samples: one 40-s "run" from 60 s to 100 s,
# baseline the 50 s before it, post-run window the 70 s after it
WINDOWS = ["--baseline-window", "-50", "0", "--post-run-window", "0", "70", "--all-rois"]


@pytest.fixture()
def short_protocol(tmp_path):
    """The samples are format demonstrations, not sessions: a protocol that knowingly accepts
    their 50 s baseline (the default asks for 300 s)."""
    path = tmp_path / "short_baseline.yaml"
    path.write_text("kind: classification\nbaseline_s: [-600, 0]\npost_run_s: [0, 3600]\n"
                    "min_baseline_s: 30\n")
    return ["--protocol", str(path)]


@pytest.mark.parametrize("name, n_rows, has_iscell", [
    ("imaging_suite2p_session", 20, True),
    ("imaging_caiman_session.hdf5", 20, True),
    ("imaging_inscopix_session.csv", 20, True),
])
def test_classify_cli_on_each_input_kind(tmp_path, name, n_rows, has_iscell, short_protocol):
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n60,100\n")
    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(main, ["classify", str(SAMPLES / name), "--runs", str(runs),
                                       *WINDOWS, *short_protocol, "--out", str(out)])
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(out, comment="#")
    assert list(labels.columns[:5]) == ["roi", "label", "effect", "p_value", "q_value"]
    assert len(labels) == n_rows
    assert set(labels["label"]) <= {"activated", "inhibited", "unchanged"}
    assert ("iscell" in labels.columns) == has_iscell
    assert labels["p_value"].between(0, 1).all() and (labels["q_value"] >= labels["p_value"]).all()


def test_classify_cli_refuses_raw_photometry_channels(tmp_path):
    """Raw signal/isosbestic channels are not cells: one-line error naming the dF/F command
    (issue 14; they used to come out "inhibited")."""
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n60,100\n")
    result = CliRunner().invoke(main, ["classify", str(SAMPLES / "photometry_generic.csv"),
                                       "--runs", str(runs), *WINDOWS,
                                       "--out", str(tmp_path / "labels.csv")])
    assert result.exit_code != 0
    assert "raw photometry channels" in result.output
    assert "sfone photometry dff" in result.output
    assert not (tmp_path / "labels.csv").exists()


def test_classify_cli_cells_only_on_suite2p(tmp_path, short_protocol):
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n60,100\n")
    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(main, ["classify", str(SAMPLES / "imaging_suite2p_session"),
                                       "--runs", str(runs), *WINDOWS, *short_protocol,
                                       "--cells-only",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(out, comment="#")
    assert len(labels) == 16 and labels["iscell"].all()  # ROIs 16-19 are not cells

"""``sfone track`` on sessions whose registration does not support tracking (issue 28): two
unrelated recordings used to be matched with p_same 0.97; now a warning names the sessions, the
registration's r and overlap, and the transforms file says ``registration_ok: false``."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from shared_fixtures import fixture_path
from test_tracking import _session

import sfone
from sfone.cli import main
from sfone.tracking.register import MIN_CORRELATION
from sfone.tracking.simulate import simulate_two_days

WARNINGS_PRINTED = pytest.mark.filterwarnings("default::sfone.exceptions.QualityWarning")


def _track(tmp_path, *sessions, names="a,b"):
    out = tmp_path / "tracks.csv"
    result = CliRunner().invoke(main, ["track", *map(str, sessions), "--names", names,
                                       "--all-rois", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "tracks_transforms.json").read_text())
    return result, saved["sessions"]["b"]


def _transform_line(result) -> str:
    return next(line for line in result.output.splitlines() if line.startswith("  b: "))


def _registration_warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if line.startswith("warning:") and "does not support tracking" in line]


@WARNINGS_PRINTED
def test_unrelated_real_recordings_are_flagged(tmp_path):
    a = fixture_path("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0")
    b = fixture_path("imaging", "suite2p_inscopix_ideas_sample", "plane0")
    result = CliRunner().invoke(main, ["track", str(a), str(b), "--names", "a,b", "--out",
                                       str(tmp_path / "t.csv")])
    [warning] = _registration_warnings(result)
    assert f"warning: {b}: session 'b' registered to 'a' (rotation" in warning
    r = float(re.search(r"r = (-?[0-9.]+) \(below", warning).group(1))
    assert r < MIN_CORRELATION["mean"] and "for mean images" in warning
    # the fields share almost no cells, so the matching then stops on its own
    assert result.exit_code == 1 and "too few to learn the same-cell model" in result.stderr


@WARNINGS_PRINTED
def test_unrelated_simulated_sessions_are_flagged(tmp_path):
    paths = []
    for name, seed in (("a", 1), ("b", 2)):  # two different mice: no cell in common
        movies, truth = simulate_two_days(n_frames=20, random_state=seed)
        ds = _session(truth["day1"], movies[0], name, mean=False)  # footprints, no mean image
        paths.append(sfone.write_dataset(ds, tmp_path / f"{name}.nc"))
    result, found = _track(tmp_path, *paths)
    [warning] = _registration_warnings(result)
    assert f"below {MIN_CORRELATION['footprints']:g} for footprints images" in warning
    assert found["registration_ok"] is False and found["correlation"] < 0.5
    assert f"r = {found['correlation']:.3f}" in _transform_line(result)


def test_the_same_field_on_two_real_sessions_passes(tmp_path):
    a = fixture_path("imaging", "caiman_cnmfe_inscopix_ideas", "sample_cellset_msr_1.hdf5")
    b = fixture_path("imaging", "caiman_cnmfe_inscopix_ideas", "sample_cellset_msr_2.hdf5")
    result, found = _track(tmp_path, a, b)  # any warning fails the test (pytest config)
    assert found["registration_ok"] is True
    assert found["correlation"] >= MIN_CORRELATION["footprints"] and found["overlap"] > 0.9


def test_strict_mode_refuses_the_unsupported_registration(tmp_path):
    a = fixture_path("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0")
    b = fixture_path("imaging", "suite2p_inscopix_ideas_sample", "plane0")
    with sfone.set_options(strict=True):
        result = CliRunner().invoke(main, ["track", str(a), str(b), "--names", "a,b",
                                           "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {b}: session 'b' registered to 'a'")
    assert not (tmp_path / "t.csv").exists()

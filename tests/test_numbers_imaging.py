"""Imaging frame rates that were silently wrong (issue 28), through the real CLI: an absurd or
boolean ``fs``/``fr`` is refused naming the field, and acquisition files beside a suite2p folder
that state another frame rate than ``ops['fs']`` give a warning naming both."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from sfone.cli import main
from sfone.exceptions import QualityWarning
from sfone.io.imaging._writers import write_caiman_hdf5
from sfone.sampling import RATE_LIMITS_HZ
from sfone.simulate.imaging import simulate_session, write_suite2p

ABSURD = [1e308, 1e-300, True, float("inf")]


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_line_error(result, path: Path) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and str(path) in lines[0], lines
    return lines[0]


@pytest.fixture
def recording(tmp_path):
    """``rec/suite2p/plane0`` at 10 Hz, as suite2p leaves it inside the data folder ``rec``."""
    truth = simulate_session(n_rois=3, n_frames=60, n_noncells=0, random_state=3)
    assert truth.attrs["fs"] == 10.0
    write_suite2p(truth, tmp_path / "rec")
    return tmp_path / "rec"


def _set(plane: Path, key: str, value) -> None:
    """Set ``key`` in every ops/settings/db dict of the plane that has it (ops.npy always)."""
    for name in ("ops.npy", "settings.npy", "db.npy"):
        path = plane / name
        if path.exists():
            content = np.load(path, allow_pickle=True).item()
            if key in content or name == "ops.npy":
                content[key] = value
                np.save(path, content, allow_pickle=True)


@pytest.mark.parametrize("fs", ABSURD)
def test_suite2p_absurd_or_boolean_fs_is_refused(recording, fs):
    _set(recording / "suite2p" / "plane0", "fs", fs)
    line = _one_line_error(_run("info", recording / "suite2p"), recording / "suite2p")
    assert "ops/settings 'fs': sampling rate" in line
    if fs is True:
        assert "True (a boolean is not a rate)" in line
    elif np.isfinite(fs):
        low, high, _ = RATE_LIMITS_HZ["imaging"]
        assert f"outside the plausible range of imaging data, {low:g} to {high:g} Hz" in line


@pytest.mark.parametrize("fr", ABSURD)
def test_caiman_absurd_or_boolean_fr_is_refused(tmp_path, fr):
    truth = simulate_session(n_rois=3, n_frames=60, n_noncells=0, random_state=3)
    path = write_caiman_hdf5(truth, tmp_path / "cnm.hdf5")
    with h5py.File(path, "r+") as f:
        del f["params/data/fr"]
        f["params/data/fr"] = fr
    line = _one_line_error(_run("info", path), path)
    assert "params/data/fr: sampling rate" in line
    if fr is True:
        assert "a boolean is not a rate" in line


def _bruker_xml(folder: Path, frame_period: float | None, n: int = 5) -> Path:
    state = (f'    <PVStateValue key="framePeriod" value="{frame_period}" />\n'
             if frame_period else "")
    frames = "".join(f'    <Frame relativeTime="{i * 0.05:.4f}" index="{i + 1}" />\n'
                     for i in range(n))
    path = folder / "TSeries-03022026-001.xml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<PVScan version="5.4">\n'
                    f"  <PVStateShard>\n{state}  </PVStateShard>\n"
                    f'  <Sequence type="TSeries Timed Element">\n{frames}  </Sequence>\n'
                    "</PVScan>\n")
    return path


@pytest.mark.filterwarnings("default::sfone.exceptions.QualityWarning")  # the CLI prints it
# the rate the suite2p reader takes from the xml when ops has no fs (sfone/io/imaging/_bruker.py):
# the frames' times, else 1 / framePeriod
@pytest.mark.parametrize("frame_period,n,how", [(0.05, 1, "Bruker 1 / framePeriod (0.05 s)"),
                                                (None, 5, "Bruker relativeTime of 5 frames"),
                                                (0.1, 5, "Bruker relativeTime of 5 frames")])
def test_bruker_xml_beside_the_folder_contradicting_fs_is_named(recording, frame_period, n, how):
    xml = _bruker_xml(recording, frame_period, n)  # 20 Hz; ops say 10 Hz
    result = _run("info", recording / "suite2p")
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1, result.stderr
    assert (f"ops/settings 'fs' is 10 Hz per plane but {xml.resolve()} gives 20 Hz "
            f"({how})") in warning[0]
    # the library's "pass it as fs= (Hz; --fs on the command line)", as the CLI prints it
    assert warning[0].endswith("check which is right and pass --fs HZ")
    import sfone

    with pytest.warns(QualityWarning, match=r"pass it as fs= \(Hz; --fs on the command line\)"):
        sfone.read(recording / "suite2p")


def test_a_suite2p_rate_taken_from_the_bruker_xml_is_not_compared_with_itself(recording):
    import sfone

    _bruker_xml(recording, 0.1)  # framePeriod 10 Hz, the frames 20 Hz: the reader takes 20 Hz
    for name in ("ops.npy", "settings.npy", "db.npy"):
        path = recording / "suite2p" / "plane0" / name
        if path.exists():
            content = np.load(path, allow_pickle=True).item()
            content.pop("fs", None)
            np.save(path, content, allow_pickle=True)
    ds = sfone.read(recording / "suite2p")  # any warning fails (pytest config)
    assert ds.attrs["fs"] == 20.0
    assert ds.attrs["fs_source"] == "TSeries-03022026-001.xml: relativeTime of 5 frames"


def test_bruker_frame_period_is_divided_by_the_planes(recording):
    _bruker_xml(recording, 0.05)  # 20 frames/s over 2 planes = ops' 10 Hz per plane
    _set(recording / "suite2p" / "plane0", "nplanes", 2)
    result = _run("info", recording / "suite2p")  # any warning fails (pytest config)
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output


def test_agreeing_bruker_xml_and_explicit_fs_give_no_warning(recording):
    _bruker_xml(recording, 0.05)
    result = _run("info", recording / "suite2p", "--fs", "20")  # any warning fails (pytest)
    assert result.exit_code == 0, result.output
    assert "sampling         20 Hz" in result.output and "warning" not in result.stderr


@pytest.mark.filterwarnings("default::sfone.exceptions.QualityWarning")
def test_scanimage_tiff_metadata_contradicting_fs_is_named(recording):
    import tifffile

    tiff = recording / "file_00001.tif"
    with tifffile.TiffWriter(tiff) as writer:
        for i in range(4):
            writer.write(np.zeros((8, 8), np.uint16), metadata=None,
                         description=f"frameNumbers = {i + 1}\nframeTimestamps_sec = {i / 30:.6f}"
                                     "\nSI.hRoiManager.scanFrameRate = 30\n")
    result = _run("info", recording / "suite2p")
    assert result.exit_code == 0, result.output
    assert (f"'fs' is 10 Hz per plane but {tiff.resolve()} gives 30 Hz (ScanImage "
            "scanFrameRate, 1 plane(s))") in result.stderr


@pytest.mark.filterwarnings("default::sfone.exceptions.QualityWarning")
@pytest.mark.parametrize("rate", [10.0, 20.0])
def test_scanimage_frame_timestamps_alone_are_compared(recording, rate):
    import tifffile

    with tifffile.TiffWriter(recording / "file_00001.tif") as writer:
        for i in range(4):
            writer.write(np.zeros((8, 8), np.uint16), metadata=None,
                         description=f"frameTimestamps_sec = {i / rate:.6f}\n")
    result = _run("info", recording / "suite2p")
    assert result.exit_code == 0, result.output
    if rate == 10.0:  # agrees with ops['fs']
        assert "warning" not in result.stderr
    else:
        assert "gives 20 Hz (ScanImage frameTimestamps_sec, 1 plane(s))" in result.stderr

"""Memory and time bombs: small (or sparse) hostile files that declare gigabytes, expand shared
references, nest without end, never end a line or never end at all, run through the real CLI in
a subprocess whose address space is capped (``RLIMIT_AS``, 2.5 GB) and with a generous timeout.

Each must end with exit 1 and one ``Error:`` line naming the file and the quantity, and the
process's peak resident memory must stay below 2 GB; the cap turns an allocation the guards
missed into a MemoryError (which a sniffer would swallow, hence the peak check), the timeout a
hang into a failure. The assertions are about behaviour, not speed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from sfone.io import list_formats

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
CAIMAN = SAMPLES / "imaging_caiman_session.hdf5"
SUITE2P = SAMPLES / "imaging_suite2p_session"
ADDRESS_SPACE = int(2.5 * 2**30)
PEAK_RSS_KB = 2 * 2**20  # 2 GB
TIMEOUT_S = 120  # generous: these finish in seconds; a hang or a 3 GB run would not

_CAPPED = f"""
import atexit, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
def _peak():
    with open(os.environ["SFONE_TEST_PEAK"], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
atexit.register(_peak)
sys.argv = ["sfone"] + sys.argv[1:]
from sfone.cli import run
run()
"""


def sfone_capped(*args, cwd=None) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter with a 2.5 GB address-space cap; ``result.peak_kb`` is
    its peak resident memory (kB)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        env = {**os.environ, "SFONE_TEST_PEAK": str(peak),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run([sys.executable, "-c", _CAPPED, *map(str, args)],
                                capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                                cwd=cwd)
        result.peak_kb = int(peak.read_text()) if peak.exists() else None
    return result


def assert_refused(result, *fragments) -> str:
    """Exit 1, one ``Error:`` line holding every fragment, peak memory below 2 GB; returns the
    line."""
    assert result.peak_kb is not None and result.peak_kb < PEAK_RSS_KB, result.peak_kb
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert str(fragment) in errors[0], (fragment, errors[0])
    assert "Traceback" not in result.stderr
    return errors[0]


def _caiman_copy(tmp_path, name="c.hdf5") -> Path:
    path = tmp_path / name
    shutil.copyfile(CAIMAN, path)
    return path


# --- declared sizes -------------------------------------------------------------------------

def test_caiman_traces_declaring_16_gb_in_a_small_file(tmp_path):
    path = _caiman_copy(tmp_path)
    with h5py.File(path, "r+") as fh:  # chunked, never written: reads as 16 GB of fill values
        del fh["estimates/C"]
        fh.create_dataset("estimates/C", shape=(20_000, 100_000), dtype="f8", chunks=(100, 1000))
    assert path.stat().st_size < 2_000_000
    assert_refused(sfone_capped("convert", path, tmp_path / "out.nc"), path, "/estimates/C",
                   "declares 16000000000 bytes", "limit")
    assert not (tmp_path / "out.nc").exists()


def test_caiman_field_of_view_of_40000_by_40000_pixels(tmp_path):
    path = _caiman_copy(tmp_path)
    with h5py.File(path, "r+") as fh:  # dims and the footprint matrix agree: 1.6e9 pixels
        n = int(fh["estimates/A/shape"][()][1])
        for name, value in (("estimates/dims", [40_000, 40_000]),
                            ("estimates/A/shape", [40_000 * 40_000, n])):
            del fh[name]
            fh[name] = np.array(value)
    assert_refused(sfone_capped("info", path), path, "estimates/dims is 40000 x 40000")


def test_zarr_chunk_of_4_gib_in_a_small_store(tmp_path):
    pytest.importorskip("zarr")
    import sfone
    from sfone.simulate.imaging import simulate_session

    store = sfone.write_dataset(simulate_session(n_rois=3, n_frames=40, random_state=0),
                                tmp_path / "s.zarr")
    meta_path = store / "F" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["chunk_grid"]["configuration"]["chunk_shape"] = [8, 2**27]  # float32: 4 GiB
    meta_path.write_text(json.dumps(meta))
    assert_refused(sfone_capped("convert", store, tmp_path / "out.nc"), store, "F/zarr.json",
                   "one chunk declares 4294967296 bytes")


# --- shared references and nesting ------------------------------------------------------------

def _ops_with(tmp_path, value) -> Path:
    folder = tmp_path / "s2p"
    shutil.copytree(SUITE2P, folder)
    ops_path = next(folder.rglob("ops.npy"))
    ops = np.load(ops_path, allow_pickle=True).item()
    ops["version"] = value
    np.save(ops_path, np.array(ops, dtype=object), allow_pickle=True)
    return folder


def test_pickle_of_shared_references_expanding_to_1e12_objects(tmp_path):
    nested = ["abc"]
    for _ in range(6):
        nested = [nested] * 100  # pickled once: every level is 100 memo references
    folder = _ops_with(tmp_path, nested)
    assert next(folder.rglob("ops.npy")).stat().st_size < 50_000
    assert_refused(sfone_capped("info", folder), "ops.npy", "expands to more than")


def test_pickle_nested_100000_levels(tmp_path):
    folder = _ops_with(tmp_path, "DEEP")
    ops_path = next(folder.rglob("ops.npy"))
    raw = ops_path.read_bytes()
    deep = b"]" * 100_000 + b"a" * 99_999  # EMPTY_LIST x N, then APPEND x N-1: one nested list
    assert raw.count(b"\x8c\x04DEEP") == 1
    ops_path.write_bytes(raw.replace(b"\x8c\x04DEEP", deep))
    assert_refused(sfone_capped("info", folder), "ops.npy", "nested more than 100 levels")


def _laughs(key: str) -> str:
    """YAML 'billion laughs': 9 aliases per level, 9 levels (9**9 strings once expanded)."""
    text = 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in range(1, 9):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    return text + f"{key}: *l8\n"


def test_yaml_manifest_billion_laughs(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(_laughs("sessions"))
    assert_refused(sfone_capped("batch", manifest, "--task", "convert", "--out", tmp_path / "o"),
                   manifest, "expands to more than")


def test_yaml_protocol_billion_laughs(tmp_path):
    cohort = SAMPLES / "imaging_cohort"
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(_laughs("kind"))
    assert_refused(sfone_capped("classify", cohort / "mouse1_day1", "--runs",
                                cohort / "mouse1_day1_runs.csv", "--protocol", protocol,
                                "--out", tmp_path / "labels.csv"),
                   protocol, "expands to more than")


def test_yaml_study_billion_laughs(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(_laughs("name"))
    assert_refused(sfone_capped("reproduce", "--study", study, "--out", tmp_path / "o"),
                   study, "expands to more than")


def test_yaml_nested_5000_levels(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("sessions: " + "[" * 5000 + "]" * 5000 + "\n")
    assert_refused(sfone_capped("batch", manifest, "--task", "convert", "--out", tmp_path / "o"),
                   manifest, "nested more than 100 levels")


def test_netcdf_attribute_of_deeply_nested_json(tmp_path):
    import sfone
    from sfone.simulate.imaging import simulate_session

    path = sfone.write_dataset(simulate_session(n_rois=3, n_frames=40, random_state=0),
                               tmp_path / "s.nc")
    with h5py.File(path, "r+") as fh:
        fh.attrs["extra_json"] = "[" * 100_000 + "]" * 100_000
    assert_refused(sfone_capped("info", path), path, "attr 'extra_json'", "nested too deeply")


def test_ppd_header_of_deeply_nested_json(tmp_path):
    header = b"[" * 30_000 + b"]" * 30_000
    path = tmp_path / "deep.ppd"
    path.write_bytes(len(header).to_bytes(2, "little") + header + bytes(400))
    assert_refused(sfone_capped("info", "--format", "ppd", path), path, "nested too deeply")


def test_zarr_attributes_of_deeply_nested_json(tmp_path):
    pytest.importorskip("zarr")
    import sfone
    from sfone.simulate.imaging import simulate_session

    store = sfone.write_dataset(simulate_session(n_rois=3, n_frames=40, random_state=0),
                                tmp_path / "s.zarr")
    meta_path = store / "zarr.json"
    text = meta_path.read_text()
    meta_path.write_text(text.replace('"attributes": {', '"attributes": {"deep": ' + "[" * 100_000
                                      + "]" * 100_000 + ", ", 1))
    assert_refused(sfone_capped("info", store), store, "zarr.json", "nested too deeply")


# --- lines and files without end --------------------------------------------------------------

SUFFIXES = sorted({s for info in list_formats() if not info.directory for s in info.suffixes})


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_3_gb_file_without_a_line_end_under_every_known_suffix(tmp_path, suffix):
    """A sparse 3 GB file of NUL bytes (no disk used): sniffers read a bounded head, so
    detection refuses it (an unbounded ``readline()`` would need more than the 2.5 GB cap)."""
    path = tmp_path / f"big{suffix}"
    with open(path, "wb") as fh:
        fh.truncate(3 * 2**30)
    assert_refused(sfone_capped("info", path), path, "unrecognised file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_listed_in_a_manifest_fails_that_session(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,subject,session\n/dev/zero,m1,d1\n")
    result = sfone_capped("batch", manifest, "--task", "convert", "--out", tmp_path / "o")
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.peak_kb < PEAK_RSS_KB
    assert "/dev/zero: is a character device" in result.stderr
    assert "Traceback" not in result.stderr
    assert "/dev/zero" in (tmp_path / "o" / "errors.csv").read_text()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_fifo_as_a_session_path_and_as_an_input(tmp_path):
    fifo = tmp_path / "session.csv"
    os.mkfifo(fifo)  # opening it would block until a writer appears: forever
    assert_refused(sfone_capped("info", fifo), fifo, "is a FIFO (named pipe)")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"path,subject,session\n{fifo},m1,d1\n")
    result = sfone_capped("batch", manifest, "--task", "convert", "--out", tmp_path / "o")
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{fifo}: is a FIFO" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_fifo_inside_a_folder_format(tmp_path):
    folder = tmp_path / "s2p"
    shutil.copytree(SUITE2P, folder)
    member = next(folder.rglob("F.npy"))
    member.unlink()
    os.mkfifo(member)
    assert_refused(sfone_capped("info", folder), folder, "F.npy is a FIFO")

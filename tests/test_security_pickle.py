"""suite2p's pickled ``.npy`` files are unpickled with an allow-list: hostile files run nothing.

Each hostile file carries an object whose ``__reduce__`` would create a sentinel file; the tests
assert that the read fails with a FormatError naming the file and the refused global, and that
the sentinel does not exist. Real suite2p files (every shared fixture, current suite2p's own
output, sfone's writers) must read exactly as ``np.load(allow_pickle=True)`` reads them.
"""

from __future__ import annotations

import datetime
import io
import os
import pickle
import shutil
import subprocess

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from shared_fixtures import fixture_path

import sfone
from sfone.cli import main
from sfone.exceptions import FormatError
from sfone.io import _safe_pickle
from sfone.io._safe_pickle import load_object_npy
from sfone.io.imaging import _npy
from sfone.io.imaging.suite2p import read_suite2p
from sfone.simulate.imaging import simulate_session, write_suite2p

_RECONSTRUCT = np.empty(0).__reduce__()[0]  # numpy.(_)core.multiarray._reconstruct

SUITE2P_FIXTURES = {  # folder -> read_suite2p keywords
    "suite2p_fissa_example_v0.10": {},
    "suite2p_no_ops_pynapple": {"fs": 10.0},
    "suite2p_inscopix_ideas_sample": {},
    "suite2p_synthetic_v1.1.0_2plane": {},
}


class _Touch:
    """Unpickling this calls ``callable_(*args)``, which would create ``sentinel``."""

    def __init__(self, callable_, args):
        self.callable_, self.args = callable_, args

    def __reduce__(self):
        return self.callable_, self.args


def _hostile_payloads(sentinel):
    return {
        "os.system": _Touch(os.system, (f"touch {sentinel}",)),
        "builtins.exec": _Touch(exec, (f"open({str(sentinel)!r}, 'w').close()",)),
        "subprocess.check_call": _Touch(subprocess.check_call, (["touch", str(sentinel)],)),
        "pathlib.Path.touch": _Touch(type(sentinel).touch, (sentinel,)),
    }


def _expected_global(kind: str) -> str:
    return {"os.system": f"{os.system.__module__}.system",  # posix.system on Linux
            "pathlib.Path.touch": "pathlib",  # pickled via copyreg/getattr: refused first
            }.get(kind, kind)


def _deep_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.hasobject:
            return all(_deep_equal(x, y) for x, y in zip(a.ravel(), b.ravel(), strict=True))
        return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_deep_equal(a[k], b[k]) for k in a))
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _plane(tmp_path, layout="1.x"):
    ds = simulate_session(n_rois=5, n_frames=200, random_state=0)
    root = write_suite2p(ds, tmp_path / "s2p", layout=layout)
    return root, next(root.rglob("F.npy")).parent


# --- hostile files ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "subprocess.check_call",
                                  "pathlib.Path.touch"])
def test_hostile_stat_npy_runs_nothing(tmp_path, kind):
    sentinel = tmp_path / "PWNED"
    root, plane = _plane(tmp_path)
    stat = list(np.load(plane / "stat.npy", allow_pickle=True))
    stat[0]["med"] = _hostile_payloads(sentinel)[kind]
    np.save(plane / "stat.npy", np.array(stat, dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="stat.npy") as err:
        sfone.read(root)
    assert _expected_global(kind) in str(err.value)
    assert str(plane / "stat.npy") in str(err.value)
    assert not sentinel.exists()


@pytest.mark.parametrize("name", ["settings.npy", "db.npy"])
def test_hostile_1x_metadata_runs_nothing(tmp_path, name):
    sentinel = tmp_path / "PWNED"
    root, plane = _plane(tmp_path, layout="1.x")
    value = np.load(plane / name, allow_pickle=True).item()
    value["hostile"] = _Touch(os.system, (f"touch {sentinel}",))
    np.save(plane / name, np.array(value, dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match=f"{name}.*system"):
        read_suite2p(root)
    assert not sentinel.exists()


def test_hostile_ops_npy_via_cli_info_runs_nothing(tmp_path):
    """The issue's report: ``sfone info FOLDER`` on a hostile ops.npy ran the command."""
    sentinel = tmp_path / "PWNED"
    root, plane = _plane(tmp_path, layout="0.14")
    ops = np.load(plane / "ops.npy", allow_pickle=True).item()
    ops["date_proc"] = _Touch(os.system, (f"touch {sentinel}",))
    np.save(plane / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    result = CliRunner().invoke(main, ["info", str(root)])
    assert result.exit_code != 0
    assert "ops.npy" in result.output and "system" in result.output
    assert not sentinel.exists()


@pytest.mark.parametrize("name", ["reg_outputs.npy", "detect_outputs.npy"])
def test_hostile_image_outputs_refused_by_the_loader(tmp_path, name):
    sentinel = tmp_path / "PWNED"
    path = tmp_path / name
    np.save(path, np.array({"meanImg": _Touch(os.system, (f"touch {sentinel}",))}, dtype=object),
            allow_pickle=True)
    with pytest.raises(FormatError, match=f"{name}.*system"):
        _npy.load_dict(path)
    assert not sentinel.exists()


def _npy_with_payload(path, payload: bytes, shape=(1,)):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "|O", "fortran_order": False, "shape": shape})
        fh.write(payload)


def test_reconstruct_of_another_class_is_refused(tmp_path):
    """The allowed ``_reconstruct`` only builds an empty ndarray (what numpy pickles)."""
    path = tmp_path / "stat.npy"

    class Trick:
        def __reduce__(self):
            return (_RECONSTRUCT, (datetime.datetime, (0,), b"b"))

    _npy_with_payload(path, pickle.dumps(np.array([Trick()], dtype=object)[0], protocol=4))
    with pytest.raises(FormatError, match="stat.npy.*reconstruction"):
        load_object_npy(path)


def test_huge_reconstruct_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "stat.npy"

    class Huge:
        def __reduce__(self):
            return (_RECONSTRUCT, (np.ndarray, (2**40,), b"b"))

    _npy_with_payload(path, pickle.dumps(Huge(), protocol=4))
    with pytest.raises(FormatError, match="stat.npy.*expected \\(numpy.ndarray, \\(0,\\)\\)"):
        load_object_npy(path)


def test_persistent_ids_are_refused(tmp_path):
    path = tmp_path / "ops.npy"
    buffer = io.BytesIO()

    class WithPid(pickle.Pickler):
        def persistent_id(self, obj):
            return "x" if isinstance(obj, str) and obj == "pid" else None

    WithPid(buffer, protocol=4).dump(np.array(["pid"], dtype=object))
    _npy_with_payload(path, buffer.getvalue())
    with pytest.raises(FormatError, match="ops.npy.*persistent"):
        load_object_npy(path)


def test_truncated_pickle_names_the_file(tmp_path):
    path = tmp_path / "stat.npy"
    np.save(path, np.array([{"med": [1, 2]}] * 3, dtype=object), allow_pickle=True)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(FormatError, match="cannot unpickle stat.npy"):
        load_object_npy(path)


def test_payload_that_disagrees_with_the_header_is_refused(tmp_path):
    path = tmp_path / "stat.npy"
    _npy_with_payload(path, pickle.dumps(np.array([1, 2, 3], dtype=object), protocol=4),
                      shape=(5,))
    with pytest.raises(FormatError, match=r"stat.npy.*shape \(5,\).*shape \(3,\)"):
        load_object_npy(path)


def test_not_an_npy_file(tmp_path):
    path = tmp_path / "ops.npy"
    path.write_bytes(b"\x80\x04K\x01.")  # a bare pickle, no .npy header
    with pytest.raises(FormatError, match="ops.npy is not a valid .npy file"):
        load_object_npy(path)


def test_numeric_npy_reads_without_pickle(tmp_path):
    path = tmp_path / "iscell.npy"
    np.save(path, np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(load_object_npy(path), np.arange(6.0).reshape(3, 2))


# --- real files read exactly as before --------------------------------------------------------


def _object_npy_files(root):
    files = []
    for path in sorted(root.rglob("*.npy")):
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)(fh)
        if header[2].hasobject:
            files.append(path)
    return files


def _assert_same_as_np_load(root):
    files = _object_npy_files(root)
    assert files, f"no pickled .npy under {root}"
    for path in files:
        assert _deep_equal(load_object_npy(path), np.load(path, allow_pickle=True)), path
    return files


@pytest.mark.parametrize("folder", sorted(SUITE2P_FIXTURES))
def test_every_real_fixture_pickle_reads_as_np_load(folder):
    files = _assert_same_as_np_load(fixture_path("imaging", folder))
    if folder == "suite2p_synthetic_v1.1.0_2plane":  # every 1.x object file, both planes
        assert {p.name for p in files} >= {"stat.npy", "ops.npy", "db.npy", "settings.npy",
                                           "reg_outputs.npy", "detect_outputs.npy"}


def test_both_numpy_spellings_occur_in_the_fixtures():
    """0.10 files were pickled by NumPy 1.x (numpy.core), the 1.1.0 ones by NumPy 2."""
    seen = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            seen.add(f"{module}.{name}")
            return _safe_pickle.ALLOWED_GLOBALS[f"{module}.{name}"]

    for folder in ("suite2p_fissa_example_v0.10", "suite2p_synthetic_v1.1.0_2plane"):
        for path in _object_npy_files(fixture_path("imaging", folder)):
            with open(path, "rb") as fh:
                np.lib.format.read_array_header_1_0(fh) if np.lib.format.read_magic(fh) == (
                    1, 0) else np.lib.format.read_array_header_2_0(fh)
                Recorder(fh).load()
    assert {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
            "datetime.datetime", "datetime.timezone"} <= seen


def _read_with_np_load(monkeypatch, folder, **kwargs):
    def old_load_pickled(path):
        return np.load(path, allow_pickle=True)

    with monkeypatch.context() as patch:
        patch.setattr("sfone.io.imaging.suite2p.load_pickled", old_load_pickled)
        patch.setattr(_npy, "load_pickled", old_load_pickled)
        return read_suite2p(folder, mmap=False, **kwargs).load()


@pytest.mark.parametrize(("folder", "combined"), [
    *((folder, False) for folder in sorted(SUITE2P_FIXTURES)),
    ("suite2p_synthetic_v1.1.0_2plane", True)])  # the only fixture with combined/
@pytest.mark.filterwarnings("ignore:.*all-zero F row:sfone.exceptions.QualityWarning")
def test_real_fixture_datasets_identical_to_np_load(monkeypatch, folder, combined):
    """(The pynapple fixture's 47 all-zero F rows warn on every read, whichever unpickler.)"""
    path = fixture_path("imaging", folder)
    kwargs = {**SUITE2P_FIXTURES[folder], "combined": combined}
    before = _read_with_np_load(monkeypatch, path, **kwargs)
    after = read_suite2p(path, mmap=False, **kwargs).load()
    xr.testing.assert_identical(after, before)
    assert after.attrs == before.attrs


@pytest.mark.parametrize("layout", ["1.x", "0.14"])
def test_sfone_written_suite2p_folders_read_as_before(tmp_path, monkeypatch, layout):
    root, _ = _plane(tmp_path, layout=layout)
    _assert_same_as_np_load(root)
    xr.testing.assert_identical(read_suite2p(root, mmap=False).load(),
                                _read_with_np_load(monkeypatch, root))


@pytest.mark.suite2p
@pytest.mark.filterwarnings("ignore:Sparse:UserWarning")
def test_files_written_by_current_suite2p_read_as_np_load(tmp_path, monkeypatch,
                                                          suite2p_module):
    from sfone.extract import run_suite2p
    from sfone.simulate.imaging import simulate_movie, write_movie_tiff

    movie, truth = simulate_movie(n_frames=200, shape=(48, 48), n_cells=4, random_state=1)
    tif = write_movie_tiff(movie, tmp_path / "movie" / "movie.tif")
    ds = run_suite2p([tif], tmp_path / "out", fs=truth["fs"], tau=truth["tau"])
    files = _assert_same_as_np_load(tmp_path / "out")
    assert {"stat.npy", "ops.npy", "db.npy", "settings.npy"} <= {p.name for p in files}
    assert ds.sizes["roi"] > 0
    xr.testing.assert_identical(read_suite2p(tmp_path / "out", mmap=False).load(),
                                _read_with_np_load(monkeypatch, tmp_path / "out"))


def test_fixture_copy_with_hostile_stat_runs_nothing(tmp_path):
    """A real 0.10 folder whose stat.npy was replaced: the shape check comes after the refusal."""
    sentinel = tmp_path / "PWNED"
    folder = tmp_path / "fissa"
    shutil.copytree(fixture_path("imaging", "suite2p_fissa_example_v0.10"), folder)
    stat = folder / "suite2p" / "plane0" / "stat.npy"
    np.save(stat, np.array([_Touch(os.system, (f"touch {sentinel}",))], dtype=object),
            allow_pickle=True)
    with pytest.raises(FormatError, match="stat.npy names the Python global posix.system"):
        sfone.read(folder)
    assert not sentinel.exists()

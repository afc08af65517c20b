"""zarr stores and netCDF files are untrusted: codecs that could run code, links that read other
files and attributes that are not JSON are refused with an error naming the store or file."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import xarray as xr
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import FormatError
from sfone.io.netcdf import ZARR_CODECS, check_zarr_store
from sfone.simulate.imaging import simulate_session


class _Touch:
    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


@pytest.fixture
def session():
    ds = simulate_session(n_rois=3, n_frames=40, random_state=0)
    return ds.assign_coords(label=("roi", np.array(["a", "bb", "c"], dtype=object)))


@pytest.fixture
def zarr_store(tmp_path, session):
    pytest.importorskip("zarr")
    return sfone.write_dataset(session, tmp_path / "session.zarr")


def test_sfone_written_zarr_passes_the_codec_check(zarr_store, session):
    check_zarr_store(zarr_store)
    back = sfone.read(zarr_store)
    np.testing.assert_array_equal(back["F"].values, session["F"].values)
    assert list(back["label"].values) == ["a", "bb", "c"]


def _v2_store_with_pickle(path, sentinel, *, where: str):
    import numcodecs

    path.mkdir()
    (path / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (path / ".zattrs").write_text(json.dumps({"sfone_version": "0.1.0"}))
    array = path / "label"
    array.mkdir()
    meta = {"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "|O", "compressor": None,
            "fill_value": None, "filters": None, "order": "C"}
    if where == "filters":
        meta["filters"] = [{"id": "pickle", "protocol": 4}]
    else:
        meta["compressor"] = {"id": "pickle", "protocol": 4}
    (array / ".zarray").write_text(json.dumps(meta))
    (array / ".zattrs").write_text(json.dumps({"_ARRAY_DIMENSIONS": ["roi"]}))
    (array / "0").write_bytes(numcodecs.Pickle().encode(
        np.array([_Touch(sentinel), "x"], dtype=object)))
    return path


@pytest.mark.parametrize("where", ["filters", "compressor"])
def test_zarr2_pickle_codec_is_refused_before_zarr_reads(tmp_path, where):
    pytest.importorskip("zarr")
    sentinel = tmp_path / "PWNED"
    store = _v2_store_with_pickle(tmp_path / "hostile.zarr", sentinel, where=where)
    with pytest.raises(FormatError, match=r"hostile.zarr.*label/.zarray.*codec\(s\) pickle"):
        sfone.read(store)
    assert not sentinel.exists()


def _edit_zarr_json(store, array, edit):
    meta_path = store / array / "zarr.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))


def test_zarr3_plugin_codec_is_refused(zarr_store):
    _edit_zarr_json(zarr_store, "F", lambda m: m["codecs"].insert(
        0, {"name": "numcodecs.pickle", "configuration": {}}))
    with pytest.raises(FormatError, match=r"session.zarr.*F/zarr.json.*numcodecs.pickle"):
        sfone.read(zarr_store)


def test_codec_nested_in_a_shard_is_refused(zarr_store):
    def shard(meta):
        meta["codecs"] = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [1, 40], "codecs": [{"name": "my_plugin.exec"}],
            "index_codecs": [{"name": "bytes"}]}}]

    _edit_zarr_json(zarr_store, "F", shard)
    with pytest.raises(FormatError, match="my_plugin.exec"):
        check_zarr_store(zarr_store)


def test_user_attributes_named_like_codecs_are_not_codecs(zarr_store):
    _edit_zarr_json(zarr_store, "F", lambda m: m["attributes"].update(
        filters=["465/30 nm", "pickle"], codecs=["x"]))
    check_zarr_store(zarr_store)  # no error: attributes are data, not codecs


def test_consolidated_metadata_is_checked_too(zarr_store):
    (zarr_store / ".zmetadata").write_text(json.dumps({"metadata": {
        "F/.zarray": {"compressor": {"id": "pickle"}}}, "zarr_consolidated_format": 1}))
    with pytest.raises(FormatError, match=r"\.zmetadata.*pickle"):
        sfone.read(zarr_store)


def test_allow_list_holds_no_code_running_codec():
    assert not {"pickle", "numcodecs.pickle", "msgpack2", "json2"} & ZARR_CODECS


# --- netCDF / HDF5 ----------------------------------------------------------------------------


@pytest.fixture
def netcdf(tmp_path, session):
    return sfone.write_dataset(session, tmp_path / "session.nc")


def test_netcdf_external_link_is_refused(tmp_path, netcdf):
    with h5py.File(tmp_path / "elsewhere.h5", "w") as other:
        other["secret"] = np.arange(3)
    with h5py.File(netcdf, "a") as fh:
        fh["extra"] = h5py.ExternalLink(str(tmp_path / "elsewhere.h5"), "/secret")
    with pytest.raises(FormatError, match=r"session.nc.*/extra is an external link to"):
        sfone.read(netcdf)


def test_netcdf_external_raw_storage_is_refused(tmp_path, netcdf):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"private bytes")
    with h5py.File(netcdf, "a") as fh:
        fh.create_dataset("leak", shape=(8,), dtype="u1", external=[(str(outside), 0, 8)])
    with pytest.raises(FormatError, match=r"session.nc.*/leak is external raw storage"):
        sfone.read(netcdf)


def test_netcdf_virtual_dataset_is_refused(tmp_path, netcdf):
    with h5py.File(tmp_path / "src.h5", "w") as other:
        other["x"] = np.arange(3)
    with h5py.File(netcdf, "a") as fh:
        layout = h5py.VirtualLayout(shape=(3,), dtype="i8")
        layout[:] = h5py.VirtualSource(str(tmp_path / "src.h5"), "x", shape=(3,))
        fh.create_virtual_dataset("virtual", layout)
    with pytest.raises(FormatError, match=r"session.nc.*/virtual is a virtual dataset"):
        sfone.read(netcdf)


def test_netcdf_json_attr_that_is_code_is_an_error_not_evaluated(tmp_path, netcdf):
    sentinel = tmp_path / "PWNED"
    with h5py.File(netcdf, "a") as fh:
        fh.attrs["protocol_json"] = f"[__import__('os').system('touch {sentinel}')]"
    with pytest.raises(FormatError, match=r"session.nc.*attr 'protocol_json' is not valid JSON"):
        sfone.read(netcdf)
    assert not sentinel.exists()


def test_netcdf_attribute_holding_a_pickle_stays_bytes(tmp_path, netcdf):
    """An attribute is never unpickled: a pickled payload comes back as the bytes it is."""
    sentinel = tmp_path / "PWNED"
    payload = pickle.dumps(_Touch(sentinel))
    with h5py.File(netcdf, "a") as fh:
        fh.attrs["note"] = np.void(payload)
    ds = sfone.read(netcdf)
    assert not sentinel.exists()
    assert payload in bytes(np.asarray(ds.attrs["note"]).tobytes())


def test_netcdf_round_trip_unchanged(netcdf, session):
    back = sfone.read(netcdf)
    xr.testing.assert_allclose(back[["F"]], session[["F"]])


# --- .mat files -------------------------------------------------------------------------------


def test_mat_files_are_not_opened_by_any_reader(monkeypatch):
    """suite2p's Fall.mat (real, from the 1.1.0 fixture): no reader loads MATLAB files."""
    calls = []
    monkeypatch.setattr(scipy.io, "loadmat", lambda *a, **k: calls.append(a))
    mat = fixture_path("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "plane0",
                       "Fall.mat")
    with pytest.raises(FormatError, match=r"Fall.mat.*unrecognised"):
        sfone.read(mat)
    assert calls == []


def test_no_reader_source_calls_loadmat():
    sources = Path(sfone.__file__).parent.rglob("*.py")
    assert [p.name for p in sources if "loadmat" in p.read_text(encoding="utf-8")] == []

"""Readers with ``chunks=`` open files without reading the traces: dask arrays over the file whose
graphs hold no data and whose values are read at compute time; cohorts come back dask-backed."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import dask.array as da
import h5py
import numpy as np
import pytest
import xarray as xr

import sfone
from sfone.cohort import lazy_formats, open_cohort
from sfone.exceptions import FormatError
from sfone.io.events.runs_csv import write_runs_csv
from sfone.simulate.imaging import simulate_session, write_caiman_hdf5, write_suite2p
from tests.shared_fixtures import fixture_path

CHUNKS = {"roi": 3, "time": 64}


@pytest.fixture(scope="module")
def session():
    return simulate_session(n_rois=8, n_frames=400, fs=10.0, random_state=2)


def _graph_bytes(array) -> int:
    return len(pickle.dumps(array.__dask_graph__()))


def _assert_lazy_equal(lazy: xr.Dataset, eager: xr.Dataset, names):
    for name in names:
        assert isinstance(lazy[name].data, da.Array), f"{name} is not dask-backed"
        # the graph references the file, it does not carry the data
        assert _graph_bytes(lazy[name].data) < max(lazy[name].nbytes / 4, 20_000)
        np.testing.assert_array_equal(lazy[name].values, eager[name].values)
    xr.testing.assert_identical(lazy.compute(), eager)


def test_caiman_chunks_read_at_compute_time(session, tmp_path):
    path = write_caiman_hdf5(session, tmp_path / "cnm.hdf5")
    eager = sfone.read(path)
    lazy = sfone.read(path, chunks=CHUNKS)
    assert lazy["F"].data.chunksize == (3, 64)
    _assert_lazy_equal(lazy, eager, ["F", "C", "YrA"])
    with h5py.File(path, "r+") as fh:  # the file changes after opening: compute sees it
        fh["estimates/C"][0, :] = -1.0
    assert np.all(lazy["C"].values[0] == -1.0)
    np.testing.assert_array_equal(lazy["F"].values[1], eager["F"].values[1])


def test_caiman_real_cnmfe_file_lazy_equals_eager():
    path = fixture_path("imaging", "caiman_cnmfe_inscopix_ideas/sample_cellset_msr_1.hdf5")
    _assert_lazy_equal(sfone.read(path, chunks="auto"), sfone.read(path), ["F", "C"])


def test_isxd_cell_set_lazy_equals_eager(tmp_path):
    source = fixture_path("imaging", "inscopix_isx_exports_ideas_nca/cellset_accepted_undecided_and_rejected_cells.isxd")
    path = shutil.copy(source, tmp_path / "cells.isxd")
    eager = sfone.read(path)
    lazy = sfone.read(path, chunks=(16, 1000))
    assert lazy["F"].data.chunksize == (16, 1000)
    _assert_lazy_equal(lazy, eager, ["F"])
    n_cells, n_times = eager["F"].shape
    image_px = eager.attrs["Ly"] * eager.attrs["Lx"]
    data = np.memmap(path, dtype="<f4", mode="r+", shape=(n_cells, image_px + n_times))
    data[2, image_px:] = 7.0  # cell 2's trace, after its image
    data.flush()
    del data
    assert np.all(lazy["F"].values[2] == 7.0)
    np.testing.assert_array_equal(lazy["F"].values[3], eager["F"].values[3])


def test_nwb_lazy_equals_eager(session, tmp_path):
    pytest.importorskip("pynwb")
    path = sfone.to_nwb(session, tmp_path / "s.nwb", session_start_time="2026-03-02T07:00:00+00:00")
    eager = sfone.read(path)
    lazy = sfone.read(path, chunks=(4, 100))
    assert lazy["F"].data.chunksize == (4, 100)
    _assert_lazy_equal(lazy, eager, [name for name in eager.data_vars])


def test_cohort_sessions_are_dask_backed(session, tmp_path):
    write_suite2p(session, tmp_path / "m1_d1")
    write_caiman_hdf5(session, tmp_path / "m1_d8.hdf5")
    write_runs_csv(([10.0], [20.0]), tmp_path / "runs.csv")
    (tmp_path / "manifest.csv").write_text(
        "path,subject,session\nm1_d1,m1,d1\nm1_d8.hdf5,m1,d8\nruns.csv,m2,d1\n")
    assert {"suite2p", "caiman", "inscopix-isxd", "nwb"} <= set(lazy_formats())
    assert sfone.open_cohort is open_cohort
    cohort = sfone.open_cohort(tmp_path / "manifest.csv", chunks={"time": 100})
    for key in cohort:
        ds = cohort[key]
        assert all(isinstance(var.data, da.Array) for var in ds.data_vars.values()), key
    suite2p, caiman = cohort["m1", "d1"], cohort["m1", "d8"]
    assert suite2p["F"].data.chunksize[1] == caiman["F"].data.chunksize[1] == 100
    for lazy in (suite2p, caiman):  # graphs refer to the files (suite2p: .npy bytes)
        assert _graph_bytes(lazy["F"].data) < lazy["F"].nbytes / 4
    np.testing.assert_allclose(caiman["F"].mean("time").values,
                               suite2p["F"].mean("time").values, rtol=1e-5)
    np.testing.assert_array_equal(cohort["m2", "d1"]["start"].values, [10.0])
    plain = open_cohort(tmp_path / "manifest.csv", chunks=None)
    assert isinstance(plain["m1", "d8"]["F"].data, np.ndarray)


@pytest.mark.parametrize("kind", ["caiman", "isxd"])
def test_a_file_gone_before_compute_is_a_format_error_naming_it(kind, session, tmp_path):
    if kind == "caiman":
        path = write_caiman_hdf5(session, tmp_path / "cnm.hdf5")
    else:
        source = fixture_path("imaging", "inscopix_isx_exports_ideas_nca/"
                              "cellset_accepted_undecided_and_rejected_cells.isxd")
        path = Path(shutil.copy(source, tmp_path / "cells.isxd"))
    lazy = sfone.read(path, chunks="auto")
    path.unlink()
    with pytest.raises(FormatError, match=r"lazily opened file failed.*moved, changed or "
                                          r"deleted") as info:
        lazy["F"].compute()
    assert str(tmp_path) in str(info.value)

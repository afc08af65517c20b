"""NWB both ways against NeuroConv 0.10.2 files (written from fixtures that are also here), pynwb's
validator, the NWB Inspector (DANDI configuration), roiextractors and ndx-fiber-photometry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from shared_fixtures import REPO_ROOT, fixture_path

import sfone
from sfone.exceptions import FormatError, SchemaError
from sfone.io.imaging.nwb import read_nwb, read_nwb_events, read_nwb_segmentation

pynwb = pytest.importorskip("pynwb")

NEUROCONV = ("imaging", "neuroconv_nwb")
FULL_METADATA = {"NWBFile": {"experimenter": ["Doe, Jane"], "institution": "Example University",
                             "lab": "Exercise lab", "experiment_description": "treadmill runs",
                             "keywords": ["VMH", "SF1"]},
                 "Subject": {"subject_id": "m07", "species": "Mus musculus", "sex": "M",
                             "age": "P90D", "description": "SF1-Cre mouse"}}


def _lam_centroids(plane_folder):
    stat = np.load(plane_folder / "stat.npy", allow_pickle=True)
    y = np.array([(s["ypix"] * s["lam"]).sum() / s["lam"].sum() for s in stat])
    x = np.array([(s["xpix"] * s["lam"]).sum() / s["lam"].sum() for s in stat])
    return y, x


@pytest.mark.parametrize("nwb, source, fs", [
    ("s2p_fissa.nwb", ("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0"), 1.0),
    ("s2p_v110_plane0.nwb", ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "plane0"),
     None),
    ("s2p_v110_plane1.nwb", ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "plane1"),
     None),
])
def test_neuroconv_suite2p_reads_like_its_source(nwb, source, fs):
    ds = sfone.read(fixture_path(*NEUROCONV, nwb))
    folder = fixture_path(*source)
    src = sfone.read(folder, **({"fs": fs} if fs else {}))
    # plane-suffixed series (RoiResponseSeriesChan1Plane0, NeuropilChan1Plane0, ...) are read
    for var in ("F", "Fneu", "spks"):
        np.testing.assert_array_equal(ds[var].values, src[var].values)
    np.testing.assert_array_equal(ds["iscell"].values, src["iscell"].values)
    # pixel mask x = ROW: centroids equal the lam-weighted centroids of stat (ypix, xpix)
    y, x = _lam_centroids(folder)
    np.testing.assert_allclose(ds["y"].values, y, atol=1e-4)
    np.testing.assert_allclose(ds["x"].values, x, atol=1e-4)
    stat = np.load(folder / "stat.npy", allow_pickle=True)
    roi0 = ds["mask_roi"].values == 0
    np.testing.assert_array_equal(ds["mask_y"].values[roi0], stat[0]["ypix"])
    np.testing.assert_array_equal(ds["mask_x"].values[roi0], stat[0]["xpix"])
    ops = np.load(folder / "ops.npy", allow_pickle=True).item()
    assert ds.attrs["fov_shape"] == [ops["Ly"], ops["Lx"]]
    assert ds["mean_image"].dims == ("fov_y", "fov_x")


def test_neuroconv_fissa_mean_image_is_ops_meanimg_not_transposed():
    ds = sfone.read(fixture_path(*NEUROCONV, "s2p_fissa.nwb"))
    ops = np.load(fixture_path("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0",
                               "ops.npy"), allow_pickle=True).item()
    assert ds.attrs["fov_shape"] == [ops["Ly"], ops["Lx"]] == [176, 156]
    np.testing.assert_allclose(ds["mean_image"].values, ops["meanImg"], rtol=1e-6)


def test_neuroconv_caiman_acceptance_and_masks():
    ds = sfone.read(fixture_path(*NEUROCONV, "caiman_msr1.nwb"))
    src = sfone.read(fixture_path("imaging", "caiman_cnmfe_inscopix_ideas",
                                  "sample_cellset_msr_1.hdf5"))
    np.testing.assert_array_equal(ds["iscell"].values, src["iscell"].values)  # is_accepted
    assert ds.attrs["fov_shape_source"].startswith("extent of the masks")  # no image size stored
    np.testing.assert_array_equal(ds["C"].values, src["C"].values)
    # every component's pixel SET equals CaImAn's A (Fortran order over dims); NeuroConv's file
    # attaches the weights to the pixels in another order (roiextractors 0.10.0 on CaImAn's
    # unsorted CSC indices), so weighted centroids differ from the source by up to ~3 px
    import h5py
    import scipy.sparse as sp

    with h5py.File(fixture_path("imaging", "caiman_cnmfe_inscopix_ideas",
                                "sample_cellset_msr_1.hdf5")) as f:
        g = f["estimates/A"]
        a = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]),
                          shape=tuple(g["shape"][:])).toarray()
    for k in range(ds.sizes["roi"]):
        image = a[:, k].reshape((400, 640), order="F")
        sel = ds["mask_roi"].values == k
        assert set(zip(*np.nonzero(image), strict=True)) == set(zip(
            ds["mask_y"].values[sel], ds["mask_x"].values[sel], strict=True))
    assert np.abs(ds["y"].values - src["y"].values).max() < 3


def test_caiman_rejected_components_stay_rejected(tmp_path):
    """A NeuroConv-style table with ``is_accepted`` False is not a cell (sfone read iscell only)."""
    ds = sfone.read(fixture_path(*NEUROCONV, "caiman_msr1.nwb"))
    ds["iscell"] = ("roi", np.array([True, False, True, False, True]))
    path = sfone.to_nwb(ds, tmp_path / "c.nwb", session_start_time="2026-01-01T00:00:00Z")
    import h5py

    with h5py.File(path, "r+") as f:  # rename sfone's iscell column the NeuroConv way
        table = f["processing/ophys/ImageSegmentation/PlaneSegmentation"]
        table.move("iscell", "is_accepted")
        table.attrs["colnames"] = [("is_accepted" if c == "iscell" else c)
                                   for c in table.attrs["colnames"]]
    np.testing.assert_array_equal(read_nwb(path)["iscell"].values, ds["iscell"].values)


def test_neuroconv_inscopix_segmentation_matches_isxd():
    seg = read_nwb_segmentation(fixture_path(*NEUROCONV, "isxd_cellset.nwb"))
    src = sfone.read(fixture_path("imaging", "inscopix_isx_exports_ideas_nca",
                                  "cellset_accepted_undecided_and_rejected_cells.isxd"))
    np.testing.assert_array_equal(seg["status"].values, src["status"].values)
    np.testing.assert_array_equal(seg["iscell"].values, src["iscell"].values)
    np.testing.assert_allclose(seg["y"].values, src["y"].values, atol=1e-4)
    np.testing.assert_allclose(seg["x"].values, src["x"].values, atol=1e-4)
    assert seg.attrs["fov_shape"] == [src.attrs["Ly"], src.attrs["Lx"]] == [52, 50]
    with pytest.raises(FormatError, match="segmentation only: read it with read_nwb_segm"):
        sfone.read(fixture_path(*NEUROCONV, "isxd_cellset.nwb"))


def test_non_ophys_nwb_gives_the_specific_message():
    path = fixture_path("imaging", "nwb_non_ophys_pynapple", "A8604-211122.nwb")
    with pytest.raises(FormatError, match="no processing/ophys module.*units: 3") as err:
        sfone.read(path)
    assert "unrecognised" not in str(err.value)


def _inspect(path):
    from nwbinspector import inspect_nwbfile, load_config

    return [m for m in inspect_nwbfile(nwbfile_path=str(path), config=load_config("dandi"))
            if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION")]


def test_to_nwb_writes_footprints_neuroconv_way_and_peers_read_them(tmp_path):
    pytest.importorskip("nwbinspector")
    roiextractors = pytest.importorskip("roiextractors")
    ds = sfone.read(fixture_path(*NEUROCONV, "s2p_fissa.nwb"))
    path = sfone.to_nwb(ds, tmp_path / "fissa.nwb", metadata=FULL_METADATA, location="VMH")
    assert pynwb.validate(path=str(path)) == []
    assert _inspect(path) == []
    back = sfone.read(path)
    for var in ("F", "Fneu", "spks", "mask_roi", "mask_y", "mask_x", "mask_weight",
                "mean_image"):
        np.testing.assert_array_equal(back[var].values, ds[var].values)
    assert back.attrs["experimenter"] == "Doe, Jane"
    assert back.attrs["institution"] == "Example University"
    # the pixel masks are written in NeuroConv's convention: x = row, as in NeuroConv's file
    with pynwb.NWBHDF5IO(str(path), "r") as io, \
            pynwb.NWBHDF5IO(str(fixture_path(*NEUROCONV, "s2p_fissa.nwb")), "r") as ref:
        ours = io.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        theirs = ref.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        for i in (0, 5, 22):
            np.testing.assert_allclose(np.asarray(ours["pixel_mask"][i].tolist()),
                                       np.asarray(theirs["pixel_mask"][i].tolist()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = roiextractors.NwbSegmentationExtractor(str(path))
        traces = extractor.get_traces_dict()
        masks = extractor.get_roi_image_masks()  # (rows, cols, roi)
    np.testing.assert_array_equal(np.asarray(traces["raw"]).T, ds["F"].values)
    np.testing.assert_array_equal(np.asarray(traces["neuropil"]).T, ds["Fneu"].values)
    assert extractor.get_frame_shape() == (176, 156)
    sel = ds["mask_roi"].values == 3
    np.testing.assert_allclose(masks[ds["mask_y"].values[sel], ds["mask_x"].values[sel], 3],
                               ds["mask_weight"].values[sel])
    assert np.count_nonzero(masks[..., 3]) == sel.sum()


def test_to_nwb_without_footprints_writes_centroids_and_reads_none_back(tmp_path):
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=5, n_frames=100, n_noncells=1, random_state=3)
    path = sfone.to_nwb(ds, tmp_path / "s.nwb", session_start_time="2026-01-01T00:00:00Z")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        table = io.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        assert "one-pixel mask at each centroid" in table.description
        x, y, _ = table["pixel_mask"][2][0]
        assert (x, y) == (round(float(ds["y"][2])), round(float(ds["x"][2])))  # x = row
    back = sfone.read(path)
    assert "mask_roi" not in back and "fov_shape" not in back.attrs


def test_inscopix_trace_units_reach_nwb(tmp_path):
    src = sfone.read(fixture_path("imaging", "inscopix_isx_exports_ideas_nca",
                                  "cellset_accepted_undecided_and_rejected_cells.isxd"))
    assert src.attrs["trace_units"] == "dF over F"
    path = sfone.to_nwb(src, tmp_path / "isx.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        series = io.read().processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        assert series.unit == "dF over F"
    back = sfone.read(path)
    assert back["F"].attrs["units"] == "dF over F"
    # the curation status (accepted / undecided / rejected) goes to cell_status and comes back
    np.testing.assert_array_equal(back["status"].values, src["status"].values)
    np.testing.assert_array_equal(back["iscell"].values, src["iscell"].values)


def test_metadata_from_yaml_and_unknown_keys(tmp_path):
    yaml = pytest.importorskip("yaml")
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=3, n_frames=50, random_state=1)
    meta = tmp_path / "meta.yaml"
    meta.write_text(yaml.safe_dump({**FULL_METADATA["NWBFile"],
                                    "session_start_time": "2026-02-03T08:00:00+01:00",
                                    "subject": FULL_METADATA["Subject"]}))
    path = sfone.to_nwb(ds, tmp_path / "m.nwb", metadata=meta, sex="F", location="VMH")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.subject.sex == "F" and nwbfile.subject.species == "Mus musculus"
        assert nwbfile.institution == "Example University"
        assert nwbfile.session_start_time.isoformat() == "2026-02-03T08:00:00+01:00"
    assert _inspect(path) == []
    meta.write_text("institution: X\nsession_start_time: 2026-01-01T00:00:00Z\nsubjekt: {}\n")
    with pytest.raises(SchemaError, match="unknown file field.*subjekt"):
        sfone.to_nwb(ds, tmp_path / "bad.nwb", metadata=meta)
    assert not (tmp_path / "bad.nwb").exists()


def test_without_subject_metadata_the_inspector_names_only_subject_fields(tmp_path):
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=3, n_frames=50, random_state=1)
    path = sfone.to_nwb(ds, tmp_path / "m.nwb", session_start_time="2026-01-01T00:00:00Z",
                        location="VMH", species="Mus musculus")
    found = {m.check_function_name for m in _inspect(path)}
    assert found == {"check_subject_id_exists", "check_subject_sex", "check_subject_age"}


# --- photometry --------------------------------------------------------------------------------

def test_neuroconv_doric_photometry_nwb_reads():
    pytest.importorskip("ndx_fiber_photometry")
    ds = sfone.read(fixture_path("photometry", "neuroconv_nwb", "doric_v6_fp.nwb"))
    assert ds.attrs["source_format"] == "nwb-photometry"
    series = ds["FiberPhotometryResponseSeries"]
    assert series.attrs["excitation_nm"] == 470.0 and series.attrs["fiber"] == "optical_fiber_0"
    src = sfone.read(REPO_ROOT / "data_samples" / "photometry_doric_v6.doric")
    np.testing.assert_array_equal(series.values, src["AIN01xAOUT01-LockIn"].values)
    np.testing.assert_array_equal(ds["time"].values, src["time_AIN01xAOUT01-LockIn"].values)


def test_neuroconv_tdt_events_table():
    events = read_nwb_events(fixture_path("photometry", "neuroconv_nwb", "tdt_events.nwb"),
                             name="PAB")
    assert events.sizes["epoch"] == 30
    assert events["start"].values[0] == pytest.approx(160.7157, abs=1e-4)  # pMAT's CSV
    assert list(events["strobe"].values[:3]) == [16, 2064, 0]


@pytest.mark.parametrize("sample", ["photometry_doric_v6.doric", "photometry_npm.csv",
                                    "photometry_pyphotometry.ppd"])
def test_photometry_round_trips_through_nwb(tmp_path, sample):
    pytest.importorskip("ndx_fiber_photometry")
    pytest.importorskip("nwbinspector")
    from sfone.schema import make_events

    ds = sfone.read(REPO_ROOT / "data_samples" / sample)
    runs = make_events([10.0, 50.0], [20.0, 65.0], label=["run1", "run2"])
    path = sfone.to_nwb(ds, tmp_path / "p.nwb", events=runs, metadata=FULL_METADATA,
                        session_start_time="2026-01-01T00:00:00Z",
                        fibers={"*": {"location": "VMH", "indicator": "GCaMP6s",
                                      "emission_wavelength_nm": 525.0}})
    assert pynwb.validate(path=str(path)) == []
    assert _inspect(path) == []
    back = sfone.read(path)
    assert set(back.data_vars) == set(ds.data_vars)
    for var in ds.data_vars:
        assert back[var].dims == ds[var].dims
        np.testing.assert_array_equal(back[var].values, ds[var].values)
        np.testing.assert_allclose(back[back[var].dims[0]].values, ds[ds[var].dims[0]].values,
                                   rtol=0, atol=1e-9)
        assert back[var].attrs["units"] == ds[var].attrs["units"]
    analog = [v for v in ds.data_vars if ds[v].attrs.get("kind") != "digital"]
    for var in analog:
        assert back[var].attrs["indicator"] == "GCaMP6s" and back[var].attrs["location"] == "VMH"
        if "excitation_nm" in ds[var].attrs:  # NPM: the LED of each channel
            assert back[var].attrs["excitation_nm"] == float(ds[var].attrs["excitation_nm"])
    np.testing.assert_array_equal(read_nwb_events(path)["end"].values, [20.0, 65.0])
    digital = [v for v in ds.data_vars if ds[v].attrs.get("kind") == "digital"]
    if digital:
        ttl = read_nwb_events(path, name="ttl")
        assert ttl.sizes["epoch"] == {"photometry_doric_v6.doric": 5, "photometry_pyphotometry.ppd": 5}[sample]
        for var in digital:
            time, high = ds[ds[var].dims[0]].values, ds[var].values > 0
            rising = time[np.flatnonzero(np.diff(high.astype(int), prepend=0) == 1)]
            np.testing.assert_allclose(ttl["start"].values[ttl["label"].values == var], rising,
                                       atol=1e-9)


def test_sfone_suite2p_sample_has_ops_and_roiextractors_reads_it():
    """suite2p 1.x writes planeN/ops.npy; roiextractors (hence NeuroConv) requires it."""
    roiextractors = pytest.importorskip("roiextractors")
    folder = REPO_ROOT / "data_samples" / "imaging_suite2p_session" / "suite2p"
    ops = np.load(folder / "plane0" / "ops.npy", allow_pickle=True).item()
    ds = sfone.read(folder)
    assert ops["fs"] == ds.attrs["fs"] == 10.0 and ops["nframes"] == ds.sizes["time"]
    assert ds.attrs["suite2p_layout"] == "1.x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = roiextractors.Suite2pSegmentationExtractor(folder_path=str(folder))
        raw = np.asarray(extractor.get_traces_dict()["raw"]).T
    assert extractor.get_sampling_frequency() == 10.0
    np.testing.assert_array_equal(raw, ds["F"].values)


def test_pynapple_reads_sfone_nwb_traces_and_ttl(tmp_path):
    nap = pytest.importorskip("pynapple")
    ds = sfone.read(fixture_path(*NEUROCONV, "s2p_fissa.nwb"))
    path = sfone.to_nwb(ds, tmp_path / "i.nwb", session_start_time="2026-01-01T00:00:00Z")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = nap.load_file(str(path))["RoiResponseSeries"]
        np.testing.assert_array_equal(np.asarray(frame.values[:]).T, ds["F"].values)
        np.testing.assert_allclose(frame.t, ds["time"].values)
        photometry = sfone.read(REPO_ROOT / "data_samples" / "photometry_doric_v6.doric")
        path = sfone.to_nwb(photometry, tmp_path / "p.nwb",
                            session_start_time="2026-01-01T00:00:00Z")
        nwb = nap.load_file(str(path))
        signal = nwb["AIN01xAOUT01-LockIn"]
        ttl = nwb["ttl"]
    np.testing.assert_array_equal(np.asarray(signal.values[:]),
                                  photometry["AIN01xAOUT01-LockIn"].values)
    np.testing.assert_allclose(signal.t, photometry["time_AIN01xAOUT01-LockIn"].values,
                               atol=1e-9)
    # the README's TTL onsets of this sample: 23.2, 68.25, 89.15, 124.4, 141.7 s
    np.testing.assert_allclose(ttl.start, [23.2, 68.25, 89.15, 124.4, 141.7], atol=1e-9)


# --- what sfone writes: no invented masks, digital lines, runs, every column of a table --------

def test_rois_without_coordinates_get_no_invented_masks(tmp_path):
    src = sfone.read(fixture_path("imaging", "inscopix_idps_celltraces_canalysis",
                                  "Animal01_day02_traces.csv"))
    assert "y" not in src.coords and "mask_roi" not in src  # IDPS CSV: names, status, traces
    path = sfone.to_nwb(src, tmp_path / "idps.nwb", session_start_time="2026-01-01T00:00:00Z")
    assert pynwb.validate(path=str(path)) == []
    with pynwb.NWBHDF5IO(str(path), "r") as io:  # pynwb (and so pynapple, NeuroConv) reads it
        table = io.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        assert "pixel_mask" not in table.colnames
        assert table["image_mask"].data.shape == (src.sizes["roi"], 0, 0)  # empty: no pixels
        assert not {"centroid_y", "centroid_x"} & set(table.colnames)  # no NaN columns
    back = sfone.read(path)
    assert "mask_roi" not in back and "y" not in back.coords and "fov_shape" not in back.attrs
    np.testing.assert_array_equal(back["F"].values, src["F"].values)
    for coord in ("cell_name", "status", "iscell"):
        np.testing.assert_array_equal(back[coord].values, src[coord].values)


def test_generic_csv_ttl_is_a_digital_line_not_a_fiber(tmp_path):
    pytest.importorskip("ndx_fiber_photometry")
    src = sfone.read(REPO_ROOT / "data_samples" / "photometry_generic.csv")
    assert src["TTL"].attrs["kind"] == "digital"
    path = sfone.to_nwb(src, tmp_path / "g.nwb", session_start_time="2026-01-01T00:00:00Z")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert type(nwbfile.acquisition["TTL"]) is pynwb.TimeSeries
        assert nwbfile.acquisition["TTL"].unit == "1"
        fibers = nwbfile.lab_meta_data["fiber_photometry"].fiber_photometry_table
        assert list(fibers["notes"].data[:]) == ["channel signal", "channel control"]
    ttl = read_nwb_events(path, name="ttl")
    time, high = src["time"].values, src["TTL"].values > 0
    rising = time[np.flatnonzero(np.diff(high.astype(int), prepend=0) == 1)]
    np.testing.assert_allclose(ttl["start"].values, rising, atol=1e-9)
    back = sfone.read(path)
    assert back["TTL"].attrs["kind"] == "digital"
    np.testing.assert_array_equal(back["TTL"].values, src["TTL"].values)


def test_one_run_is_a_table_of_the_recording_periods_and_reads_back_as_one_run(tmp_path):
    from sfone.schema import make_events
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=3, n_frames=200, fs=10.0, random_state=2)  # 0 ... 19.9 s
    runs = make_events([5.0], [12.0], label=["run1"])
    path = sfone.to_nwb(ds, tmp_path / "r.nwb", events=runs,
                        session_start_time="2026-01-01T00:00:00Z")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        table = io.read().intervals["runs"].to_dataframe()
    assert table["label"].tolist() == ["pre-run", "run1", "post-run"]
    assert table["is_run"].tolist() == [False, True, False]
    np.testing.assert_allclose(table[["start_time", "stop_time"]].values,
                               [[0.0, 5.0], [5.0, 12.0], [12.0, 19.9]])
    back = read_nwb_events(path)
    assert back.sizes["epoch"] == 1 and back["label"].values.tolist() == ["run1"]
    assert (back["start"].item(), back["end"].item()) == (5.0, 12.0)
    assert "is_run" not in back.coords


def test_every_column_of_a_trials_table_is_kept(tmp_path):
    """A NeuroConv-style appended trials table: trial_type, and the built-in tags/timeseries."""
    from datetime import UTC, datetime

    nwbfile = pynwb.NWBFile(session_description="s", identifier="i",
                            session_start_time=datetime(2026, 1, 1, tzinfo=UTC))
    series = pynwb.TimeSeries(name="signal", data=np.arange(100.0), unit="V", rate=10.0)
    nwbfile.add_acquisition(series)
    nwbfile.add_trial_column(name="trial_type", description="kind of trial")
    nwbfile.add_trial_column(name="reward_ml", description="reward volume")
    for start, kind, reward, tags in ((1.0, "cue", 0.0, ["a"]), (4.0, "reward", 0.01, ["a", "b"]),
                                      (7.5, "cue", 0.0, [])):
        nwbfile.add_trial(start_time=start, stop_time=start + 1, trial_type=kind,
                          reward_ml=reward, tags=tags, timeseries=[series])
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "w") as io:
        io.write(nwbfile)
    trials = read_nwb_events(tmp_path / "t.nwb", name="trials")
    np.testing.assert_array_equal(trials["start"].values, [1.0, 4.0, 7.5])
    assert trials["trial_type"].values.tolist() == ["cue", "reward", "cue"]
    np.testing.assert_array_equal(trials["reward_ml"].values, [0.0, 0.01, 0.0])
    assert trials["tags"].values.tolist() == ["a", "a, b", ""]
    assert trials["timeseries"].values.tolist() == ["signal"] * 3
    assert trials["trial_type"].attrs["description"] == "kind of trial"

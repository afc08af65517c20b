"""Real export layouts that failed before issue 16: Inscopix CSV without the status row, Inscopix
DAQ GPIO ``Time, Channel Name, Value``, BORIS tab-separated and aggregated exports, suite2p
without ops.npy, and the one-line "unrecognised file" error."""

from __future__ import annotations

import numpy as np
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import FormatError, QualityWarning

FPA = ("imaging", "inscopix_csv_no_status_fpa")


def test_inscopix_csv_without_status_row_is_cells_not_photometry():
    path = fixture_path(*FPA, "Inscopix.csv")
    ds = sfone.read(path)
    assert ds.attrs["source_format"] == "inscopix"
    assert ds.sizes["roi"] == 51 and ds.sizes["time"] == 4001
    # 1 / median step is 20.000000000001137; the times (printed to 0.05 s) support 20.0
    assert 1.0 / np.median(np.diff(ds["time"].values)) != 20.0
    assert ds.attrs["fs"] == 20.0
    np.testing.assert_array_equal(ds["roi"].values, np.arange(50, 101))  # C050 ... C100
    # no curation in the file: unknown, and unknown is not accepted (issue 30)
    assert (ds["status"].values == "unknown").all() and not ds["iscell"].values.any()
    assert "no status row" in ds.attrs["cell_status"]
    from sfone.summary import describe

    assert describe(ds)["rois"] == "51 (0 accepted as cells, 51 without curation in the file)"
    # the values are the file's (first data row, first and last cell)
    with open(path) as fh:
        fh.readline()
        first = [float(v) for v in fh.readline().split(",")]
    assert ds["F"].values[0, 0] == first[1] and ds["F"].values[-1, 0] == first[-1]
    np.testing.assert_array_equal(ds["time"].values[[0, -1]], [0.0, 200.0])


def test_inscopix_daq_gpio_time_channel_value():
    ev = sfone.read(fixture_path(*FPA, "InscopixTTL.csv"))
    assert ev.attrs["source_format"] == "inscopix-events"
    assert ev.sizes["epoch"] == 10 and set(ev["label"].values) == {"IO1"}
    assert ev["start"].values[0] == pytest.approx(29.023)
    np.testing.assert_allclose(ev["end"].values - ev["start"].values, 0.5, atol=0.0015)


def test_boris_tab_separated_export():
    path = fixture_path("events", "boris_tsv_fpa", "Boris.tsv")
    ev = sfone.read(path)
    assert ev.attrs["source_format"] == "boris"
    assert ev.sizes["epoch"] == 11  # 22 START/STOP rows
    labels = list(ev["label"].values)
    assert labels.count("behavior1") == 9 and labels.count("behavior2") == 2
    assert ev["start"].values.min() == pytest.approx(424.2)
    assert ev["end"].values.max() == pytest.approx(759.033)
    only = sfone.read(path, format="boris", behavior="behavior2")
    np.testing.assert_allclose(only["start"].values, [424.205, 445.0])


AGGREGATED = (
    "Observation id,Media file,Total length,FPS,Subject,Behavior,Behavioral category,"
    "Modifiers,Behavior type,Start (s),Stop (s),Duration (s),Comment start,Comment stop\n"
    "obs1,cam.mp4,600.0,30,Mouse1,running,locomotion,,STATE,12.500,40.250,27.750,,\n"
    "obs1,cam.mp4,600.0,30,Mouse1,rearing,exploration,,POINT,55.000,NA,NA,,\n"
    "obs1,cam.mp4,600.0,30,Mouse1,running,locomotion,,STATE,100.000,130.000,30.000,,\n"
)


def test_boris_aggregated_events(tmp_path):
    path = tmp_path / "aggregated.csv"
    path.write_text(AGGREGATED)
    ev = sfone.read(path)
    assert ev.attrs["boris_layout"] == "aggregated events"
    np.testing.assert_array_equal(ev["start"].values, [12.5, 55.0, 100.0])
    np.testing.assert_array_equal(ev["end"].values, [40.25, 55.0, 130.0])
    assert list(ev["label"].values) == ["running", "rearing", "running"]
    tsv = tmp_path / "aggregated.tsv"
    tsv.write_text(AGGREGATED.replace(",", "\t"))
    np.testing.assert_array_equal(sfone.read(tsv)["end"].values, [40.25, 55.0, 130.0])
    path.write_text(AGGREGATED.replace("130.000,30.000", "90.000,-10.000"))
    with pytest.raises(FormatError, match=r"line 4: Stop \(s\) 90.0 is before Start \(s\) 100"):
        sfone.read(path)


def test_suite2p_without_ops_says_so_and_warns_about_zero_rows():
    folder = fixture_path("imaging", "suite2p_no_ops_pynapple", "suite2p")
    with pytest.raises(FormatError, match="has no ops.npy, settings.npy or db.npy") as err:
        sfone.read(folder)
    assert "ops/settings have no 'fs'" not in str(err.value)
    with pytest.warns(QualityWarning, match="47 of 219 ROIs have an all-zero F row"):
        ds = sfone.read(folder, fs=30.0)
    assert ds.sizes["roi"] == 219 and ds.attrs["suite2p_layout"] == "unknown (no ops/settings)"
    f = np.load(folder / "plane0" / "F.npy")
    np.testing.assert_array_equal(ds["F"].values, f)


def test_unrecognised_file_error_is_one_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a;b\n1;2\n")
    with pytest.raises(FormatError) as err:
        sfone.read(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    assert "formats for .csv:" in message and "sfone formats" in message
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(FormatError, match="folder formats: .*suite2p") as err:
        sfone.read(folder)
    assert "\n" not in str(err.value)


# written the way pyControl's data_logger.tsv_row_str writes rows (pyControl/code e6fe329):
# f"{time/1000:.3f}\t{type}\t{subtype}\t{content}"; no real log is in the shared fixtures
PYCONTROL = "\n".join("\t".join(row) for row in [
    ("time", "type", "subtype", "content"),
    ("0.000", "info", "experiment_name", "treadmill_fp"),
    ("0.000", "info", "task_name", "run_blocks"),
    ("0.000", "info", "setup_id", "COM3"),
    ("0.000", "info", "subject_id", "m07"),
    ("0.000", "info", "start_time", "2026-03-02T09:30:00.125"),
    ("0.000", "state", "", "rest"),
    ("0.512", "event", "sync", "rsync"),
    ("60.000", "state", "", "run"),
    ("60.001", "print", "user", "speed 10 m/min"),
    ("75.250", "event", "input", "lick"),
    ("240.000", "state", "", "rest"),
    ("240.000", "variable", "run_end", '{"speed": 10}'),
    ("300.000", "info", "end_time", "2026-03-02T09:35:00.125"),
]) + "\n"


def test_pycontrol_states_are_epochs_events_instants(tmp_path):
    path = tmp_path / "m07-2026-03-02-093000.tsv"
    path.write_text(PYCONTROL)
    ev = sfone.read(path)
    assert ev.attrs["source_format"] == "pycontrol"
    assert ev.attrs["subject"] == "m07" and ev.attrs["task_name"] == "run_blocks"
    assert ev.attrs["session_start"] == "2026-03-02T09:30:00.125+00:00"
    states = ev.where(ev["kind"] == "state", drop=True)
    np.testing.assert_array_equal(states["start"].values, [0.0, 60.0, 240.0])
    np.testing.assert_array_equal(states["end"].values, [60.0, 240.0, 300.0])  # end_time
    assert list(states["label"].values) == ["rest", "run", "rest"]
    events = ev.where(ev["kind"] == "event", drop=True)
    np.testing.assert_array_equal(events["start"].values, [0.512, 75.25])
    assert list(events["subtype"].values) == ["sync", "input"]
    assert ev.attrs["n_print_rows"] == 1 and ev.attrs["n_variable_rows"] == 1
    runs = sfone.read(path, format="pycontrol", include=("states",))
    assert runs.sizes["epoch"] == 3
    path.write_text(PYCONTROL.replace("75.250", "75,250"))
    with pytest.raises(FormatError, match="line 11, column 'time': found '75,250'"):
        sfone.read(path)


def test_npm_headerless_bonsai_file_equals_the_headed_export(tmp_path):
    """The real FP3002 export, saved the headerless way (timestamp + one column per fiber, space
    separated; and with a separate timestamp file), reads to the same channels."""
    import pandas as pd

    src_path = fixture_path("photometry", "neurophotometrics", "ibl_fp3002", "raw_photometry.csv")
    with pytest.warns(sfone.DataRepairWarning):  # its first frame has all LEDs on
        src = sfone.read(src_path)
    table = pd.read_csv(src_path).iloc[1:]  # the headerless writer starts after that frame
    rois = ["G0", "G1", "G2", "G3", "G4"]
    data = tmp_path / "photometry.csv"
    data.write_text("\n".join(" ".join(f"{v!r}" for v in row) for row in
                              table[["SystemTimestamp", *rois]].itertuples(index=False)) + "\n")
    leds = ("470", "415") if table["LedState"].iloc[0] == 2 else ("415", "470")
    ds = sfone.read(data, format="npm-headerless", leds=leds, n_fibers=5)
    stamps = tmp_path / "timestamps.csv"
    stamps.write_text("\n".join(repr(v) for v in table["SystemTimestamp"]) + "\n")
    values = tmp_path / "values.csv"
    values.write_text("\n".join(" ".join(repr(v) for v in row) for row in
                                table[rois].itertuples(index=False)) + "\n")
    split = sfone.read(values, format="npm-headerless", leds=leds, timestamps=stamps)
    offset = None
    for var in src.data_vars:
        np.testing.assert_array_equal(ds[var].values, src[var].values)
        np.testing.assert_array_equal(split[var].values, src[var].values)
        shift = ds[ds[var].dims[0]].values - src[src[var].dims[0]].values
        offset = shift[0] if offset is None else offset
        np.testing.assert_allclose(shift, offset, atol=1e-9)  # same clock, another origin
        assert ds[var].attrs["excitation_nm"] == src[var].attrs["excitation_nm"]
    with pytest.raises(FormatError, match="does not say which LEDs are interleaved"):
        sfone.read(data, format="npm-headerless")
    with pytest.raises(FormatError, match=r"n_fibers=4 but the file has 5 fiber column\(s\) "
                                          r"after the clock \(column 1\)"):
        sfone.read(data, format="npm-headerless", leds=leds, n_fibers=4)
    stamps.write_text("1.0\n2.0\n")
    with pytest.raises(FormatError, match="has 2 rows x 1 columns; expected one column and"):
        sfone.read(values, format="npm-headerless", leds=leds, timestamps=stamps)

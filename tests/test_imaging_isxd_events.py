"""Inscopix ``.isxd`` event sets read without ``isx``, against isx's own CSV exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import FormatError
from sfone.io.imaging.inscopix import (
    events_to_grid,
    read_inscopix_events,
    read_inscopix_isxd_events,
)

NCA = ("imaging", "inscopix_isx_exports_ideas_nca")
EVENT_SET = "input_cellset-ED.isxd"
PERIOD_S = 0.099922  # PROVENANCE section 7
N_CELLS, N_SAMPLES, N_EVENTS = 118, 7456, 2553


@pytest.fixture(scope="module")
def events():
    return sfone.read(fixture_path(*NCA, EVENT_SET))


@pytest.fixture(scope="module")
def exported():
    """isx 2.1.0's long CSV export of the same event set (genuine exporter output)."""
    table = pd.read_csv(fixture_path(*NCA, "input_cellset-ED_events_long.csv"),
                        skipinitialspace=True)
    return table.rename(columns={"Time (s)": "time", "Cell Name": "cell", "Value": "value"})


def _by_cell_and_time(cells, time_us, values) -> pd.DataFrame:
    table = pd.DataFrame({"cell": np.asarray(cells, dtype=str),
                          "time_us": np.asarray(time_us, dtype=np.int64),
                          "value": np.asarray(values, dtype=np.float64)})
    return table.sort_values(["cell", "time_us"], ignore_index=True)


def test_detected_as_isxd_event_set(events):
    assert events.attrs["source_format"] == "inscopix-isxd-events"
    assert events.attrs["modality"] == "events"
    sfone.schema.validate(events)


def test_every_exported_event_and_nothing_else(events, exported):
    assert events.sizes["epoch"] == N_EVENTS == len(exported)
    ours = _by_cell_and_time(events["label"].values, np.rint(events["start"].values * 1e6),
                             events["value"].values)
    theirs = _by_cell_and_time(exported["cell"], np.rint(exported["time"].to_numpy() * 1e6),
                               exported["value"])
    np.testing.assert_array_equal(ours["cell"], theirs["cell"])
    np.testing.assert_array_equal(ours["time_us"], theirs["time_us"])  # exact to 1 µs
    # the CSV prints 7 significant digits of the float32 amplitude
    np.testing.assert_allclose(ours["value"], theirs["value"], rtol=1e-6, atol=0)
    np.testing.assert_array_equal(events["start"].values, events["end"].values)


def test_same_dataset_as_reading_the_csv_export(events):
    csv = read_inscopix_events(fixture_path(*NCA, "input_cellset-ED_events_long.csv"))
    np.testing.assert_array_equal(events["label"].values, csv["label"].values)
    np.testing.assert_allclose(events["start"].values, csv["start"].values, rtol=0, atol=1e-6)
    np.testing.assert_allclose(events["value"].values, csv["value"].values, rtol=1e-6)


def test_cells_samples_and_period_match_provenance(events):
    assert events.sizes["roi"] == N_CELLS
    assert list(events["cell_name"].values) == [f"C{i:03d}" for i in range(N_CELLS)]
    assert events.attrs["n_samples"] == N_SAMPLES
    assert events.attrs["fs"] == pytest.approx(1 / PERIOD_S, rel=1e-12)
    assert events.attrs["event_units"] == "dF over noise"
    assert events["value"].attrs["units"] == "dF over noise"
    assert events.attrs["session_start"].startswith("2022-10-11T15:18:39.06")
    assert bool(events["iscell"].all())
    assert int(events["n_events"].sum()) == N_EVENTS
    assert int(events["n_events"].sel(roi=113)) == 0  # a cell without events is still listed
    assert (events["start"] >= 0).all() and (events["start"] < N_SAMPLES * PERIOD_S).all()


def test_per_cell_counts_and_metrics_match_the_props_export(events, exported):
    props = pd.read_csv(fixture_path(*NCA, "input_cellset-ED_events-props.csv"))
    np.testing.assert_array_equal(props["Name"], events["cell_name"].values)
    # C113 (no events) has no metrics in the file: NaN here, written as 0 by the exporter
    without = np.flatnonzero(np.isnan(events["snr"].values))
    assert list(events["cell_name"].values[without]) == ["C113"]
    assert np.isnan(events["event_rate"].values[without]).all()
    assert (props.loc[without, ["SNR", "EventRate(Hz)"]].to_numpy() == 0).all()
    have = np.setdiff1d(np.arange(N_CELLS), without)
    np.testing.assert_allclose(events["snr"].values[have], props["SNR"][have], rtol=1e-5)
    np.testing.assert_allclose(events["event_rate"].values[have],
                               props["EventRate(Hz)"][have], rtol=1e-5)
    counts = exported["cell"].value_counts().reindex(events["cell_name"].values, fill_value=0)
    np.testing.assert_array_equal(events["n_events"].values, counts.to_numpy())


def test_grid_has_each_amplitude_at_its_sample(events, exported):
    grid = events_to_grid(events)
    assert grid.dims == ("roi", "time") and grid.shape == (N_CELLS, N_SAMPLES)
    np.testing.assert_allclose(grid["time"].values, np.arange(N_SAMPLES) * PERIOD_S, atol=1e-9)
    assert grid.attrs["units"] == "dF over noise"
    assert int((grid != 0).sum()) == N_EVENTS
    row = pd.Index(grid["cell_name"].values).get_indexer(exported["cell"])
    column = np.rint(exported["time"].to_numpy() / PERIOD_S).astype(int)
    # events were detected on the cell set's samples: each time is a sample time to 1 µs
    np.testing.assert_allclose(column * PERIOD_S, exported["time"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(grid.values[row, column], exported["value"], rtol=1e-6)


def test_truncated_file_names_it(tmp_path):
    data = fixture_path(*NCA, EVENT_SET).read_bytes()
    path = tmp_path / "cut.isxd"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as err:
        read_inscopix_isxd_events(path)
    assert str(path) in str(err.value)
    with pytest.raises(FormatError) as err:
        sfone.read(path)
    assert str(path) in str(err.value)


def test_cut_data_section_is_refused(tmp_path):
    data = fixture_path(*NCA, EVENT_SET).read_bytes()
    header_bytes = int.from_bytes(data[-8:], "little") + 9  # JSON + its size field
    path = tmp_path / "cut.isxd"
    path.write_bytes(data[:1000] + data[-header_bytes:])  # data section cut, header kept
    with pytest.raises(FormatError, match=r"data section has 1000 bytes, expected 2553 events"
                       ) as err:
        read_inscopix_isxd_events(path)
    assert str(path) in str(err.value)


def test_header_counts_disagreeing_with_the_packets(tmp_path):
    data = fixture_path(*NCA, EVENT_SET).read_bytes()
    original = b'"numSamples": [\n        10,\n        22,'
    assert data.count(original) == 1
    path = tmp_path / "swapped.isxd"
    path.write_bytes(data.replace(original, b'"numSamples": [\n        22,\n        10,'))
    with pytest.raises(FormatError, match="events per cell in the data section do not match"):
        read_inscopix_isxd_events(path)


def test_cell_set_is_not_an_event_set():
    path = fixture_path(*NCA, "cellset_accepted_undecided_and_rejected_cells.isxd")
    with pytest.raises(FormatError, match=r"type 1 is not an event set \(type 5\)") as err:
        read_inscopix_isxd_events(path)
    assert str(path) in str(err.value)
    assert sfone.read(path).attrs["source_format"] == "inscopix-isxd"

"""Run epochs from CSV, TTL lines, speed traces and protocols; validation and repairs."""

from pathlib import Path

import numpy as np
import pytest

from sfone.events import (
    as_epochs,
    epochs_from_csv,
    epochs_from_protocol,
    epochs_from_speed,
    epochs_from_ttl,
    validate_epochs,
)
from sfone.exceptions import DataRepairWarning, SchemaError
from sfone.schema import make_events

ROOT = Path(__file__).resolve().parents[1]


def test_csv_epochs_clipped_to_recording(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("start_s,end_s\n100,400\n900,1300\n")
    with pytest.warns(DataRepairWarning, match="clipped 1 epoch"):
        events = epochs_from_csv(path, recording=(0.0, 1200.0))
    np.testing.assert_array_equal(events["start"].values, [100, 900])
    np.testing.assert_array_equal(events["end"].values, [400, 1200])


def test_ttl_edges_use_real_timestamps():
    rng = np.random.default_rng(0)
    time = np.sort(np.arange(0, 100, 0.01) + rng.uniform(-0.002, 0.002, 10000))
    line = ((time >= 10.0) & (time < 25.0)) | ((time >= 60.0) & (time < 61.0))
    events = epochs_from_ttl(time, line * 5.0)  # 0/5 V
    # the first high sample is at most one frame (10 ms + 2 ms jitter) after the edge
    assert np.all(events["start"].values >= [10.0, 60.0])
    np.testing.assert_allclose(events["start"].values, [10.0, 60.0], atol=0.0121)
    np.testing.assert_allclose(events["end"].values, [25.0, 61.0], atol=0.0121)
    with pytest.warns(DataRepairWarning, match="dropped 1 ttl"):
        long_only = epochs_from_ttl(time, line * 5.0, min_duration_s=5.0)
    assert long_only.sizes["epoch"] == 1


def test_ttl_active_low_and_truncated_line():
    time = np.arange(0, 10, 0.1)
    line = np.where(time < 3, 0.0, 1.0)  # active low: running from the first sample to 3 s
    with pytest.warns(DataRepairWarning, match="already active at the first sample"):
        events = epochs_from_ttl(time, line, active_high=False)
    assert events["start"].values.tolist() == [0.0]
    assert events["end"].values[0] == pytest.approx(3.0)


def test_speed_threshold_merges_short_pauses_and_drops_short_bouts():
    time = np.arange(0, 300, 0.5)
    speed = np.zeros_like(time)
    speed[(time >= 20) & (time < 80)] = 14.0
    speed[(time >= 50) & (time < 52)] = 0.0  # 2 s pause: merged
    speed[(time >= 150) & (time < 153)] = 14.0  # 3 s bout: dropped
    speed[(time >= 200) & (time < 260)] = 14.0
    with pytest.warns(DataRepairWarning, match="dropped 1 speed"):
        events = epochs_from_speed(time, speed, threshold=1.0, min_duration_s=10, merge_gap_s=5)
    np.testing.assert_allclose(events["start"].values, [20, 200])
    np.testing.assert_allclose(events["end"].values, [80, 260])


def test_epochs_from_training_protocol():
    events = epochs_from_protocol(ROOT / "protocols" / "treadmill_training.yaml", day=8,
                                  run_start_s=600.0)
    assert events["start"].values.tolist() == [600.0]
    assert events["end"].values.tolist() == [600.0 + 30 * 60]
    with pytest.raises(SchemaError, match="day 6 is not in the protocol"):
        epochs_from_protocol(ROOT / "protocols" / "treadmill_training.yaml", day=6,
                             run_start_s=0.0)


def test_validate_sorts_and_merges_with_warnings():
    events = make_events([500, 100, 150], [600, 200, 300], source_file="my_runs.csv")
    with pytest.warns(DataRepairWarning) as record:
        fixed = validate_epochs(events)
    messages = " ".join(str(w.message) for w in record)
    assert "not sorted" in messages and "merged" in messages and "my_runs.csv" in messages
    np.testing.assert_array_equal(fixed["start"].values, [100, 500])
    np.testing.assert_array_equal(fixed["end"].values, [300, 600])


def test_validate_rejects_inverted_epoch_naming_source():
    events = make_events([0.0], [1.0], source_file="bad_runs.csv")
    events["end"].values[0] = -1.0
    with pytest.raises(SchemaError, match=r"bad_runs\.csv: epoch 0 ends"):
        validate_epochs(events)


def test_as_epochs_accepts_arrays_and_drops_outside_with_warning():
    with pytest.warns(DataRepairWarning, match="entirely outside"):
        events = as_epochs([[10, 20], [5000, 5100]], recording=(0, 100))
    assert events.sizes["epoch"] == 1


def test_prerun_window_is_relative_to_the_first_run_start():
    from sfone.events import prerun_window
    from sfone.schema import make_events

    epochs = make_events([700.0, 2000.0], [1000.0, 2300.0])
    assert prerun_window(epochs) == (100.0, 700.0)
    assert prerun_window(epochs, (-300, -60)) == (400.0, 640.0)

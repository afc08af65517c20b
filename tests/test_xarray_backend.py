"""xarray engine "sfone": xr.open_dataset / open_mfdataset read any sfone format."""

import numpy as np
import xarray as xr

from sfone.io.events.runs_csv import write_runs_csv


def test_open_dataset_with_sfone_engine(tmp_path):
    path = write_runs_csv(([1.0, 30.0], [10.0, 45.0]), tmp_path / "runs.csv")
    ds = xr.open_dataset(path, engine="sfone")
    np.testing.assert_array_equal(ds["end"].values, [10.0, 45.0])
    assert ds.attrs["source_format"] == "runs-csv"


def test_open_mfdataset_concatenates_sessions(tmp_path):
    paths = [write_runs_csv(([i * 1.0], [i + 5.0]), tmp_path / f"runs{i}.csv") for i in range(3)]
    ds = xr.open_mfdataset(paths, engine="sfone", combine="nested", concat_dim="session")
    assert ds.sizes["session"] == 3
    np.testing.assert_array_equal(ds["start"].values[:, 0], [0.0, 1.0, 2.0])

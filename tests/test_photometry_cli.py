"""``sfone photometry dff``: netCDF with ``dff`` on the signal's time axis, written atomically."""

from __future__ import annotations

import numpy as np
import xarray as xr
from click.testing import CliRunner

from sfone.cli import main
from sfone.schema import validate
from sfone.simulate.photometry import simulate_photometry, write_ppd


def test_dff_command_writes_contract_valid_netcdf(tmp_path):
    sim = simulate_photometry(duration_s=300, stagger=0.5, random_state=5)
    src = write_ppd(sim, tmp_path / "rec.ppd")
    out = tmp_path / "out" / "dff.nc"
    out.parent.mkdir()  # sfone makes no folders above an output
    result = CliRunner().invoke(main, ["photometry", "dff", str(src), "--signal", "analog_1",
                                       "--control", "analog_2", "--lowpass", "3",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        ds = ds.load()
    validate(ds)
    assert ds.attrs["modality"] == "photometry"
    assert ds["dff"].attrs["units"] == "1"
    assert ds["dff"].dims == ("time_analog_1",)
    np.testing.assert_allclose(ds["time_analog_1"].values, sim.time_signal)
    assert ds["dff"].attrs["method"] == "irls"
    dff = ds["dff"].values
    assert np.isnan(dff[0])  # before the first control sample: no extrapolation
    ok = np.isfinite(dff)
    assert ok.sum() == dff.size - 1
    assert np.corrcoef(dff[ok], sim.dff_true[ok])[0, 1] >= 0.95
    assert [p.name for p in out.parent.iterdir()] == ["dff.nc"]  # no temporary left behind


def test_dff_command_unknown_channel_fails_cleanly(tmp_path):
    src = write_ppd(simulate_photometry(duration_s=60, random_state=5), tmp_path / "rec.ppd")
    out = tmp_path / "dff.nc"
    result = CliRunner().invoke(main, ["photometry", "dff", str(src), "--signal", "G0_470",
                                       "--control", "analog_2", "--out", str(out)])
    assert result.exit_code != 0
    assert "no channel G0_470" in result.output and "analog_1" in result.output
    assert not out.exists()


def test_dff_command_needs_control_for_irls(tmp_path):
    src = write_ppd(simulate_photometry(duration_s=60, random_state=5), tmp_path / "rec.ppd")
    result = CliRunner().invoke(main, ["photometry", "dff", str(src), "--signal", "analog_1",
                                       "--out", str(tmp_path / "dff.nc")])
    assert result.exit_code == 1
    assert "rec.ppd" in result.output and "pass --control NAME" in result.output

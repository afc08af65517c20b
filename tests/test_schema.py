"""The data contract validator."""

import numpy as np
import pytest
import xarray as xr

from sfone.exceptions import SchemaError
from sfone.schema import finalize_dataset, make_events, rate_from_times, validate


def _imaging(n_roi=3, n_t=50, fs=10.0):
    t = np.arange(n_t) / fs
    ds = xr.Dataset(
        {"F": (("roi", "time"), np.ones((n_roi, n_t), np.float32), {"units": "a.u."})},
        coords={"roi": np.arange(n_roi), "time": ("time", t, {"units": "s"}),
                "iscell": ("roi", np.ones(n_roi, bool))},
    )
    return finalize_dataset(ds, modality="imaging", source_format="test", source_file="x", fs=fs)


def test_valid_imaging_dataset_passes_and_gets_provenance():
    ds = _imaging()
    assert ds.attrs["modality"] == "imaging"
    assert ds.attrs["sfone_version"]
    assert validate(ds) is ds


@pytest.mark.parametrize("breakage, message", [
    (lambda ds: ds.drop_vars("F"), "missing variable 'F'"),
    (lambda ds: ds.assign_coords(iscell=("roi", np.ones(3, int))), "'iscell' has dtype"),
    (lambda ds: ds.assign_coords(time=("time", ds.time.values, {"units": "ms"})), "expected 's'"),
    (lambda ds: ds.assign_coords(time=("time", ds.time.values[::-1].copy(), {"units": "s"})),
     "not strictly increasing"),
    (lambda ds: ds.assign_attrs(fs=0), "positive sampling rate"),
    (lambda ds: ds.assign_attrs(modality="sonar"), "expected one of"),
    (lambda ds: ds.drop_attrs(), "missing attr 'modality'"),
    (lambda ds: ds.assign(G=(("roi", "time"), np.zeros((3, 50)))), "'G' has no 'units'"),
    (lambda ds: ds.transpose("time", "roi"), "expected ('roi', 'time')"),
    (lambda ds: ds.assign_coords(status=("roi", ["accepted", "maybe", "rejected"])),
     "'status' holds ['maybe']"),
    (lambda ds: ds.assign_coords(status=("roi", ["unknown"] * 3)),
     "3 ROI(s) have status 'unknown' but iscell True"),
])
def test_validator_names_each_problem(breakage, message):
    ds = breakage(_imaging())
    with pytest.raises(SchemaError) as info:
        validate(ds)
    assert message in str(info.value)


def test_validator_lists_all_problems_at_once():
    ds = _imaging().drop_vars("F").assign_attrs(fs=-1)
    with pytest.raises(SchemaError) as info:
        validate(ds)
    assert "missing variable 'F'" in str(info.value) and "fs" in str(info.value)


def test_photometry_channels_may_have_their_own_clocks():
    ds = xr.Dataset(
        {"gcamp": ("time_a", np.zeros(5), {"units": "V"}),
         "isos": ("time_b", np.zeros(4), {"units": "V"})},
        coords={"time_a": ("time_a", np.arange(5.0), {"units": "s"}),
                "time_b": ("time_b", np.arange(4.0) + 0.5, {"units": "s"})})
    finalize_dataset(ds, modality="photometry", source_format="t", source_file="x")
    bad = ds.assign(both=(("time_a", "time_b"), np.zeros((5, 4)), {"units": "V"}))
    with pytest.raises(SchemaError, match="one time dimension"):
        validate(bad)


def test_calorimetry_units_are_enforced():
    ds = xr.Dataset(
        {"vo2": (("subject", "time"), np.ones((2, 3)), {"units": "mL/kg/h"}),
         "vco2": (("subject", "time"), np.ones((2, 3)), {"units": "mL/h"})},
        coords={"subject": ["a", "b"], "time": ("time", [0.0, 300.0, 600.0], {"units": "s"})})
    with pytest.raises(SchemaError, match="'vo2' has units 'mL/kg/h', expected 'mL/h'"):
        finalize_dataset(ds, modality="calorimetry", source_format="t", source_file="x")


def test_make_events_checks_lengths():
    ev = make_events([1.0, 5.0], [2.0, 9.0])
    assert ev.sizes["epoch"] == 2 and ev["end"].attrs["units"] == "s"
    with pytest.raises(SchemaError, match="2 epoch starts but 1 ends"):
        make_events([1.0, 5.0], [2.0])


@pytest.mark.parametrize("time, rate", [
    (np.round(np.arange(4001) * 0.05, 2), 20.0),  # 1 / median step: 20.000000000001137
    (np.round(np.arange(3000) / 30.0, 2), 30.0),  # 0.03/0.04 s steps: the mean, not 1/0.03
    (np.arange(5000) / 30.0, 30.0),  # float noise of i / fs
    (np.delete(np.arange(2000) / 20.0, [10, 11, 500]), 20.0),  # dropped frames left out
    (57887.0858496 + np.arange(1000) * 0.0222, 45.045045),  # 7 printed decimals
    (np.round(np.arange(1000) * 0.0588, 4), 17.007),  # 5 digits: 58.7 s known to 0.0002 s
])
def test_rate_from_times_rounds_to_what_the_timestamps_support(time, rate):
    assert rate_from_times(time) == rate


def test_rate_from_times_needs_an_interval():
    with pytest.raises(ValueError, match="cannot infer a rate from 1 timestamp"):
        rate_from_times([3.0])

"""Hypothesis fuzzing of HDF5 structure: Doric-like layouts and edited sfone netCDF files.

Byte flips mostly break an HDF5 file's metadata outright; these strategies instead write
well-formed HDF5 with hostile content (wrong dtypes, shapes, lengths, non-monotonic or non-finite
time, odd attributes) so the readers' structural checks are exercised.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_parsers import FUZZ, SAMPLES, _check, _netcdf

DTYPES = st.sampled_from(["f8", "f4", "i4", "u1", "bool", "S4"])
HDF5_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])  # storable
HDF5_ATTR_VALUES = st.one_of(st.text(HDF5_CHARS, max_size=8), st.integers(-2**63, 2**63 - 1),
                             st.floats())
TIME_KINDS = st.sampled_from(["regular", "reversed", "constant", "nan", "jitter", "empty"])


@st.composite
def vectors(draw, n: int):
    """A dataset payload: usually 1-D of length n, sometimes another length, 2-D or text."""
    shape = draw(st.sampled_from([(n,), (n,), (n,), (max(n - 1, 0),), (n, 2), ()]))
    dtype = draw(DTYPES)
    if dtype == "S4":
        return np.full(shape, b"ab", dtype="S4")
    data = draw(st.sampled_from(["normal", "nan", "inf", "huge"]))
    values = np.random.default_rng(n).normal(size=shape)
    if data == "nan":
        values = np.where(values > 0, np.nan, values)
    elif data == "inf":
        values[...] = np.inf
    elif data == "huge":
        values = values * 1e300
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


def _time(kind: str, n: int) -> np.ndarray:
    time = np.arange(n) / 10.0
    if kind == "reversed":
        return time[::-1].copy()
    if kind == "constant":
        return np.zeros(n)
    if kind == "nan":
        time[n // 2:] = np.nan
    if kind == "jitter":
        time = time + np.random.default_rng(n).uniform(-0.2, 0.2, n)
    if kind == "empty":
        return time[:0]
    return time


@st.composite
def doric_files(draw):
    """(layout, {hdf5 path: array}, file attrs) of a Doric-like file."""
    n = draw(st.integers(0, 40))
    content = {}
    if draw(st.booleans()):
        base = "DataAcquisition/FPConsole/Signals/Series0001"
        for g in range(draw(st.integers(1, 3))):
            group = f"{base}/{draw(st.sampled_from(['AIN01xAOUT01-LockIn', 'DigitalIO', 'X']))}{g}"
            content[f"{group}/Time"] = _time(draw(TIME_KINDS), n)
            for name in draw(st.lists(st.sampled_from(["Values", "DIO01", "AIN02"]), max_size=3,
                                      unique=True)):
                content[f"{group}/{name}"] = draw(vectors(n))
    else:
        content["Traces/Console/Time(s)/Console_time(s)"] = _time(draw(TIME_KINDS), n)
        for name in draw(st.lists(st.sampled_from(["AIn-1 - Dem (AOut-1)", "DI--O-1"]),
                                  max_size=2, unique=True)):
            content[f"Traces/Console/{name}/{name}"] = draw(vectors(n))
    created = draw(st.one_of(st.none(), st.text(HDF5_CHARS, max_size=30),
                             st.integers(-2**63, 2**63 - 1),
                             st.just("Mon Jan 06 10:00:00 2025")))
    return content, created


def _write_hdf5(path: Path, content: dict, created) -> None:
    with h5py.File(path, "w") as fh:
        for name, values in content.items():
            fh[name] = values
        if created is not None:
            fh.attrs["Created"] = created


@FUZZ
@given(spec=doric_files())
def test_fuzz_doric_structure(spec):
    content, created = spec
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.doric"
        _write_hdf5(path, content, created)
        _check(path.read_bytes(), "fuzz.doric", "doric")


NETCDF_EDITS = st.sampled_from(["drop_root_attr", "attr_value", "var_attr", "time_data",
                                "values_data", "delete_var", "time_dtype"])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # h5netcdf __del__
@FUZZ
@given(edits=st.lists(st.tuples(NETCDF_EDITS, st.integers(0, 100), HDF5_ATTR_VALUES),
                      min_size=1, max_size=3))
def test_fuzz_sfone_netcdf_content(edits):
    data = _netcdf_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edited.nc"
        path.write_bytes(data)
        with h5py.File(path, "r+") as fh:
            for kind, index, value in edits:
                _edit_netcdf(fh, kind, index, value)
        _check(path.read_bytes(), "edited.nc", "sfone-netcdf")


@functools.cache
def _netcdf_bytes() -> bytes:
    return _netcdf()


def _edit_netcdf(fh: h5py.File, kind: str, index: int, value) -> None:
    variables = sorted(k for k, v in fh.items() if isinstance(v, h5py.Dataset))
    data_vars = [v for v in variables if not v.startswith("time")]
    attrs = sorted(fh.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "drop_root_attr" and attrs:
            del fh.attrs[attrs[index % len(attrs)]]
        elif kind == "attr_value" and attrs:
            fh.attrs[attrs[index % len(attrs)]] = value
        elif kind == "var_attr" and variables:
            fh[variables[index % len(variables)]].attrs["units"] = value
        elif kind == "time_data" and "time" in fh:
            time = fh["time"]
            time[index % time.shape[0]] = value if isinstance(value, float) else -1.0
        elif kind == "values_data" and data_vars:
            dataset = fh[data_vars[index % len(data_vars)]]
            if dataset.dtype.kind == "f" and dataset.ndim == 1:
                dataset[index % dataset.shape[0]] = np.inf
        elif kind == "delete_var" and data_vars:
            name = data_vars[index % len(data_vars)]
            if "REFERENCE_LIST" not in fh[name].attrs:  # keep dimension scales
                del fh[name]
        elif kind == "time_dtype" and "time" in fh:
            fh["time"].attrs["units"] = "days since 2000-01-01"


def test_structured_doric_strategy_reaches_valid_and_invalid_files():
    """Guard: the strategy produces both readable files and each kind of refusal."""
    import sfone
    from sfone.exceptions import FormatError

    outcomes = set()

    @FUZZ
    @given(spec=doric_files())
    def run(spec):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "f.doric"
            _write_hdf5(path, *spec)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    sfone.read(path, format="doric")
                    outcomes.add("ok")
                except FormatError:
                    outcomes.add("error")

    run()
    assert outcomes == {"ok", "error"}
    assert (SAMPLES / "photometry_doric_v6.doric").exists()

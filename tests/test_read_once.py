"""sfone.read applies options, the input guard, validation and chunks= once, for every format;
read_<format>() called directly takes the same path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sfone
from sfone import schema
from sfone.exceptions import FormatError, SchemaError
from sfone.io import _reading, _registry
from sfone.io._registry import FormatInfo
from sfone.io.photometry.ppd import read_ppd

PPD = Path(__file__).resolve().parents[1] / "data_samples" / "photometry_pyphotometry.ppd"


@pytest.fixture
def counts(monkeypatch):
    """How often validate() and the input guard's footprint run."""
    seen = {"validate": 0, "footprint": 0}
    validate, footprint = schema.validate, _reading.footprint

    def counting_validate(ds):
        seen["validate"] += 1
        return validate(ds)

    def counting_footprint(path):
        seen["footprint"] += 1
        return footprint(path)

    monkeypatch.setattr(schema, "validate", counting_validate)
    monkeypatch.setattr(_reading, "footprint", counting_footprint)
    return seen


@pytest.mark.parametrize("how", ["sfone.read", "read_ppd"])
def test_each_check_runs_once_per_read(counts, how):
    ds = sfone.read(PPD) if how == "sfone.read" else read_ppd(PPD)
    assert ds.attrs["source_format"] == "ppd"
    assert counts["validate"] == 1  # finalize_dataset's; read() does not validate again
    assert counts["footprint"] == 2  # one guard: before and after the read


def _photometry(path, valid=True) -> xr.Dataset:
    time = xr.DataArray(np.arange(5, dtype=float), dims="time", attrs={"units": "s"})
    ds = xr.Dataset({"x": ("time", np.ones(5), {"units": "V" if valid else None})},
                    coords={"time": time})
    if not valid:
        del ds["x"].attrs["units"]
    ds.attrs.update({"modality": "photometry", "source_format": "plain", "source_file": str(path),
                     "sfone_version": "0"})
    return ds


@pytest.fixture
def plugin(monkeypatch, tmp_path):
    """Register a third-party format whose reader returns a Dataset it did not validate."""
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    path = tmp_path / "rig.plain"
    path.write_text("data")

    def register(reader):
        _registry.register_format(FormatInfo(name="plain", modality="photometry", reader=reader,
                                             sniff=lambda p: False, suffixes=(".plain",)))
        return path

    return register


def test_unvalidated_plugin_dataset_is_validated_once_by_read(counts, plugin):
    path = plugin(lambda p: _photometry(p))
    sfone.read(path, format="plain")
    assert counts["validate"] == 1
    assert counts["footprint"] == 2


def test_invalid_plugin_dataset_is_refused_by_read(plugin):
    path = plugin(lambda p: _photometry(p, valid=False))
    with pytest.raises(SchemaError, match="variable 'x' has no 'units' attr"):
        sfone.read(path, format="plain")


def test_dataset_changed_after_finalize_is_validated_again(plugin):
    def finalize_then_break(p):
        ds = schema.finalize_dataset(_photometry(p), modality="photometry",
                                     source_format="plain", source_file=p)
        return ds.drop_vars("time").assign_coords(time=("time", np.arange(5.0)))  # units lost

    path = plugin(finalize_then_break)
    with pytest.raises(SchemaError, match="coordinate 'time' has units None"):
        sfone.read(path, format="plain")


@pytest.mark.parametrize("chunks", [{"time_analog_1": 1000}, "auto"])
def test_chunks_apply_to_formats_that_read_eagerly(chunks):
    eager = sfone.read(PPD)
    for lazy in (sfone.read(PPD, chunks=chunks), read_ppd(PPD, chunks=chunks)):
        assert all(lazy[name].chunks is not None for name in lazy.data_vars)
        if chunks != "auto":  # the clock named is chunked, the other is one chunk
            assert lazy["analog_1"].chunks == ((1000, 1000, 1000, 600),)
            assert lazy["analog_2"].chunks == ((3600,),)
        xr.testing.assert_identical(lazy.compute(), eager)


def test_direct_reader_call_checks_options_and_guards_the_input(tmp_path, monkeypatch):
    with pytest.raises(TypeError, match=r"read_ppd\(\) got unknown option\(s\) bogus"):
        read_ppd(PPD, bogus=1)
    path = tmp_path / "growing.ppd"
    path.write_bytes(PPD.read_bytes())
    from sfone.io.photometry import ppd

    original = ppd._split_header

    def split_then_append(raw, where):
        with open(path, "ab") as fh:
            fh.write(b"\x00\x01" * 8)
        return original(raw, where)

    monkeypatch.setattr(ppd, "_split_header", split_then_append)
    with pytest.raises(FormatError, match=r"growing\.ppd.*changed while reading"):
        read_ppd(path)


def test_direct_call_of_an_unregistered_decorated_reader_is_an_error(tmp_path):
    from sfone.io._reading import format_reader

    @format_reader
    def read_nothing(path):
        raise AssertionError("never reached")

    (tmp_path / "x").write_text("")
    with pytest.raises(FormatError, match="read_nothing is not the reader of any registered"):
        read_nothing(tmp_path / "x")

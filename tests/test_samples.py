"""data_samples/: every file reads through sfone.read, round-trips, and regenerates byte for byte."""

import filecmp
from pathlib import Path

import pytest
import xarray as xr

import sfone
from sfone._hdf5 import HDF5_SUFFIXES, hdf5_differences, same_hdf5_content
from sfone.simulate.samples import write_samples
from sfone.summary import read_all, sample_entries

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
TOP_LEVEL = sorted(p.name for p in SAMPLES.iterdir()
                   if not p.name.startswith(".") and p.name != "README.md")
SAMPLE_ENTRIES = sample_entries(SAMPLES)


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()
                  and p.name != "README.md")


def _is_hdf5(rel: Path) -> bool:
    return rel.suffix.lower() in HDF5_SUFFIXES


def test_samples_regenerate_identically(tmp_path):
    """Byte for byte where sfone writes the bytes (CSV, .npy, .ppd); HDF5 files (whose bytes
    depend on the installed HDF5 library) by decoded content: every group, dataset and attr."""
    written = write_samples(tmp_path)
    assert {p.relative_to(tmp_path).parts[0] for p in written} == set(TOP_LEVEL)
    assert _files(tmp_path) == _files(SAMPLES)
    assert any(_is_hdf5(rel) for rel in _files(SAMPLES))
    mismatch = [str(rel) for rel in _files(SAMPLES) if not _is_hdf5(rel)
                and not filecmp.cmp(SAMPLES / rel, tmp_path / rel, shallow=False)]
    assert mismatch == []
    changed = {str(rel): hdf5_differences(SAMPLES / rel, tmp_path / rel)
               for rel in _files(SAMPLES) if _is_hdf5(rel)}
    assert {rel: problems for rel, problems in changed.items() if problems} == {}


def test_hdf5_content_sees_values_attributes_and_dtypes(tmp_path):
    import h5py
    import numpy as np

    def write(name, values, attr="a", dtype="f8"):
        with h5py.File(tmp_path / name, "w") as fh:
            fh.create_dataset("g/x", data=np.asarray(values, dtype=dtype))
            fh["g"].attrs["unit"] = attr
        return tmp_path / name

    base = write("base.h5", [1.0, 2.0])
    assert same_hdf5_content(base, write("same.h5", [1.0, 2.0]))
    assert not same_hdf5_content(base, write("value.h5", [1.0, 2.5]))
    assert not same_hdf5_content(base, write("attr.h5", [1.0, 2.0], attr="b"))
    assert not same_hdf5_content(base, write("dtype.h5", [1.0, 2.0], dtype="f4"))
    last_bit = np.nextafter(2.0, 3.0)  # floats from another numpy build: equal within rtol
    assert same_hdf5_content(base, write("ulp.h5", [1.0, last_bit]))
    assert hdf5_differences(base, write("value2.h5", [1.0, 2.0 + 1e-9])) == ["g/x: values, dtype or shape differ"]


def test_regenerating_in_place_keeps_unchanged_hdf5_bytes(tmp_path):
    """Regenerating into a folder whose HDF5 files have the same content leaves their bytes."""
    write_samples(tmp_path)
    hdf5 = [p for p in tmp_path.rglob("*") if p.is_file() and _is_hdf5(p)]
    for path in hdf5:  # stand-in for bytes written by another HDF5 release: same content
        with open(path, "ab") as fh:
            fh.write(b"\0" * 16)
    before = {p: p.read_bytes() for p in hdf5}
    write_samples(tmp_path)
    assert {p: p.read_bytes() for p in hdf5} == before


def test_samples_stay_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 20 * 1024**2


@pytest.mark.parametrize("entry", SAMPLE_ENTRIES, ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_every_sample_reads_and_round_trips_netcdf(entry, tmp_path):
    ds = sfone.read(entry)
    sfone.validate(ds)
    back = sfone.read(sfone.write_dataset(ds, tmp_path / "copy.nc"))
    xr.testing.assert_allclose(back, ds)
    assert back.attrs["source_format"] == ds.attrs["source_format"]


def test_demo_summary_covers_every_sample_and_table():
    rows = read_all(SAMPLES)
    tables = sorted((SAMPLES / "tables").glob("*.csv"))
    assert [r["file"] for r in rows] == (
        [p.relative_to(SAMPLES).as_posix() for p in SAMPLE_ENTRIES]
        + [p.relative_to(SAMPLES).as_posix() for p in tables])
    assert sum(r["modality"] == "imaging" for r in rows) >= 13  # 10 cohort sessions + 3 formats

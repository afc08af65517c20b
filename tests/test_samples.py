"""data_samples/: every file reads through sfone.read, round-trips, and regenerates byte for byte."""

import filecmp
from pathlib import Path

import pytest
import xarray as xr

import sfone
from sfone.simulate.samples import write_samples
from sfone.summary import read_all, sample_entries

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
TOP_LEVEL = sorted(p.name for p in SAMPLES.iterdir()
                   if not p.name.startswith(".") and p.name != "README.md")
SAMPLE_ENTRIES = sample_entries(SAMPLES)


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()
                  and p.name != "README.md")


def test_samples_regenerate_byte_for_byte(tmp_path):
    written = write_samples(tmp_path)
    assert {p.relative_to(tmp_path).parts[0] for p in written} == set(TOP_LEVEL)
    assert _files(tmp_path) == _files(SAMPLES)
    mismatch = [str(rel) for rel in _files(SAMPLES)
                if not filecmp.cmp(SAMPLES / rel, tmp_path / rel, shallow=False)]
    assert mismatch == []


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

"""One HDF5 signature check (sfone._hdf5.is_hdf5) for every HDF5 sniffer."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from sfone._hdf5 import HDF5_MAGIC, is_hdf5
from sfone.io import get_format

ROOT = Path(__file__).resolve().parents[1]
HDF5_FORMATS = ["sfone-netcdf", "caiman", "nwb", "doric", "nwb-photometry"]


def test_is_hdf5_reads_the_signature(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as fh:
        fh.attrs["x"] = 1
    (tmp_path / "text.h5").write_text("time,F\n0,1\n")
    (tmp_path / "short.h5").write_bytes(HDF5_MAGIC[:5])
    assert is_hdf5(tmp_path / "a.h5")
    assert not is_hdf5(tmp_path / "text.h5")
    assert not is_hdf5(tmp_path / "short.h5")


@pytest.mark.parametrize("name", HDF5_FORMATS)
def test_hdf5_sniffers_refuse_other_files_and_accept_their_samples(tmp_path, name):
    info = get_format(name)
    fake = tmp_path / f"fake{info.suffixes[0]}"
    fake.write_bytes(b"not hdf5 at all" * 10)
    assert info.safe_sniff(fake) is False
    samples = {"caiman": "imaging_caiman_session.hdf5", "doric": "photometry_doric_v6.doric"}
    if name in samples:
        assert info.safe_sniff(ROOT / "data_samples" / samples[name]) is True


def test_the_signature_is_written_once():
    literal = "\\x89HDF"
    holders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "sfone").rglob("*.py")
               if literal in p.read_text(encoding="utf-8")]
    assert holders == ["sfone/_hdf5.py"]

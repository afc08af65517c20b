"""Other files' bytes must never land in sfone's outputs.

* Every registered format whose sample is an HDF5 file (CaImAn, Doric, NWB, netCDF, and any
  reader declared later): a dataset replaced by external raw storage, an external link or a
  virtual dataset pointing at a private "key" file is refused by ``sfone convert`` naming the
  file and the object, and the key's bytes are in no output.
* zarr stores: a chunk or an array folder that is a symbolic link leaving the store is refused;
  an array folder linked inside the store is checked like any other (its codecs too).
* A study entry pointing at a file that is no CSV table is refused without quoting its content.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from bad_inputs.samples import format_samples
from click.testing import CliRunner

import sfone
from sfone._hdf5 import is_hdf5
from sfone.cli import EXIT_ERROR, main
from sfone.exceptions import FormatError
from sfone.io.netcdf import check_zarr_store

SECRET = b"PRIVATE-KEY-0123456789"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return format_samples(tmp_path_factory.mktemp("written"))


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "private" / "id_key"
    path.parent.mkdir()
    path.write_bytes(SECRET * 1000)
    return path


def _largest_numeric_dataset(path: Path) -> str:
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "iuf" and obj.size:
            found.append((obj.size, name))

    with h5py.File(path, "r") as fh:
        fh.visititems(visit)
    return max(found)[1]


def _external_storage(fh, name, key_file):
    n = key_file.stat().st_size
    fh.create_dataset(name, shape=(n,), dtype="u1", external=[(str(key_file), 0, n)])


def _external_link(fh, name, key_file):
    other = key_file.with_name("other.h5")
    with h5py.File(other, "w") as out:
        out["secret"] = np.frombuffer(key_file.read_bytes(), dtype="u1")
    fh[name] = h5py.ExternalLink(str(other), "/secret")


def _virtual(fh, name, key_file):
    other = key_file.with_name("virtual_source.h5")
    data = np.frombuffer(key_file.read_bytes(), dtype="u1")
    with h5py.File(other, "w") as out:
        out["secret"] = data
    layout = h5py.VirtualLayout(shape=data.shape, dtype="u1")
    layout[:] = h5py.VirtualSource(str(other), "secret", shape=data.shape)
    fh.create_virtual_dataset(name, layout)


REFERENCES = {"external raw storage": _external_storage, "an external link": _external_link,
              "a virtual dataset": _virtual}


def _outputs_hold_secret(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and SECRET in p.read_bytes()]


def _refused_without_leaking(name, sample, kind, key_file, tmp_path) -> str | None:
    """None when ``sfone convert`` refuses the sample with ``kind`` in place of its largest
    dataset cleanly, else what went wrong."""
    path = tmp_path / "in" / sample.name
    path.parent.mkdir(parents=True)
    shutil.copyfile(sample, path)
    target = _largest_numeric_dataset(path)
    with h5py.File(path, "r+") as fh:
        del fh[target]
        REFERENCES[kind](fh, target, key_file)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["convert", "--format", name, str(path),
                                       str(out / "converted.nc")])
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    if result.exit_code != EXIT_ERROR or len(errors) != 1 or str(path) not in errors[0] \
            or target not in errors[0] or kind not in errors[0]:
        return f"exit {result.exit_code}: {result.output[:300]}"
    if SECRET.decode() in result.output or _outputs_hold_secret(out) \
            or (out / "converted.nc").exists():
        return "the key's bytes reached the output"
    return None


@pytest.mark.parametrize("kind", list(REFERENCES))
def test_hdf5_references_to_other_files_are_refused_by_every_hdf5_reader(kind, samples,
                                                                         key_file, tmp_path):
    hdf5 = {n: p for n, p in samples.items() if p.is_file() and is_hdf5(p)}
    problems = {name: problem for name, sample in sorted(hdf5.items())
                if (problem := _refused_without_leaking(name, sample, kind, key_file,
                                                        tmp_path / name)) is not None}
    assert problems == {}


def test_the_sample_formats_include_every_hdf5_reader(samples):
    """CaImAn, Doric, NWB (imaging and photometry) and sfone's netCDF are covered above."""
    hdf5 = {n for n, p in samples.items() if p.is_file() and is_hdf5(p)}
    assert {"caiman", "doric", "sfone-netcdf"} <= hdf5
    if pytest.importorskip("pynwb"):
        assert {"nwb", "nwb-photometry"} <= hdf5


# --- zarr --------------------------------------------------------------------------------------

@pytest.fixture
def zarr_store(tmp_path):
    pytest.importorskip("zarr")
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=3, n_frames=40, random_state=0)
    return sfone.write_dataset(ds, tmp_path / "session.zarr")


def _raw_bytes_codec(store: Path, array: str) -> Path:
    """The array's codecs reduced to raw little-endian bytes: a chunk file is its values."""
    meta_path = store / array / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["codecs"] = [{"name": "bytes", "configuration": {"endian": "little"}}]
    meta_path.write_text(json.dumps(meta))
    return next(p for p in (store / array / "c").rglob("*") if p.is_file())


def test_zarr_chunk_linked_to_a_private_file_is_refused(zarr_store, key_file, tmp_path):
    chunk = _raw_bytes_codec(zarr_store, "F")
    key_file.write_bytes((SECRET * 100)[:chunk.stat().st_size])
    chunk.unlink()
    os.symlink(key_file, chunk)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["convert", str(zarr_store), str(out / "c.nc")])
    assert result.exit_code == EXIT_ERROR, result.output
    assert f"{zarr_store}: F/c/" in result.output and "symbolic link" in result.output
    assert "outside the store" in result.output
    assert _outputs_hold_secret(out) == []


def test_zarr_array_folder_linked_outside_the_store_is_refused(zarr_store, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.move(zarr_store / "F", outside)
    os.symlink(outside, zarr_store / "F")
    with pytest.raises(FormatError, match=r"session\.zarr: F is a symbolic link .*outside"):
        check_zarr_store(zarr_store)


def test_zarr_array_folder_linked_inside_the_store_has_its_codecs_checked(zarr_store):
    real = zarr_store / ".F_real"
    shutil.move(zarr_store / "F", real)
    os.symlink(real, zarr_store / "F")
    check_zarr_store(zarr_store)  # a link inside the store is fine ...
    meta_path = real / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["codecs"].append({"name": "numcodecs.pickle"})
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=r"\.F_real/zarr\.json uses the codec\(s\) "
                                          r"numcodecs\.pickle"):
        check_zarr_store(zarr_store)  # ... and what it points to is checked like any array


def test_zarr_links_within_the_store_still_read(zarr_store):
    chunk = next(p for p in (zarr_store / "F" / "c").rglob("*") if p.is_file())
    before = sfone.read(zarr_store)["F"].values
    copy = zarr_store / ".chunk_copy"
    shutil.copyfile(chunk, copy)
    chunk.unlink()
    os.symlink(copy, chunk)
    np.testing.assert_array_equal(sfone.read(zarr_store)["F"].values, before)


# --- study tables -----------------------------------------------------------------------------

def test_study_table_that_is_no_csv_is_refused_without_quoting_it(tmp_path):
    private = tmp_path / "secret.txt"
    private.write_text("root:x:0:0:PRIVATE-FIRST-LINE:/root:/bin/bash\nuser:x:1000\n")
    samples = ROOT / "data_samples"
    study = tmp_path / "study.yaml"
    study.write_text(
        "name: hostile\ntables:\n"
        f"  bdnf_counts: {samples / 'tables' / 'bdnf_counts.csv'}\n"
        f"  glucose: {os.path.relpath(private, tmp_path)}\n")
    result = CliRunner().invoke(main, ["reproduce", "--study", str(study),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_ERROR, result.output
    assert "tables.glucose" in result.output and "found none" in result.output
    assert "PRIVATE-FIRST-LINE" not in result.output and "root:x" not in result.output


def test_study_table_of_a_real_csv_names_its_columns(tmp_path):
    table = tmp_path / "glucose.csv"
    table.write_text("subject,minute\nm1,0\n")
    study = tmp_path / "study.yaml"
    study.write_text(f"name: t\ntables:\n  glucose: {table}\n")
    result = CliRunner().invoke(main, ["reproduce", "--study", str(study),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_ERROR, result.output
    assert "found subject, minute" in result.output

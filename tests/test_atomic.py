"""Atomic outputs: a failure mid-write leaves no partial file and the previous output intact."""

import pytest

from sfone._atomic import atomic_path


def test_success_replaces_destination(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent and tmp != dest
        tmp.write_text("new")
        assert dest.read_text() == "old"  # nothing visible until the rename
    assert dest.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_exception_removes_partial_output(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(dest) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_interrupt_removes_partial_folder(tmp_path):
    dest = tmp_path / "store.zarr"
    with pytest.raises(KeyboardInterrupt), atomic_path(dest) as tmp:
        tmp.mkdir()
        (tmp / "chunk").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_folder_output_replaces_existing_folder(tmp_path):
    dest = tmp_path / "store.zarr"
    dest.mkdir()
    (dest / "old").write_text("1")
    with atomic_path(dest) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
    assert [p.name for p in dest.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["store.zarr"]


def test_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="no output"), atomic_path(tmp_path / "x.nc"):
        pass

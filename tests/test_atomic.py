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


# -- a full disk, a swallowed Ctrl-C --------------------------------------------------------

def test_no_space_reason_reads_errno_text_and_causes():
    import errno

    from sfone._atomic import no_space_reason

    assert no_space_reason(OSError(errno.ENOSPC, "No space left on device")) == (28, "disk full")
    assert no_space_reason(OSError(errno.EDQUOT, "x"))[1] == "disk quota exceeded"
    assert no_space_reason(OSError(errno.EFBIG, "x"))[1] == "file size limit reached"
    # h5py: a RuntimeError whose cause (or only text) holds HDF5's "errno = 28"
    h5 = RuntimeError("Can't decrement id ref count (unable to extend file properly, errno = 28,"
                      " error message = 'No space left on device')")
    assert no_space_reason(h5) == (28, "disk full")
    try:
        try:
            raise OSError(errno.ENOSPC, "write failed")
        except OSError as inner:
            raise RuntimeError("closing failed") from inner
    except RuntimeError as outer:
        assert no_space_reason(outer) == (28, "disk full")
    assert no_space_reason(OSError(errno.EACCES, "Permission denied")) is None
    assert no_space_reason(ValueError("errno = 280, not ours")) is None


def test_a_write_that_runs_out_of_space_names_the_destination(tmp_path):
    import errno

    dest = tmp_path / "out.nc"
    dest.write_text("old")
    with pytest.raises(OSError) as info, atomic_path(dest) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("unable to extend file properly, errno = 28, error message = "
                           "'No space left on device'")
    assert info.value.errno == errno.ENOSPC
    assert str(dest) in str(info.value) and "disk full" in str(info.value)
    assert dest.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.nc"]


def test_an_interrupt_the_writer_swallowed_still_ends_the_write(tmp_path):
    import os
    import signal

    dest = tmp_path / "out.nc"
    with pytest.raises(KeyboardInterrupt), atomic_path(dest) as tmp:
        tmp.write_text("half")
        try:  # as a KeyboardInterrupt raised inside a weakref callback is only printed
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):  # the handler runs between two bytecodes, in here
                pass
        except KeyboardInterrupt:
            pass
        tmp.write_text("complete")
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


# -- output folders ---------------------------------------------------------------------------

def _user_folder(folder):
    (folder / "raw_data").mkdir(parents=True)
    (folder / "raw_data" / "mouse1.csv").write_text("t,x\n0,1\n")
    (folder / "thesis_chapter3.docx").write_bytes(b"PK precious")
    (folder / "report.html").write_text("<html>an earlier run</html>")
    (folder / "stats.csv").write_text("figure,quantity\n")
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_without_the_marker_is_refused_naming_what_would_be_lost(tmp_path):
    from sfone._output_dir import check_output_dir, replacing_output_dir
    from sfone.exceptions import SfoneError

    before = _user_folder(tmp_path / "out")
    for replace in (True, False):
        with pytest.raises(SfoneError) as info:
            check_output_dir(tmp_path / "out", kind="reproduce", replace=replace)
        message = str(info.value)
        assert "thesis_chapter3.docx" in message and "raw_data/" in message
        assert "mouse1.csv" not in message  # the folder is named once
    with pytest.raises(SfoneError, match="would lose"), \
            replacing_output_dir(tmp_path / "out", kind="reproduce"):
        pytest.fail("nothing may be built over a folder sfone did not write")
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_own_folder_is_replaced_until_a_user_file_appears_in_it(tmp_path):
    from sfone._output_dir import MARKER_NAME, read_marker, replacing_output_dir
    from sfone.exceptions import SfoneError

    out = tmp_path / "out"
    for text in ("first", "second"):
        with replacing_output_dir(out, kind="reproduce") as build:
            (build / "figures").mkdir()
            (build / "figures" / "fig1.png").write_text(text)
            (build / "stats.csv").write_text(text)
    assert (out / "stats.csv").read_text() == "second"
    marker = read_marker(out)
    assert marker["kind"] == "reproduce" and marker["files"] == ["figures/fig1.png", "stats.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    (out / "figures" / "my_notes.txt").write_text("mine")
    with pytest.raises(SfoneError, match=r"would lose files sfone did not write: "
                                         r"figures/my_notes\.txt"):
        with replacing_output_dir(out, kind="reproduce") as build:
            (build / "stats.csv").write_text("third")
    assert (out / "stats.csv").read_text() == "second"
    assert (out / "figures" / "my_notes.txt").read_text() == "mine"
    with pytest.raises(SfoneError, match="is an `sfone reproduce` output, not an `sfone batch`"):
        from sfone._output_dir import claim_output_dir

        claim_output_dir(out, kind="batch", patterns=["errors.csv"])
    assert (out / MARKER_NAME).is_file()


def test_a_user_file_added_during_the_run_stops_the_swap(tmp_path):
    from sfone._output_dir import replacing_output_dir
    from sfone.exceptions import SfoneError

    out = tmp_path / "out"
    with replacing_output_dir(out, kind="reproduce") as build:
        (build / "stats.csv").write_text("first")
    with pytest.raises(SfoneError, match="late.docx"):
        with replacing_output_dir(out, kind="reproduce") as build:
            (build / "stats.csv").write_text("second")
            (out / "late.docx").write_text("written while the run was going")
    assert (out / "stats.csv").read_text() == "first" and (out / "late.docx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stale_build_folders_are_removed_only_for_dead_processes_of_this_host(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    from sfone._output_dir import remove_stale_builds

    host = socket.gethostname().replace(".", "_")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    out = tmp_path / "out"
    out.mkdir()
    names = {"dead": f".out.partial-{host}-{dead}", "legacy": f".out.partial-{dead}",
             "live": f".out.partial-{host}-{os.getpid()}", "other": f".out.partial-elsewhere-{dead}",
             "old": f".out.old-{host}-{dead}"}
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "stats.csv").write_text("x")
    (tmp_path / f".out.partial-{host}-notapid").mkdir()
    removed = remove_stale_builds(out)
    assert sorted(p.name for p in removed) == sorted([names["old"], names["dead"], names["legacy"]])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".out.partial-elsewhere-" + dead, names["live"],
                           f".out.partial-{host}-notapid", "out"])


def test_a_kill_between_the_two_renames_restores_the_previous_output(tmp_path):
    import socket
    import subprocess
    import sys

    from sfone._output_dir import remove_stale_builds

    host = socket.gethostname().replace(".", "_")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    old = tmp_path / f".out.old-{host}-{dead}"  # out was renamed away, then the kill came
    old.mkdir()
    (old / "stats.csv").write_text("previous")
    remove_stale_builds(tmp_path / "out")
    assert (tmp_path / "out" / "stats.csv").read_text() == "previous"


def test_a_reproduce_output_from_before_the_marker_is_known_by_its_provenance(tmp_path):
    import json

    from sfone._output_dir import check_output_dir
    from sfone.exceptions import SfoneError

    out = tmp_path / "figures"
    (out / "figures").mkdir(parents=True)
    for suffix in (".png", ".svg", ".pdf"):
        (out / "figures" / f"fig5_bdnf{suffix}").write_text("x")
    for name in ("report.html", "stats.csv"):
        (out / name).write_text("x")
    (out / "provenance.json").write_text(json.dumps(
        {"versions": {"sfone": "0.1.0"}, "figures": [{"number": 5,
                                                       "file": "figures/fig5_bdnf.png"}]}))
    check_output_dir(out, kind="reproduce", replace=True)  # nothing but what it lists
    (out / "figures" / "fig6_mine.png").write_text("a figure of mine")
    with pytest.raises(SfoneError, match=r"would lose files sfone did not write: "
                                         r"figures/fig6_mine\.png"):
        check_output_dir(out, kind="reproduce", replace=True)
    (out / "provenance.json").write_text('{"figures": []}')  # not sfone's provenance
    with pytest.raises(SfoneError, match="is not an earlier `sfone reproduce` output"):
        check_output_dir(out, kind="reproduce", replace=True)

"""Format registry: detection, unknown files, missing paths, options."""

import numpy as np
import pytest

import sfone
from sfone.exceptions import FormatError
from sfone.io import detect_format, read
from sfone.io.events.runs_csv import write_runs_csv


def test_formats_table_lists_builtin_formats():
    table = sfone.formats()
    assert {"name", "modality", "suffixes", "extra", "available"} <= set(table.columns)
    assert "runs-csv" in set(table["name"])
    assert table["name"].is_unique


def test_detects_runs_csv_by_suffix_and_content(tmp_path):
    path = write_runs_csv(([10.0, 100.0], [40.0, 160.0]), tmp_path / "runs.csv")
    assert detect_format(path).name == "runs-csv"
    ds = read(path)
    np.testing.assert_allclose(ds["start"].values, [10.0, 100.0])
    np.testing.assert_allclose(ds["end"].values, [40.0, 160.0])
    assert ds.attrs["modality"] == "events"
    assert ds["start"].attrs["units"] == "s"


def test_unknown_file_error_is_one_line_naming_file_and_sfone_formats(tmp_path):
    path = tmp_path / "mystery.xyz"
    path.write_bytes(b"\x00\x01 not a known format")
    with pytest.raises(FormatError) as info:
        read(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert "no format reads .xyz files; see `sfone formats`" in message
    npy = tmp_path / "F.npy"
    npy.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(FormatError, match="pass the suite2p/ or planeN/ folder") as info:
        read(npy)  # a format's hint for the ending is the one line


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read(tmp_path / "nothere.csv")
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nothere.csv", format="runs-csv")


def test_unknown_format_name_lists_known_names(tmp_path):
    path = write_runs_csv(([1.0], [2.0]), tmp_path / "r.csv")
    with pytest.raises(FormatError, match="runs-csv"):
        read(path, format="no-such-format")


def test_unknown_option_is_rejected_with_accepted_list(tmp_path):
    path = write_runs_csv(([1.0], [2.0]), tmp_path / "r.csv")
    with pytest.raises(TypeError, match="bogus"):
        read(path, bogus=1)


def test_bad_runs_csv_names_line_and_column(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("start_s,end_s\n1,2\nabc,5\n")
    with pytest.raises(FormatError, match=r"line 3, column 'start_s'.*'abc'"):
        read(path)
    path.write_text("start_s,end_s\n10,5\n")
    with pytest.raises(FormatError, match="line 2: end_s 5.0 is not after start_s 10.0"):
        read(path)


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register test formats without leaking them into other tests."""
    from sfone.io import _registry

    _registry.list_formats()  # make sure built-ins are discovered first
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    return _registry


def _fake(name, sniff, *, generic=False, suffixes=(".dat",)):
    from sfone.io import FormatInfo

    def reader(path):
        raise AssertionError("not called in detection tests")

    return FormatInfo(name=name, modality="events", reader=reader, sniff=sniff,
                      suffixes=suffixes, generic=generic)


def test_two_specific_matches_are_ambiguous(scratch_registry, tmp_path):
    scratch_registry.register_format(_fake("rig-a", lambda p: True))
    scratch_registry.register_format(_fake("rig-b", lambda p: True))
    path = tmp_path / "x.dat"
    path.write_text("data")
    with pytest.raises(FormatError, match="ambiguous.*rig-a, rig-b"):
        detect_format(path)


def test_generic_format_only_used_when_no_specific_one_claims(scratch_registry, tmp_path):
    scratch_registry.register_format(_fake("generic-dat", lambda p: True, generic=True))
    path = tmp_path / "x.dat"
    path.write_text("data")
    assert detect_format(path).name == "generic-dat"
    scratch_registry.register_format(_fake("specific-dat", lambda p: "data" in p.read_text()))
    assert detect_format(path).name == "specific-dat"


def test_sniffer_exceptions_do_not_break_detection(scratch_registry, tmp_path):
    def broken(path):
        raise RuntimeError("sniffer bug")

    scratch_registry.register_format(_fake("broken", broken))
    scratch_registry.register_format(_fake("fine", lambda p: True))
    path = tmp_path / "x.dat"
    path.write_text("data")
    assert detect_format(path).name == "fine"


def test_content_sniff_used_when_suffix_is_unknown(tmp_path):
    path = write_runs_csv(([1.0], [2.0]), tmp_path / "runs.csv")
    renamed = path.rename(tmp_path / "runs.table")
    assert detect_format(renamed).name == "runs-csv"


def test_missing_extra_gives_install_hint(scratch_registry, tmp_path):
    from sfone.io import FormatInfo

    scratch_registry.register_format(FormatInfo(
        name="needs-extra", modality="events", reader=lambda path: None, sniff=lambda p: True,
        suffixes=(".xtra",), extra="fancy", requires=("module_that_does_not_exist_xyz",)))
    path = tmp_path / "a.xtra"
    path.write_text("x")
    with pytest.raises(FormatError, match=r"pip install 'sfone\[fancy\]'"):
        read(path)


def test_entry_point_plugins_register_and_broken_ones_warn(monkeypatch):
    from sfone.exceptions import SfoneWarning
    from sfone.io import _registry

    plugin = _fake("plugin-fmt", lambda p: False)

    class EntryPoint:
        def __init__(self, name, obj=None, error=None):
            self.name, self.value, self._obj, self._error = name, f"pkg:{name}", obj, error

        def load(self):
            if self._error:
                raise self._error
            return self._obj

    eps = [EntryPoint("good", obj=plugin), EntryPoint("bad", error=ImportError("no module x"))]
    monkeypatch.setattr("sfone._plugins.entry_points", lambda group: eps)
    _registry.list_formats()
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.setattr(_registry, "_DISCOVERED", False)
    with pytest.warns(SfoneWarning, match="'bad'.*failed to import"):
        names = [f.name for f in _registry.list_formats()]
    assert "plugin-fmt" in names and "runs-csv" in names


def test_listing_formats_and_cli_help_import_no_heavy_module():
    """``sfone formats``/``--help`` start fast: the registry's declarations name readers as
    strings, so no reader module (nor pandas, xarray, dask) is imported to list them."""
    import subprocess
    import sys

    code = ("import sys, sfone; from sfone.io import list_formats; from sfone.cli import main; "
            "assert len(list_formats()) >= 24; "
            "print(sorted(m for m in ('pandas', 'xarray', 'dask', 'scipy', 'sfone.io.imaging.suite2p')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_declared_lazy_matches_readers_that_take_chunks():
    import inspect

    from sfone.io import list_formats

    for info in list_formats():
        takes_chunks = "chunks" in inspect.signature(info.read_function()).parameters
        assert info.lazy == takes_chunks, info.name

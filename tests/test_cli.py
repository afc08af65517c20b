"""The command line: info, convert, formats, errors and exit codes, atomic writes."""

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import sfone
from sfone.cli import main
from sfone.io.events.runs_csv import write_runs_csv
from sfone.schema import finalize_dataset


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def imaging_nc(tmp_path):
    fs, n_t = 20.0, 400
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {"F": (("roi", "time"), rng.normal(100, 5, (4, n_t)).astype(np.float32),
               {"units": "a.u."})},
        coords={"roi": np.arange(4), "time": ("time", np.arange(n_t) / fs, {"units": "s"}),
                "iscell": ("roi", np.array([True, True, False, True]))})
    ds = finalize_dataset(ds, modality="imaging", source_format="test", source_file="sim", fs=fs)
    return sfone.write_dataset(ds, tmp_path / "session.nc"), ds


def test_formats_lists_names_and_extras(runner):
    result = runner.invoke(main, ["formats"])
    assert result.exit_code == 0
    assert "runs-csv" in result.output and "sfone-zarr" in result.output
    assert "dask" in result.output  # the extra zarr needs


def test_info_reports_rois_duration_and_rate(runner, imaging_nc):
    path, _ = imaging_nc
    result = runner.invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "imaging" in result.output
    assert "4 (3 accepted as cells)" in result.output
    assert "20 Hz" in result.output
    assert "19.9 s" in result.output  # (400 - 1) / 20


def test_convert_netcdf_round_trip_is_identical(runner, imaging_nc, tmp_path):
    path, original = imaging_nc
    out = tmp_path / "copy.nc"
    result = runner.invoke(main, ["convert", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    back = sfone.read(out)
    xr.testing.assert_identical(back, original)
    assert back["iscell"].dtype == bool


def test_convert_to_zarr_round_trip(runner, tmp_path):
    pytest.importorskip("zarr")
    runs = write_runs_csv(([5.0, 50.0], [20.0, 80.0]), tmp_path / "runs.csv")
    out = tmp_path / "runs.zarr"
    result = runner.invoke(main, ["convert", str(runs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    back = sfone.read(out)
    np.testing.assert_array_equal(back["start"].values, [5.0, 50.0])
    assert back.attrs["source_format"] == "runs-csv"


def test_missing_file_is_one_line_and_exit_1(runner, tmp_path):
    result = runner.invoke(main, ["info", str(tmp_path / "absent.csv")])
    assert result.exit_code == 1
    assert "absent.csv" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_format_error_exit_code_and_debug_traceback(runner, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(np.random.default_rng(1).bytes(256))
    result = runner.invoke(main, ["info", str(junk)])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "junk.bin" in result.output
    debug = runner.invoke(main, ["--debug", "info", str(junk)])
    assert isinstance(debug.exception, sfone.FormatError)


def test_convert_rejects_unknown_output_suffix(runner, imaging_nc, tmp_path):
    path, _ = imaging_nc
    result = runner.invoke(main, ["convert", str(path), "--out", str(tmp_path / "out.mat")])
    assert result.exit_code == 2
    assert not (tmp_path / "out.mat").exists()


def test_failed_convert_leaves_no_file_and_keeps_previous(runner, imaging_nc, tmp_path,
                                                          monkeypatch):
    path, _ = imaging_nc
    out = tmp_path / "out.nc"
    out.write_bytes(b"previous output")

    def explode(self, target, *args, **kwargs):
        with open(target, "wb") as fh:
            fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", explode)
    result = runner.invoke(main, ["convert", str(path), "--out", str(out)])
    assert result.exit_code == 1 and "disk full" in result.output
    assert out.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc", "session.nc"]


def test_internal_errors_are_reported_without_traceback(runner, imaging_nc, monkeypatch):
    path, _ = imaging_nc
    monkeypatch.setattr("sfone.summary.describe", lambda ds: 1 / 0)
    result = runner.invoke(main, ["info", str(path)])
    assert result.exit_code == 3
    assert "Internal error (ZeroDivisionError)" in result.output
    assert "Traceback" not in result.output


def test_readme_formats_table_matches_registry():
    from pathlib import Path

    from sfone.cli.core import formats_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("<!-- formats:start -->\n")[1].split("\n<!-- formats:end -->")[0]
    assert table == formats_markdown(sfone.io.list_formats()), (
        "README formats table is stale: paste the output of `sfone formats --markdown`")

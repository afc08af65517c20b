"""`sfone info` / `sfone convert` on every imaging format, and the imaging sample files."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from shared_fixtures import fixture_path

import sfone
from sfone.cli import main
from sfone.simulate.imaging import SAMPLE_SEED, simulate_session, write_samples

CASES = {
    "suite2p": (("imaging", "suite2p_synthetic_v1.1.0_2plane"), "roi=15, time=200", "10 Hz"),
    "suite2p-old": (("imaging", "suite2p_fissa_example_v0.10"), "roi=23, time=864", "1 Hz"),
    "caiman": (("imaging", "caiman_cnmfe_inscopix_ideas", "sample_cellset_msr_1.hdf5"),
               "roi=5, time=100", "20.0152 Hz"),
    "inscopix": (("imaging", "inscopix_isx_exports_ideas_nca",
                  "EMULATED_cellset_traces_idps_format.csv"), "roi=20, time=2047", "10 Hz"),
    "inscopix-events": (("imaging", "inscopix_isx_exports_ideas_nca",
                         "input_cellset-ED_events_long.csv"), "epoch=2553", None),
    "inscopix-isxd": (("imaging", "inscopix_isx_exports_ideas_nca",
                       "cellset_accepted_undecided_and_rejected_cells.isxd"),
                      "roi=20, time=2047", "10 Hz"),
    "gpio-table": (("imaging", "inscopix_idps_celltraces_canalysis",
                    "Animal01_day02_gpio_processed.csv"), "epoch=908", None),
    "nwb": (("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "ophys.nwb"),
            "roi=15, time=200", "10 Hz"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_info_and_convert(case, tmp_path):
    parts, sizes, rate = CASES[case]
    path = fixture_path(*parts)
    runner = CliRunner()
    result = runner.invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert sizes in result.output
    if rate:
        assert rate in result.output
    out = tmp_path / "out.nc"
    result = runner.invoke(main, ["convert", str(path), str(out)])
    assert result.exit_code == 0, result.output
    back = xr.open_dataset(out, engine="h5netcdf")
    original = sfone.read(path)
    name = "F" if "F" in original else "start"
    np.testing.assert_array_equal(back[name].values, original[name].values)
    assert back.attrs["source_format"] == original.attrs["source_format"]
    back.close()


def test_info_on_broken_suite2p_is_one_line_error(tmp_path):
    plane = tmp_path / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    np.save(plane / "F.npy", np.zeros((3, 10), np.float32))
    np.save(plane / "iscell.npy", np.ones((2, 2)))
    result = CliRunner().invoke(main, ["info", str(tmp_path)])
    assert result.exit_code != 0
    assert "iscell.npy has 2 rows but F.npy has 3 ROIs" in result.output


def test_samples_reproducible_small_and_carry_truth(tmp_path):
    first = write_samples(tmp_path / "a")
    second = write_samples(tmp_path / "b")
    files_a = sorted(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert [p.relative_to(tmp_path / "a") for p in files_a] == [
        p.relative_to(tmp_path / "b") for p in files_b]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(files_a, files_b, strict=True))
    assert sum(p.stat().st_size for p in files_a) < 3_000_000
    truth = simulate_session(random_state=SAMPLE_SEED)
    for path in first:
        ds = sfone.read(path)
        np.testing.assert_allclose(ds["F"].values, truth["F"].values, rtol=1e-6)
        np.testing.assert_array_equal(ds["iscell"].values, truth["iscell"].values)
    assert [sfone.read(p).attrs["source_format"] for p in second] == [
        "suite2p", "caiman", "inscopix"]


def test_writers_accept_a_minimal_dataset(tmp_path):
    from sfone.schema import finalize_dataset
    from sfone.simulate.imaging import write_caiman_hdf5, write_inscopix_csv, write_suite2p

    F = np.arange(24, dtype=np.float32).reshape(3, 8)
    minimal = finalize_dataset(xr.Dataset(
        {"F": (("roi", "time"), F, {"units": "a.u."})},
        coords={"roi": [0, 1, 2], "iscell": ("roi", [True, False, True]),
                "time": ("time", np.arange(8) / 5.0, {"units": "s"})},
        attrs={"fs": 5.0}), modality="imaging", source_format="test", source_file="<t>")
    paths = [write_suite2p(minimal, tmp_path / "s2p"),
             write_caiman_hdf5(minimal, tmp_path / "c.hdf5"),
             write_inscopix_csv(minimal, tmp_path / "i.csv")]
    for path in paths:
        ds = sfone.read(path)
        np.testing.assert_allclose(ds["F"].values, F)
        np.testing.assert_array_equal(ds["iscell"].values, [True, False, True])
        assert ds.attrs["fs"] == pytest.approx(5.0)

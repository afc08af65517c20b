"""NWB metadata: the lab YAML's sections and keys, fiber patterns, the zone of a session start
stored without one, and `sfone convert PATH OUT.nwb --metadata ... --meta ... --timezone ...`."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from shared_fixtures import REPO_ROOT

import sfone
from sfone.cli import main
from sfone.exceptions import DataRepairWarning, SchemaError
from sfone.io._nwb_metadata import load_metadata, parse_zone

pynwb = pytest.importorskip("pynwb")
pytest.importorskip("ndx_fiber_photometry")
yaml = pytest.importorskip("yaml")

DORIC = REPO_ROOT / "data_samples" / "photometry_doric_v6.doric"  # start 2025-01-06T10:00:00


def _read_nwb(path):
    import ndx_fiber_photometry  # noqa: F401

    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        out = {"start": f.session_start_time.isoformat(),
               "subject": f.subject.subject_id if f.subject else None,
               "experimenter": list(f.experimenter or ()), "keywords": list(f.keywords[:])
               if f.keywords is not None else []}
        if "fiber_photometry" in f.lab_meta_data:
            out["fibers"] = f.lab_meta_data["fiber_photometry"].fiber_photometry_table \
                .to_dataframe()[["excitation_wavelength_in_nm", "emission_wavelength_in_nm",
                                 "location", "notes"]]
        if f.imaging_planes:
            plane = next(iter(f.imaging_planes.values()))
            out["plane"] = (plane.indicator, plane.location, plane.excitation_lambda,
                            plane.optical_channel[0].emission_lambda, plane.device.name,
                            plane.device.model.manufacturer if plane.device.model else None)
        return out


# --- time zones -------------------------------------------------------------------------------

def test_a_start_without_zone_is_refused_without_a_timezone(tmp_path):
    ds = sfone.read(DORIC)
    assert ds.attrs["session_start"] == "2025-01-06T10:00:00"  # the file stores no zone
    with pytest.raises(SchemaError, match=r"2025-01-06T10:00:00 has no time zone.*timezone="):
        sfone.to_nwb(ds, tmp_path / "d.nwb")
    assert not (tmp_path / "d.nwb").exists()


@pytest.mark.parametrize("zone, date, expected", [
    ("Europe/Berlin", None, "2025-01-06T10:00:00+01:00"),            # winter time
    ("Europe/Berlin", "2025-07-06T10:00:00", "2025-07-06T10:00:00+02:00"),  # summer time
    ("+05:30", None, "2025-01-06T10:00:00+05:30"),
    ("UTC", None, "2025-01-06T10:00:00+00:00"),
])
def test_the_option_zone_is_applied_and_said(tmp_path, zone, date, expected):
    ds = sfone.read(DORIC)
    if date:
        ds.attrs["session_start"] = date
    said = rf"no time zone: assumed {re.escape(zone)} \(from the timezone option\)"
    with pytest.warns(DataRepairWarning, match=said):
        path = sfone.to_nwb(ds, tmp_path / "d.nwb", timezone=zone)
    assert _read_nwb(path)["start"] == expected


def test_the_yaml_zone_names_the_yaml_and_the_option_wins(tmp_path):
    ds = sfone.read(REPO_ROOT / "data_samples" / "photometry_pyphotometry.ppd")
    lab = tmp_path / "lab.yaml"
    lab.write_text("timezone: America/New_York\n", encoding="utf-8")
    with pytest.warns(DataRepairWarning, match=rf"assumed America/New_York \(from {lab}\)"):
        path = sfone.to_nwb(ds, tmp_path / "a.nwb", metadata=lab)
    assert _read_nwb(path)["start"] == "2025-01-06T10:00:00-05:00"
    with pytest.warns(DataRepairWarning, match="assumed Asia/Tokyo"):
        path = sfone.to_nwb(ds, tmp_path / "b.nwb", metadata=lab, timezone="Asia/Tokyo")
    assert _read_nwb(path)["start"] == "2025-01-06T10:00:00+09:00"


def test_a_start_with_its_own_zone_is_kept(tmp_path):
    ds = sfone.read(DORIC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no assumption, no warning
        path = sfone.to_nwb(ds, tmp_path / "d.nwb", timezone="Europe/Berlin",
                            session_start_time="2025-01-06T10:00:00-03:00")
    assert _read_nwb(path)["start"] == "2025-01-06T10:00:00-03:00"


def test_bad_zone_is_one_clear_error():
    with pytest.raises(SchemaError, match="'Berlin' is neither an IANA zone name"):
        parse_zone("Berlin")


# --- metadata layouts ---------------------------------------------------------------------------

def test_neuroconv_ophys_section_fills_the_imaging_plane(tmp_path):
    from sfone.simulate.imaging import simulate_session

    ds = simulate_session(n_rois=3, n_frames=50, random_state=1)
    meta = {"NWBFile": {"session_start_time": "2026-01-01T09:00:00+01:00"},
            "Ophys": {"Device": [{"name": "nVista", "description": "miniscope",
                                  "manufacturer": "Inscopix"}],
                      "ImagingPlane": [{"name": "ImagingPlane", "indicator": "GCaMP6s",
                                        "location": "VMH", "excitation_lambda": 475.0,
                                        "optical_channel": [{"name": "Green",
                                                             "emission_lambda": 525.0}]}]}}
    path = sfone.to_nwb(ds, tmp_path / "i.nwb", metadata=meta)
    assert _read_nwb(path)["plane"] == ("GCaMP6s", "VMH", 475.0, 525.0, "nVista", "Inscopix")
    # a keyword option wins over the YAML
    path = sfone.to_nwb(ds, tmp_path / "j.nwb", metadata=meta, location="ARH")
    assert _read_nwb(path)["plane"][1] == "ARH"
    back = sfone.read(path)
    assert back.attrs["location"] == "ARH" and back.attrs["excitation_lambda"] == 475.0


@pytest.mark.parametrize("bad, match", [
    ({"Ophys": {"Devices": []}}, "unknown Ophys field.*Devices"),
    ({"Ophys": {"FiberPhotometry": {}}}, "FiberPhotometry.*give the fibers as"),
    ({"Subject": {"subject_id": "m", "colour": "black"}}, "unknown subject field.*colour"),
    ({"fibers": {"*": 525}}, "fibers must map channel names"),
    ({"emission_lambda": "green"}, "emission_lambda must be a number of nm"),
])
def test_bad_metadata_is_refused_naming_the_key(bad, match):
    with pytest.raises(SchemaError, match=match):
        load_metadata(bad)


def test_sources_merge_section_by_section_later_winning(tmp_path):
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump({"NWBFile": {"institution": "U", "lab": "L"},
                                   "Subject": {"species": "Mus musculus", "sex": "M"},
                                   "fibers": {"*": {"location": "VMH", "indicator": "GCaMP6s"}}}))
    merged = load_metadata([lab, {"Subject": {"sex": "F", "subject_id": "m7"}, "lab": "L2",
                                  "fibers": {"*": {"indicator": "jGCaMP8m"}}}])
    assert merged["file"] == {"institution": "U", "lab": "L2"}
    assert merged["subject"] == {"species": "Mus musculus", "sex": "F", "subject_id": "m7"}
    assert merged["options"]["fibers"] == {"*": {"location": "VMH", "indicator": "jGCaMP8m"}}
    assert merged["origin"]["fibers"] == "the metadata mapping"


def test_fiber_patterns_apply_star_then_patterns_then_the_name(tmp_path):
    ds = sfone.read(DORIC)
    fibers = {"*": {"location": "VMH", "excitation_wavelength_nm": 1.0,
                    "emission_wavelength_nm": 525.0},
              "*AOUT01*": {"excitation_wavelength_nm": 465.0},
              "*AOUT02*": {"excitation_wavelength_nm": 405.0},
              "AIN02xAOUT02-LockIn": {"location": "ARH"}}
    with pytest.warns(DataRepairWarning):
        path = sfone.to_nwb(ds, tmp_path / "d.nwb", fibers=fibers, timezone="UTC")
    table = _read_nwb(path)["fibers"].set_index("notes")
    assert table.loc["channel AIN01xAOUT01-LockIn"].tolist() == [465.0, 525.0, "VMH"]
    assert table.loc["channel AIN02xAOUT02-LockIn"].tolist() == [405.0, 525.0, "ARH"]
    assert len(table) == 2  # DIO01 is digital: no fiber row


# --- the command line ---------------------------------------------------------------------------

def test_convert_to_nwb_with_lab_yaml_meta_and_timezone(tmp_path):
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump({"NWBFile": {"experimenter": "Doe, Jane", "institution": "U"},
                                   "fibers": {"*": {"location": "VMH"}}}))
    out = tmp_path / "d.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataRepairWarning)  # printed by the CLI, not raised
        result = CliRunner().invoke(main, [
            "convert", str(DORIC), str(out), "--metadata", str(lab), "--timezone",
            "Europe/Berlin", "--meta", "Subject.subject_id=m07",
            "--meta", "NWBFile.keywords=[VMH, SF1]",
            "--meta", "fibers.*AOUT01*.excitation_wavelength_nm=465"])
    assert result.exit_code == 0, result.output
    assert "assumed Europe/Berlin (from the timezone option)" in result.output  # the warning
    written = _read_nwb(out)
    assert written["start"] == "2025-01-06T10:00:00+01:00" and written["subject"] == "m07"
    assert written["experimenter"] == ["Doe, Jane"] and written["keywords"] == ["VMH", "SF1"]
    table = written["fibers"].set_index("notes")
    assert table.loc["channel AIN01xAOUT01-LockIn", "excitation_wavelength_in_nm"] == 465.0
    assert np.isnan(table.loc["channel AIN02xAOUT02-LockIn", "excitation_wavelength_in_nm"])
    back = sfone.read(out)
    np.testing.assert_array_equal(back["AIN01xAOUT01-LockIn"].values,
                                  sfone.read(DORIC)["AIN01xAOUT01-LockIn"].values)


def test_convert_to_nwb_without_zone_exits_1_naming_the_flag(tmp_path):
    result = CliRunner().invoke(main, ["convert", str(DORIC), str(tmp_path / "d.nwb")])
    assert result.exit_code == 1
    assert "has no time zone" in result.output and "--timezone" in result.output
    assert not (tmp_path / "d.nwb").exists()


@pytest.mark.parametrize("args, match", [
    (["--timezone", "UTC"], "apply to NWB output only"),
    (["--meta", "Subject.sex"], "expected KEY=VALUE"),
])
def test_convert_metadata_options_misused_exit_2(tmp_path, args, match):
    out = tmp_path / ("d.nc" if "--timezone" in args else "d.nwb")
    result = CliRunner().invoke(main, ["convert", str(DORIC), str(out), *args])
    assert result.exit_code == 2 and match in result.output
    assert not out.exists()

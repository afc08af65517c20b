"""Every calorimetry fixture loads with the subjects, masses, intervals and row counts of its
PROVENANCE; quirks (ERR:0, removal tail, DAKO damage, EMPTY cage) are handled as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError, QualityWarning
from sfone.io.calorimetry.clams import read_clams


def cal(name):
    return fixture_path("calorimetry", name)


def interval_s(ds, subject=0):
    stamps = ds["datetime"].isel(subject=subject).values
    stamps = stamps[~np.isnat(stamps)]
    return float(np.median(np.diff(stamps) / np.timedelta64(1, "s")))


def test_clams_two_cages_one_dataset_with_removal_flags():
    # raw file: INTERVAL 167 and 571 have negative VO2/VCO2 with an RER inside 0.5-1.5 (so not
    # in qc_flag) in cage 0101; in cage 0102 only INTERVAL 571 (167 has RER 0.494: flagged)
    negative = (r"subject 'NH' VO2: 2 value\(s\) outside the plausible range \[0, inf\] mL/h "
                r"at row\(s\) 166, 570 .*subject 'HR' VO2: 1 value\(s\) .* at row\(s\) 570 ")
    with pytest.warns(QualityWarning, match="animal was removed"), \
            pytest.warns(QualityWarning, match=negative):
        ds = read_clams([cal("clams_oxymax_2015-01-06_cage0101.csv"),
                         cal("clams_oxymax_2015-01-06_cage0102.csv")])
    assert list(ds["subject"].values) == ["NH", "HR"]
    assert ds["body_mass"].values.tolist() == [23.8, 25.8]
    assert ds.sizes["time"] == 827
    assert interval_s(ds) == 630.0
    assert str(ds["datetime"].values[0, 0]) == "2015-01-06T11:01:32.000000000"
    assert str(ds["datetime"].values[0, -1]).startswith("2015-01-12T11:34:32")
    # the two cages have their own (staggered) clocks
    assert ds["datetime"].values[1, 0] != ds["datetime"].values[0, 0]
    # VO2 ml/kg/hr x mass: first row of cage 0101 is 3894 ml/kg/h x 0.0238 kg
    assert ds["vo2"].values[0, 0] == pytest.approx(3894 * 23.8 / 1000)
    assert ds["vo2"].attrs["units"] == "mL/h" and ds["vo2"].attrs["source_units"] == "ml/kg/hr"
    # PROVENANCE: the rows after removal (INTERVAL 816..827) are flagged, not dropped
    removed = (ds["qc_flag"].values & 2) != 0
    assert removed.sum(axis=1).tolist() == [12, 12]
    assert np.flatnonzero(removed[0])[0] == 815
    assert ds["vo2"].notnull().sum().item() == 2 * 827
    # ERR:0 sensors are not loaded as numbers; negative FEED1 kept as in the file
    assert (ds["feed"].values[0] < 0).sum() == 121
    assert (ds["feed"].values[1] < 0).sum() == 95
    # EE is Weir, vendor HEAT kept separately
    weir = (3.941 * ds["vo2"] + 1.106 * ds["vco2"]) / 1000
    np.testing.assert_allclose(ds["ee"].values, weir.values, rtol=1e-12)
    assert ds["ee_vendor"].values[0, 0] == 0.4


def test_clams_old_header_style():
    ds = sfone.read(cal("clams_oxymax_2013-01-15_cage0101_oldheader.csv"))
    assert ds.attrs["source_format"] == "clams"
    assert ds["subject"].values.tolist() == ["WT1"]
    assert ds["body_mass"].values.tolist() == [26.2]
    assert ds.sizes["time"] == 522 and interval_s(ds) == 630.0
    assert str(ds["datetime"].values[0, -1]).startswith("2013-01-19T12:47:49")
    assert (ds["feed"].values < 0).sum() == 47


def test_clams_wheel_file_lf_and_no_ampm_header():
    ds = sfone.read(cal("clams_oxymax_2016-10-21_cage0102_wheel.csv"))
    assert ds["subject"].values.tolist() == ["CP1352"]
    assert ds["body_mass"].values.tolist() == [22.2]
    assert ds.sizes["time"] == 509 and interval_s(ds) == 28 * 60
    assert ds["wheel_acc"].max().item() == 156269
    assert (ds["feed"].values < 0).sum() == 36
    assert ds["vo2"].attrs["source_units"] == "ML/KG/HR"


def test_clams_header_only_is_a_clear_error():
    path = cal("clams_oxymax_edgecase_header_only.csv")
    with pytest.raises(FormatError, match="no data rows") as err:
        sfone.read(path)
    assert str(path) in str(err.value)


def test_clams_merged_long_drops_empty_cage_with_warning():
    with pytest.warns(DataRepairWarning, match="EMPTY"):
        ds = sfone.read(cal("clams_merged_long_auwerx_b6aging.csv"))
    assert ds.attrs["source_format"] == "clams-merged"
    assert ds.sizes == {"subject": 15, "time": 37}
    assert "EMPTY" not in ds["subject"].values
    assert interval_s(ds) == 40 * 60
    assert str(ds["datetime"].values[0, 0]) == "2010-09-01T14:36:52.000000000"
    assert ds["body_mass"].values[0] == 28.14
    assert ds["vo2"].values[0, 0] == pytest.approx(2763 * 28.14 / 1000)


def test_tse_us_comma_file():
    ds = sfone.read(cal("tse_labmaster_v5.9.9_comma_us.csv"))
    assert ds.attrs["source_format"] == "tse"
    assert ds["subject"].values.tolist() == [str(i) for i in range(1001, 1009)]
    assert ds["body_mass"].values.tolist() == [32.7, 33.2, 34.1, 34.3, 33.0, 30.2, 31.3, 33.5]
    assert ds.sizes["time"] == 240 and interval_s(ds) == 1800
    assert str(ds["datetime"].values[0, -1]).startswith("2017-12-10T10:01")
    # Drink and Feed are cumulative in this file: feed is the difference, first 0
    assert ds["feed"].values[0, 0] == 0 and ds["feed_acc"].values[0, 0] == 0.23
    assert ds["feed"].values[0, 1] == pytest.approx(0.20)


def test_tse_semicolon_decimal_comma_latin1():
    ds = sfone.read(cal("tse_labmaster_v6.3.3_semicolon_decimalcomma_ucp1ko.csv"))
    assert ds["subject"].values.tolist() == ["2265", "2195", "2262", "2263"]
    assert ds["body_mass"].values.tolist() == [26.81, 34.98, 37.68, 36.32]
    assert ds["cage"].values.tolist() == ["4", "5", "7", "8"]
    assert ds["genotype"].values.tolist() == ["KO", "WT", "WT", "KO"]
    assert ds.sizes["time"] == 878 and interval_s(ds) == 300
    assert ds["rer_vendor"].values[0, 0] == 0.814
    assert "feed" not in ds and "ee_vendor" not in ds


def test_tse_mangled_dako_is_refused_naming_columns_and_lines():
    path = cal("tse_labmaster_v6.4.5_semicolon_excel_mangled_dako.csv")
    with pytest.raises(FormatError) as err:
        sfone.read(path)
    message = str(err.value)
    assert str(path) in message
    for column in ("RER", "H(3)", "Ref.CO2", "dO2"):
        assert f"{column}:" in message
    assert "line 18: '901'" in message and "repair='decimal'" in message


def test_tse_mangled_dako_repaired_on_request():
    path = cal("tse_labmaster_v6.4.5_semicolon_excel_mangled_dako.csv")
    with pytest.warns(DataRepairWarning, match="repaired"):
        ds = sfone.read(path, repair="decimal", group_column="Genotype")
    assert ds.sizes == {"subject": 11, "time": 417}
    assert interval_s(ds) == 13 * 60
    assert ds["rer_vendor"].values[0, 0] == pytest.approx(0.901)
    assert ds["ee_vendor"].values[0, 0] == pytest.approx(0.422)
    assert sorted(set(ds["group"].values)) == ["DAKO", "cntl"]
    # the repaired vendor heat now agrees with Weir recomputed from the intact VO2/VCO2
    assert float(np.abs(ds["ee"] - ds["ee_vendor"]).max()) < 0.005


def test_calr_standard_file_ee_is_weir():
    ds = sfone.read(cal("calr_standard_mmpc_ucdavis_week12.csv"))
    assert ds.attrs["source_format"] == "calr"
    assert ds.sizes == {"subject": 16, "time": 320}
    assert ds["ee"].attrs["equation"] == "as in file"
    weir = (3.941 * ds["vo2"] + 1.106 * ds["vco2"]) / 1000
    assert float(np.abs(ds["ee"] - weir).max()) < 1e-9
    assert float(np.abs(ds["rer_vendor"] - ds["vco2"] / ds["vo2"]).max()) < 1e-9
    assert set(ds["cal_g"].values) == {3.82, 5.21}
    assert interval_s(ds) == 18 * 60


def test_tse_import_equals_calr_r_output():
    from sfone.io.calorimetry.calr import to_calr_frame

    ds = sfone.read(cal("tse_labmaster_v5.9.9_comma_us.csv"))
    ours = to_calr_frame(ds, vendor_values=True)
    ref = pd.read_csv(cal("calr_R_reference_output_of_tse_labmaster_v5.9.9.csv"))
    assert len(ours) == len(ref) == 1920
    for column in ref.columns:
        expected, got = ref[column], ours[column]
        if expected.isna().all():
            assert got.isna().all(), column
        elif expected.dtype.kind in "fi":
            np.testing.assert_allclose(got.astype(float), expected, rtol=0, atol=1e-12,
                                       err_msg=column)
        else:
            assert got.astype(str).tolist() == expected.astype(str).tolist(), column


def test_calr_round_trip(tmp_path):
    from sfone.io.calorimetry.calr import write_calr

    ds = sfone.read(cal("tse_labmaster_v5.9.9_comma_us.csv"))
    out = write_calr(ds, tmp_path / "standard.csv")
    back = sfone.read(out)
    assert back.attrs["source_format"] == "calr"
    assert back["subject"].values.tolist() == ds["subject"].values.tolist()
    for var in ("vo2", "vco2", "ee", "feed", "feed_acc", "xytot", "body_mass"):
        np.testing.assert_allclose(back[var].values, ds[var].values, rtol=1e-9, err_msg=var)
    assert (back["datetime"].values == ds["datetime"].values).all()


def test_calr_session_round_trip(tmp_path):
    from sfone.io.calorimetry.calr import read_calr_session, write_calr_session

    session = read_calr_session(cal("calr_session_mmpc_ucdavis_week12.csv"))
    assert session.groups["LFD"][:2] == ["1_D3", "1_D5"] and len(session.groups["HFD"]) == 8
    assert session.diet_kcal_per_g == {"LFD": 3.82, "HFD": 5.21}
    assert session.xrange == (21, 93) and session.light == (7, 19)  # stored 6/18, CalR convention
    assert session.subjects.loc["1_D1", "lean_mass"] == 24.34
    back = read_calr_session(write_calr_session(session, tmp_path / "session.csv"))
    assert back.groups == session.groups and back.diet_kcal_per_g == session.diet_kcal_per_g
    assert back.xrange == session.xrange and back.light == session.light
    pd.testing.assert_frame_equal(back.subjects, session.subjects)


def test_tse_per_kg_columns_become_absolute(tmp_path):
    # a minimal LabMaster export with only per-kg (1) and per-kg^0.75 (2) gas columns
    text = ("exp;desc;;\r\n;TSE PhenoMaster V7.1.2 (2019-1)\r\nBox;Animal No.;Weight [g];Text1\r\n"
            "1;A1;25,0;x\r\n2;A2;40,0;y\r\n;;;\r\n"
            "Date;Time;Animal No.;Box;VO2(1);VCO2(2);RER\r\n;;;;[ml/h/kg];[ml/h/kg];\r\n"
            "01.02.2021;10:00;A1;1;4000;1100,5;0,85\r\n01.02.2021;10:10;A1;1;4100;1101;0,86\r\n"
            "01.02.2021;10:00;A2;2;3000;900;0,80\r\n01.02.2021;10:10;A2;2;3100;901;0,81\r\n")
    path = tmp_path / "tse_per_kg.csv"
    path.write_bytes(text.encode("latin-1"))
    ds = sfone.read(path)
    assert ds.attrs["source_format"] == "tse"
    assert ds["vo2"].values[:, 0].tolist() == pytest.approx([4000 * 0.025, 3000 * 0.040])
    assert ds["vco2"].values[0, 0] == pytest.approx(1100.5 * 0.025 ** 0.75)
    assert str(ds["datetime"].values[0, 1]).startswith("2021-02-01T10:10")


def test_unknown_csv_is_not_claimed_by_calorimetry_formats(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(FormatError, match="unrecognised"):
        sfone.read(path)


def test_read_many_mixes_formats_keeping_each_cohort_clock():
    from sfone.calorimetry import read_many, to_long

    ds = read_many([cal("tse_labmaster_v5.9.9_comma_us.csv"),
                    cal("clams_oxymax_2013-01-15_cage0101_oldheader.csv")])
    assert ds["subject"].values.tolist()[-2:] == ["1008", "WT1"]
    assert ds.sizes["time"] == 522  # the longer file; the TSE subjects are padded with NaN
    assert int(ds["vo2"].sel(subject="1001").notnull().sum()) == 240
    assert ds["body_mass"].sel(subject="WT1").item() == 26.2
    table = to_long(ds)
    assert table.groupby("subject")["exp_hour"].min().eq(0).all()
    assert len(table) == 8 * 240 + 522


def test_read_many_rejects_duplicate_subjects():
    from sfone.calorimetry import read_many

    path = cal("tse_labmaster_v5.9.9_comma_us.csv")
    with pytest.raises(FormatError, match="more than one file"):
        read_many([path, path])


def test_tse_column_wise_layout_matches_row_wise(tmp_path):
    head = ("exp;desc\r\n;TSE PhenoMaster V7.1.2 (2019-1)\r\nBox;Animal No.;Weight [g]\r\n"
            "1;A1;25,0\r\n2;A2;40,0\r\n;;\r\n")
    wide = head + ("Box;Parameter;01.02.2021 10:00;01.02.2021 10:10\r\n"
                   "1;VO2(3) [ml/h];100;110\r\n1;VCO2(3) [ml/h];80;90\r\n"
                   "2;VO2(3) [ml/h];120;130\r\n2;VCO2(3) [ml/h];100;104\r\n")
    long = head + ("Date;Time;Animal No.;Box;VO2(3);VCO2(3)\r\n;;;;[ml/h];[ml/h]\r\n"
                   "01.02.2021;10:00;A1;1;100;80\r\n01.02.2021;10:10;A1;1;110;90\r\n"
                   "01.02.2021;10:00;A2;2;120;100\r\n01.02.2021;10:10;A2;2;130;104\r\n")
    (tmp_path / "wide.csv").write_text(wide)
    (tmp_path / "long.csv").write_text(long)
    a, b = sfone.read(tmp_path / "wide.csv"), sfone.read(tmp_path / "long.csv")
    assert a["subject"].values.tolist() == ["A1", "A2"]
    assert a["vo2"].values.tolist() == [[100, 110], [120, 130]]
    assert a["vo2"].attrs["source_units"] == "ml/h"
    for var in ("vo2", "vco2", "ee", "body_mass", "datetime"):
        assert (a[var].values == b[var].values).all(), var


def test_calr_r_output_reads_back_as_the_tse_data():
    ref = sfone.read(cal("calr_R_reference_output_of_tse_labmaster_v5.9.9.csv"))
    tse = sfone.read(cal("tse_labmaster_v5.9.9_comma_us.csv"))
    assert ref.attrs["source_format"] == "calr"
    assert ref["subject"].values.tolist() == tse["subject"].values.tolist()
    np.testing.assert_array_equal(ref["ee"].values, tse["ee_vendor"].values)  # CalR copies H(3)
    np.testing.assert_allclose(ref["feed"].values, tse["feed"].values, atol=1e-12)
    assert ref["exp_hour"].values[0, :4].tolist() == [0, 1, 1, 2]


def test_calr_session_without_diets_round_trips(tmp_path):
    import pandas as pd

    from sfone.io.calorimetry.calr import CalRSession, read_calr_session, write_calr_session

    session = CalRSession(groups={"control": ["a", "b"], "treated": ["c"]}, light=(7, 19),
                          subjects=pd.DataFrame({"total_mass": [30.0, 31.5, 28.0]},
                                                index=pd.Index(["a", "b", "c"])))
    back = read_calr_session(write_calr_session(session, tmp_path / "session.csv"))
    assert back.groups == session.groups and back.diet_kcal_per_g == {}
    assert back.light == (7.0, 19.0)
    assert back.subjects.loc["b", "total_mass"] == 31.5

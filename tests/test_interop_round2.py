"""Real export layouts of issue 30 (interoperability round 2): read on their real file where the
shared fixtures have one, else on a faithful generated copy of the layout with its quirks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_fixtures import fixture_path

import sfone
from sfone.exceptions import DataRepairWarning, FormatError, SfoneWarning
from sfone.io import detect_format

FPA = ("imaging", "inscopix_csv_no_status_fpa")


def test_inscopix_csv_without_status_round_trips_as_unknown(tmp_path):
    from sfone.io.imaging._writers import write_inscopix_csv

    ds = sfone.read(fixture_path(*FPA, "Inscopix.csv"))
    path = write_inscopix_csv(ds, tmp_path / "no_status.csv")
    with open(path) as fh:
        fh.readline()
        assert not fh.readline().startswith("Time(s)/Cell Status")  # written without the row
    back = sfone.read(path)
    assert (back["status"].values == "unknown").all() and not back["iscell"].values.any()
    assert back.attrs["fs"] == 20.0
    np.testing.assert_allclose(back["F"].values, ds["F"].values, rtol=1e-6)


# -- one centroid definition ------------------------------------------------------------------

NEUROCONV = ("imaging", "neuroconv_nwb")
ISXD = ("imaging", "inscopix_isx_exports_ideas_nca",
        "cellset_accepted_undecided_and_rejected_cells.isxd")


def _centroids(ds):
    return np.column_stack([ds["y"].values, ds["x"].values])


@pytest.mark.parametrize("nwb, source, options", [
    ("s2p_fissa.nwb", ("imaging", "suite2p_fissa_example_v0.10", "suite2p"), {"fs": 1.0}),
    ("s2p_v110_plane1.nwb", ("imaging", "suite2p_synthetic_v1.1.0_2plane", "suite2p", "plane1"),
     {}),
    ("isxd_cellset.nwb", ISXD, {}),
])
def test_one_centroid_from_source_neuroconv_nwb_and_sfone_round_trip(tmp_path, nwb, source,
                                                                     options):
    """suite2p (was stat['med'], up to 7.3 px off), .isxd (was the positive part of the whole
    cell image, up to 16 px off) and NWB give the weighted centroid of the same footprint."""
    pytest.importorskip("pynwb")
    from sfone.footprints import footprint_centroids
    from sfone.io.imaging.nwb import read_nwb_segmentation

    src = sfone.read(fixture_path(*source), **options)
    np.testing.assert_allclose(_centroids(src), footprint_centroids(src), atol=1e-9)
    theirs = read_nwb_segmentation(fixture_path(*NEUROCONV, nwb))
    for var in ("mask_roi", "mask_y", "mask_x"):
        np.testing.assert_array_equal(theirs[var].values, src[var].values)
    np.testing.assert_allclose(_centroids(theirs), _centroids(src), atol=1e-9)
    back = sfone.read(sfone.to_nwb(src, tmp_path / "ours.nwb",
                                   session_start_time="2026-01-01T00:00:00+00:00"))
    np.testing.assert_allclose(_centroids(back), _centroids(src), atol=1e-9)
    if "med_y" in src.coords:  # suite2p's own med is kept, and is another point
        assert np.abs(src["med_x"].values - src["x"].values).max() > 1.0


def test_isxd_centroids_agree_with_the_largest_component_centres_isx_stored():
    from sfone.io.imaging._isxd import read_isxd_header

    path = fixture_path(*ISXD)
    ds = sfone.read(path)
    metrics = read_isxd_header(path)[0]["cellMetrics"]
    centre = np.array([[m[2]["y"], m[2]["x"]] for m in metrics], dtype=float)
    valid = centre[:, 0] > -1e18  # isx writes INT64_MIN for a cell without a component
    assert valid.sum() == 15
    distance = np.hypot(*(_centroids(ds)[valid] - centre[valid]).T)
    assert distance.max() < 1.5  # isx stores whole pixels
    assert ds["y"].attrs["units"] == "pixel"


def test_nwb_written_with_centroid_only_masks_in_the_old_x_column_convention(tmp_path):
    """sfone < 0.2 wrote one-pixel masks (x = column) plus centroid columns: the columns are
    read, the masks are not footprints; NeuroConv's convention (x = row) is covered above."""
    pynwb = pytest.importorskip("pynwb")
    from datetime import UTC, datetime

    from pynwb.ophys import ImageSegmentation, OpticalChannel

    from sfone.io.imaging._nwb_masks import CENTROID_ONLY

    nwbfile = pynwb.NWBFile(session_description="old sfone", identifier="old-1",
                            session_start_time=datetime(2025, 1, 1, tzinfo=UTC))
    device = nwbfile.create_device(name="Microscope")
    plane = nwbfile.create_imaging_plane(
        name="ImagingPlane", device=device, indicator="GCaMP", location="V1",
        excitation_lambda=920.0, imaging_rate=10.0, description="plane",
        optical_channel=OpticalChannel(name="ch", description="ch", emission_lambda=510.0))
    module = nwbfile.create_processing_module(name="ophys", description="ophys")
    segmentation = ImageSegmentation()
    module.add(segmentation)
    table = segmentation.create_plane_segmentation(name="PlaneSegmentation",
                                                   imaging_plane=plane,
                                                   description=f"ROIs; {CENTROID_ONLY[1]}")
    rows, cols = np.array([5.25, 40.5]), np.array([30.75, 2.0])
    table.add_column(name="centroid_y", description="row")
    table.add_column(name="centroid_x", description="column")
    for r, c in zip(rows, cols, strict=True):
        table.add_roi(pixel_mask=[(int(round(c)), int(round(r)), 1.0)], centroid_y=r,
                      centroid_x=c)
    region = table.create_roi_table_region(region=[0, 1], description="all")
    from pynwb.ophys import Fluorescence, RoiResponseSeries

    module.add(Fluorescence(roi_response_series=RoiResponseSeries(
        name="RoiResponseSeries", data=np.ones((20, 2)), rois=region, unit="a.u.", rate=10.0)))
    path = tmp_path / "old.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    ds = sfone.read(path)
    np.testing.assert_array_equal(_centroids(ds), np.column_stack([rows, cols]))
    assert "mask_roi" not in ds


# -- TSE LabMaster 6.9.5 with a duplicated first data row -------------------------------------

TSE_695 = ("calorimetry", "tse_labmaster_v6.9.5_dako_duplicated_row.csv")


def test_tse_695_exact_duplicate_rows_dropped_with_a_warning_naming_subject_and_count():
    path = fixture_path(*TSE_695)
    with pytest.warns(DataRepairWarning, match="exact duplicate"), \
            pytest.raises(FormatError, match="decimal separators look destroyed"):
        sfone.read(path)
    with pytest.warns(SfoneWarning) as caught:
        ds = sfone.read(path, repair="decimal")
    messages = [str(w.message) for w in caught]
    # what is left after the drop: the real file has no reading of 120632 between 18:23 and 19:02
    assert any("subject '120632': readings are not evenly spaced: intervals from 780 s to "
               "2340 s" in m for m in messages)
    dropped = [m for m in messages if "exact duplicate" in m]
    assert dropped == [f"{path}: dropped 2 exact duplicate row(s), each equal cell for cell to an "
                       "earlier row: subject '120632': 2 (lines 20, 26)"]
    assert ds.sizes["subject"] == 12
    first = ds["datetime"].sel(subject="120632").values
    assert str(first[0])[:16] == "2020-01-20T18:23" and str(first[1])[:16] == "2020-01-20T19:02"
    # line 19 (the kept copy): VO2(3) 86 ml/h, VCO2(3) 75 ml/h
    assert ds["vo2"].sel(subject="120632").values[0] == 86.0
    assert ds["vco2"].sel(subject="120632").values[0] == 75.0
    import re

    text = open(path, encoding="latin-1").read()
    n_rows = len(re.findall(r"^\d\d\.\d\d\.\d{4};", text, flags=re.M))
    assert n_rows == 4836 and int(ds["datetime"].notnull().sum()) == n_rows - 2


def test_tse_rows_with_the_same_time_but_other_values_stay_an_error(tmp_path):
    lines = open(fixture_path(*TSE_695), encoding="latin-1").read().split("\n")
    assert lines[19] == lines[18]  # the duplicated first data row (file lines 19 and 20)
    lines[19] = lines[19].replace(";86;", ";87;", 1)  # same time, VO2(3) differs
    path = tmp_path / "same_time.csv"
    path.write_text("\n".join(lines), encoding="latin-1")
    with pytest.warns(DataRepairWarning) as caught, \
            pytest.raises(FormatError, match=r"subject '120632', line 20: timestamp 2020-01-20 "
                                             r"18:23:00 does not come after"):
        sfone.read(path, repair="decimal")
    # the row written twice later in the file (line 26) is still dropped
    assert any("dropped 1 exact duplicate row(s)" in str(w.message) and "(line 26)" in
               str(w.message) for w in caught)


# -- Sable Promethion One-Click-Macro, the layout of a real export -----------------------------

# The header of a real One-Click-Macro export (16 mice, May 2023; jlwaldeck/mice_indirect_calorimetry
# @ ad4400e, data/202305_DATBFX_Females_RC_AL_Sable_n16.csv; not copied: no licence), with its
# quirks: UTF-8 BOM, EndTime without EndDate, M/D/YY dates, hours without a leading zero,
# "." for missing values, "EvniroLightLux" (sic) holding the fraction of the interval lit,
# lower-case "uptakeW", BodyMass_g 0 when the animal was not weighed, no final newline.
SABLE_HEADER = (
    "StartDate,StartTime,EndTime,Cycle,Animal,Age_months,Genotype,id_code,Sex,InitMass_g,BP_kPa,"
    "EvniroLightLux,TempC,RH_pct,AC2_TempC,Avg_EE,Tot_EE,Avg_VO2,Avg_VCO2,Avg_RQ,Avg_VH2O,"
    "R_EE_30,R_RER_30,QR_EE_30,QR_RER_30,A_EE_15,A_RER_15,QA_EE_15,QA_RER_15,UptakeA_g,UptakeA_N,"
    "UptakeA_Sum,UptakeA_min,InterUptakeA_min,uptakeW_g,uptakeW_N,uptakeW_Sum,uptakeW_min,"
    "InteruptakeW_min,BodyMass_g,BodyMass_SD,YBreaks,XBreaks,ZBreaks,AllMeters,PedMeters,"
    "PedSpeed,Walk_pct,Still_pct,Sleep_pct,Sleep_hrs").split(",")
SABLE_READ = {"StartDate", "StartTime", "EndTime", "Animal", "Genotype", "InitMass_g",
              "EvniroLightLux", "Avg_EE", "Tot_EE", "Avg_VO2", "Avg_VCO2", "Avg_RQ", "UptakeA_g",
              "UptakeA_N", "UptakeA_Sum", "uptakeW_g", "uptakeW_N", "uptakeW_Sum", "BodyMass_g",
              "YBreaks", "XBreaks", "ZBreaks", "AllMeters", "PedMeters"}


def _g7(value) -> str:
    """A number as R's write.csv prints it (7 significant digits), "." when missing."""
    return "." if value is None or not np.isfinite(value) else f"{value:.7g}"


def write_sable_oneclick_copy(path, *, n_animals=4, n_bins=96, random_state=0, metadata=False):
    """A generated file in the real export's layout (30-min bins from 5/22/23 17:30, lights on
    05:00-17:00); returns the values written, per row."""
    rng = np.random.default_rng(random_state)
    start = pd.Timestamp("2023-05-22 17:30:00")
    rows, truth = [], []
    for k in range(n_bins):
        begin = start + pd.Timedelta(minutes=30 * k)
        end = begin + pd.Timedelta(minutes=30)
        minutes = begin.hour * 60 + begin.minute
        lit = 1.0 if 300 <= minutes < 1020 else 0.0
        if minutes == 1020:
            lit = 0.002221  # lights off at 17:00:04: a sliver of the interval lit
        if minutes == 300:
            lit = 0.998334
        cycle = (minutes - 300) // 30 % 48 + 1
        for animal in range(1, n_animals + 1):
            vo2, vco2 = rng.uniform(1.2, 2.2), 0.0
            vco2 = vo2 * rng.uniform(0.7, 0.95)
            ee = 60 * (3.941 * vo2 + 1.106 * vco2) / 1000
            bouts = int(rng.integers(0, 4))
            bout_g = rng.uniform(0.005, 0.15) if bouts else 0.0
            sips = int(rng.integers(0, 3))
            sip_g = rng.uniform(0.002, 0.06) if sips else 0.0
            weighed = rng.random() > 0.1
            mass = 20.0 + animal + rng.normal(0, 0.3) if weighed else 0.0
            if weighed and rng.random() < 0.03:  # a partial weighing: low, with a large SD
                mass = rng.uniform(2.5, 10.0)
            x, y, z = (int(v) for v in rng.integers(0, 2500, 3))
            ped = rng.uniform(0, 60)
            sleep = rng.uniform(0, 100)
            row = {"StartDate": f"{begin.month}/{begin.day}/{begin.year % 100}",
                   "StartTime": f"{begin.hour}:{begin:%M:%S}",
                   "EndTime": f"{end.hour}:{end:%M:%S}", "Cycle": cycle, "Animal": animal,
                   "BP_kPa": rng.uniform(99.3, 100.6), "EvniroLightLux": lit,
                   **({"Age_months": 4, "Genotype": "BKO" if animal % 2 else "Ctrl",
                       "Sex": "F", "InitMass_g": 20.5 + animal} if metadata else {}),
                   "TempC": rng.uniform(25.4, 25.7) if animal in (3, 9) else None,
                   "RH_pct": rng.uniform(39, 42) if animal in (3, 9) else None,
                   "AC2_TempC": rng.uniform(23.2, 25.7), "Avg_EE": ee, "Tot_EE": ee / 2,
                   "Avg_VO2": vo2, "Avg_VCO2": vco2, "Avg_RQ": vco2 / vo2,
                   "Avg_VH2O": rng.uniform(0.03, 0.47)}
            for column in ("R_EE_30", "QR_EE_30", "A_EE_15", "QA_EE_15"):
                row[column] = ee * rng.uniform(0.95, 1.05)
            for column in ("R_RER_30", "QR_RER_30", "A_RER_15", "QA_RER_15"):
                row[column] = vco2 / vo2 * rng.uniform(0.97, 1.03)
            row.update({"UptakeA_g": bout_g, "UptakeA_N": bouts, "UptakeA_Sum": bout_g * bouts,
                        "UptakeA_min": rng.uniform(0, 30) if bouts else 0.0,
                        "InterUptakeA_min": rng.uniform(0, 10) if bouts > 1 else 0.0,
                        "uptakeW_g": sip_g, "uptakeW_N": sips, "uptakeW_Sum": sip_g * sips,
                        "uptakeW_min": rng.uniform(0, 3) if sips else 0.0,
                        "InteruptakeW_min": rng.uniform(0, 20) if sips > 1 else 0.0,
                        "BodyMass_g": mass,
                        "BodyMass_SD": rng.uniform(0.005, 0.06) if mass > 10 else
                        (rng.uniform(5, 11) if mass else 0.0),
                        "YBreaks": y, "XBreaks": x, "ZBreaks": z, "AllMeters": ped * 1.08,
                        "PedMeters": ped, "PedSpeed": rng.uniform(0.02, 0.06) if ped > 1 else None,
                        "Walk_pct": rng.uniform(0, 90), "Still_pct": rng.uniform(0, 100),
                        "Sleep_pct": sleep, "Sleep_hrs": sleep / 200})
            rows.append(",".join(_g7(row.get(c)) if not isinstance(row.get(c), str)
                                 else row[c] for c in SABLE_HEADER))
            truth.append({**row, "datetime": begin})
    path.write_text("\ufeff" + ",".join(SABLE_HEADER) + "\n" + "\n".join(rows), encoding="utf-8")
    written = pd.read_csv(path, na_values=["."], encoding="utf-8-sig")  # the values as printed
    written["datetime"] = [t["datetime"] for t in truth]
    return written


def test_sable_oneclick_real_layout_reads_food_water_activity_mass_and_light(tmp_path):
    path = tmp_path / "oneclick_real_layout.csv"
    raw = write_sable_oneclick_copy(path)
    assert detect_format(path).name == "promethion-oneclick"
    with pytest.warns(SfoneWarning) as caught:
        ds = sfone.read(path)
    unread = [str(w.message) for w in caught if "not read" in str(w.message)]
    expected_unread = [c for c in SABLE_HEADER if c not in SABLE_READ]
    assert unread == [f"{path}: {len(expected_unread)} column(s) not read (not part of the sfone "
                      f"calorimetry variables): {', '.join(expected_unread)}"]
    assert ds.attrs["unread_columns"] == expected_unread
    assert ds.attrs["interval_s"] == 1800.0  # EndTime - StartTime, across midnight too
    assert ds["subject"].values.tolist() == ["1", "2", "3", "4"]
    one = raw[raw["Animal"] == 2].reset_index(drop=True)
    sel = ds.sel(subject="2")
    np.testing.assert_array_equal(sel["datetime"].values, one["datetime"].to_numpy())
    np.testing.assert_allclose(sel["vo2"].values, one["Avg_VO2"] * 60)
    np.testing.assert_allclose(sel["feed"].values, one["UptakeA_Sum"])  # g per interval
    np.testing.assert_allclose(sel["feed_acc"].values, one["UptakeA_Sum"].cumsum())
    np.testing.assert_allclose(sel["drink"].values, one["uptakeW_Sum"])
    np.testing.assert_allclose(sel["xytot"].values, one["XBreaks"] + one["YBreaks"])
    np.testing.assert_allclose(sel["ztot"].values, one["ZBreaks"])
    np.testing.assert_allclose(sel["allmeter"].values, one["AllMeters"])
    np.testing.assert_allclose(sel["pedmeter"].values, one["PedMeters"])
    mass = one["BodyMass_g"].where(one["BodyMass_g"] > 0)  # 0: not weighed
    np.testing.assert_allclose(sel["body_mass_series"].values, mass)
    assert float(sel["body_mass"]) == pytest.approx(mass.median())
    np.testing.assert_array_equal(sel["light"].values, (one["EvniroLightLux"] > 0.5) * 1.0)
    assert ds["feed"].attrs["units"] == "g" and ds["drink"].attrs["units"] == "mL"
    # the light sensor reaches the light/dark summary (--light-sensor found none before)
    from sfone.calorimetry import summarize_periods

    table = summarize_periods(ds, use_light_sensor=True).set_index(["subject", "period"])
    lit = one["EvniroLightLux"] > 0.5
    assert table.loc[("2", "light"), "vo2_ml_h"] == pytest.approx(
        one.loc[lit, "Avg_VO2"].mean() * 60, rel=1e-12)


@pytest.mark.parametrize("column, change, message", [
    ("UptakeA_Sum", lambda v: v * 1000, r"'UptakeA_Sum': the file's values are 1000 x "
                                        r"UptakeA_g x UptakeA_N"),
    ("Tot_EE", lambda v: v * 2, r"'Tot_EE': the file's values are 2 x Avg_EE x the interval"),
])
def test_sable_oneclick_columns_whose_values_do_not_fit_their_units_are_refused(
        tmp_path, column, change, message):
    path = tmp_path / "oneclick_real_layout.csv"
    raw = write_sable_oneclick_copy(path, n_bins=8)
    text = path.read_text(encoding="utf-8-sig").split("\n")
    position = SABLE_HEADER.index(column)
    for i, row in enumerate(text[1:], start=1):
        cells = row.split(",")
        cells[position] = _g7(change(float(raw[column].iloc[i - 1])))
        text[i] = ",".join(cells)
    path.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(FormatError, match=message) as err:
        sfone.read(path)
    assert str(path) in str(err.value)


def test_sable_oneclick_per_animal_metadata_columns(tmp_path):
    path = tmp_path / "oneclick_with_metadata.csv"
    write_sable_oneclick_copy(path, metadata=True, n_bins=12)
    with pytest.warns(SfoneWarning, match="not read"):
        ds = sfone.read(path)
    np.testing.assert_array_equal(ds["body_mass"].values, [21.5, 22.5, 23.5, 24.5])  # InitMass_g
    assert ds["group"].values.tolist() == ["BKO", "Ctrl", "BKO", "Ctrl"]  # Genotype
    text = path.read_text(encoding="utf-8-sig").split("\n")
    position = SABLE_HEADER.index("InitMass_g")
    for i, row in enumerate(text[1:], start=1):
        cells = row.split(",")
        if cells[4] == "2":
            cells[position] = "2.25"  # kg, say: against the weighings of about 22 g
        text[i] = ",".join(cells)
    path.write_text("\n".join(text), encoding="utf-8")
    with pytest.warns(SfoneWarning) as caught:
        sfone.read(path)
    import re

    assert any(re.search(r"animal '2': InitMass_g 2.25 g but its cage weighings have a median "
                         r"of 2\d\.\d g; body_mass is InitMass_g", str(w.message))
               for w in caught)


# -- Neurophotometrics, headerless (a lab's own Bonsai workflow) -------------------------------

LEDS = ("415", "470", "560")
LEVEL = {"415": 0.012, "470": 0.021, "560": 0.008}  # each LED lights the fibers differently


def write_bonsai_headerless_copy(folder, *, n_frames=11866, drop=(5000,), start_ms=57887085.8496,
                                 random_state=1):
    """The layout of the real Bonsai workflow (issue 30): space-separated, no header, CRLF (Bonsai
    on Windows): system clock in ms since midnight printed with 4 decimals (57887085.8496,
    57887107.8144, ...: a frame every ~22 ms with jitter), the hardware frame counter (673702795,
    ...), then 4 fiber ROIs, LEDs 415/470/560 interleaved by frame; plus a one-column companion
    timestamp file (ms). ``drop``: frames the PC lost (the counter jumps there)."""
    rng = np.random.default_rng(random_state)
    counter = 673702795 + np.arange(n_frames + len(drop))
    keep = np.ones(counter.size, bool)
    keep[list(drop)] = False
    counter = counter[keep]
    clock = start_ms + (counter - counter[0]) * 21.9648 + rng.normal(0, 0.4, counter.size)
    clock = np.array([float(f"{c:.4f}") for c in clock])  # the values as printed
    led = np.array(LEDS)[(counter - counter[0]) % 3]
    level = np.array([LEVEL[x] for x in led])
    fibers = level[:, None] * (1 + 0.05 * np.arange(4)) + rng.normal(0, 1e-4, (counter.size, 4))
    fibers = np.vectorize(lambda v: float(f"{v:.6f}"))(fibers)
    lines = [f"{c:.4f} {n} " + " ".join(f"{v:.6f}" for v in row)
             for c, n, row in zip(clock, counter, fibers, strict=True)]
    data = folder / "photometry_data.csv"
    data.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    stamps = folder / "photometry_timestamps.csv"
    stamps.write_bytes(("\r\n".join(f"{c:.4f}" for c in clock) + "\r\n").encode())
    return data, stamps, {"clock_ms": clock, "counter": counter, "led": led, "fibers": fibers}


def test_npm_headerless_bonsai_layout_detected_and_read(tmp_path):
    data, stamps, truth = write_bonsai_headerless_copy(tmp_path)
    assert detect_format(data).name == "npm-headerless"  # was "unrecognised"
    with pytest.raises(FormatError, match="does not say which LEDs are interleaved"):
        sfone.read(data)
    with pytest.warns(sfone.QualityWarning, match=r"frame counter jumps at 1 place\(s\) \(first "
                                                  r"after line 5000, by 2\)"):
        ds = sfone.read(data, leds=(415, 470, 560), n_fibers=4)  # through sfone.read
    assert ds.attrs["source_format"] == "npm-headerless"
    assert ds.attrs["n_fibers"] == 4 and ds.attrs["time_unit"] == "ms"
    assert sorted(ds.data_vars) == sorted(f"G{k}_{led}" for k in range(4) for led in LEDS)
    clock_s = truth["clock_ms"] / 1000.0
    assert ds.attrs["time_origin_s"] == clock_s[0]
    span = max(float(ds[f"time_{led}"].values[-1]) for led in LEDS)
    assert span == pytest.approx(clock_s[-1] - clock_s[0]) and 260.0 < span < 261.0  # s, not ks
    for led in LEDS:
        rows = truth["led"] == led
        np.testing.assert_array_equal(ds[f"raw_time_{led}"].values, clock_s[rows])  # raw clock
        np.testing.assert_allclose(ds[f"time_{led}"].values, clock_s[rows] - clock_s[0],
                                   rtol=0, atol=1e-9)
        np.testing.assert_array_equal(ds[f"frame_{led}"].values, truth["counter"][rows])
        for k in range(4):  # the counter, not the row, assigns the LED after the dropped frame
            np.testing.assert_array_equal(ds[f"G{k}_{led}"].values, truth["fibers"][rows, k])
        assert ds[f"G0_{led}"].attrs["excitation_nm"] == led
    assert np.median(np.diff(ds["time_470"].values)) == pytest.approx(3 * 0.0219648, rel=0.01)
    with pytest.raises(FormatError, match=r"n_fibers=5 but the file has 4 fiber column\(s\) "
                                          r"after the clock and the frame counter \(columns 1-2\)"):
        sfone.read(data, leds=LEDS, n_fibers=5)


def test_npm_headerless_companion_timestamps_and_a_seconds_clock(tmp_path):
    data, stamps, truth = write_bonsai_headerless_copy(tmp_path, n_frames=3000, drop=())
    ds = sfone.read(data, leds="415,470,560", timestamps=stamps)
    np.testing.assert_array_equal(ds["raw_time_470"].values,
                                  truth["clock_ms"][truth["led"] == "470"] / 1000.0)
    np.testing.assert_array_equal(ds["file_clock_470"].values,
                                  truth["clock_ms"][truth["led"] == "470"])  # kept, as written
    assert ds.attrs["clock_source"] == "timestamp file photometry_timestamps.csv (ms)"
    seconds = tmp_path / "seconds.csv"  # the same frames with the clock in s
    seconds.write_text("\n".join(" ".join([f"{c / 1000:.7f}", *row.split()[1:]]) for c, row in
                                 zip(truth["clock_ms"], data.read_text().splitlines(),
                                     strict=True)))
    other = sfone.read(seconds, leds=LEDS)
    assert other.attrs["time_unit"] == "s"
    np.testing.assert_allclose(other["time_560"].values, ds["time_560"].values, atol=1e-6)


def test_npm_headerless_clock_passing_midnight_is_unwrapped(tmp_path):
    data, _, truth = write_bonsai_headerless_copy(tmp_path, n_frames=600, drop=(),
                                                  start_ms=86_400_000 - 6000.0)
    lines = data.read_text().splitlines()
    wrapped = [" ".join([f"{float(line.split()[0]) % 86_400_000:.4f}", *line.split()[1:]])
               for line in lines]
    data.write_text("\n".join(wrapped) + "\n")
    with pytest.warns(DataRepairWarning, match="the clock passes midnight after line 274"):
        ds = sfone.read(data, leds=LEDS)
    np.testing.assert_allclose(ds["raw_time_415"].values,
                               truth["clock_ms"][truth["led"] == "415"] / 1000.0, atol=1e-9)


def test_npm_raw_clock_kept_for_alignment_with_other_devices():
    """sfone re-bases time to the first frame; the FP3002 hardware clock (what NeuroConv keeps as
    the timestamps) stays in raw_time_<clock>, FrameCounter in frame_<clock>."""
    path = fixture_path("photometry", "neurophotometrics", "ibl_fp3002", "raw_photometry.csv")
    table = pd.read_csv(path)
    with pytest.warns(DataRepairWarning, match="all LEDs lit"):
        ds = sfone.read(path)
    assert ds.attrs["time_origin_s"] == table["SystemTimestamp"].iloc[0]
    for led, code in (("415", 1), ("470", 2)):
        rows = table["LedState"] == code
        np.testing.assert_array_equal(ds[f"raw_time_{led}"].values,
                                      table.loc[rows, "SystemTimestamp"].to_numpy())
        np.testing.assert_array_equal(ds[f"frame_{led}"].values,
                                      table.loc[rows, "FrameCounter"].to_numpy())
        np.testing.assert_allclose(ds[f"raw_time_{led}"].values - ds.attrs["time_origin_s"],
                                   ds[f"time_{led}"].values, rtol=0, atol=1e-12)
        assert ds[f"raw_time_{led}"].attrs["units"] == "s"
    digital = fixture_path("photometry", "neurophotometrics", "ibl_versions",
                           "version_1__neurophotometrics_fpData.digitalInputs.pqt")
    dig = sfone.read(digital)
    np.testing.assert_array_equal(dig["raw_time"].values, pd.read_parquet(digital)["Timestamp"])


# -- Bruker PrairieView ------------------------------------------------------------------------

SERIES = "TSeries-08212023-1221-003"
VOLT = 20.0 / 65536  # the DAQ's 16-bit step over +-10 V


def write_voltage_recording_copy(folder, *, seconds=30.0, rate_hz=1000.0, random_state=2):
    """``<series>_Cycle00001_VoltageRecording_001.csv`` as PrairieView writes it (CRLF, header
    ``Time(ms), Input 0, ...`` with a space after each comma, ms from the start, volts on the
    16-bit grid): Input 0 a treadmill speed signal, Input 1 a 5 V TTL line, Input 2 unconnected."""
    rng = np.random.default_rng(random_state)
    t_ms = np.arange(int(seconds * rate_hz)) * (1000.0 / rate_hz)
    running = ((t_ms > 5000) & (t_ms < 12000)) | (t_ms > 20000)
    pace = 1.5 + 0.5 * np.sin(2 * np.pi * t_ms / 1700.0)  # a mouse speeds up and slows down
    speed = np.where(running, pace, 0.02) + rng.normal(0, 0.03, t_ms.size)
    pulses = [(2000.0, 2500.0), (10000.0, 10500.0), (18000.0, 18500.0), (29500.0, 30000.0)]
    ttl = np.zeros(t_ms.size)
    for a, b in pulses:
        ttl[(t_ms >= a) & (t_ms < b)] = 5.0
    ttl += rng.normal(0, 0.005, t_ms.size)
    floor = rng.normal(0, 0.002, t_ms.size)
    values = np.round(np.column_stack([speed, ttl, floor]) / VOLT) * VOLT
    lines = ["Time(ms), Input 0, Input 1, Input 2"] + [
        ",".join([f"{t:g}", *(repr(float(v)) for v in row)]) for t, row in zip(t_ms, values,
                                                                             strict=True)]
    path = folder / f"{SERIES}_Cycle00001_VoltageRecording_001.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path, t_ms / 1000.0, values, [(a / 1000.0, b / 1000.0) for a, b in pulses]


def test_bruker_voltage_recording_is_daq_inputs_and_ttl_epochs_not_photometry(tmp_path):
    path, time, values, pulses = write_voltage_recording_copy(tmp_path)
    assert detect_format(path).name == "bruker-voltage"  # was photometry-csv ("Input 1", 29 Hz)
    ds = sfone.read(path)
    assert ds.attrs["modality"] == "events" and ds.attrs["source_format"] == "bruker-voltage"
    assert ds.attrs["fs"] == 1000.0
    np.testing.assert_array_equal(ds["time"].values, time)
    for j, name in enumerate(("Input 0", "Input 1", "Input 2")):
        np.testing.assert_array_equal(ds[name].values, values[:, j])
        assert ds[name].attrs["units"] == "V"
    assert ds.attrs["digital_inputs"] == ["Input 1"]
    assert ds.attrs["analog_inputs"] == ["Input 0", "Input 2"]
    assert ds["Input 0"].attrs["kind"] == "analog"  # the treadmill stays a trace
    assert set(ds["label"].values) == {"Input 1"}
    # the last pulse is still high at the end: it ends at the last sample
    np.testing.assert_allclose(ds["start"].values, [a for a, _ in pulses], atol=1e-9)
    np.testing.assert_allclose(ds["end"].values, [b for _, b in pulses[:-1]] + [time[-1]],
                               atol=1e-9)
    from sfone.events import epochs_from_speed

    with pytest.warns(DataRepairWarning, match="still active at the last sample"):
        runs = epochs_from_speed(ds["time"].values, ds["Input 0"].values, threshold=0.8,
                                 min_duration_s=2.0)
    np.testing.assert_allclose(runs["start"].values, [5.001, 20.001], atol=0.01)


def test_bruker_voltage_recording_bad_cell_names_line_and_column(tmp_path):
    path, *_ = write_voltage_recording_copy(tmp_path, seconds=1.0)
    lines = path.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",0.1,n/a,0.0"
    path.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"line 6, column 'Input 1': found 'n/a', expected a "
                                          r"number"):
        sfone.read(path)


def _prairie_xml(n_frames, period, *, jitter=0.0, random_state=3, frame_period_key=None):
    """``<series>.xml`` as PrairieView writes it: PVScan, a PVStateShard with framePeriod (it
    over-states the interval here, as roiextractors warns), one Sequence of Frames with
    relativeTime/absoluteTime and a File per channel."""
    rng = np.random.default_rng(random_state)
    times = np.arange(n_frames) * period + rng.normal(0, jitter, n_frames)
    stated = frame_period_key if frame_period_key is not None else period * 1.004
    frames = "\n".join(
        f'    <Frame relativeTime="{t:.14g}" absoluteTime="{t + 2.957:.14g}" index="{i + 1}" '
        f'parameterSet="CurrentSettings">\n'
        f'      <File channel="2" channelName="Ch2" page="1" '
        f'filename="{SERIES}_Cycle00001_Ch2_{i + 1:06d}.ome.tif" />\n'
        f'      <ExtraParameters lastGoodFrame="0" />\n    </Frame>' for i, t in enumerate(times))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<PVScan version="5.7.64.300" '
            f'date="8/21/2023 12:21:33 PM" notes="">\n  <PVStateShard>\n'
            f'    <PVStateValue key="activeMode" value="ResonantGalvo" />\n'
            f'    <PVStateValue key="framePeriod" value="{stated:.9g}" />\n'
            f'    <PVStateValue key="linesPerFrame" value="512" />\n'
            f'    <PVStateValue key="micronsPerPixel">\n'
            f'      <IndexedValue index="XAxis" value="1.1825" />\n'
            f'      <IndexedValue index="YAxis" value="1.1825" />\n'
            f'    </PVStateValue>\n  </PVStateShard>\n'
            f'  <Sequence type="TSeries Timed Element" cycle="1" time="12:21:36.4" '
            f'bidirectionalZ="False" xYStageGridDefined="False">\n{frames}\n  </Sequence>\n'
            f'</PVScan>\n')


def _suite2p_in_tseries(tmp_path, n_frames=400):
    series = tmp_path / SERIES
    plane = series / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    f = np.random.default_rng(0).normal(200, 5, (3, n_frames)).astype(np.float32)
    for name in ("F", "Fneu", "spks"):
        np.save(plane / f"{name}.npy", f)
    np.save(plane / "iscell.npy", np.array([[1, 0.9], [0, 0.2], [1, 0.8]]))
    return series


def test_bruker_suite2p_without_ops_takes_fs_from_the_prairieview_xml(tmp_path):
    series = _suite2p_in_tseries(tmp_path)
    period = 1 / 29.873  # ~29.87 Hz resonant scanning
    (series / f"{SERIES}.xml").write_text(_prairie_xml(400, period, jitter=2e-6))
    ds = sfone.read(series / "suite2p")
    assert ds.attrs["fs"] == pytest.approx(29.873, rel=1e-4)  # the frame times, not framePeriod
    assert ds.attrs["fs_source"] == f"{SERIES}.xml: absoluteTime of 400 frames"
    assert ds.attrs["bruker_frame_period_s"] == pytest.approx(period * 1.004, rel=1e-8)
    assert ds["time"].values[-1] == pytest.approx(399 / ds.attrs["fs"])
    # an explicit fs= still wins
    assert sfone.read(series / "suite2p", fs=30.0).attrs["fs_source"] == "fs="


def test_bruker_suite2p_env_only_and_refusals(tmp_path):
    series = _suite2p_in_tseries(tmp_path)
    env = series / f"{SERIES}.env"
    env.write_text('<?xml version="1.0" encoding="utf-8"?>\n<Environment version="5.7.64.300">\n'
                   '  <PVStateShard>\n    <PVStateValue key="framePeriod" value="0.066949456" />\n'
                   '  </PVStateShard>\n</Environment>\n')
    ds = sfone.read(series)
    assert ds.attrs["fs"] == pytest.approx(1 / 0.066949456)
    assert ds.attrs["fs_source"] == f"{SERIES}.env: 1 / framePeriod (0.0669495 s)"
    env.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
                   '<Environment>&a;</Environment>\n')
    with pytest.raises(FormatError, match="declares a DTD or entities") as err:
        sfone.read(series)
    assert str(env) in str(err.value)
    env.unlink()
    with pytest.raises(FormatError, match="no Bruker PrairieView .xml/.env beside it; pass fs="):
        sfone.read(series)

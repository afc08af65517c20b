"""The single-pass CLAMS reader (``sfone.io.calorimetry._clams_fast``) gives exactly the Dataset of
the general reader on regular files, and hands every irregular file to the general reader, whose
warnings and errors the user then sees."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import sfone.io.calorimetry.clams as clams
from sfone.exceptions import DataRepairWarning, FormatError
from sfone.io.calorimetry._clams_fast import read_cages_fast
from sfone.simulate.calorimetry import simulate_metabolic_cages, write_clams_csv
from tests.shared_fixtures import fixture_path


def _fast(paths):
    return read_cages_fast(paths)


def _general(paths, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(clams, "read_cages_fast", lambda *args, **kwargs: None)
        return clams.read_clams(paths)


def _read_recording(read):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = read()
    return ds, [(type(w.message), str(w.message)) for w in caught]


def _same_both_ways(paths, monkeypatch):
    """The fast path takes the files; its Dataset and warnings equal the general reader's."""
    assert _fast(paths) is not None, "the fast path refused regular files"
    with monkeypatch.context() as patch:  # make sure read_clams really used the fast path
        patch.setattr(clams, "_cage_long", lambda path: pytest.fail(f"general reader on {path}"))
        fast, fast_warnings = _read_recording(lambda: clams.read_clams(paths))
    general, general_warnings = _read_recording(lambda: _general(paths, monkeypatch))
    xr.testing.assert_identical(fast, general)
    for name in fast.variables:
        np.testing.assert_array_equal(fast[name].values, general[name].values)
    assert fast_warnings == general_warnings
    return fast


@pytest.fixture(scope="module")
def cohort():
    return simulate_metabolic_cages(n_per_group=2, days=1.0, interval_min=15.0, random_state=3)


def _write(ds, folder, n=None):
    n = ds.sizes["subject"] if n is None else n
    return [write_clams_csv(ds, folder / f"cage{i}.csv", subject=i) for i in range(n)]


def _edit(path, old: bytes, new: bytes, count: int = -1):
    raw = path.read_bytes()
    assert old in raw, f"{old!r} not in {path}"
    path.write_bytes(raw.replace(old, new, count))
    return path


def test_simulated_cohort_identical(cohort, tmp_path, monkeypatch):
    paths = _write(cohort, tmp_path)
    ds = _same_both_ways(paths, monkeypatch)
    assert ds.sizes["subject"] == 4 and ds.sizes["time"] == 96
    # VO2 back to absolute mL/h with each cage's own body mass
    np.testing.assert_allclose(ds["vo2"].values, cohort["vo2"].values, rtol=2e-3)


@pytest.mark.parametrize("change", ["lf", "bom", "missing-cells", "no-events", "ragged",
                                    "room-light-and-y", "absolute-units", "extra-fields"])
def test_regular_variants_identical(change, cohort, tmp_path, monkeypatch):
    paths = _write(cohort, tmp_path, n=2)
    if change == "lf":
        for path in paths:
            _edit(path, b"\r\n", b"\n")
    elif change == "bom":
        paths[0].write_bytes(b"\xef\xbb\xbf" + paths[0].read_bytes())
    elif change == "missing-cells":  # Oxymax writes ERR:0; blanks and '-' are missing too
        raw = paths[0].read_bytes().split(b"\r\n")
        first = next(i for i, line in enumerate(raw) if line.startswith(b"1,"))
        for i, cell in ((first + 3, b"ERR:0"), (first + 5, b""), (first + 7, b"-")):
            fields = raw[i].split(b",")
            fields[3] = cell  # VO2
            raw[i] = b",".join(fields)
        paths[0].write_bytes(b"\r\n".join(raw))
    elif change == "no-events":
        _edit(paths[1], b"\r\n:EVENTS\r\n", b"")
    elif change == "ragged":  # the second cage stopped 10 readings early
        raw = paths[1].read_bytes().split(b"\r\n")
        paths[1].write_bytes(b"\r\n".join(raw[:-14] + raw[-3:]))
    elif change == "room-light-and-y":
        for path in paths:
            raw = path.read_bytes().split(b"\r\n")
            out = []
            for k, line in enumerate(raw):
                if line.startswith(b"INTERVAL"):
                    line += b"YTOT,ROOM LIGHT,"
                elif line.startswith(b"#"):
                    line += b"COUNTS,,"
                elif line.startswith(b"==="):
                    line += b"===,===,"
                elif line[:1].isdigit():
                    line += b"%d,%s," % (k % 7, b"ON" if k % 3 else b" off")
                out.append(line)
            path.write_bytes(b"\r\n".join(out))
    elif change == "absolute-units":
        for path in paths:
            _edit(path, b"ml/kg/hr,ml/kg/hr", b"ml/hr,ml/hr")
    elif change == "extra-fields":  # more data fields than names (the real 2016 export)
        for path in paths:
            raw = path.read_bytes().split(b"\r\n")
            path.write_bytes(b"\r\n".join(line + b"0.0,OFF," if line[:1].isdigit() else line
                                          for line in raw))
    ds = _same_both_ways(paths, monkeypatch)
    if change == "room-light-and-y":
        assert set(np.unique(ds["light"].values[np.isfinite(ds["light"].values)])) == {0.0, 1.0}
        assert "xytot" in ds
    if change == "missing-cells":
        assert np.isnan(ds["vo2"].values[0, [3, 5, 7]]).all()


@pytest.mark.parametrize("names", [
    ["clams_oxymax_2015-01-06_cage0101.csv"], ["clams_oxymax_2015-01-06_cage0102.csv"],
    ["clams_oxymax_2015-01-06_cage0101.csv", "clams_oxymax_2015-01-06_cage0102.csv"],
    ["clams_oxymax_2013-01-15_cage0101_oldheader.csv"],
    ["clams_oxymax_2016-10-21_cage0102_wheel.csv"]])
def test_real_exports_identical(names, monkeypatch):
    _same_both_ways([fixture_path("calorimetry", name) for name in names], monkeypatch)


def _data_line(path, k=5) -> bytes:
    lines = path.read_bytes().split(b"\r\n")
    return [line for line in lines if line[:1].isdigit()][k]


IRREGULAR = {
    # what the file gets -> what the general reader then does (None: reads it, no warning)
    "damaged-cell": (lambda p: _edit(p, b"," + _data_line(p).split(b",")[3] + b",",
                                     b",12a4,", 1), DataRepairWarning),
    "cut-last-row": (lambda p: p.write_bytes(p.read_bytes().replace(b"\r\n\r\n:EVENTS\r\n", b"")
                                             [:-12]), DataRepairWarning),
    "blank-line-inside": (lambda p: _edit(p, _data_line(p), _data_line(p) + b"\r\n", 1), None),
    "lone-cr-in-header": (lambda p: _edit(p, b"Subject ID", b"Sub\rject ID", 1), None),
    "non-ascii-header": (lambda p: _edit(p, b"Data Filename,", b"Data Filename,\xc2\xb5", 1),
                         None),
    "short-row-inside": (lambda p: _edit(p, _data_line(p), _data_line(p).rsplit(b",", 3)[0],
                                         1), None),
    "bad-date": (lambda p: _edit(p, _data_line(p).split(b",")[2], b"2/30/2026 7:00:00 AM ", 1),
                 FormatError),
    "clock-going-back": (lambda p: _edit(p, _data_line(p, 6).split(b",")[2],
                                         _data_line(p, 4).split(b",")[2], 1), FormatError),
    "second-events": (lambda p: _edit(p, _data_line(p), b":EVENTS\r\n" + _data_line(p), 1),
                      None),
    "unknown-vo2-unit": (lambda p: _edit(p, b"ml/kg/hr,ml/kg/hr", b"l/min,l/min"), FormatError),
    "duplicate-subject": (None, FormatError),
}


@pytest.mark.parametrize("case", sorted(IRREGULAR))
def test_irregular_files_go_to_the_general_reader(case, cohort, tmp_path, monkeypatch):
    paths = _write(cohort, tmp_path, n=2)
    edit, outcome = IRREGULAR[case]
    if case == "duplicate-subject":
        _edit(paths[1], b"Subject ID," + str(cohort["subject"].values[1]).encode(),
              b"Subject ID," + str(cohort["subject"].values[0]).encode(), 1)
    else:
        edit(paths[0])
    assert _fast(paths) is None
    if outcome is FormatError:
        with pytest.raises(FormatError) as fast_error:
            clams.read_clams(paths)
        with pytest.raises(FormatError) as general_error:
            _general(paths, monkeypatch)
        assert str(fast_error.value) == str(general_error.value)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = clams.read_clams(paths)
    kinds = {type(w.message) for w in caught}
    if outcome is None:
        assert DataRepairWarning not in kinds
    else:
        assert outcome in kinds
    assert ds.sizes["subject"] == 2


def test_dates_month_first_would_jump_go_to_the_general_reader(cohort, tmp_path, monkeypatch):
    """1/12 then 2/12 is a month's jump read month-first: CalR's day-first rule is the general
    reader's business (which, for 12-hour stamps, keeps month-first and warns of the gap)."""
    paths = _write(cohort, tmp_path, n=2)
    for path in paths:
        raw = path.read_bytes()
        rows = [line for line in raw.split(b"\r\n") if line[:1].isdigit()]
        days = list(dict.fromkeys(row.split(b",")[2].split(b" ")[0] for row in rows))
        assert len(days) == 2
        for day, new in zip(days, (b"1/12/2026", b"2/12/2026"), strict=True):
            raw = raw.replace(b"," + day + b" ", b"," + new + b" ")
        path.write_bytes(raw)
    assert _fast(paths) is None
    ds, caught = _read_recording(lambda: clams.read_clams(paths))
    general, general_caught = _read_recording(lambda: _general(paths, monkeypatch))
    xr.testing.assert_identical(ds, general)
    assert caught == general_caught and "not evenly spaced" in caught[0][1]

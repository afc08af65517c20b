"""Hypothesis fuzzing of the photometry, imaging and calorimetry text, runs-csv and sfone-netcdf
parsers.

Every mutated file (bytes flipped, cut, inserted, header fields edited) must give a valid Dataset
or one of sfone's own errors naming the file; any other exception is a bug. ``make test`` runs a
bounded number of examples per parser; ``make fuzz`` runs many more (``SFONE_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import sfone
from sfone.exceptions import FormatError, SchemaError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
# nothing written into the repository: no example database, caches under the temp folder
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "sfone-hypothesis")
FUZZ = settings(max_examples=int(os.environ.get("SFONE_FUZZ_EXAMPLES", "100")), deadline=None,
                database=None, derandomize=os.environ.get("SFONE_FUZZ_RANDOM") is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{name} not in data_samples/")
    return path.read_bytes()


def _runs_csv() -> bytes:
    return b"start_s,end_s,label\n10.0,40.5,run1\n100.25,160.0,run2\n300,330.75,run3\n"


def _netcdf() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = sfone.read(SAMPLES / "photometry_doric_v1.doric")
            out = sfone.write_dataset(ds.isel(time=slice(0, 200)), Path(folder) / "x.nc")
        return out.read_bytes()


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """Flip, cut, insert, duplicate or overwrite bytes of ``data`` (1-4 edits)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite", "duplicate"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            out[at:at + len(chunk)] = chunk
        else:
            out[at:at] = out[at:at + draw(st.integers(1, 256))]
    return bytes(out)


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                        st.lists(st.one_of(st.integers(-5, 5), st.floats(), st.text(max_size=3)),
                                 max_size=4), st.dictionaries(st.text(max_size=3), st.integers(),
                                                              max_size=2))


@st.composite
def ppd_header_edits(draw, data: bytes) -> bytes:
    """Replace, delete or add fields of a ppd's JSON header (the length prefix is rewritten)."""
    n = int.from_bytes(data[:2], "little")
    header = json.loads(data[2:2 + n])
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(header) + ["n_analog_signals", "end_time", "extra"]))
        if draw(st.booleans()) and key in header:
            del header[key]
        else:
            header[key] = draw(JSON_VALUES)
    raw = json.dumps(header).encode()
    if len(raw) > 65535:
        raw = raw[:65535]
    return len(raw).to_bytes(2, "little") + raw + data[2 + n:]


TEXT_TOKENS = st.sampled_from(["", "nan", "inf", "-1", "0", "1e308", "abc", "1,5", "\"", ";",
                               "Time", "time_ms", "LedState", "Flags", "G0", "start_s", "end_s",
                               "\u00e9", "\x00", "99999999999999999999"])


@st.composite
def csv_edits(draw, data: bytes) -> bytes:
    """Replace header names or cells, delete or duplicate lines, change separators."""
    lines = data.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, max(len(lines) - 1, 0)))
        cells = lines[row].split(",")
        kind = draw(st.sampled_from(["cell", "drop_line", "dup_line", "drop_cell", "separator"]))
        if kind == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(TEXT_TOKENS)
            lines[row] = ",".join(cells)
        elif kind == "drop_line":
            del lines[row]
        elif kind == "dup_line":
            lines.insert(row, lines[row])
        elif kind == "drop_cell" and len(cells) > 1:
            del cells[draw(st.integers(0, len(cells) - 1))]
            lines[row] = ",".join(cells)
        else:
            lines[row] = lines[row].replace(",", draw(st.sampled_from([";", "\t", ", "])))
        if not lines:
            break
    return "\n".join(lines).encode("utf-8")


def _check(payload: bytes, name: str, fmt: str, allowed=(FormatError,)) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = sfone.read(path, format=fmt)
            except allowed as exc:
                assert name in str(exc), f"error does not name the file: {exc}"
                return
        sfone.validate(ds)
        for var in ds.data_vars.values():
            assert len([d for d in var.dims if str(d).startswith("time")]) <= 1


PARSERS = {
    "ppd": ("photometry_pyphotometry.ppd", "ppd"),
    "doric_v1": ("photometry_doric_v1.doric", "doric"),
    "doric_v6": ("photometry_doric_v6.doric", "doric"),
    "npm": ("photometry_npm.csv", "npm"),
    "photometry_csv": ("photometry_generic.csv", "photometry-csv"),
}


def _fuzz(strategy, name: str, fmt: str, *, allowed=(FormatError,), config=None) -> None:
    """Run :func:`_check` on every payload ``strategy`` draws (settings ``FUZZ`` by default)."""

    @(config or FUZZ)
    @given(payload=strategy)
    def run(payload):
        _check(payload, name, fmt, allowed)

    run()


@pytest.mark.parametrize("key", sorted(PARSERS))
def test_fuzz_bytes_of_vendor_files(key):
    name, fmt = PARSERS[key]
    _fuzz(byte_mutations(_sample(name)), name, fmt)


def test_fuzz_ppd_header_fields():
    name = "photometry_pyphotometry.ppd"
    _fuzz(ppd_header_edits(_sample(name)), name, "ppd")


@pytest.mark.parametrize("key", ["npm", "photometry_csv"])
def test_fuzz_csv_fields_of_vendor_files(key):
    name, fmt = PARSERS[key]
    _fuzz(csv_edits(_sample(name)), name, fmt)


def _head(data: bytes, n_lines: int) -> bytes:
    """The first ``n_lines`` lines (a small but complete file keeps each example fast)."""
    return b"\n".join(data.split(b"\n")[:n_lines]) + b"\n"


def _fixture(name: str) -> bytes:
    from shared_fixtures import fixture_path

    return fixture_path("calorimetry", name).read_bytes()


#: text parsers of imaging and calorimetry: key -> (file name, format, bytes source)
TEXT_PARSERS = {
    "clams": ("calorimetry_clams_cage0101.csv", "clams",
              lambda: _head(_sample("calorimetry_clams_cage0101.csv"), 60)),
    "treadmill": ("stress_test_WT.csv", "treadmill", lambda: _head(_sample("stress_test_WT.csv"),
                                                                   60)),
    "promethion": ("calorimetry_promethion_macro.csv", "promethion",
                   lambda: _head(_sample("calorimetry_promethion_macro.csv"), 30)),
    "inscopix": ("imaging_inscopix_session.csv", "inscopix",
                 lambda: _head(_sample("imaging_inscopix_session.csv"), 30)),
    "inscopix_events": ("events.csv", "inscopix-events",
                        lambda: b"Time (s), Cell Name, Value\n0.5, C000, 1.0\n1.25, C001, 2.5\n"
                                b"3.0, C000, 0.75\n"),
    "gpio_table": ("gpio.csv", "gpio-table",
                   lambda: b"Time(s),GPIO-1,EX_LED\n0.0,0,1\n0.5,1,1\n1.0,1,0\n1.5,0,0\n"),
    "tse": ("tse.csv", "tse", lambda: _head(_fixture("tse_labmaster_v5.9.9_comma_us.csv"), 50)),
    "tse_semicolon": ("tse.csv", "tse", lambda: _head(_fixture(
        "tse_labmaster_v6.3.3_semicolon_decimalcomma_ucp1ko.csv"), 50).decode("latin-1")
        .encode("utf-8")),
    "calr": ("calr.csv", "calr",
             lambda: _head(_fixture("calr_standard_mmpc_ucdavis_week12.csv"), 30)),
    "clams_merged": ("merged.csv", "clams-merged",
                     lambda: _head(_fixture("clams_merged_long_auwerx_b6aging.csv"), 30)),
}
#: fewer examples than the photometry parsers in ``make test`` (many parsers; ``make fuzz``
#: sets SFONE_FUZZ_EXAMPLES for all)
FUZZ_TEXT = settings(FUZZ, max_examples=int(os.environ.get("SFONE_FUZZ_EXAMPLES", "40")))


@pytest.mark.parametrize("mutate", [byte_mutations, csv_edits], ids=["bytes", "fields"])
@pytest.mark.parametrize("key", sorted(TEXT_PARSERS))
def test_fuzz_imaging_and_calorimetry_text(key, mutate):
    name, fmt, source = TEXT_PARSERS[key]
    _fuzz(mutate(source()), name, fmt, config=FUZZ_TEXT)


@pytest.mark.parametrize("mutate", [byte_mutations, csv_edits])
def test_fuzz_runs_csv(mutate):
    _fuzz(mutate(_runs_csv()), "runs.csv", "runs-csv")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # h5netcdf __del__
def test_fuzz_sfone_netcdf():
    _fuzz(byte_mutations(_netcdf()), "session.nc", "sfone-netcdf",
          allowed=(FormatError, SchemaError))


def test_fuzz_mutations_change_the_input():
    """The strategies really mutate (guards against a fuzzer that tests the original only)."""
    data = _sample("photometry_pyphotometry.ppd")
    seen = []

    @settings(max_examples=20, deadline=None, database=None, derandomize=True)
    @given(payload=byte_mutations(data))
    def run(payload):
        seen.append(payload != data)

    run()
    assert np.mean(seen) > 0.8

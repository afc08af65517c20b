"""Every registered reader, fed corrupted variants of a valid sample of its format, gives a valid
Dataset or its own FormatError naming the file: never numpy's or a codec's bare text
(``could not convert string to float: 'abc'``, ``repeats may not contain negative values``),
never an internal error.

The formats come from the registry (``sfone.io.list_formats()``) and their samples from
``tests/bad_inputs/samples.py``; the variants depend on the path the sample's bytes take (text,
HDF5, ``.npy`` folder members, zarr metadata, binary headers: ``tests/bad_inputs/corruptions.py``).
A new reader gets these checks by declaring itself in the registry.

``sfone.read`` turns whatever a reader raises that is not an sfone error into a FormatError
naming the file, flagged ``unexpected``; these tests require the readers' own messages instead
(the flag must not be set), so a reader that lets numpy's text through fails here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from bad_inputs.corruptions import corruptions
from bad_inputs.samples import format_samples
from click.testing import CliRunner

import sfone
from sfone.cli import EXIT_ERROR, main
from sfone.exceptions import FormatError, SfoneError
from sfone.io import get_format, list_formats

FORMATS = [info.name for info in list_formats()]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return format_samples(tmp_path_factory.mktemp("written"))


def _sample(samples, name):
    if name not in samples:
        pytest.skip(f"no sample of {name!r} in data_samples/, in the files sfone writes or in "
                    "the shared fixtures")
    return samples[name]


def _names_file(message: str, path) -> bool:
    return any(str(p) in message for p in (path, path.parent))


def _outcome(path, name: str) -> str | None:
    """None when allowed (a valid Dataset, or the reader's own FormatError naming the file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = sfone.read(path, format=name)
        except SfoneError as exc:
            if getattr(exc, "unexpected", False):
                return f"not the reader's own message: {exc}"
            if not _names_file(str(exc), path):
                return f"{type(exc).__name__} does not name the file: {exc}"
            return None
        except Exception as exc:  # anything else escaped sfone.read's guard
            return f"{type(exc).__name__}: {exc}"
    sfone.validate(ds)
    return None


@pytest.mark.parametrize("name", FORMATS)
def test_corrupted_sample_gives_a_dataset_or_the_readers_error(name, samples, tmp_path):
    variants = corruptions(_sample(samples, name), tmp_path)
    if not variants:
        pytest.skip(f"the {name} sample has no part these corruptions apply to")
    failures = [f"[{what}] {problem}" for path, what in variants
                if (problem := _outcome(path, name)) is not None]
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("name", FORMATS)
def test_cli_reports_corrupted_samples_in_one_line_naming_the_file(name, samples, tmp_path):
    """``sfone info --format NAME`` on one variant of each kind: exit 0, or exit 1 with one
    line ``Error: <file>: ...`` (never exit 3 or a traceback)."""
    variants = corruptions(_sample(samples, name), tmp_path)
    one_per_kind = {what.rsplit(": ", 1)[-1]: (path, what) for path, what in variants}
    if not one_per_kind:
        pytest.skip(f"the {name} sample has no part these corruptions apply to")
    runner, failures = CliRunner(), []
    for path, what in one_per_kind.values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = runner.invoke(main, ["info", "--format", name, str(path)])
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        if result.exit_code == 0:
            continue
        if (result.exit_code != EXIT_ERROR or len(errors) != 1 or not errors[0].startswith(
                "Error: ") or not _names_file(errors[0], path) or "Traceback" in result.output):
            failures.append(f"[{what}] exit {result.exit_code}: {result.output[:300]}")
    assert failures == [], "\n".join(failures)


def test_the_guard_names_file_and_format_for_an_error_a_reader_lets_through(tmp_path,
                                                                           monkeypatch):
    """The safety net itself: a reader raising numpy's text gives a FormatError naming the file
    and the format, flagged ``unexpected``."""
    info = get_format("ppd")
    path = tmp_path / "x.ppd"
    path.write_bytes(b"\x00" * 64)

    def broken(path, **options):
        raise ValueError("could not convert string to float: 'abc'")

    monkeypatch.setattr(type(info), "read_function", lambda self: broken)
    with pytest.raises(FormatError) as caught:
        sfone.read(path, format="ppd")
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read as ppd")
    assert "could not convert string to float: 'abc'" in message
    assert caught.value.unexpected is True


def test_recursion_and_memory_errors_of_a_reader_name_the_file(tmp_path, monkeypatch):
    info = get_format("ppd")
    path = tmp_path / "x.ppd"
    path.write_bytes(b"\x00" * 64)
    for error, text in ((RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
                        (MemoryError(), "ran out of memory")):
        def broken(path, _error=error, **options):
            raise _error

        monkeypatch.setattr(type(info), "read_function", lambda self, f=broken: f)
        with pytest.raises(FormatError, match=f"x.ppd: cannot read as ppd.*{text}"):
            sfone.read(path, format="ppd")


def test_an_option_the_caller_got_wrong_is_not_reported_as_a_damaged_file():
    path = ROOT / "data_samples" / "photometry_generic.csv"
    with pytest.raises(ValueError, match="^time_units must be one of") as caught:
        sfone.read(path, format="photometry-csv", time_units="fortnights")
    assert not isinstance(caught.value, FormatError)

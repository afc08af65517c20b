"""Every mutated input gives a valid Dataset or a FormatError naming the file; never anything else.

Sources: every file in data_samples/ and every real fixture file in ../shared/fixtures.

Each failure is attributed to the format whose reader handled the mutated file (``registry``
when detection itself failed). Formats in ``HARDENED`` must have no failure; the others are
collected by the ``pending`` tests (expected to fail, listing what the next hardening sitting
has to fix). Move a format into ``HARDENED`` once its loader passes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from bad_inputs.corpus import build_corpus
from shared_fixtures import shared_fixtures_dir

import sfone
from sfone.exceptions import FormatError
from sfone.io import detect_format, list_formats

ROOT = Path(__file__).resolve().parents[1]
HARDENED = {"registry", "ppd", "doric", "npm", "photometry-csv", "tdt", "runs-csv",
            "sfone-netcdf", "sfone-zarr", "boris", "pmat-events",
            # imaging
            "suite2p", "caiman", "inscopix", "inscopix-events", "gpio-table", "inscopix-isxd",
            "inscopix-isxd-events", "nwb", "nwb-photometry", "npm-headerless", "pycontrol",
            "bruker-voltage",
            # calorimetry
            "clams", "clams-merged", "tse", "promethion", "promethion-oneclick", "calr", "treadmill"}


def _sample_sources() -> list[Path]:
    """Top-level sample files and folders; cohort folders and tables repeat those formats."""
    return sorted(p for p in (ROOT / "data_samples").iterdir()
                  if p.name != "README.md" and not p.name.startswith(".")
                  and not (p / "manifest.csv").exists() and p.name != "tables")


def _fixture_sources() -> list[Path]:
    root = shared_fixtures_dir()
    if root is None:
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() != ".md"
                  and p.stat().st_size < 5_000_000)


def _check(item) -> str | None:
    """None when the outcome is allowed, else a description of the failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = sfone.read(item.path)
        except FormatError as exc:
            names = {item.path.name, item.path.parent.name, str(item.path)}
            if not any(name in str(exc) for name in names):
                return f"FormatError does not name the file: {exc}"
            return None
        except Exception as exc:  # anything else is a bug
            return f"{type(exc).__name__}: {exc}"
    try:
        sfone.validate(ds)
    except Exception as exc:
        return f"returned an invalid Dataset: {exc}"
    return None


def _responsible_format(path: Path) -> str:
    try:
        return detect_format(path).name
    except Exception:  # detection refused (FormatError) or crashed: the registry's business
        return "registry"


def _run(sources, tmp_path) -> dict[bool, list[str]]:
    """Failures split into hardened (True) and pending (False) formats."""
    suffixes = sorted({s for f in list_formats() if not f.directory for s in f.suffixes})
    corpus = build_corpus(sources, tmp_path, suffixes=tuple(suffixes))
    failures = {True: [], False: []}
    for item in corpus:
        problem = _check(item)
        if problem:
            fmt = _responsible_format(item.path)
            failures[fmt in HARDENED].append(f"{fmt}: {item.source} [{item.mutation}]: {problem}")
    return failures


@pytest.fixture(scope="module")
def sample_failures(tmp_path_factory):
    sources = _sample_sources()
    if not sources:
        pytest.skip("data_samples/ is empty")
    return _run(sources, tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def fixture_failures(tmp_path_factory):
    sources = _fixture_sources()
    if not sources:
        pytest.skip("../shared/fixtures not found")
    return _run(sources, tmp_path_factory.mktemp("fixtures"))


def test_mutated_samples_fail_cleanly(sample_failures):
    assert sample_failures[True] == [], "\n".join(sample_failures[True])


def test_mutated_real_fixtures_fail_cleanly(fixture_failures):
    assert fixture_failures[True] == [], "\n".join(fixture_failures[True])


def test_every_registered_format_is_hardened(sample_failures, fixture_failures):
    """A new format must pass the corpus before it is listed in HARDENED; nothing is pending."""
    unlisted = sorted({f.name for f in list_formats()} - HARDENED)
    assert unlisted == [], f"formats not yet hardened (add them to HARDENED once they pass): {unlisted}"
    pending = sample_failures[False] + fixture_failures[False]
    assert pending == [], "\n".join(pending)


def test_cli_reports_every_bad_sample_without_a_traceback(tmp_path):
    """``sfone info`` on the mutated samples of hardened formats: success, or exit 1 with an
    'Error:' naming the file.

    (The message may go on with details, e.g. the list of known formats.)"""
    from click.testing import CliRunner

    from sfone.cli import EXIT_ERROR, main

    sources = _sample_sources()
    if not sources:
        pytest.skip("data_samples/ is empty")
    runner = CliRunner()
    failures = []
    for item in build_corpus(sources, tmp_path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = runner.invoke(main, ["info", str(item.path)])
        lines = result.output.strip().splitlines()
        if result.exit_code == 0:
            continue
        if _responsible_format(item.path) not in HARDENED:
            continue  # listed by test_pending_formats_fail_cleanly
        if (result.exit_code != EXIT_ERROR or not lines or not lines[0].startswith("Error: ")
                or item.path.name not in lines[0] or "Traceback" in result.output):
            failures.append(f"{item.source} [{item.mutation}]: exit {result.exit_code}: "
                            f"{result.output[:300]}")
    assert failures == [], "\n".join(failures)

"""Every mutated input gives a valid Dataset or a FormatError naming the file; never anything else.

Sources: every file in data_samples/ and every real fixture file in ../shared/fixtures.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from bad_inputs.corpus import build_corpus
from shared_fixtures import shared_fixtures_dir

import sfone
from sfone.exceptions import FormatError
from sfone.io import list_formats

ROOT = Path(__file__).resolve().parents[1]


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


def _run(sources, tmp_path) -> list[str]:
    suffixes = sorted({s for f in list_formats() if not f.directory for s in f.suffixes})
    corpus = build_corpus(sources, tmp_path, suffixes=tuple(suffixes))
    failures = []
    for item in corpus:
        problem = _check(item)
        if problem:
            failures.append(f"{item.source} [{item.mutation}]: {problem}")
    return failures


def test_mutated_samples_fail_cleanly(tmp_path):
    sources = _sample_sources()
    if not sources:
        pytest.skip("data_samples/ is empty")
    failures = _run(sources, tmp_path)
    assert failures == [], "\n".join(failures)


def test_mutated_real_fixtures_fail_cleanly(tmp_path):
    sources = _fixture_sources()
    if not sources:
        pytest.skip("../shared/fixtures not found")
    failures = _run(sources, tmp_path)
    assert failures == [], "\n".join(failures)

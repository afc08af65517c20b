"""The ROICaT comparison never needs roicat in sfone's environment: without a usable
$SFONE_ROICAT_PYTHON it is skipped with a reason that says what is missing and how to fix it."""

from __future__ import annotations

import sys

from benchmarks.bench_tracking import ROICAT_PYTHON_ENV, roicat_python


def test_roicat_is_skipped_with_a_reason_when_its_environment_is_absent(monkeypatch, tmp_path):
    monkeypatch.delenv(ROICAT_PYTHON_ENV, raising=False)
    python, reason = roicat_python()
    assert python is None and "SFONE_ROICAT_PYTHON is not set" in reason
    assert "roicat[core]" in reason and "benchmarks/README.md" in reason
    monkeypatch.setenv(ROICAT_PYTHON_ENV, str(tmp_path / "no-such-python"))
    python, reason = roicat_python()
    assert python is None and "cannot be run" in reason and "no-such-python" in reason


def test_roicat_is_skipped_when_that_python_cannot_import_it(monkeypatch, tmp_path):
    # a python without site-packages (-S) cannot import roicat whatever is installed
    bare = tmp_path / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    monkeypatch.setenv(ROICAT_PYTHON_ENV, str(bare))
    python, reason = roicat_python()
    assert python is None
    assert "cannot import roicat" in reason and "ModuleNotFoundError" in reason

"""The one way tests reach the real instrument files in ``../shared/fixtures``.

The folder is found from ``$SFONE_SHARED_FIXTURES`` or as ``<repo>/../shared/fixtures``; when it is
absent the test is skipped with a reason that says where it looked. Never copy these files into
the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_fixtures_dir() -> Path | None:
    """The shared fixtures folder, or None when it is not beside the checkout."""
    env = os.environ.get("SFONE_SHARED_FIXTURES")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "fixtures")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def fixture_path(*parts: str) -> Path:
    """Path to a shared fixture (e.g. ``fixture_path("calorimetry", "x.csv")``); skips if absent."""
    root = shared_fixtures_dir()
    if root is None:
        pytest.skip("real instrument fixtures not found: expected ../shared/fixtures beside the "
                    "repository (or set SFONE_SHARED_FIXTURES)")
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"fixture {path} is missing from the shared fixtures folder")
    return path

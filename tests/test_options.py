"""One checked options store: sfone.set_options / sfone.get_options (and set_progress)."""

from __future__ import annotations

import pytest

import sfone
from sfone import _logging


def test_options_are_one_store_with_their_defaults():
    options = sfone.get_options()
    assert set(options) == {"strict", "max_expansion", "min_declared_bytes", "progress"}
    assert options["max_expansion"] == 100.0 and options["min_declared_bytes"] == 256 * 2**20
    assert options["progress"] is None
    options["strict"] = "changed"  # a copy: the store is untouched
    assert sfone.get_options()["strict"] in (True, False)


def test_with_block_restores_every_option():
    before = sfone.get_options()
    with sfone.set_options(strict=True, max_expansion=5, progress=False):
        assert sfone.get_options() == {**before, "strict": True, "max_expansion": 5,
                                       "progress": False}
        assert _logging._progress_disabled() is True
    assert sfone.get_options() == before


def test_set_progress_is_the_progress_option():
    before = sfone.get_options()["progress"]
    try:
        sfone.set_progress(True)
        assert sfone.get_options()["progress"] is True
        assert _logging._progress_disabled() is False
    finally:
        sfone.set_options(progress=before)


def test_unknown_option_is_an_error_listing_the_options():
    with pytest.raises(ValueError, match=r"unknown sfone option 'strictt'; the options are: "
                                         r"max_expansion, min_declared_bytes, progress, strict"):
        sfone.set_options(strictt=True)


@pytest.mark.parametrize("name,value,expected", [
    ("strict", "yes", "True or False"), ("strict", None, "True or False"),
    ("strict", 1, "True or False"), ("max_expansion", 0, "a positive number"),
    ("max_expansion", float("inf"), "a positive number"), ("max_expansion", "10", "a positive"),
    ("min_declared_bytes", -1, "a whole number >= 0"), ("min_declared_bytes", 1.5, "a whole"),
    ("min_declared_bytes", True, "a whole"), ("progress", "auto", "True, False or None"),
])
def test_bad_values_are_errors_and_change_nothing(name, value, expected):
    before = sfone.get_options()
    with pytest.raises(ValueError, match=rf"sfone option '{name}' must be {expected}.*got "):
        sfone.set_options(**({"strict": not before["strict"], "max_expansion": 7.0}
                             | {name: value}))  # the valid ones are not applied either
    assert sfone.get_options() == before

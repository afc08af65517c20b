"""Argument checks with one message wording (as MNE's ``_check_option`` / ``_validate_type``).

Every check of a function's argument says ``{name} must be {what was expected}, got {value!r}``:

>>> _check_option("method", "lowess", ("ols", "irls"))
Traceback (most recent call last):
...
ValueError: method must be one of 'ols' or 'irls', got 'lowess'

Problems of a file's content are not argument checks: they raise
:class:`~sfone.exceptions.FormatError`, which names the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Real

__all__ = ["_must_be", "_check_option", "_check_options", "_check_positive", "_validate_type"]


def _quoted(values) -> str:
    items = [repr(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _must_be(name: str, expected: str, value) -> str:
    """The one message wording: ``'{name} must be {expected}, got {value!r}'``."""
    return f"{name} must be {expected}, got {value!r}"


def _check_option(name: str, value, allowed: Iterable):
    """``value`` if it is one of ``allowed``, else a :class:`ValueError` listing them."""
    allowed = tuple(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable value against a set-like: never allowed
        ok = False
    if not ok:
        expected = f"one of {_quoted(allowed)}" if len(allowed) > 1 else _quoted(allowed)
        raise ValueError(_must_be(name, expected, value))
    return value


def _check_options(name: str, values: Iterable, allowed: Iterable) -> tuple:
    """``values`` as a tuple if each is one of ``allowed`` (and there is at least one)."""
    allowed, values = tuple(allowed), tuple(values)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise ValueError(_must_be(name, f"one or more of {_quoted(allowed)}",
                                 values if not bad else bad[0]))
    return values


def _check_positive(name: str, value, *, unit: str = "") -> float:
    """``value`` as a float if it is a finite number > 0, else a :class:`ValueError`."""
    what = f"a positive number{' of ' + unit if unit else ''}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(_must_be(name, what, value))
    number = float(value)
    if not (number > 0 and number < float("inf")):
        raise ValueError(_must_be(name, what, value))
    return number



def _validate_type(value, types, name: str):
    """``value`` if it is an instance of ``types`` (a type, a tuple of them, ``None`` for
    ``None``, ``"path-like"`` for ``str`` or :class:`os.PathLike`, ``"numeric"`` for real
    numbers other than ``bool``), else a :class:`TypeError` naming what was expected."""
    import os

    types = types if isinstance(types, tuple) else (types,)
    checks, names = [], []
    for kind in types:
        if kind is None:
            checks.append(type(None))
            names.append("None")
        elif kind == "path-like":
            checks += [str, os.PathLike]
            names.append("path-like")
        elif kind == "numeric":
            checks.append(Real)
            names.append("numeric")
        else:
            checks.append(kind)
            names.append(kind.__name__)
    ok = isinstance(value, tuple(checks))
    if ok and isinstance(value, bool) and "numeric" in types and bool not in types:
        ok = False
    if not ok:
        expected = " or ".join(names)
        raise TypeError(_must_be(name, f"an instance of {expected}",
                                value) + f" ({type(value).__name__})")
    return value

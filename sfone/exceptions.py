"""Exceptions and warning classes raised by sfone.

Errors inherit from a built-in as well (``ValueError``) so generic ``except`` clauses keep working,
following scikit-learn's pattern.
"""

from __future__ import annotations

__all__ = [
    "SfoneError",
    "FormatError",
    "SchemaError",
    "ProtocolError",
    "SfoneWarning",
    "DataRepairWarning",
    "QualityWarning",
]


class SfoneError(Exception):
    """Base class of every error sfone raises on purpose."""


class FormatError(SfoneError, ValueError):
    """A file cannot be read: unknown or ambiguous format, or content that breaks the format's rules.

    The message names the file and, where it applies, the field or line, what was found and what
    was expected.

    Parameters
    ----------
    message : str
        What is wrong; prefixed with ``"<path>: "`` unless it already names ``path``.
    path : str or os.PathLike, optional
        The file concerned, kept as :attr:`path` (a string, or None).
    """

    def __init__(self, message: str, *, path=None):
        self.path = None if path is None else str(path)
        if path is not None and str(path) not in message:
            message = f"{path}: {message}"
        super().__init__(message)


class SchemaError(SfoneError, ValueError):
    """A Dataset does not follow the sfone data contract (see ``docs/data-model.md``)."""


class ProtocolError(SfoneError, ValueError):
    """An experiment protocol (YAML) is malformed; the message gives the field path."""


class SfoneWarning(UserWarning):
    """Base class of sfone's warnings."""


class DataRepairWarning(SfoneWarning):
    """Something in the data was fixed on read (for example a dropped all-NaN channel)."""


class QualityWarning(SfoneWarning):
    """A value is physiologically implausible or inconsistent but was kept (and flagged)."""

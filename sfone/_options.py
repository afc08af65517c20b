"""sfone-wide options: one store, every name and value checked (as ``xarray.set_options``,
``mne.set_config``)::

    sfone.set_options(strict=True)             # from now on
    with sfone.set_options(progress=False):    # in a block, restored on exit
        ...
    sfone.get_options()["strict"]
"""

from __future__ import annotations

import math
import numbers
import os

__all__ = ["set_options", "get_options", "get_option", "OPTION_DOCS"]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


#: option -> what it means (shown in error messages and ``set_options`` docs)
OPTION_DOCS = {
    "strict": "True or False: raise FormatError instead of a QualityWarning on inconsistent "
              "sampling rates, gaps and implausible values (default from SFONE_STRICT=1)",
    "max_expansion": "a positive number: largest accepted ratio of an array's declared size to "
                     "the file size (compressed HDF5)",
    "min_declared_bytes": "a whole number >= 0: declared sizes below it (bytes) are always "
                          "accepted",
    "progress": "True, False or None: show, hide or auto-detect tqdm progress bars (None: off "
                "when stderr is not a terminal or SFONE_PROGRESS=0)",
}

_DEFAULTS = {"strict": _env_flag("SFONE_STRICT"), "max_expansion": 100.0,
             "min_declared_bytes": 256 * 2**20, "progress": None}
_OPTIONS = dict(_DEFAULTS)


def _valid(name: str, value) -> bool:
    if name == "strict":
        return isinstance(value, bool)
    if name == "progress":
        return value is None or isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if name == "max_expansion":
        return math.isfinite(value) and value > 0
    return isinstance(value, numbers.Integral) and value >= 0  # min_declared_bytes


def _check_name(name: str) -> None:
    if name not in _OPTIONS:
        raise ValueError(f"unknown sfone option {name!r}; the options are: "
                         f"{', '.join(sorted(_OPTIONS))}")


def _checked(options: dict) -> dict:
    for name, value in options.items():
        _check_name(name)
        if not _valid(name, value):
            raise ValueError(f"sfone option {name!r} must be {OPTION_DOCS[name]}; "
                             f"got {value!r}")
    return options


class set_options:  # noqa: N801 (used like a function, as xarray.set_options)
    """Set sfone-wide options; as a ``with`` block the previous values come back on exit.

    Parameters
    ----------
    **options
        Options by name, each one of the following.
    strict : bool
        Raise :class:`~sfone.exceptions.FormatError` instead of warning
        (:class:`~sfone.exceptions.QualityWarning`) on inconsistent sampling rates, gaps and
        implausible values. Default: the environment variable ``SFONE_STRICT=1`` (which also
        reaches the command line), else False.
    max_expansion : float
        Largest accepted ratio of an array's declared size to the file size (compressed HDF5);
        default 100.
    min_declared_bytes : int
        Declared sizes below this are always accepted (bytes); default 256 MiB.
    progress : bool or None
        Show (True), hide (False) or auto-detect (None, default) tqdm progress bars.

    Raises
    ------
    ValueError
        For an unknown option name or a value of the wrong kind (nothing is changed then).
    """

    def __init__(self, **options):
        self._previous = dict(_OPTIONS)
        _OPTIONS.update(_checked(options))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _OPTIONS.clear()
        _OPTIONS.update(self._previous)
        return False


def get_options() -> dict:
    """A copy of the current options (see :class:`set_options`).

    Returns
    -------
    dict
        Option name -> current value.
    """
    return dict(_OPTIONS)


def get_option(name: str):
    """The current value of one option; ``ValueError`` naming the options for an unknown one."""
    _check_name(name)
    return _OPTIONS[name]

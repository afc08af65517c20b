"""sfone: exercise-neuroscience analysis from raw files to publication figures.

Read any supported file with :func:`sfone.read`; list formats with :func:`sfone.formats`.

The public names below are imported on first use (PEP 562), so ``import sfone`` and the
command line start without loading pandas, xarray or dask.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "set_log_level": "._logging", "set_progress": "._logging",
    "set_options": "._options", "get_options": "._options",
    "combine_per_roi": ".cohort", "load_manifest": ".cohort", "open_cohort": ".cohort",
    "DataRepairWarning": ".exceptions", "FormatError": ".exceptions",
    "ProtocolError": ".exceptions", "QualityWarning": ".exceptions", "SchemaError": ".exceptions",
    "SfoneError": ".exceptions", "SfoneWarning": ".exceptions",
    "formats": ".io", "read": ".io", "write_dataset": ".io",
    "to_nwb": ".nwb",
    "load_protocol": ".protocols",
    "validate": ".schema",
    "track": ".tracking",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sfone' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

"""sfone: exercise-neuroscience analysis from raw files to publication figures.

Read any supported file with :func:`sfone.read`; list formats with :func:`sfone.formats`.
"""

__version__ = "0.1.0"

from ._logging import set_log_level, set_progress
from ._sanity import set_options
from .cohort import combine_per_roi, load_manifest, open_cohort
from .exceptions import (
                         DataRepairWarning,
                         FormatError,
                         ProtocolError,
                         QualityWarning,
                         SchemaError,
                         SfoneError,
                         SfoneWarning,
)
from .io import formats, read, write_dataset
from .nwb import to_nwb  # pynwb is imported only when called
from .protocols import load_protocol
from .schema import validate

__all__ = [
    "__version__", "read", "formats", "write_dataset", "to_nwb", "validate", "load_protocol",
    "open_cohort", "load_manifest", "combine_per_roi",
    "set_log_level", "set_progress", "set_options", "SfoneError", "FormatError", "SchemaError",
    "ProtocolError", "SfoneWarning", "DataRepairWarning", "QualityWarning",
]

"""The ``sfone`` logger, a warning helper and tqdm progress bars.

Library code never prints: it logs to ``logging.getLogger("sfone")`` and shows progress through
:func:`progress`, which is enabled only for long loops and can be switched off globally.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable

from ._options import get_option, set_options

logger = logging.getLogger("sfone")
logger.addHandler(logging.NullHandler())


def set_log_level(level: int | str = "INFO") -> None:
    """Set the level of the ``sfone`` logger and attach a stderr handler if none is attached.

    Parameters
    ----------
    level : int or str, default "INFO"
        A :mod:`logging` level, as a number or a name (case-insensitive, e.g. ``"debug"``).
    """
    if isinstance(level, str):
        level = level.upper()
    logger.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler)
               for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s sfone: %(message)s"))
        logger.addHandler(handler)


def set_progress(enabled: bool | None) -> None:
    """Show (True), hide (False) or auto-detect (None) tqdm progress bars on long loops.

    Parameters
    ----------
    enabled : bool or None
        ``True`` shows the bars, ``False`` hides them; ``None`` hides them when the environment
        variable ``SFONE_PROGRESS`` is ``0``/``false``/``no``/``off`` and otherwise lets tqdm
        decide (no bar when stderr is not a terminal).
    """
    set_options(progress=enabled)


def _progress_disabled() -> bool | None:
    if get_option("progress") is not None:
        return not get_option("progress")
    if os.environ.get("SFONE_PROGRESS", "").lower() in {"0", "false", "no", "off"}:
        return True
    # tqdm's own rule: None disables the bar when stderr is not a terminal.
    return None


def progress(iterable: Iterable, *, desc: str | None = None, total: int | None = None,
             unit: str = "it", leave: bool = False):
    """Wrap ``iterable`` in a tqdm progress bar (hidden when output is not a terminal)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave,
                disable=_progress_disabled())


def warn(message: str, category: type[Warning] = UserWarning, *, stacklevel: int = 3) -> None:
    """Issue a warning and log it on the ``sfone`` logger."""
    logger.warning(message)
    warnings.warn(message, category, stacklevel=stacklevel)

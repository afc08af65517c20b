"""What a batch task is (:class:`BatchTask`): step 2 of :mod:`sfone.batch` (manifest -> tasks -> run ->
combine); the registry is :mod:`sfone.batch.registry`, the built-in tasks :mod:`sfone.batch.builtin`.

A task is submitted to the cluster as this object: its functions pickle by reference, so their
module must be importable where the scheduler and the workers run (an installed package, or a
module on their ``PYTHONPATH``; a function defined in ``__main__`` travels by value through
cloudpickle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from ..cohort import Session

__all__ = ["BatchTask"]


@dataclass(frozen=True)
class BatchTask:
    """A per-session computation.

    ``run(session) -> Dataset | DataFrame`` is the session's output. ``summarize(output)`` (on
    the worker, from the output as written; default: the output itself) is what goes into the
    combined table, and ``combine(summaries)`` turns the summaries of all sessions (keyed by
    ``(subject, session)``) into one table; without ``combine`` there is no combined table.

    Parameters
    ----------
    name : str
        Task name (``sfone batch --task NAME``).
    run : callable
        ``run(session: sfone.cohort.Session) -> xarray.Dataset | pandas.DataFrame``; must be
        importable on the workers (pickled by reference).
    combine : callable, optional
        ``combine({(subject, session): summary}) -> xarray.Dataset | pandas.DataFrame``.
    description : str, default ""
        One line shown by ``sfone batch --list-tasks``.
    summarize : callable, optional
        ``summarize(output) -> xarray.Dataset | pandas.DataFrame``, run on the worker.
    """

    name: str
    run: Callable[[Session], xr.Dataset | pd.DataFrame]
    combine: Callable[[dict], xr.Dataset | pd.DataFrame] | None = None
    description: str = ""
    summarize: Callable[[xr.Dataset | pd.DataFrame], xr.Dataset | pd.DataFrame] | None = None

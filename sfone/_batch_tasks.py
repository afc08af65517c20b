"""Built-in batch tasks (see :mod:`sfone.batch`)."""

from __future__ import annotations

from .batch import BatchTask, register_task
from .cohort import Session


def _convert(session: Session):
    from .io import read

    return read(session.path, format=session.format)


register_task(BatchTask(name="convert", run=_convert,
                        description="read each session and store it as netCDF"))

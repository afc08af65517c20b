"""The task registry: built-in tasks, entry-point plugins and :func:`register_task`.

``sfone batch --task NAME`` looks NAME up here (step 2 of :mod:`sfone.batch`).
"""

from __future__ import annotations

from .._logging import warn
from .._validate import _validate_type
from ..exceptions import SfoneWarning
from .task import BatchTask

__all__ = ["register_task", "batch_tasks", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "sfone.batch_tasks"
_TASKS: dict[str, BatchTask] = {}
_DISCOVERED = False


def register_task(task: BatchTask) -> BatchTask:
    """Add a task to the registry (``sfone batch --task NAME``); returns it.

    Parameters
    ----------
    task : BatchTask
        The task; an earlier task of the same name is replaced.

    Returns
    -------
    BatchTask
        ``task``.
    """
    _validate_type(task, BatchTask, "task")
    _TASKS[task.name] = task
    return task


def _discover() -> None:
    """The built-in tasks, then third-party ones from the entry-point group
    ``sfone.batch_tasks`` (objects that are :class:`BatchTask`)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    from .._plugins import load_entry_points
    from .builtin import BUILTIN_TASKS

    for task in BUILTIN_TASKS:
        _TASKS.setdefault(task.name, task)
    for ep, task in load_entry_points(ENTRY_POINT_GROUP, "batch-task"):
        if not isinstance(task, BatchTask):
            warn(f"sfone batch-task plugin {ep.name!r} ({ep.value}) is a "
                 f"{type(task).__name__}, not a BatchTask; ignored", SfoneWarning)
            continue
        _TASKS.setdefault(task.name, task)


def batch_tasks() -> dict[str, BatchTask]:
    """The registered batch tasks by name (built-in, entry points, :func:`register_task`).

    Returns
    -------
    dict of str to BatchTask
    """
    _discover()
    return dict(_TASKS)

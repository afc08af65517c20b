"""Batch runs (the runner is :mod:`sfone.batch.run`; split into steps in the next commit)."""

from .run import (BatchResult, BatchTask, batch_tasks, default_workers, map_on_cluster,
                  register_task, run_batch)

__all__ = ["BatchTask", "register_task", "batch_tasks", "run_batch", "BatchResult",
           "default_workers", "map_on_cluster"]

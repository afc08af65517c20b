"""Batch runs: one task per session of a cohort manifest, on a local or remote dask cluster.

``run_batch(manifest, "classify", out_dir)`` runs the task on every session that has no output
yet (``force=True`` re-runs all), writes each session's output atomically under
``out_dir/sessions/``, records failures in ``out_dir/errors.csv`` while the other sessions
finish, and combines the per-session outputs into ``out_dir/combined.nc`` and
``combined.csv`` when the task defines how.

The package follows the run, one module per step:

1. **manifest**: :func:`sfone.load_manifest` (:mod:`sfone.cohort`, in the io layer: reproduce,
   ``sfone info`` and :func:`sfone.open_cohort` read manifests too) gives the sessions;
   :mod:`~sfone.batch.outputs` names each session's output file.
2. **tasks**: :class:`BatchTask` (:mod:`~sfone.batch.task`), the registry
   (:mod:`~sfone.batch.registry`) and the built-in tasks (:mod:`~sfone.batch.builtin`).
3. **run**: :func:`run_batch` (:mod:`~sfone.batch.run`) plans and submits the sessions;
   each runs in a process of its own, started and timed by its dask worker
   (:mod:`~sfone.batch.isolation`), which executes :mod:`~sfone.batch.worker`.
4. **failures**: :mod:`~sfone.batch.failures`, every way a session can fail and how it is
   reported.
5. **combine**: :mod:`~sfone.batch.combine`, the per-session summaries and the cohort tables.
"""

from __future__ import annotations

from .registry import batch_tasks, register_task
from .run import DEFAULT_TIME_LIMIT_S, BatchResult, default_workers, map_on_cluster, run_batch
from .task import BatchTask

__all__ = ["BatchTask", "register_task", "batch_tasks", "run_batch", "BatchResult",
           "default_workers", "map_on_cluster", "DEFAULT_TIME_LIMIT_S"]

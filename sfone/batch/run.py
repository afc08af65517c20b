"""Run: every session of a manifest as a dask task, on a local or remote cluster.

:func:`run_batch` plans the run (sessions whose output exists are skipped unless ``force``),
submits one task per session (:mod:`sfone.batch.worker`), collects the reports (failures into
``errors.csv``, :mod:`sfone.batch.failures`) and combines the summaries
(:mod:`sfone.batch.combine`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .._logging import logger, progress
from .._validate import _check_option
from ..cohort import load_manifest
from .combine import combine_outputs
from .failures import write_errors
from .outputs import check_distinct_stems, existing_output, output_stem
from .registry import batch_tasks
from .task import BatchTask
from .worker import run_session, summarize_existing

__all__ = ["run_batch", "BatchResult", "default_workers", "map_on_cluster"]


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder.
    done : list of (str, str), default []
        ``(subject, session)`` of the sessions run now.
    skipped : list of (str, str), default []
        Sessions whose output existed (not re-run).
    failed : list of dict, default []
        One ``{"subject", "session", "path", "error"}`` per failed session (also in
        ``out_dir/errors.csv``).
    combined : list of pathlib.Path, default []
        Combined outputs written (``combined.nc``, ``combined.csv``).
    """
    out_dir: Path
    done: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    combined: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no session failed."""
        return not self.failed


def default_workers(n_sessions: int) -> int:
    """Local worker processes when none are asked for: one per CPU, at most one per session.

    Parameters
    ----------
    n_sessions : int
        Sessions to run.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, min(os.cpu_count() or 1, n_sessions))


def _client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def map_on_cluster(function, *iterables, scheduler: str | None = None,
                   workers: int | None = None, desc: str = "tasks") -> list:
    """``[function(*args) for args in zip(*iterables)]``, each call a dask task.

    The tasks run on the scheduler at ``scheduler`` (or on a local cluster of ``workers``
    processes); results come back in input order. ``function`` must be importable on the
    workers (it is pickled by reference).

    Parameters
    ----------
    function : callable
        Called once per element of ``zip(*iterables)``.
    *iterables : iterable
        Argument sequences, of equal length.
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler; default a local cluster.
    workers : int, optional
        Local worker processes (default :func:`default_workers`); ignored with ``scheduler``.
    desc : str, default "tasks"
        Progress-bar label.

    Returns
    -------
    list
        The results, in input order.

    Raises
    ------
    Exception
        The first failing call's exception, with its worker traceback.
    """
    from distributed import as_completed

    calls = list(zip(*iterables, strict=True))
    client, cluster = _client(workers or default_workers(len(calls)), scheduler)
    try:
        futures = [client.submit(function, *args, pure=False) for args in calls]
        for future in progress(as_completed(futures), desc=desc, total=len(futures),
                               unit="task"):
            future.result()  # raises the first failure here, with its worker traceback
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(manifest, task: str | BatchTask, out_dir, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False) -> BatchResult:
    """Run ``task`` on every session of ``manifest`` as dask tasks; see :mod:`sfone.batch`.

    Parameters
    ----------
    manifest : str, os.PathLike or list of Session
        Cohort manifest (:func:`sfone.load_manifest`) or sessions.
    task : str or BatchTask
        A registered task's name or a :class:`BatchTask`; it is sent to the workers as an object
        (its functions must be importable there).
    out_dir : str or os.PathLike
        Output folder (``sessions/``, ``errors.csv``, ``combined.nc``/``combined.csv``).
    workers : int, optional
        Local worker processes (default: one per CPU, at most one per session to run).
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler (then ``workers`` is ignored; the
        workers must see the manifest's paths and import the task's module).
    force : bool, default False
        Re-run sessions whose output exists.

    Returns
    -------
    BatchResult

    Raises
    ------
    ValueError
        For an unknown task name.
    """
    if not isinstance(task, BatchTask):
        tasks = batch_tasks()
        task = tasks[_check_option("task", task, sorted(tasks))]
    sessions = manifest if isinstance(manifest, list) else load_manifest(manifest)
    out_dir = Path(out_dir)
    (out_dir / "sessions").mkdir(parents=True, exist_ok=True)
    result = BatchResult(out_dir=out_dir)
    done_before, pending = {}, []
    stems = {s.key: output_stem(out_dir, s) for s in sessions}
    check_distinct_stems(stems)
    for session in sessions:
        stem = stems[session.key]
        existing = existing_output(stem)
        if existing is not None and not force:
            done_before[session.key] = existing
        else:
            pending.append((session, stem))
    logger.info("batch %s: %d sessions to run, %d already done", task.name, len(pending),
                len(done_before))
    paths = {s.key: s.path for s in sessions}
    reports = _run_on_cluster(task, pending, done_before, workers, scheduler) if pending else \
        [summarize_existing(task, key, path) for key, path in done_before.items()]
    summaries = {}
    for report in reports:
        key = tuple(report["key"])
        if report["status"] == "failed":
            logger.warning("batch %s: %s/%s failed: %s", task.name, *key, report["error"])
            result.failed.append({"subject": key[0], "session": key[1],
                                  "path": str(paths[key]), "error": report["error"]})
            continue
        (result.done if report["status"] == "done" else result.skipped).append(key)
        if report["summary"] is not None:
            summaries[key] = report["summary"]
    write_errors(out_dir, result.failed)
    result.combined = combine_outputs(task, out_dir, summaries, sessions)
    return result


def _run_on_cluster(task: BatchTask, pending: list, done_before: dict, workers: int | None,
                    scheduler: str | None) -> list[dict]:
    """Reports of the pending sessions (run) and of the ones done before (summarised), each a
    dask task; the progress bar counts the sessions run."""
    from distributed import as_completed

    client, cluster = _client(workers or default_workers(len(pending)), scheduler)
    try:
        runs = [client.submit(run_session, task, s, stem, pure=False) for s, stem in pending]
        earlier = [client.submit(summarize_existing, task, key, path, pure=False)
                   for key, path in done_before.items()]
        reports = [future.result() for future in progress(
            as_completed(runs), desc=f"batch {task.name}", total=len(runs), unit="session")]
        return reports + client.gather(earlier)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

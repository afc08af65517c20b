"""Run: every session of a manifest as a dask task, on a local or remote cluster.

:func:`run_batch` plans the run (sessions whose output exists are skipped unless ``force``),
submits one task per session (:mod:`sfone.batch.worker`), collects the reports (failures into
``errors.csv``, :mod:`sfone.batch.failures`) and combines the summaries
(:mod:`sfone.batch.combine`).
"""

from __future__ import annotations

import collections
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .._logging import logger, progress, warn
from .._output_dir import claim_output_dir
from .._validate import _check_option
from ..cohort import load_manifest
from ..exceptions import SfoneError, SfoneWarning
from .combine import combine_outputs
from .failures import cluster_failure_report, not_run_report, stops_the_batch, write_errors
from .isolation import run_isolated
from .outputs import check_distinct_stems, existing_output, output_stem, shortened
from .registry import batch_tasks
from .task import BatchTask
from .worker import run_session, summarize_existing

__all__ = ["run_batch", "BatchResult", "default_workers", "map_on_cluster",
           "DEFAULT_TIME_LIMIT_S"]


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
        One ``{"subject", "session", "path", "reason", "error"}`` per failed session, in
        manifest order (also in ``out_dir/errors.csv``); ``reason`` is one of
        :data:`sfone.batch.failures.REASONS`.
    combined : list of pathlib.Path, default []
        Combined outputs written (``combined.nc``, ``combined.csv``).
    warnings : list of str, default []
        The warnings the sessions raised, each with the session's name in front (they were
        also issued as warnings).
    errors_written : bool, default True
        False when ``errors.csv`` could not be written (a full disk).
    """
    out_dir: Path
    done: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    combined: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors_written: bool = True

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
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # a core dependency: only a damaged or partial installation
        raise SfoneError(f"sfone batch needs dask.distributed, which is not importable ({exc}); "
                         "install it with `pip install 'distributed>=2024.6'` (or reinstall "
                         "sfone, which depends on it)") from None

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    # sfone reports what goes wrong itself: dask's own log lines only for errors; the
    # scheduler's HTTP server on a free local port (on 8787 a second batch got a warning)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
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


DEFAULT_TIME_LIMIT_S = 3600.0
#: what a batch writes in its folder (the marker of :mod:`sfone._output_dir` lists these)
OUTPUT_PATTERNS = ["sessions/*.nc", "sessions/*.csv", "errors.csv", "combined.nc",
                   "combined.csv"]


@dataclass(frozen=True)
class _Job:
    """One dask task: a session to run (``run``) or an earlier output to summarise."""
    kind: str
    key: tuple[str, str]
    path: Path
    function: object
    args: tuple
    time_limit_s: float | None


def run_batch(manifest, task: str | BatchTask, out_dir, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False,
              time_limit_s: float | None = DEFAULT_TIME_LIMIT_S) -> BatchResult:
    """Run ``task`` on every session of ``manifest`` as dask tasks; see :mod:`sfone.batch`.

    Every session runs in a process of its own (:mod:`sfone.batch.isolation`): one that
    fails, dies, runs out of time or finds the disk full is recorded in ``errors.csv``
    (:mod:`sfone.batch.failures`) and the others finish. Warnings raised by a session are
    re-issued here, after the run, with the session's name in front.

    Parameters
    ----------
    manifest : str, os.PathLike or list of Session
        Cohort manifest (:func:`sfone.load_manifest`) or sessions.
    task : str or BatchTask
        A registered task's name or a :class:`BatchTask`; it is sent to the workers as an object
        (its functions must be importable there).
    out_dir : str or os.PathLike
        Output folder (``sessions/``, ``errors.csv``, ``combined.nc``/``combined.csv``). It
        must be new, empty or an earlier ``sfone batch`` output (its marker file says so).
    workers : int, optional
        Local worker processes (default: one per CPU, at most one per session to run).
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler (then ``workers`` is ignored; the
        workers must see the manifest's paths and import the task's module).
    force : bool, default False
        Re-run sessions whose output exists.
    time_limit_s : float or None, default 3600
        Time limit of each session in s (its process is killed after it); the manifest column
        ``time_limit_s`` overrides it per session; None: no limit.

    Returns
    -------
    BatchResult

    Raises
    ------
    ValueError
        For an unknown task name.
    SfoneError
        If ``out_dir`` holds files that sfone did not write (they are named).
    """
    if not isinstance(task, BatchTask):
        tasks = batch_tasks()
        task = tasks[_check_option("task", task, sorted(tasks))]
    if time_limit_s is not None and not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be a number of seconds > 0, got {time_limit_s!r}")
    sessions = manifest if isinstance(manifest, list) else load_manifest(manifest)
    out_dir = Path(out_dir)
    stems = {s.key: output_stem(out_dir, s) for s in sessions}
    check_distinct_stems(stems)
    claim_output_dir(out_dir, kind="batch", patterns=OUTPUT_PATTERNS)
    (out_dir / "sessions").mkdir(exist_ok=True)
    result = BatchResult(out_dir=out_dir)
    earlier, runs = [], []
    for session in sessions:
        stem = stems[session.key]
        if shortened(session):
            warn(f"{session.subject}/{session.session}: subject and session names too long for "
                 f"a file name; its output is {stem.name} (the combined table keeps the full "
                 "names)", SfoneWarning)
        limit = session.time_limit_s or time_limit_s
        existing = existing_output(stem)
        if existing is not None and not force:
            earlier.append(_Job("summary", session.key, existing, summarize_existing,
                                (task, session.key, existing), limit))
        else:
            runs.append(_Job("run", session.key, session.path, run_session,
                             (task, session, stem), limit))
    logger.info("batch %s: %d sessions to run, %d already done", task.name, len(runs),
                len(earlier))
    if runs:
        reports = _run_on_cluster(task, earlier + runs, workers, scheduler)
    else:  # nothing to run: the earlier outputs are summarised here, without a cluster
        reports = [job.function(*job.args) for job in earlier]
    paths = {s.key: s.path for s in sessions}
    summaries, warnings_seen = {}, []
    for report in reports:
        key = tuple(report["key"])
        warnings_seen += [(key, w) for w in report.get("warnings", ())]
        if report["status"] == "failed":
            logger.warning("batch %s: %s/%s failed (%s): %s", task.name, *key,
                           report["reason"], report["error"])
            result.failed.append({"subject": key[0], "session": key[1],
                                  "path": str(paths[key]), "reason": report["reason"],
                                  "error": report["error"]})
            continue
        (result.done if report["status"] == "done" else result.skipped).append(key)
        if report["summary"] is not None:
            summaries[key] = report["summary"]
    order = {s.key: i for i, s in enumerate(sessions)}
    result.failed.sort(key=lambda f: order[(f["subject"], f["session"])])
    try:
        write_errors(out_dir, result.failed)
    except OSError as exc:  # a full disk: the failures are still in the result (and on stderr)
        logger.error("batch %s: could not write errors.csv: %s", task.name, exc)
        result.errors_written = False
    result.combined = combine_outputs(task, out_dir, summaries, sessions)
    for key, (module, category, message) in sorted(warnings_seen, key=lambda w: order[w[0]]):
        result.warnings.append(_reissue(key, module, category, message))
    return result


def _category(module: str, name: str) -> type[Warning]:
    """The warning class ``module.name``, or UserWarning when it cannot be imported here."""
    import importlib

    try:
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return UserWarning
    return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning


def _reissue(key: tuple[str, str], module: str, name: str, message: str) -> str:
    """Warn, with the session's name in front, about what a session warned; the text."""
    category = _category(module, name)
    text = message if issubclass(category, SfoneWarning) else f"{name}: {message}"
    text = f"{key[0]}/{key[1]}: {text}"
    warn(text, category)
    return text


def _threads(client) -> int:
    try:
        return sum(client.nthreads().values())
    except Exception:  # the scheduler is busy or gone: the futures will say so
        return 1


def _run_on_cluster(task: BatchTask, jobs: list[_Job], workers: int | None,
                    scheduler: str | None) -> list[dict]:
    """The reports of ``jobs``, each a dask task; the progress bar counts the sessions run.

    At most two jobs per worker thread are submitted at a time, so that after a session finds
    the disk full (:func:`~sfone.batch.failures.stops_the_batch`) no further one starts."""
    n_runs = sum(job.kind == "run" for job in jobs)
    client, cluster = _client(workers or default_workers(n_runs), scheduler)
    waiting = collections.deque(jobs)
    submitted: dict = {}

    def submit():
        job = waiting.popleft()
        future = client.submit(run_isolated, job.function, job.key, job.path, job.args,
                               job.time_limit_s, pure=False)
        submitted[future] = job
        return future

    reports, stopped_by = [], None
    bar = progress(None, desc=f"batch {task.name}", total=n_runs, unit="session")
    try:
        from distributed import as_completed

        running = as_completed([submit() for _ in range(min(len(waiting),
                                                            max(2, 2 * _threads(client))))])
        for future in running:
            job = submitted.pop(future)
            try:
                report = future.result()
            except Exception as exc:  # the dask worker died, the scheduler went away
                report = cluster_failure_report(job.key, job.path, exc)
            future.release()
            reports.append(report)
            if job.kind == "run":
                bar.update(1)
            if stopped_by is None and stops_the_batch(report):
                stopped_by = report
                logger.error("batch %s: %s/%s found the disk full; no further session starts",
                             task.name, *job.key)
            slots = max(2, 2 * _threads(client)) if waiting and stopped_by is None else 0
            while waiting and len(submitted) < slots:
                running.add(submit())
        reports += [not_run_report(job.key, job.path, stopped_by) for job in waiting]
        return reports
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()

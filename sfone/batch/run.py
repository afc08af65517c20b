"""Batch runs: one dask task per session of a cohort manifest, on a local or remote cluster.

``run_batch(manifest, "classify", out_dir)`` runs the task on every session that has no output yet
(``force=True`` re-runs all), writes each session's output atomically under ``out_dir/sessions/``,
records failures in ``out_dir/errors.csv`` while the other sessions finish, and combines the
per-session outputs into ``out_dir/combined.nc`` and ``combined.csv`` when the task defines how.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xarray as xr

from .._atomic import read_csv, write_csv
from .task import BatchTask
from .._logging import logger, progress, warn
from .._validate import _check_option, _validate_type
from ..cohort import OPTIONAL_COLUMNS, Session, load_manifest
from ..exceptions import SfoneWarning

__all__ = ["BatchTask", "register_task", "batch_tasks", "run_batch", "BatchResult",
           "default_workers", "map_on_cluster"]


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
    from .builtin import BUILTIN_TASKS
    from .._plugins import load_entry_points

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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _output_stem(out_dir: Path, session: Session) -> Path:
    """``out_dir/sessions/<subject>__<session>``: the slugs keep it inside ``out_dir``."""
    return out_dir / "sessions" / f"{_slug(session.subject)}__{_slug(session.session)}"


def _check_distinct_stems(stems: dict[tuple[str, str], Path]) -> None:
    by_stem: dict[Path, tuple[str, str]] = {}
    for key, stem in stems.items():
        if stem in by_stem:
            raise ValueError(f"sessions {by_stem[stem]} and {key} would both write "
                             f"{stem.name}: rename one in the manifest")
        by_stem[stem] = key


def _existing_output(stem: Path) -> Path | None:
    for suffix in (".nc", ".csv"):
        if stem.with_suffix(suffix).exists():
            return stem.with_suffix(suffix)
    return None


def _write_output(result, stem: Path) -> Path:
    from ..io import write_dataset

    if isinstance(result, xr.Dataset):
        return write_dataset(result, stem.with_suffix(".nc"))
    if isinstance(result, pd.DataFrame):
        return write_csv(result, stem.with_suffix(".csv"))
    raise TypeError(f"batch task returned {type(result).__name__}; expected Dataset or DataFrame")


def _summary(task: BatchTask, path: Path, output=None):
    """What a session contributes to the combined table, from its output as written (so that
    a fresh and a skipped session give the same), or None when the task combines nothing.

    A Dataset just written is summarised from memory with the attrs as netCDF stores them
    (:func:`sfone.io.netcdf_safe`) instead of being read back (0.1 s a session), unless it is
    lazy (dask); a table is always read back (its text is what the combined table must
    hold)."""
    from ..io import netcdf_safe

    if task.combine is None:
        return None
    in_memory = (isinstance(output, xr.Dataset) and path.suffix == ".nc"
                 and not any(v.chunks for v in output.variables.values()))  # lazy: read back
    if in_memory:
        output = netcdf_safe(output)
    else:
        output = _read_output(path)
    return task.summarize(output) if task.summarize is not None else output


def _run_one(task: BatchTask, session: Session, stem: Path) -> dict:
    """Executed on a worker: run the task, write its output, summarise it; never raise."""
    try:
        output = task.run(session)
        path = _write_output(output, stem)
        return {"key": session.key, "status": "done", "output": str(path),
                "summary": _summary(task, path, output)}
    except Exception as exc:  # recorded in errors.csv; the batch goes on
        return {"key": session.key, "status": "failed", "path": str(session.path),
                "error": f"{type(exc).__name__}: {exc}",
                "where": traceback.format_exc(limit=-1).strip().splitlines()[-1]}


def _summarize_existing(task: BatchTask, key: tuple[str, str], path: Path) -> dict:
    """Executed on a worker for a session skipped as done: the summary of its output."""
    try:
        return {"key": key, "status": "skipped", "summary": _summary(task, path)}
    except Exception as exc:  # an unreadable earlier output: the session counts as failed
        return {"key": key, "status": "failed", "path": str(path),
                "error": f"earlier output {path.name} unreadable ({type(exc).__name__}: {exc});"
                         " re-run with --force"}


def _read_output(path: Path):
    if path.suffix == ".nc":
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    return read_csv(path)  # the text as the task returned it, before the formula neutralising


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


def _write_errors(out_dir: Path, failed: list[dict]) -> None:
    table = pd.DataFrame(failed, columns=["subject", "session", "path", "error"])
    write_csv(table, out_dir / "errors.csv")


def _with_manifest_columns(table: pd.DataFrame, sessions: list[Session]) -> pd.DataFrame:
    """``table`` (rows keyed by subject and session) with every column the manifest gave
    (group, day, path, runs, ...), placed right after the session column."""
    if not {"subject", "session"} <= set(table.columns):
        return table
    order = ("group", "day", "path") + tuple(c for c in OPTIONAL_COLUMNS if c not in ("group", "day"))
    fields = [f for f in order
              if f not in table.columns and any(getattr(s, f) is not None for s in sessions)]
    if not fields:
        return table
    manifest = pd.DataFrame([{"subject": s.subject, "session": s.session,
                              **{f: "" if getattr(s, f) is None else str(getattr(s, f))
                                 for f in fields}} for s in sessions])
    merged = table.astype({"subject": str, "session": str}).merge(
        manifest, on=["subject", "session"], how="left", validate="many_to_one")
    columns = list(table.columns)
    at = columns.index("session") + 1
    return merged[columns[:at] + fields + columns[at:]]


def _combine(task: BatchTask, out_dir: Path, summaries: dict,
             sessions: list[Session] = ()) -> list[Path]:
    from ..io import write_dataset

    if task.combine is None or not summaries:
        return []
    combined = task.combine(dict(sorted(summaries.items())))
    written = []
    if isinstance(combined, xr.Dataset):
        written.append(write_dataset(combined, out_dir / "combined.nc"))
        combined = combined.to_dataframe().reset_index()
    combined = _with_manifest_columns(combined, list(sessions))
    return written + [write_csv(combined, out_dir / "combined.csv")]


def run_batch(manifest, task: str | BatchTask, out_dir, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False) -> BatchResult:
    """Run ``task`` on every session of ``manifest`` as dask tasks; see the module docstring.

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
    stems = {s.key: _output_stem(out_dir, s) for s in sessions}
    _check_distinct_stems(stems)
    for session in sessions:
        stem = stems[session.key]
        existing = _existing_output(stem)
        if existing is not None and not force:
            done_before[session.key] = existing
        else:
            pending.append((session, stem))
    logger.info("batch %s: %d sessions to run, %d already done", task.name, len(pending),
                len(done_before))
    paths = {s.key: s.path for s in sessions}
    reports = _run_on_cluster(task, pending, done_before, workers, scheduler) if pending else \
        [_summarize_existing(task, key, path) for key, path in done_before.items()]
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
    _write_errors(out_dir, result.failed)
    result.combined = _combine(task, out_dir, summaries, sessions)
    return result


def _run_on_cluster(task: BatchTask, pending: list, done_before: dict, workers: int | None,
                    scheduler: str | None) -> list[dict]:
    """Reports of the pending sessions (run) and of the ones done before (summarised), each a
    dask task; the progress bar counts the sessions run."""
    from distributed import as_completed

    client, cluster = _client(workers or default_workers(len(pending)), scheduler)
    try:
        runs = [client.submit(_run_one, task, s, stem, pure=False) for s, stem in pending]
        earlier = [client.submit(_summarize_existing, task, key, path, pure=False)
                   for key, path in done_before.items()]
        reports = [future.result() for future in progress(
            as_completed(runs), desc=f"batch {task.name}", total=len(runs), unit="session")]
        return reports + client.gather(earlier)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

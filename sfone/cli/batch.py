"""``sfone batch``: run a task on every session of a cohort manifest with dask."""

from __future__ import annotations

from pathlib import Path

import click

from ._grammar import out_option, reading_options


def _list_tasks(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..batch import batch_tasks

    for name, task in sorted(batch_tasks().items()):
        click.echo(f"{name:22s}{task.description}")
    ctx.exit(0)


@click.command("batch")
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--list-tasks", is_flag=True, expose_value=False, is_eager=True,
              callback=_list_tasks, help="List the tasks and exit.")
@click.option("--task", required=True, help="Task name (see `sfone batch --list-tasks`).")
@out_option("Output folder (per-session outputs, combined table, errors.csv); its parent "
            "must exist.", name="out_dir")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per CPU, at most one per session).")
@click.option("--scheduler", default=None, help="Address of a running dask scheduler.")
@click.option("--force", is_flag=True, help="Re-run sessions that already have an output.")
@reading_options(cells_only=None)
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True),
              default=3600.0, show_default=True, metavar="SECONDS",
              help="Stop a session still running after this long and record it in errors.csv "
                   "(the manifest column time_limit_s sets it per session).")
def batch_command(manifest: Path, task: str, out_dir: Path, workers: int | None,
                  scheduler: str | None, force: bool, reading: dict, time_limit: float) -> None:
    """Run TASK on every session listed in MANIFEST (CSV or YAML).

    Reading options given here apply to every session whose manifest row leaves that column
    empty (the columns have the same names: fs, format, repair, leds, neuropil_coefficient,
    plane, cells_only). Task classify labels cells only unless cells_only is false.

    A session that fails, kills its process (out of memory), runs past its time limit or
    finds the disk full is named in OUT/errors.csv with the reason; the others finish, and
    the exit status is 1. A rerun skips the sessions done.
    """
    import dataclasses

    from ..batch import run_batch
    from ..cohort import load_manifest

    sessions = [dataclasses.replace(s, **{k: v for k, v in reading.items()
                                         if getattr(s, k) is None})
                for s in load_manifest(manifest)]
    result = run_batch(sessions, task, out_dir, workers=workers, scheduler=scheduler,
                       force=force, time_limit_s=time_limit)
    click.echo(f"{len(result.done)} done, {len(result.skipped)} skipped (already done), "
               f"{len(result.failed)} failed; outputs in {out_dir}")
    for failure in result.failed:
        click.echo(f"failed: {failure['subject']}/{failure['session']} ({failure['reason']}): "
                   f"{failure['error']}", err=True)
    if not result.errors_written:
        click.echo(f"warning: {out_dir / 'errors.csv'} could not be written (is the disk full?); "
                   "the failures are listed above", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)


commands = [batch_command]

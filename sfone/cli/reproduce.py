"""``sfone reproduce``: every figure of the paper's comparisons from a study file's raw inputs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ._grammar import OutPath


def _stage_printer(started: float):
    """One line per stage on stderr when it is not a terminal (a terminal gets the tqdm bar)."""
    if sys.stderr.isatty():
        return None

    def printer(index: int, total: int, stage: str) -> None:
        click.echo(f"reproduce [{index}/{total}] {stage} (at {time.time() - started:.0f} s)",
                   err=True)

    return printer


@click.command("reproduce")
@click.option("--study", "study", type=click.Path(path_type=Path),
              default=Path("data_samples") / "study.yaml", show_default=True,
              help="Study YAML naming every input (or a folder holding study.yaml).")
@click.option("--out", "out_dir", type=OutPath(path_type=Path, file_okay=False),
              required=True, help="Output folder: figures/, stats.csv, labels.csv, report.html "
                                  "(replaced as a whole when the run completes).")
@click.option("--scheduler", default=None,
              help="Address of a running dask scheduler: imaging sessions run on its workers.")
def reproduce_command(study: Path, out_dir: Path, scheduler: str | None) -> None:
    """Run loading, dF/F, classification, calorimetry and statistics; write every figure.

    Nothing is cached: each run recomputes everything from the raw files. The output is
    built in a temporary folder and swapped in at the end, so OUT always holds one complete run.
    """
    from ..reproduce import reproduce

    started = time.time()
    result = reproduce(study, out_dir, scheduler=scheduler, on_stage=_stage_printer(started))
    click.echo(f"wrote {len(result.figures)} figures to {out_dir / 'figures'}, "
               f"{result.stats_csv}, {result.labels_csv or 'no labels.csv (no imaging)'} and "
               f"{result.report} in {time.time() - started:.0f} s")


commands = [reproduce_command]

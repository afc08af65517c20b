"""``sfone reproduce``: every figure of the paper's comparisons from the raw sample files."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("reproduce")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("data_samples"), show_default=True,
              help="Raw files in the data_samples/ layout.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Output folder: figures/, stats.csv, labels.csv, report.html.")
def reproduce_command(data_dir: Path, out_dir: Path) -> None:
    """Run loading, dF/F, classification, calorimetry and statistics; write every figure.

    Nothing is cached: each run recomputes everything from the raw files.
    """
    from ..reproduce import reproduce

    result = reproduce(data_dir, out_dir)
    click.echo(f"wrote {len(result.figures)} figures to {out_dir / 'figures'}, "
               f"{result.stats_csv}, {result.labels_csv} and {result.report}")


commands = [reproduce_command]

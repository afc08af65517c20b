"""``sfone calorimetry``: CalR-exact period summaries and treadmill stress-test endpoints."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("calorimetry")
def calorimetry_group() -> None:
    """Indirect calorimetry: period summaries (CalR-exact) and stress tests."""


@calorimetry_group.command("summary")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--session", type=click.Path(path_type=Path, exists=True), default=None,
              help="CalR session CSV (groups, kcal/g, window, light, MRI masses).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output CSV.")
@click.option("--window", nargs=2, type=float, default=None,
              help="Analysis window START END in experiment hours (inclusive).")
@click.option("--light", nargs=2, type=float, default=None,
              help="LIGHT_ON LIGHT_OFF clock hours (light when on < hour <= off).")
@click.option("--kcal-per-g", type=float, default=None, help="Diet energy density (kcal/g).")
@click.option("--mask-flagged", is_flag=True, help="Set QC-flagged readings to NaN first.")
def summary_command(files, session, out, window, light, kcal_per_g, mask_flagged) -> None:
    """Per subject and period (full_day, light, dark) means as CalR computes them."""
    from .._atomic import atomic_path
    from ..calorimetry import mask_flagged as mask
    from ..calorimetry import read_many, summarize_periods
    from ..io.calorimetry.calr import read_calr_session

    ds = read_many(files)
    if mask_flagged:
        ds = mask(ds)
    calr_session = read_calr_session(session) if session else None
    table = summarize_periods(ds, calr_session, window=window, light=light,
                              diet_kcal_per_g=kcal_per_g)
    from ..calorimetry.periods import SUMMARY_COLUMNS

    with atomic_path(out) as tmp:
        table[SUMMARY_COLUMNS].to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
    click.echo(f"wrote {out} ({table['subject'].nunique()} subjects x 3 periods)")


commands = [calorimetry_group]

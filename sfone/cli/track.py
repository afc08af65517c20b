"""``sfone track``: the same ROIs across sessions of one mouse, to a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from ._grammar import OutPath, out_option, reading_options


@click.command("track")
@click.argument("sessions", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True))
@out_option("Output CSV: track, one column per session (its ROI or empty), p_same.")
@click.option("--names", default=None,
              help="Comma-separated session names (default: the folder or file names).")
@click.option("--transforms", "transforms", default=None, type=OutPath(path_type=Path),
              help="JSON of the transform per session and the fitted same-cell models "
                   "(default: <out stem>_transforms.json).")
@reading_options()
@click.option("--image", type=click.Choice(["auto", "mean", "footprints"]), default="auto",
              show_default=True, help="What registration aligns.")
@click.option("--max-rotation", type=float, default=10.0, show_default=True,
              help="Largest rotation searched (degrees).")
@click.option("--max-distance", type=float, default=None,
              help="Largest centroid distance of a match after registration (pixels; default "
                   "two median ROI diameters).")
@click.option("--p-threshold", type=float, default=0.5, show_default=True,
              help="Smallest P(same cell) of a match.")
def track_command(sessions, out: Path, names: str | None, transforms: Path | None,
                  reading: dict, image: str, max_rotation: float,
                  max_distance: float | None, p_threshold: float) -> None:
    """Register SESSION... (the first is the reference) and track their ROIs.

    Every session is read with the same reading options; by default only the ROIs the
    segmentation marked as cells are tracked (--all-rois: every ROI).
    """
    from ..tracking import track
    from ..tracking.track import session_name
    from .core import read_session

    name_list = [n.strip() for n in names.split(",")] if names else None
    if name_list is not None and len(name_list) != len(sessions):
        raise click.BadParameter(f"{len(name_list)} names for {len(sessions)} sessions",
                                 param_hint="--names")
    if name_list is None:  # the default names of sfone.track: the folder or file names
        name_list = [session_name(Path(s)) for s in sessions]
    datasets = [read_session(Path(s), reading) for s in sessions]
    result = track(datasets, names=name_list, cells_only=False, plane=None, image=image,
                   max_rotation=max_rotation, max_distance=max_distance,
                   p_threshold=p_threshold)
    csv_path, json_path = result.write(out, transforms_path=transforms)
    table = result.table
    in_all = int(table[result.sessions].notna().all(axis=1).sum())
    click.echo(f"wrote {csv_path} ({len(table)} tracks, {in_all} in all {len(sessions)} "
               f"sessions) and {json_path}")
    for row in result.transforms.itertuples():
        click.echo(f"  {row.session}: rotation {row.angle_deg:+.2f} deg, shift "
                   f"({row.shift_y:+.2f}, {row.shift_x:+.2f}) px, r = {row.correlation:.3f}")


commands = [track_command]

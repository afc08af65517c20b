"""``sfone classify``: post-run labels of every ROI (or photometry channel) to a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from ..classify._methods import METHODS, NULLS
from ._grammar import out_option, reading_options, window_option


@click.command("classify")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--runs", "runs", required=True, type=click.Path(path_type=Path, exists=True),
              help="Run epochs CSV with columns start_s,end_s (seconds from session start).")
@click.option("--protocol", default=None,
              help="Classification protocol: a YAML path or a shipped protocol's name "
                   "(default: classification; see `sfone protocols`).")
@click.option("--method", type=click.Choice(list(METHODS)), default=None,
              help="Decision method (default: the protocol's, 'glm'); see "
                   "docs/classification.md for each method's measured error rates.")
@click.option("--null", "null", type=click.Choice(list(NULLS)), default=None,
              help="Null of the 'test' method (default: the protocol's, 'autocorrelation').")
@window_option("--baseline-window", "Baseline window START END in s relative to run start "
               "(default -600 0).", deprecated=("--baseline-s",))
@window_option("--post-run-window", "Post-run window START END in s relative to run end "
               "(default 0 3600).", deprecated=("--post-run-s",))
@click.option("--variable", default=None,
              help="Trace variable (default F - c*Fneu, c = the file's neuropil coefficient "
                   "or --neuropil-coefficient).")
@reading_options()
@out_option("Output CSV: roi, label, effect, p_value, q_value (+ iscell).")
def classify_command(path: Path, runs: Path, protocol: str | None, method: str | None,
                     null: str, baseline_window, post_run_window, variable: str | None,
                     reading: dict, out: Path) -> None:
    """Label each ROI of PATH as post-run activated, inhibited or unchanged.

    By default only the ROIs the segmentation marked as cells are labelled (--all-rois: every
    ROI).
    """
    from .._atomic import write_csv
    from ..classify import label_responses
    from ..events import epochs_from_csv
    from ..schema import POST_RUN_LABELS
    from .core import read_session

    ds = read_session(path, reading)
    epochs = epochs_from_csv(runs)
    result = label_responses(ds, epochs, protocol=protocol, method=method, null=null,
                             baseline_s=baseline_window or None,
                             post_run_s=post_run_window or None, variable=variable)
    columns = ["label", "effect", "p_value", "q_value"]
    if "iscell" in result.coords:
        columns.append("iscell")
    table = result[columns].to_dataframe()[columns].reset_index()
    write_csv(table, out)
    counts = table["label"].value_counts()
    click.echo(f"wrote {out}: {len(table)} ROIs, " + ", ".join(
        f"{counts.get(k, 0)} {k}" for k in POST_RUN_LABELS))


commands = [classify_command]

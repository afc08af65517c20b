"""``sfone classify``: post-run labels of every ROI (or photometry channel) to a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from ..classify._methods import METHODS, NULLS


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
@click.option("--baseline-s", nargs=2, type=float, default=None,
              help="Baseline window START END (s) relative to run start (default -600 0).")
@click.option("--post-run-s", nargs=2, type=float, default=None,
              help="Post-run window START END (s) relative to run end (default 0 3600).")
@click.option("--variable", default=None, help="Trace variable (default F - c*Fneu, c = the file's neuropil coefficient).")
@click.option("--cells-only", is_flag=True, help="Keep only ROIs with iscell True.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output CSV: roi, label, effect, p_value, q_value (+ iscell).")
def classify_command(path: Path, runs: Path, protocol: str | None, method: str | None,
                     null: str, baseline_s, post_run_s, variable: str | None, cells_only: bool, out: Path) -> None:
    """Label each ROI of PATH as post-run activated, inhibited or unchanged."""
    from .._atomic import write_csv
    from ..classify import label_responses
    from ..events import epochs_from_csv
    from ..io import read
    from ..schema import POST_RUN_LABELS

    ds = read(path)
    epochs = epochs_from_csv(runs)
    result = label_responses(ds, epochs, protocol=protocol, method=method, null=null,
                             baseline_s=baseline_s or None, post_run_s=post_run_s or None,
                             variable=variable, cells_only=cells_only)
    columns = ["label", "effect", "p_value", "q_value"]
    if "iscell" in result.coords:
        columns.append("iscell")
    table = result[columns].to_dataframe()[columns].reset_index()
    write_csv(table, out)
    counts = table["label"].value_counts()
    click.echo(f"wrote {out}: {len(table)} ROIs, " + ", ".join(
        f"{counts.get(k, 0)} {k}" for k in POST_RUN_LABELS))


commands = [classify_command]

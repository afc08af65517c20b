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
@out_option("Also write the evidence page: a folder with index.html (sortable table of ROIs, "
            "label filter) and each ROI's figure (trace, runs, windows, binned means, fitted "
            "model). Replaces only an earlier evidence page.", required=False, name="plots",
            flag="--plots")
@out_option("Also write the session's summary CSV (one row): the labelled and the estimated "
            "fractions of activated and inhibited ROIs with 95 % intervals, n_rois and "
            "detectable_gain_80 (docs/classification.md).", required=False, name="summary",
            flag="--summary")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes drawing the --plots figures.")
def classify_command(path: Path, runs: Path, protocol: str | None, method: str | None,
                     null: str, baseline_window, post_run_window, variable: str | None,
                     reading: dict, out: Path, plots: Path | None, summary: Path | None,
                     workers: int) -> None:
    """Label each ROI of PATH as post-run activated, inhibited or unchanged.

    By default only the ROIs the segmentation marked as cells are labelled (--all-rois: every
    ROI).
    """
    from .._atomic import write_csv
    from ..classify import INSUFFICIENT_DATA, label_responses, provenance_lines
    from ..events import epochs_from_csv
    from ..schema import POST_RUN_LABELS
    from .core import read_session

    if plots is not None:  # refused before any work, not after it
        from ..figures.evidence_page import check_folder

        check_folder(plots)
    ds = read_session(path, reading)
    epochs = epochs_from_csv(runs)
    result = label_responses(ds, epochs, protocol=protocol, method=method, null=null,
                             baseline_s=baseline_window or None,
                             post_run_s=post_run_window or None, variable=variable)
    columns = ["label", "effect", "p_value", "q_value"]
    if "iscell" in result.coords:
        columns.append("iscell")
    table = result[columns].to_dataframe()[columns].reset_index()
    write_csv(table, out, preamble=provenance_lines(result))
    counts = table["label"].value_counts()
    click.echo(f"wrote {out}: {len(table)} ROIs, " + ", ".join(
        f"{counts.get(k, 0)} {k}" for k in (*POST_RUN_LABELS, INSUFFICIENT_DATA)
        if k in POST_RUN_LABELS or counts.get(k, 0)))
    if summary is not None:
        row = session_summary(result, source=str(path))
        write_csv(row, summary, preamble=provenance_lines(result))
        r = row.iloc[0]
        click.echo(f"wrote {summary}: activated {r.fraction_activated_labelled:.1%} labelled, "
                   f"{r.fraction_activated_estimate:.1%} estimated (95% CI "
                   f"{r.fraction_activated_ci_low:.1%}-{r.fraction_activated_ci_high:.1%}); "
                   f"detectable gain {r.detectable_gain_80:.2f}x")
    if plots is not None:
        page = _write_plots(ds, result, epochs, variable, plots, workers, title=path.name)
        click.echo(f"wrote {page}: the evidence of {len(table)} ROIs")


def session_summary(result, *, source: str):
    """One-row DataFrame of a session's fractions and sensitivity (the ``--summary`` CSV).

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`sfone.classify.label_responses`.
    source : str
        The input file, as the user named it.

    Returns
    -------
    pandas.DataFrame
        ``source``, ``subject``/``session``/``day`` where the file names them, then
        :data:`sfone.classify.FRACTION_COLUMNS` from the result's attrs (fractions of the
        tested ROIs; ``detectable_gain_80`` a ratio; ``power_x2`` in [0, 1]).
    """
    import pandas as pd

    from ..classify._fractions import FRACTION_COLUMNS

    row = {"source": source}
    row.update({k: result.attrs[k] for k in ("subject", "session", "day") if k in result.attrs})
    row.update({k: result.attrs.get(k, float("nan")) for k in FRACTION_COLUMNS})
    return pd.DataFrame([row])


def _write_plots(ds, result, epochs, variable, folder: Path, workers: int, *, title: str):
    """The evidence page of ``result``, with the frame-level trace that was classified."""
    import warnings

    from ..classify._labels import trace_groups
    from ..exceptions import QualityWarning
    from ..figures.evidence_page import write_evidence_page

    with warnings.catch_warnings():  # the classification has reported them already
        warnings.simplefilter("ignore", QualityWarning)
        trace = trace_groups(ds, variable)
    return write_evidence_page(result, folder, trace=trace, runs=epochs, title=title,
                               jobs=workers)


commands = [classify_command]

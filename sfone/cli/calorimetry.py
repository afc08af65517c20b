"""``sfone calorimetry``: CalR-exact period summaries and treadmill stress-test endpoints."""

from __future__ import annotations

from pathlib import Path

import click

from ._grammar import OutPath, out_option, reading_options, window_option


def read_files(files, reading: dict):
    """Calorimetry files read with the command's reading options, combined over subjects.

    Parameters
    ----------
    files : sequence of pathlib.Path
        Calorimetry files (raw exports or what `sfone convert` wrote).
    reading : dict
        The command's reading options.

    Returns
    -------
    xarray.Dataset
        Calorimetry Dataset over ``(subject, time)``.
    """
    from ..calorimetry import read_many
    from ..io._reading_options import reading_errors, select_session_rois
    from ._grammar import reader_keywords

    with reading_errors(", ".join(map(str, files))):
        ds = read_many(files, **reader_keywords(reading))
    rest = {k: v for k, v in reading.items() if k in ("neuropil_coefficient", "plane",
                                                      "cells_only")}
    return select_session_rois(ds, **rest) if rest else ds


@click.group("calorimetry")
def calorimetry_group() -> None:
    """Indirect calorimetry: period summaries (CalR-exact) and stress tests."""


@calorimetry_group.command("summary")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--session", type=click.Path(path_type=Path, exists=True), default=None,
              help="CalR session CSV (groups, kcal/g, window, light, MRI masses).")
@out_option("Output CSV.")
@window_option("--analysis-window", "Analysis window START END in experiment hours "
               "(inclusive).", deprecated=("--window",), name="window")
@click.option("--light", nargs=2, type=float, default=None, metavar="ON OFF",
              help="Lights on and off on the clock, in hours (minutes as fractions: 6.5 = "
                   "06:30); light when ON <= clock time < OFF. Default: the session's light "
                   "(converted from CalR's convention), else 7 19.")
@click.option("--kcal-per-g", type=float, default=None, help="Diet energy density (kcal/g).")
@click.option("--mask-flagged", is_flag=True, help="Set QC-flagged readings to NaN first.")
@click.option("--light-sensor", is_flag=True,
              help="Light/dark from the cage light sensor instead of the clock (an error if "
                   "the files have no light sensor).")
@reading_options(cells_only=None)
def summary_command(files, session, out, window, light, kcal_per_g, mask_flagged,
                    light_sensor, reading) -> None:
    """Per subject and period (full_day, light, dark) means as CalR computes them."""
    from .._atomic import write_csv
    from ..calorimetry import mask_flagged as mask
    from ..calorimetry import summarize_periods
    from ..io.calorimetry.calr import read_calr_session

    ds = read_files(files, reading)
    if mask_flagged:
        ds = mask(ds)
    calr_session = read_calr_session(session) if session else None
    table = summarize_periods(ds, calr_session, window=window, light=light,
                              diet_kcal_per_g=kcal_per_g, use_light_sensor=light_sensor)
    from ..calorimetry.periods import SUMMARY_COLUMNS

    write_csv(table[[*SUMMARY_COLUMNS, "light_schedule"]], out)
    click.echo(f"wrote {out} ({table['subject'].nunique()} subjects x 3 periods; "
               f"{table['light_schedule'].iloc[0]})")


@calorimetry_group.command("stress-test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--protocol", "protocol_path", required=True,
              help="Stress-test protocol: a YAML path or a shipped protocol's name "
                   "(e.g. stress_test; see `sfone protocols`).")
@out_option("Endpoint table CSV (one row per subject).")
@click.option("--stages", type=OutPath(path_type=Path), default=None,
              help="Also write per-stage VO2/VCO2/RER/fuel oxidation to this CSV.")
@click.option("--compare", type=OutPath(path_type=Path), default=None,
              help="Also write group comparisons of the endpoints to this CSV (Mann-Whitney U, "
                   "the test `sfone reproduce` uses; the test column names it); every group "
                   "needs at least 2 subjects.")
@reading_options(cells_only=None)
def stress_test_command(files, protocol_path, out, stages, compare, reading) -> None:
    """VO2max, RER crossover, time/distance to exhaustion, max speed and work per subject."""
    from .._atomic import write_csv
    from ..calorimetry.stress import (
        GROUP_TEST,
        compare_groups,
        stage_summary,
        stress_test_endpoints,
    )
    from ..exceptions import ProtocolError
    from ..protocols import StressTestProtocol, load_protocol

    protocol = load_protocol(protocol_path)
    if not isinstance(protocol, StressTestProtocol):
        raise ProtocolError(f"{protocol_path}: kind is {protocol.kind!r}, expected 'stress_test'")
    ds = read_files(files, reading)
    table = stress_test_endpoints(ds, protocol)
    if compare is not None:
        _check_comparable(table)
    write_csv(table, out)
    if stages is not None:
        write_csv(stage_summary(ds, protocol), stages)
    if compare is not None:
        endpoints = ["vo2max_ml_kg_h", "crossover_speed_m_min", "crossover_time_s",
                     "brooks_mercier_speed_m_min", "brooks_mercier_time_s",
                     "time_to_exhaustion_s", "distance_m", "max_speed_m_min", "work_j"]
        write_csv(_without_single_subject_tests(compare_groups(table, endpoints), table),
                  compare)
        click.echo(f"wrote {compare} (group tests: {GROUP_TEST}; Kruskal-Wallis and Holm-"
                   "adjusted pairs for more than two groups)")
    click.echo(f"wrote {out} ({len(table)} subjects)")


def _check_comparable(table) -> None:
    """Refuse group tests between fewer than two groups."""
    from ..exceptions import SchemaError

    sizes = table.groupby("group")["subject"].nunique()
    if sizes.size < 2:
        raise SchemaError(f"--compare needs subjects of at least two groups; found "
                          f"{', '.join(f'{g!r}' for g in sizes.index) or 'no group'}")


def _without_single_subject_tests(comparisons, table):
    """NaN (with a warning) for tests where a group has one value: a rank test's p is then
    1.0 whatever the data (Mann-Whitney's smallest two-sided p is 2 / C(n + m, n))."""
    import numpy as np

    skipped = []
    for index, row in comparisons.iterrows():
        counts = table.groupby("group")[row["endpoint"]].count()
        groups = list(counts.index) if row["comparison"] == "all" else [
            g for g in counts.index if str(g) in str(row["comparison"]).split(" vs ")]
        single = [str(g) for g in groups if counts[g] < 2]
        if single and np.isfinite(row["p"]):
            comparisons.loc[index, ["statistic", "p"]] = np.nan
            comparisons.loc[index, "test"] = (f"none (one value in group {', '.join(single)}: "
                                              "a rank test's p is 1.0 whatever the data)")
            skipped.append(f"{row['endpoint']} ({', '.join(single)})")
    if skipped:
        click.echo(f"warning: --compare: p and statistic left empty for {len(skipped)} "
                   f"test(s) with one subject in a group: {'; '.join(skipped)}; a rank test "
                   "needs at least 2 subjects per group (with 1 its p is 1.0 whatever the data)",
                   err=True)
    return comparisons


@calorimetry_group.command("ancova")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--session", type=click.Path(path_type=Path, exists=True), default=None,
              help="CalR session CSV (groups, window, light, MRI masses).")
@click.option("--response", default="ee_kcal_h", show_default=True,
              help="Summary column to analyse (ee_kcal_h, vo2_ml_h, food_kcal_h ...).")
@click.option("--covariate", default="total_mass", show_default=True,
              help="total_mass (session MRI or file body mass), lean_mass or fat_mass.")
@out_option("Adjusted means and tests per period and group (CSV).")
@click.option("--pairwise", type=OutPath(path_type=Path), default=None,
              help="Also write pairwise differences of adjusted means (Holm) to this CSV.")
@reading_options(cells_only=None)
def ancova_command(files, session, response, covariate, out, pairwise, reading) -> None:
    """ANCOVA of a period summary on group with body mass as covariate (interaction first)."""
    import pandas as pd

    from .._atomic import write_csv
    from ..calorimetry import ancova_periods, summarize_periods

    summary = summarize_periods(read_files(files, reading), session)
    results = ancova_periods(summary, response=response, covariate=covariate)
    means, pairs = [], []
    for period, result in results.items():
        tests = {"period": period, "response": response, "covariate": covariate,
                 "covariate_mean": result.covariate_mean, "p_interaction": result.p_interaction,
                 "slopes_homogeneous": result.slopes_homogeneous, "model": result.model,
                 "p_group": result.p_group, "p_group_test": result.p_group_test,
                 "p_covariate": result.p_covariate}
        means.append(result.adjusted_means.assign(**tests))
        pairs.append(result.pairwise.assign(period=period, response=response))
    write_csv(pd.concat(means), out)
    if pairwise is not None:
        write_csv(pd.concat(pairs), pairwise)
    click.echo(f"wrote {out} ({len(results)} periods)")


commands = [calorimetry_group]

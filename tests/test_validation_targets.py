"""Issue 26's targets on a small fixed subset of the validation grid, with sfone's defaults.

The sessions come from the independent generator (validation/generator.py), are written as
suite2p folders (or photometry CSVs), read with ``sfone.read`` and labelled by
``label_responses(ds, runs.csv)`` with no other argument. The full grid, with 4,000 null
p-values per cell, is ``make validate`` (docs/validation.md); here the calibration targets are
asserted on the point estimates of 400 null p-values (two all-null sessions) or 30 one-channel
sessions.
"""

from __future__ import annotations

import functools

import pytest

from validation import oracle
from validation.harness import TARGETS, Cell, calibration_cell, run_session, summarise

ISSUE_26 = "issue 26 (open): the default classifier of 2026-12-08"
XFAIL = {  # the measured numbers are these tests' own sessions (2026-12-08)
    "power": pytest.mark.xfail(strict=True, reason=(
        f"{ISSUE_26}: with bursty spiking + log-rate OU x2 0.64 and x0.25 0.73 pass the 0.6 "
        "targets but x0.25 is 0.74 of the count oracle's (target 0.85) and no transient after "
        "a single run is found; with every nuisance x2 0.55, x0.25 0.41 (target 0.5)")),
    "transient": pytest.mark.xfail(strict=True, reason=(
        f"{ISSUE_26} finds no transient response after a single run (0.00; its glm fits "
        "the transient term only with 3 or more runs); the count oracle finds 0.62")),
    "bleaching": pytest.mark.xfail(strict=True, reason=(
        f"{ISSUE_26}: with bleaching (10-20 %, tau 20-60 min) 6/91 null ROIs labelled, FDP "
        "0.12 (seed 7); on all-null bleaching sessions P(p < .05) 0.079, P(p < .01) 0.036 "
        "(800 null ROIs, 4 sessions): the false labels of a session share one direction")),
    "photometry": pytest.mark.xfail(strict=True, reason=(
        f"{ISSUE_26}: one dF/F channel a session, all null, 1 % OU drift: 3/30 labelled "
        "(target 5 %; 2 % residual bleaching now passes, 1/30)")),
}

CELLS = {
    "single-clean": Cell("single", "clean", 10.0, seeds=(7,), n_rois=150),
    "single-bursty": Cell("single", "bursty", 10.0, seeds=(7,), n_rois=150),
    "single-all-nuisances": Cell("single", "all", 10.0, seeds=(7,), n_rois=150),
    "five-short-runs-clean": Cell("five_short", "clean", 10.0, seeds=(7,), n_rois=150),
    "eight-short-runs-clean": Cell("eight_short", "clean", 10.0, seeds=(7,), n_rois=150),
    "single-bleaching": Cell("single", "bleaching", 10.0, seeds=(7,), n_rois=150),
    "single-neuropil-step": Cell("single", "neuropil_step", 10.0, seeds=(7,), n_rois=150),
    # bleaching while the neuropil fluctuates: 29 % of null ROIs labelled before the
    # population bleaching term
    "single-bleaching-neuropil": Cell("single", "bleaching_neuropil", 10.0, seeds=(7,),
                                      n_rois=150),
    "all-null-neucoeff-1": calibration_cell(Cell("single", "neucoeff_1", 10.0, n_rois=150), 1),
    "photometry-five-short-clean": Cell("five_short", "clean", 20.0, kind="photometry",
                                        seeds=(7,)),
    "photometry-one-channel-residual-bleaching": calibration_cell(
        Cell("single", "residual_bleaching", 20.0, kind="photometry", n_channels=1, n_rois=10),
        30),
    "photometry-one-channel-drift": calibration_cell(
        Cell("single", "dff_drift", 20.0, kind="photometry", n_channels=1, n_rois=10), 30),
}
#: the cells with a power target (issue 26: clean cells, single run with bursty spiking and with
#: every nuisance; the oracle ratio in clean and bursty cells)
POWER_CELLS = ["single-clean", "single-bursty", "single-all-nuisances", "five-short-runs-clean",
               "eight-short-runs-clean", "photometry-five-short-clean"]
#: all-null sessions (2 x 200 ROIs) for the P(p < a) targets
CALIBRATION = {name: calibration_cell(Cell("single", nuisance, 10.0), 2)
               for name, nuisance in (("single-clean", "clean"), ("single-bursty", "bursty"),
                                      ("single-drift", "drift"))}
#: (target, cell) pairs today's default classifier fails (measured; docs/validation.md)
FAILS_TODAY = {
    ("power", "single-bursty"): "power", ("power", "single-all-nuisances"): "power",
    ("power", "single-clean"): "transient",
    ("null", "single-bleaching"): "bleaching", ("fdp", "single-bleaching"): "bleaching",
    ("null", "photometry-one-channel-drift"): "photometry",
}


@functools.cache
def _measured(name: str, calibration: bool = False) -> dict:
    cell = (CALIBRATION if calibration else CELLS)[name]
    results = [run_session(cell, seed, [("default", {})]) for seed in cell.seeds]
    (row,) = summarise(results, oracle.load_table())
    assert not row["errors"], row["errors"]
    return row


def _cases(target, names):
    return [pytest.param(name, id=name,
                         marks=[XFAIL[FAILS_TODAY[(target, name)]]]
                         if (target, name) in FAILS_TODAY else [])
            for name in names]


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases("null", CELLS))
def test_null_rois_rarely_labelled(name):
    row = _measured(name)
    cell = CELLS[name]
    assert row["n_null"] >= (10 if cell.kind == "photometry" else 90)
    assert row["null_frac"] <= TARGETS["null_labelled_max"], (
        f"{row['null_labelled']}/{row['n_null']} null ROIs labelled, CI {row['null_ci']}")


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases("fdp", [n for n in CELLS if not CELLS[n].all_null]))
def test_false_discovery_proportion_at_most_q(name):
    row = _measured(name)  # one session: its FDP is the mean per-session FDP
    assert row["mean_fdp"] <= TARGETS["q"], (
        f"FDP {row['mean_fdp']:.3f} of {row['n_labelled']} labels")


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases("power", POWER_CELLS))
def test_power(name):
    row = _measured(name)
    checks = {k: v for k, v in row["checks"].items() if k.startswith("power") or "oracle" in k}
    assert checks, row
    if CELLS[name].kind == "imaging" and CELLS[name].nuisance in oracle.ACTIVITIES:
        assert row["oracle"] is not None, "validation/results/oracle.json is missing"
    failed = {k: v for k, v in checks.items() if v[2] is False}
    assert not failed, f"power below target (value, target): {failed}"


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases("calibration", CALIBRATION))
def test_null_p_values_calibrated(name):
    cal = _measured(name, calibration=True)["cal"]
    assert cal["n_p"] == 400
    for a, frac in zip((0.05, 0.01), cal["p_frac"][:2], strict=True):
        assert frac <= TARGETS["p_max"][a], f"P(p < {a}) = {frac:.4f} over 400 null ROIs"

"""Render the harness's summary rows as ``docs/validation.md`` (written atomically)."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from pathlib import Path

from .generator import DESIGNS, DFF_DRIFT_SD, DFF_DRIFT_TAU_S, RESIDUAL_BLEACH
from .harness import (
    ALPHAS,
    CALIBRATION_SESSIONS,
    MIN_NULL_FOR_PASS,
    ONE_CHANNEL_SESSIONS,
    PHOTOMETRY_CALIBRATION_SESSIONS,
    PHOTOMETRY_EXTRA_SEEDS,
    TARGETS,
    VARIANT_CALIBRATION_SESSIONS,
    nuisance_description,
)

__all__ = ["render", "write_report", "provenance", "save_json", "record_timing"]

#: JSON layout of a run: 2 = issue 26's (calibration parts, oracle, per-session FDP)
FORMAT = 2
TIMINGS = Path(__file__).resolve().parent / "results" / "timings.json"


def provenance(root: Path) -> dict:
    """sfone version and the git commit (``+dirty`` when the work tree has changes)."""
    import sfone

    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", "sfone"):
        commit += "+dirty(sfone/)"
    return {"sfone_version": sfone.__version__, "commit": commit,
            "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "python": platform.python_version(), "machine": platform.machine()}


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pct(x, digits: int = 1) -> str:
    return "" if _nan(x) else f"{100 * x:.{digits}f}%"


def _num(x) -> str:
    return "" if _nan(x) else f"{x:.2f}"


def _verdict(row, only=None) -> str:
    """``pass``, ``FAIL: ...`` and/or ``not judged: ...`` over the checks named in ``only``."""
    checks = {k: v for k, v in row["checks"].items() if only is None or only(k)}
    failed = [name for name, (_, _, ok) in checks.items() if ok is False]
    open_ = [name for name, (_, _, ok) in checks.items() if ok is None]
    text = "FAIL: " + ", ".join(failed) if failed else "**pass**"
    return text + (f" (not judged, too few null p-values: {', '.join(open_)})" if open_ else "")


def _passes(row) -> bool:
    return not row["errors"] and all(ok is not False for _, _, ok in row["checks"].values())


def _is_power(name: str) -> bool:
    return name.startswith("power") or "oracle" in name


def _calibration(row, digits: int = 2) -> list[str]:
    """P(p<a) cells (with the count of null p-values) and the all-null sessions labelled."""
    cal = row.get("cal")
    if not cal:
        return ["", "", "", "", ""]
    if not cal["n_p"]:
        ps = ["no p-value"] * 3
    else:
        ps = [_pct(f, digits) for f in cal["p_frac"]]
    return [*ps, str(cal["n_p"]), f"{cal['sessions_labelled']}/{cal['n_sessions']}"]


def _power(row, key: str) -> str:
    value = _num(row[f"power_{key}"])
    oracle = (row.get("oracle") or {}).get(key)
    if oracle is None or not value:
        return value
    ratio = row["ratio"][key]
    return f"{value} ({oracle:.2f}, {'' if _nan(ratio) else f'{ratio:.3f}'})"


def calibration_table(rows: list[dict]) -> str:
    """Default settings, every cell: error rates on null ROIs and on all-null sessions."""
    head = ("| cell | null labelled (95% CI) | n null | P(p<.05) | P(p<.01) | P(p<.001) "
            "| n null p | all-null sessions labelled | FDP pooled | mean FDP | verdict |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if r["variant"] != "default":
            continue
        if r["errors"]:
            lines.append(f"| {r['cell']} | error: {r['errors'][0][:120]} |" + " |" * 8
                         + " FAIL: ran |")
            continue
        lo, hi = r["null_ci"]
        fdp = "" if r["all_null"] else _pct(r["fdp"])
        lines.append(f"| {r['cell']} | {_pct(r['null_frac'])} ({_pct(lo)}-{_pct(hi)}) "
                     f"| {r['n_null']} | " + " | ".join(_calibration(r)) + f" | {fdp} "
                     f"| {_pct(r['mean_fdp'])} | {_verdict(r, lambda k: not _is_power(k))} |")
    return head + "\n".join(lines) + "\n"


def power_table(rows: list[dict]) -> str:
    """Default settings, mixed cells: power, (oracle, ratio) and the power verdict."""
    head = ("| cell | power x2 (oracle, ratio) | power x0.25 (oracle, ratio) "
            "| power transient (oracle, ratio) | verdict |\n|---|---|---|---|---|\n")
    lines = [f"| {r['cell']} | {_power(r, 'x2')} | {_power(r, 'x025')} "
             f"| {_power(r, 'transient')} | {_verdict(r, _is_power)} |"
             for r in rows if r["variant"] == "default" and not r["all_null"] and not r["errors"]]
    return head + "\n".join(lines) + "\n"


def table(rows: list[dict]) -> str:
    """The full markdown table, one line per (cell, method variant)."""
    head = ("| cell | method | null labelled | P(p<.05) / P(p<.01) / P(p<.001) (n) "
            "| all-null sessions labelled | mean FDP | power x2 | power x0.25 | power transient "
            "| verdict |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if r["errors"]:
            lines.append(f"| {r['cell']} | {r['variant']} | error: {r['errors'][0][:120]} "
                         "| | | | | | | FAIL: ran |")
            continue
        cal = _calibration(r)
        ps = " / ".join(cal[:3]) + f" ({cal[3]})" if r.get("cal") else ""
        lines.append(
            f"| {r['cell']} | {r['variant']} | {_pct(r['null_frac'])} | {ps} | {cal[4]} "
            f"| {_pct(r['mean_fdp'])} | {_num(r['power_x2'])} | {_num(r['power_x025'])} "
            f"| {_num(r['power_transient'])} | {_verdict(r)} |")
    return head + "\n".join(lines) + "\n"


def _summary(rows: list[dict]) -> str:
    default = [r for r in rows if r["variant"] == "default"]
    passed = sum(_passes(r) for r in default)
    out = [f"Default settings: **{passed} of {len(default)} cells pass every target** they are "
           "judged on.", ""]
    by_variant: dict = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r)
    out.append("| method | cells passing | null labelled, pooled | worst cell null labelled "
               "| P(p<.05) pooled over all-null sessions |")
    out.append("|---|---|---|---|---|")
    for name, rs in by_variant.items():
        ok = sum(_passes(r) for r in rs)
        good = [r for r in rs if not r["errors"]]
        n_null = sum(r["n_null"] for r in good)
        k = sum(r["null_labelled"] for r in good)
        worst = max((r["null_frac"] for r in good if r["n_null"]), default=None)
        cals = [r["cal"] for r in good if r.get("cal") and r["cal"]["n_p"]]
        n_p = sum(c["n_p"] for c in cals)
        p05 = sum(c["p_below"][0] for c in cals) / n_p if n_p else None
        out.append(f"| {name} | {ok}/{len(rs)} | {_pct(k / n_null if n_null else None)} "
                   f"| {_pct(worst)} | {_pct(p05)} |")
    return "\n".join(out) + "\n"


def _warnings(rows: list[dict]) -> str:
    seen: dict = {}
    for r in rows:
        for w in r["warnings"]:
            seen.setdefault(w, set()).add(r["design"])
    if not seen:
        return "None.\n"
    return "\n".join(f"- {w} ({', '.join(sorted(d))})" for w, d in sorted(seen.items())) + "\n"


def raw_pair_verdict(raw: dict) -> bool:
    """Pass: raw channels refused with a pointer to ``sfone photometry dff``, or the isosbestic
    control not classified and the signal labelled as its dF/F truth."""
    if "error" in raw:
        return "photometry dff" in raw["error"]
    labels = raw.get("labels", {})
    return "isosbestic" not in labels and labels.get("signal") == raw.get("signal_expected")


def _raw_table(run: dict) -> str:
    raws = run.get("raw_pairs", [])
    if not raws:
        return "Not run in this mode.\n"
    lines = ["| session | outcome | signal truth | verdict |", "|---|---|---|---|"]
    for r in raws:
        raw = r["raw"]
        outcome = raw.get("error") or ", ".join(f"{k}: {v}" for k, v in raw["labels"].items())
        lines.append(f"| {r['cell']} seed {r['seed']} | {outcome[:160]} "
                     f"| {raw.get('signal_expected', '')} "
                     f"| {'**pass**' if raw_pair_verdict(raw) else 'FAIL'} |")
    return "\n".join(lines) + "\n"


#: the rows of issue 26's table (10 Hz imaging, default settings)
_ISSUE_ROWS = (
    ("single run, Poisson (ideal)", "single", "clean"),
    ("single run, bursty spiking + log-rate OU (SD 0.5, tau 60 s)", "single", "bursty"),
    ("single run, slow drift (OU tau 300 s, 1% F0)", "single", "drift"),
    ("single run, every nuisance", "single", "all"),
    ("5 x 90 s runs, transient, every nuisance", "five_short", "all"),
    ("8 x 60 s runs, persistent, every nuisance", "eight_short", "all"),
)


def issue_table(rows: list[dict]) -> str:
    """Issue 26's table (10 Hz, default settings) from this run's rows."""
    lines = ["| design / activity | null labelled | null p<.05 (all-null) "
             "| all-null sessions labelled | mean FDP | power x2 | power x0.25 "
             "| power transient | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for text, design, nuisance in _ISSUE_ROWS:
        match = [r for r in rows if r["design"] == design and r["nuisance"] == nuisance
                 and r["fs"] == 10.0 and r["variant"] == "default" and r["kind"] == "imaging"]
        if not match:
            continue
        r = match[0]
        if r["errors"]:
            lines.append(f"| {text} | error: {r['errors'][0][:100]} | | | | | | | FAIL |")
            continue
        cal = _calibration(r)
        lines.append(f"| {text} | {_pct(r['null_frac'])} | {cal[0]} | {cal[4]} "
                     f"| {_pct(r['mean_fdp'])} | {_power(r, 'x2')} | {_power(r, 'x025')} "
                     f"| {_power(r, 'transient')} | {_verdict(r)} |")
    return "\n".join(lines) + "\n"


def _timings() -> str:
    """The last measured time of each mode (``validation/results/timings.json``)."""
    if not TIMINGS.exists():
        return "no run timed yet"
    runs = json.loads(TIMINGS.read_text())
    parts = []
    for mode in ("full", "quick"):
        last = [t for t in runs if t["mode"] == mode]
        if last:
            t = last[-1]
            parts.append(f"{mode}: {t['elapsed_s'] / 60:.1f} min with {_processes(t['n_jobs'])} "
                         f"({t['date']}, load average {t.get('load', '?')})")
    return "; ".join(parts)


def _processes(n: int) -> str:
    return f"{n} process" + ("es" if n != 1 else "")


def record_timing(run: dict) -> None:
    """Append this run's mode and elapsed time to ``validation/results/timings.json``."""
    import os

    runs = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else []
    load = round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None
    runs.append({"mode": run["mode"], "elapsed_s": run["elapsed_s"], "n_jobs": run["n_jobs"],
                 "date": run["date"], "load": load, "command": run["command"]})
    save_json(TIMINGS, runs[-20:])


def _oracle_section(run: dict) -> str:
    from .oracle import render_table

    table = run.get("oracle")
    if not table:
        return ("Not available in this run (`python -m validation.oracle` computes it; the "
                "harness reads `validation/results/oracle.json`).\n")
    return render_table(table)


def _header(run: dict) -> str:
    p = run["provenance"]
    return f"""# Validation of the post-run classifier (issues 14 and 26)

This file is written by `{run['command']}`; do not edit it by hand.
Generated {run['date']} in {run['elapsed_s'] / 60:.1f} min with {_processes(run['n_jobs'])},
sfone {p['sfone_version']}, commit `{p['commit']}` (branch `{p['branch']}`), Python {p['python']}.
Measured run times: {_timings()}.
Mode: {run['mode']}; seeds {run['seeds']} (the default settings on every seed, the other
methods on the first); {run['n_rois']} ROIs per mixed imaging session (60 % null, 15 %
activated x2, 15 % inhibited x0.25, 10 % transient) and, per cell, all-null sessions of 200
ROIs ({run.get('calibration_sessions', CALIBRATION_SESSIONS)} in this run, {run.get('calibration_sessions', CALIBRATION_SESSIONS) * 200:,} null p-values; the
default {CALIBRATION_SESSIONS} give the 4,000 that the far-tail checks need; the other methods on the
first {VARIANT_CALIBRATION_SESSIONS}); 40 photometry dF/F channels per photometry session (a
quarter of each kind, each the mean calcium of 10 cells of that kind plus noise; the full
grid adds the seeds {list(PHOTOMETRY_EXTRA_SEEDS)} and {PHOTOMETRY_CALIBRATION_SESSIONS}
all-null sessions of 40 channels), and {ONE_CHANNEL_SESSIONS} all-null sessions of one dF/F
channel per one-channel cell.

Regenerate: `make validate` (full grid, 20 all-null sessions per cell: 2-3 h on 2 free
cores; `VALIDATE_ARGS="--default-only --calibration-sessions 4"` for about an hour) or
`make validate VALIDATE_ARGS=--quick` (3 designs x {{clean, all}} at 10 Hz, 3 all-null
sessions each, 40 one-channel photometry sessions); `python -m validation --render-only`
rewrites this file from `validation/results/latest.json`. The oracle is read from
`validation/results/oracle.json` (`python -m validation.oracle --force` recomputes it, about
10 min; `python -m validation --recompute-oracle` too). The "before" section comes from
`validation/results/before_main.json` (written with `--save-as-before`). A fixed subset is
asserted in `make test` (`tests/test_validation_targets.py`, `tests/test_validation_oracle.py`,
`tests/test_validation_suite2p.py`).
"""


def _method(run: dict) -> str:
    designs = "\n".join(
        f"| `{d.name}` | {d.pre_s:g} s rest, {d.n_runs} x {d.run_s:g} s run"
        f"{f', {d.rest_s:g} s rests' if d.n_runs > 1 else ''}, {d.post_s:g} s after "
        f"| {d.response} |" for d in DESIGNS.values())
    nuisances = "\n".join(f"| `{k}` | {', '.join(v)} |" for k, v in nuisance_description().items())
    t = TARGETS
    p_max = ", ".join(f"P(p<{a:g}) <= {t['p_max'][a]:g}" for a in ALPHAS)
    n_min = ", ".join(f"{MIN_NULL_FOR_PASS[a]:,} for {a:g}" for a in ALPHAS)
    return f"""## What is measured

The sessions come from `validation/generator.py`, written for this purpose without reading
sfone's simulator or classifier. Each imaging session is a suite2p output folder
(`F.npy`, `Fneu.npy`, `spks.npy`, `iscell.npy`, `stat.npy`, `ops.npy` with `fs` and
`neucoeff`) plus `runs.csv`; it is read with `sfone.read` and labelled with
`label_responses(ds, "runs.csv")` and **no other argument** (the `default` rows: what
`sfone classify PATH --runs runs.csv` does), then with every other `--method` / `--null` choice
of the CLI. Photometry sessions are a CSV of dF/F channels on the frame clock. Only the
public result is read: `label`, `p_value`, `q_value`.

Every cell has a **mixed** part (the seeds above) and an **all-null** part (no responder):

- **null labelled**: null ROIs of the mixed sessions given `activated` or `inhibited`, Wilson
  95 % interval (cells that are all null: over their all-null sessions);
- **P(p<a)**: the fraction of the `p_value`s of every ROI of the all-null sessions below a;
  **n null p** is their number; **all-null sessions labelled**: sessions with any label;
- **FDP pooled**: wrong labels (a null ROI labelled, or the wrong direction) / all labels of
  the mixed sessions; **mean FDP**: the mean over mixed sessions of each session's FDP (0
  without a label), the false-discovery rate BH controls;
- **power x2 / x0.25 / transient**: activated ROIs labelled activated, inhibited labelled
  inhibited, transient ROIs (x2 decaying with tau 60 s after every run) labelled activated;
  in brackets the count oracle's power with BH (combined statistic, below) and the ratio.

Targets (issue 26; they replace issue 14's): every cell: null labelled <=
{t['null_labelled_max']:.0%}; {p_max} on all-null sessions; mean per-session FDP <= q =
{t['q']:g}; at most {t['any_label_max']:.0%} of all-null sessions with any label. Power >=
{t['oracle_ratio_min']} x the oracle's in the cells the oracle sees whole (clean and bursty
activity, every design; the oracle is computed at 10 Hz and applies to the clean cells at 5 and
20 Hz too), and at least {t['power_clean_min']} for x2 and x0.25 in clean cells (imaging and
photometry), {t['power_single_bursty_min']} for x2 and x0.25 with bursty spiking alone in the
single-run design, {t['power_single_all_min']} for both with every nuisance there. A P(p<a)
target passes only with enough null p-values to tell the nominal rate from the limit
({n_min}); with fewer it is "not judged" unless its 95 % interval lies above the limit
(FAIL). A cell passes when no target fails.

| design | schedule | activated / inhibited response |
|---|---|---|
{designs}

`sustained`: rate x gain from the run end (several runs: in each post-run rest); `decaying`:
log-gain x exp(-(t - last run end) / 60 s); `persisting`: from the first run end on.

| nuisance | switches |
|---|---|
{nuisances}

Nuisance values: bursty = bursts of 1 + geometric(0.5) spikes 10-30 ms apart; rate modulation
= OU log-rate, SD 0.5, tau 60 s; bleaching = 10-20 % lost over the session, tau 20-60 min;
drift = OU, tau 300 s, SD 1 % of F0; neuropil = shared, slow (tau 120 s, 5 %) and fast (tau 1 s,
3 %) fluctuations, true contamination uniform 0.4-1.0 while `ops.npy` says 0.7 (`neucoeff_1`:
1.0); neuropil step = +5-10 % at the first run end (`neucoeff_1`: +10 %); jitter = frame times
with SD 10 % of the period and a clock 0-0.05 % off the nominal `fs`. Photometry only:
residual bleaching = every dF/F channel falls by {RESIDUAL_BLEACH:g} dF/F (2 % of F0) over the
session along an exponential of tau 20-60 min (what an imperfect bleaching fit leaves); dF/F
drift = OU of SD {DFF_DRIFT_SD:g} dF/F (1 % of F0, as the imaging drift) and tau
{DFF_DRIFT_TAU_S:g} s. Always on: GCaMP-like kernels (rise 50-100 ms, decay 0.4-1.5 s),
per-frame noise 0.3-1.2x the spike amplitude, baseline rates 0.2-1 Hz.
"""


def render(run: dict, before: dict | None = None) -> str:
    """Markdown of one harness run (``run`` as saved in the JSON) and, optionally, a before run."""
    rows = run["rows"]
    text = f"""{_header(run)}
{_method(run)}
## Summary

{_summary(rows)}
Issue 26's table, rerun by this harness (10 Hz, default settings; power with the oracle's
and the ratio in brackets; the real-suite2p row is `tests/test_validation_suite2p.py`):

{issue_table(rows)}
## Calibration (default settings)

{calibration_table(rows)}
## Power against the oracle (default settings)

{power_table(rows)}
## The oracle

{_oracle_section(run)}
## Every method

{table(rows)}
## Raw photometry channels (signal / isosbestic pair, default settings)

Target (issue 14): refuse raw channels with an error naming `sfone photometry dff`, or classify
a corrected signal, and never classify the isosbestic control as a "cell".

{_raw_table(run)}
## Warnings the classifier gave

{_warnings(rows)}"""
    if before:
        text += _before(before)
    from .fractions import section  # issue 27's section, from its own run (fractions.json)

    return text.rstrip("\n") + "\n\n" + section()


def _before(before: dict) -> str:
    b = before["provenance"]
    head = f"""
## Before: the classifier at commit `{b['commit']}`

Generated {before['date']} by `{before['command']}` (mode {before['mode']}, seeds
{before['seeds']}).
"""
    if before.get("format", 1) >= FORMAT:
        return head + f"\n{_summary(before['rows'])}\n{issue_table(before['rows'])}\n"
    # an issue-14 run: no all-null parts, no oracle; its own verdicts (issue 14's targets)
    return head + ("Measured by issue 14's harness, with its targets (null labelled <= 5 %, "
                   "pooled FDP <= 10 %, power x2 >= 0.8 clean / 0.7 with a nuisance):\n\n"
                   + legacy_table(before["rows"]) + "\nRaw photometry channels:\n\n"
                   + _raw_table(before))


def legacy_table(rows: list[dict]) -> str:
    """An issue-14 run's rows (default settings) with their stored verdicts."""
    head = ("| cell | null labelled (95% CI) | n null | FDP | power x2 | power x0.25 "
            "| power transient | verdict (issue 14) |\n|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if r["variant"] != "default":
            continue
        if r["errors"]:
            lines.append(f"| {r['cell']} | error: {r['errors'][0][:120]} | | | | | | FAIL |")
            continue
        lo, hi = r["null_ci"]
        failed = [k for k, (_, _, ok) in r["checks"].items() if not ok]
        lines.append(f"| {r['cell']} | {_pct(r['null_frac'])} ({_pct(lo)}-{_pct(hi)}) "
                     f"| {r['n_null']} | {_pct(r['fdp'])} | {_num(r['power_x2'])} "
                     f"| {_num(r['power_x025'])} | {_num(r['power_transient'])} "
                     f"| {'FAIL: ' + ', '.join(failed) if failed else 'pass'} |")
    return head + "\n".join(lines) + "\n"


def write_report(path, run: dict, before: dict | None = None) -> None:
    from sfone._atomic import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(render(run, before))


def save_json(path, run) -> None:
    from sfone._atomic import atomic_path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(run, indent=1, default=str))


#: the cells of docs/classification.md's method table (10 Hz imaging, every design, clean,
#: bursty and all nuisances)
METHOD_TABLE_CELLS = [f"imaging {d} {n} 10 Hz" for d in ("single", "five_short", "eight_short")
                      for n in ("clean", "bursty", "all")]
METHODS_START = "<!-- methods-table:start (written by python -m validation) -->"
METHODS_END = "<!-- methods-table:end -->"


def methods_table(run: dict) -> str:
    """Every method variant's null labelled / P(p<.05) on all-null sessions / mean FDP /
    power x2 / power x0.25 in the key cells, and its count of cells passing every target."""
    rows = run["rows"]
    passing: dict = {}
    for r in rows:
        passing.setdefault(r["variant"], [0, 0])
        passing[r["variant"]][1] += 1
        passing[r["variant"]][0] += _passes(r)
    head = ("| method | cells passing | " + " | ".join(c.replace("imaging ", "").replace(" 10 Hz", "")
                                                     for c in METHOD_TABLE_CELLS) + " |\n"
            + "|---|---|" + "---|" * len(METHOD_TABLE_CELLS) + "\n")
    lines = []
    for variant, (ok, total) in passing.items():
        cells = []
        for name in METHOD_TABLE_CELLS:
            match = [r for r in rows if r["cell"] == name and r["variant"] == variant]
            if not match or match[0]["errors"]:
                cells.append("error" if match else "")
                continue
            r = match[0]
            p05 = _calibration(r)[0] or "-"
            cells.append(f"{_pct(r['null_frac'])} / {p05} / {_pct(r['mean_fdp'])} / "
                         f"{_num(r['power_x2'])} / {_num(r['power_x025'])}")
        lines.append(f"| {variant} | {ok}/{total} | " + " | ".join(cells) + " |")
    note = (f"\nEach cell: null labelled / P(p<.05) on all-null sessions / mean FDP / power x2 / "
            f"power x0.25 (`{run['command']}`, {run['date']}, seeds {run['seeds']}: the "
            "default on every seed, the others on the first and on the first "
            f"{VARIANT_CALIBRATION_SESSIONS} all-null sessions; the `null=` rows are the default "
            "method with that option, which the glm ignores).\n")
    return head + "\n".join(lines) + "\n" + note


def update_methods_doc(path, run: dict) -> bool:
    """Rewrite the marked method table of ``path`` (docs/classification.md), atomically;
    False when the file has no markers."""
    from sfone._atomic import atomic_path

    path = Path(path)
    text = path.read_text()
    if METHODS_START not in text or METHODS_END not in text:
        return False
    before, rest = text.split(METHODS_START, 1)
    _, after = rest.split(METHODS_END, 1)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(before + METHODS_START + "\n" + methods_table(run) + METHODS_END
                             + after)
    return True

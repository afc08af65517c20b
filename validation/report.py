"""Render the harness's summary rows as ``docs/validation.md`` (written atomically)."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from pathlib import Path

from .generator import DESIGNS
from .harness import PHOTOMETRY_EXTRA_SEEDS, TARGETS, nuisance_description

__all__ = ["render", "write_report", "provenance"]


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


def _pct(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _num(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _verdict(row) -> str:
    failed = [name for name, (_, _, ok) in row["checks"].items() if not ok]
    return "**pass**" if not failed else "FAIL: " + ", ".join(failed)


def table(rows: list[dict]) -> str:
    """The full markdown table, one line per (cell, method variant)."""
    head = ("| cell | method | null labelled (95% CI) | n null | FDP | power x2 | power x0.25 "
            "| power transient | verdict |\n|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if r["errors"]:
            lines.append(f"| {r['cell']} | {r['variant']} | error: {r['errors'][0][:120]} "
                         "| | | | | | FAIL: ran |")
            continue
        lo, hi = r["null_ci"]
        lines.append(
            f"| {r['cell']} | {r['variant']} | {_pct(r['null_frac'])} ({_pct(lo)}-{_pct(hi)}) "
            f"| {r['n_null']} | {_pct(r['fdp'])} | {_num(r['power_x2'])} | {_num(r['power_x025'])} "
            f"| {_num(r['power_transient'])} | {_verdict(r)} |")
    return head + "\n".join(lines) + "\n"


def _summary(rows: list[dict]) -> str:
    default = [r for r in rows if r["variant"] == "default"]
    passed = sum(1 for r in default if "pass" in _verdict(r))
    out = [f"Default settings: **{passed} of {len(default)} cells pass every target.**", ""]
    by_variant: dict = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r)
    out.append("| method | cells passing | null labelled, pooled | worst cell null labelled |")
    out.append("|---|---|---|---|")
    for name, rs in by_variant.items():
        ok = sum(1 for r in rs if "pass" in _verdict(r))
        n_null = sum(r["n_null"] for r in rs if not r["errors"])
        k = sum(r["null_labelled"] for r in rs if not r["errors"])
        worst = max((r["null_frac"] for r in rs if not r["errors"] and r["n_null"]), default=None)
        out.append(f"| {name} | {ok}/{len(rs)} | {_pct(k / n_null if n_null else None)} "
                   f"| {_pct(worst)} |")
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


_ISSUE_ROWS = (
    ("single run (10 min rest, 20 min run, 40 min post), no nuisance", "single", "clean", False),
    ("same, all nuisances together", "single", "all", False),
    ("5 runs of 90 s, 120 s rests, response decaying with tau 60 s", "five_short", "clean", False),
    ("8 runs of 60 s, 120 s rests, response persisting after the first run", "eight_short",
     "clean", False),
    ("all null, ops.npy says neucoeff 1.0, neuropil rises 10 % after the run", "single",
     "neucoeff_1", True),
    ("10-20 % bleaching, tau 20-60 min (null ROIs of mixed sessions)", "single", "bleaching",
     False),
)


def issue_table(rows: list[dict]) -> str:
    """The issue's table (10 Hz, default settings) from this run's rows."""
    lines = ["| design (10 Hz) | null ROIs given a label | power x2 | power x0.25 | verdict |",
             "|---|---|---|---|---|"]
    for text, design, nuisance, all_null in _ISSUE_ROWS:
        match = [r for r in rows if r["design"] == design and r["nuisance"] == nuisance
                 and r["fs"] == 10.0 and r["variant"] == "default" and r["kind"] == "imaging"
                 and r["all_null"] == all_null]
        if not match:
            continue
        r = match[0]
        if r["errors"]:
            lines.append(f"| {text} | error: {r['errors'][0][:100]} | | | FAIL |")
            continue
        power = ("", "") if all_null else (_num(r["power_x2"]), _num(r["power_x025"]))
        lines.append(f"| {text} | {_pct(r['null_frac'])} | {power[0]} | {power[1]} "
                     f"| {_verdict(r)} |")
    return "\n".join(lines) + "\n"


def render(run: dict, before: dict | None = None) -> str:
    """Markdown of one harness run (``run`` as saved in the JSON) and, optionally, a before run."""
    p = run["provenance"]
    designs = "\n".join(
        f"| `{d.name}` | {d.pre_s:g} s rest, {d.n_runs} x {d.run_s:g} s run"
        f"{f', {d.rest_s:g} s rests' if d.n_runs > 1 else ''}, {d.post_s:g} s after "
        f"| {d.response} |" for d in DESIGNS.values())
    nuisances = "\n".join(f"| `{k}` | {', '.join(v)} |" for k, v in nuisance_description().items())
    text = f"""# Validation of the post-run classifier (issue 14)

This file is written by `{run['command']}`; do not edit it by hand.
Generated {run['date']} in {run['elapsed_s'] / 60:.1f} min with {run['n_jobs']} processes,
sfone {p['sfone_version']}, commit `{p['commit']}` (branch `{p['branch']}`), Python {p['python']}.
Mode: {run['mode']}; seeds {run['seeds']} (the default settings on every seed, the other
methods on the first); {run['n_rois']} ROIs per imaging session (60 % null, 15 % activated x2,
15 % inhibited x0.25, 10 % transient), 40 photometry dF/F channels per photometry session (a
quarter of each kind, each the mean calcium of 10 cells of that kind plus noise); the
photometry cells of the full grid add the seeds {list(PHOTOMETRY_EXTRA_SEEDS)} (10 null channels per
session: two sessions alone would give a 95 % interval of about +-15 points).

Regenerate: `make validate` (full grid, about 15 min on 2 free cores; it took longer on a
loaded machine) or `make validate VALIDATE_ARGS=--quick` (3 designs x {{clean, all}} at 10 Hz);
`python -m validation --render-only` rewrites this file from `validation/results/latest.json`.
The "before" section comes from `validation/results/before_main.json` (written with
`--save-as-before`). A fixed subset is asserted in `make test`
(`tests/test_validation_targets.py`, `tests/test_validation_suite2p.py`).

## What is measured

The sessions come from `validation/generator.py`, written for this purpose without reading
sfone's simulator or classifier. Each imaging session is a suite2p output folder
(`F.npy`, `Fneu.npy`, `spks.npy`, `iscell.npy`, `stat.npy`, `ops.npy` with `fs` and
`neucoeff`) plus `runs.csv`; it is read with `sfone.read` and labelled with
`label_responses(ds, "runs.csv")` and **no other argument** (the `default` rows: what
`sfone classify PATH --runs runs.csv` does), then with every other `--method` / `--null` choice
of the CLI. Photometry sessions are a CSV of dF/F channels on the jittered frame clock.

- **null labelled**: null ROIs (rate unchanged) given any label, Wilson 95 % interval over the
  pooled sessions of the cell;
- **FDP**: labels that are wrong (a null ROI labelled, or the wrong direction) / all labels;
- **power x2 / x0.25 / transient**: activated ROIs labelled activated, inhibited labelled
  inhibited, transient ROIs (x2 decaying with tau 60 s after every run) labelled activated.

Targets (issue 14; a cell passes when every applicable one holds, on the point estimate):
null labelled <= {TARGETS['null_labelled_max']:.0%}; FDP <= {TARGETS['fdp_max']:.0%};
power x2 >= {TARGETS['power_x2_clean']} in clean cells and >= {TARGETS['power_x2_nuisance']} with any
nuisance; in `five_short`, where every response decays with tau 60 s after each run, power x2
and power transient >= {TARGETS['power_transient_five_short']}. Power x0.25 and transient power in
the other designs are reported without a target. All-null cells are judged on null labelled
and FDP only.

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
with SD 10 % of the period and a clock 0-0.05 % off the nominal `fs`. Always on: GCaMP-like
kernels (rise 50-100 ms, decay 0.4-1.5 s), per-frame noise 0.3-1.2x the spike amplitude,
baseline rates 0.2-1 Hz.

## Summary

{_summary(run['rows'])}
The issue's table, rerun by this harness (default settings; the real-suite2p row is
`tests/test_validation_suite2p.py`):

{issue_table(run['rows'])}
## Full table

{table(run['rows'])}
## Raw photometry channels (signal / isosbestic pair, default settings)

Target (issue 14): refuse raw channels with an error naming `sfone photometry dff`, or classify
a corrected signal, and never classify the isosbestic control as a "cell".

{_raw_table(run)}
## Warnings the classifier gave

{_warnings(run['rows'])}"""
    if before:
        b = before["provenance"]
        text += f"""
## Before: main's classifier at commit `{b['commit']}`

Generated {before['date']} by `{before['command']}` (mode {before['mode']}, seeds
{before['seeds']}). This is the classifier the issue describes; the harness reproduces its
failures (null ROIs labelled with nuisances, no power in the multi-run designs).

{_summary(before['rows'])}
{issue_table(before['rows'])}
{table(before['rows'])}
Raw photometry channels:

{_raw_table(before)}"""
    return text


def write_report(path, run: dict, before: dict | None = None) -> None:
    from sfone._atomic import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(render(run, before))


def save_json(path, run: dict) -> None:
    from sfone._atomic import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(run, indent=1, default=str))


#: the cells of docs/classification.md's method table (10 Hz imaging, every design, clean and
#: all nuisances)
METHOD_TABLE_CELLS = [f"imaging {d} {n} 10 Hz" for d in ("single", "five_short", "eight_short")
                      for n in ("clean", "all")]
METHODS_START = "<!-- methods-table:start (written by python -m validation) -->"
METHODS_END = "<!-- methods-table:end -->"


def methods_table(run: dict) -> str:
    """Every method variant's null labelled / FDP / power x2 / power x0.25 in the key cells, and
    its count of cells passing every target."""
    rows = run["rows"]
    passing = {}
    for r in rows:
        passing.setdefault(r["variant"], [0, 0])
        passing[r["variant"]][1] += 1
        passing[r["variant"]][0] += not r["errors"] and all(ok for _, _, ok in r["checks"].values())
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
            cells.append(f"{_pct(r['null_frac'])} / {_pct(r['fdp'])} / {_num(r['power_x2'])} / "
                         f"{_num(r['power_x025'])}")
        lines.append(f"| {variant} | {ok}/{total} | " + " | ".join(cells) + " |")
    note = (f"\nEach cell: null labelled / FDP / power x2 / power x0.25 (`{run['command']}`, "
            f"{run['date']}, seeds {run['seeds']}: the default on every seed, the others on the "
            "first; the `null=` rows are the default method with that option, which the glm "
            "ignores).\n")
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

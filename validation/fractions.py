"""Estimated fractions of responding ROIs on the independent generator (issue 27).

``python -m validation.fractions [--quick] [--jobs N] [--seeds N] [--cohorts N]`` (``make
validate`` runs it after the classifier grid) writes ``validation/results/fractions.json`` and
the "Estimated fractions" section of ``docs/validation.md`` (between its markers, atomically;
``--render-only`` rewrites it from the JSON; ``python -m validation`` keeps it).

Sessions: the ``single`` design (600 s rest, a 1200 s run, 2400 s after) at 10 Hz, 300 ROIs,
written as suite2p folders by :func:`validation.generator.write_session` and read with
``sfone.read``, labelled with sfone's default settings (as the harness does). Pools of
sessions with known fractions (``--seeds`` sessions each, seeds of their own):

* ``clean``, ``bursty`` and ``all`` activity with 30 % activated (x2), 10 % inhibited (x0.25),
  60 % null: bias, RMSE and 95 % interval coverage of the estimate, and the labelled
  fraction's bias for contrast;
* ``bursty`` and ``all`` with 50 % activated, 10 % inhibited, 40 % null (day 8 of cohort a).

Two-day cohorts of ``MICE`` mice (each mouse-day one session) are drawn from the pools, day 1
from one pool and day 8 from another (sessions distinct within a cohort), ``--cohorts`` times:

* (a) day 8 has the larger true fraction (0.3 -> 0.5 activated) but noisier recordings
  (day 1 clean, day 8 bursty or all): power of the mouse-level test on estimates and on
  labelled fractions;
* (b) equal true fractions (0.3) but day 8 cleaner (day 1 bursty or all, day 8 clean): the
  type-I error of both tests (target <= 0.06 on the estimates) and the share of cohorts where
  sfone's sensitivity check fires;
* (c) equal fractions and equal sensitivity (clean on both days): type-I error and how often
  the check fires when it should not.

The tests are sfone's: :func:`sfone.stats.compare_estimated_fractions` (paired t on the
per-mouse estimates, and the check) and :func:`sfone.stats.compare_proportions` (its
headline paired t on per-mouse labelled fractions). Cohorts drawn from pools of ``--seeds``
sessions are conditional on those pools: their rates estimate a cohort's rate with an error
set by the pool size as well as by the number of cohorts.

Per-session results are cached (JSON, keyed by the settings and the source of
``sfone/classify`` and the generator) under ``$TMPDIR/sfone-validation-fractions``; the
generated session files live in a temporary folder only while they are classified.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .generator import DESIGNS, Design, simulate_session, write_session

__all__ = ["Config", "QUICK", "FULL", "POOLS", "COHORTS", "TARGETS", "run", "render",
           "run_session", "session_summary", "cohort_rates", "write_section"]

ROOT = Path(__file__).resolve().parents[1]
JSON = ROOT / "validation" / "results" / "fractions.json"
DOC = ROOT / "docs" / "validation.md"
START = "<!-- fractions:start (written by python -m validation.fractions) -->"
END = "<!-- fractions:end -->"
CACHE = Path(tempfile.gettempdir()) / "sfone-validation-fractions"

#: truth mixtures (exact: 300 ROIs give whole numbers of each kind)
TRUTHS = {"base": {"null": 0.6, "activated": 0.3, "inhibited": 0.1},
          "high": {"null": 0.4, "activated": 0.5, "inhibited": 0.1}}
#: (nuisance, truth) pools of sessions
POOLS = (("clean", "base"), ("bursty", "base"), ("all", "base"), ("bursty", "high"),
         ("all", "high"))
#: cohort -> (what, day 1 pool, day 8 pool, the two days' true fractions are equal)
COHORTS = {
    "a, day 8 bursty": ("true 0.3 -> 0.5, day 1 clean, day 8 bursty", ("clean", "base"),
                        ("bursty", "high"), False),
    "a, day 8 all": ("true 0.3 -> 0.5, day 1 clean, day 8 all nuisances", ("clean", "base"),
                     ("all", "high"), False),
    "b, day 1 bursty": ("true 0.3 both days, day 1 bursty, day 8 clean", ("bursty", "base"),
                        ("clean", "base"), True),
    "b, day 1 all": ("true 0.3 both days, day 1 all nuisances, day 8 clean", ("all", "base"),
                     ("clean", "base"), True),
    "c, clean both": ("true 0.3 both days, clean both days", ("clean", "base"),
                      ("clean", "base"), True),
}
#: issue 27's targets: |error| of the estimate (clean, bursty), interval coverage, type-I error
TARGETS = {"error_clean": 0.07, "error_bursty": 0.10, "coverage_min": 0.9, "type1_max": 0.06,
           "alpha": 0.05}
MICE = 6


@dataclass(frozen=True)
class Config:
    """Sizes of one run: sessions per pool, ROIs, frame rate, design, cohorts, mice."""

    seeds: int = 24
    n_rois: int = 300
    fs: float = 10.0
    design: Design = DESIGNS["single"]
    n_cohorts: int = 2000
    mice: int = MICE
    seed0: int = 27_000
    mode: str = "full"


FULL = Config()
QUICK = Config(seeds=6, n_cohorts=200, mice=3, mode="quick")


def _source_fingerprint() -> str:
    files = sorted((ROOT / "sfone" / "classify").glob("*.py")) + [
        ROOT / "validation" / "generator.py"]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _seed(config: Config, pool: tuple, k: int) -> int:
    return config.seed0 + 1000 * POOLS.index(pool) + k


def run_session(pool: tuple, seed: int, config: Config) -> dict:
    """Generate, write, read and label one session of ``pool``; its fraction attrs, the true
    fractions, the labels of each kind and the seconds it took."""
    import sfone
    from sfone.classify import label_responses
    from sfone.classify._fractions import FRACTION_COLUMNS

    started = time.perf_counter()
    nuisance, truth = pool
    session = simulate_session(config.design, nuisance, fs=config.fs, n_rois=config.n_rois,
                               fractions=TRUTHS[truth], seed=seed)
    kinds = session.truth["kind"].to_numpy()
    with tempfile.TemporaryDirectory(prefix="sfone-fractions-") as tmp:
        plane = write_session(session, tmp)
        ds = sfone.read(plane)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = label_responses(ds, os.path.join(tmp, "runs.csv"))
    labels = np.asarray(result["label"].values, str)
    row = {"nuisance": nuisance, "truth": truth, "seed": int(seed),
           **{k: float(result.attrs[k]) for k in FRACTION_COLUMNS},
           "true_activated": float(np.mean(kinds == "activated")),
           "true_inhibited": float(np.mean(kinds == "inhibited")),
           "labels": {k: {lab: int(np.sum(labels[kinds == k] == lab))
                          for lab in np.unique(labels)} for k in np.unique(kinds)},
           "seconds": time.perf_counter() - started}
    return row


def _cached(pool, seed, config, key) -> dict:
    path = CACHE / f"{key}-{pool[0]}-{pool[1]}-{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    row = run_session(pool, seed, config)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(row))
    os.replace(tmp, path)
    return row


def _cache_key(config: Config) -> str:
    settings = json.dumps({**asdict(config), "design": asdict(config.design)}, sort_keys=True,
                          default=str)
    text = settings + _source_fingerprint()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_sessions(config: Config, *, pools=POOLS, n_jobs: int = 2, progress=None) -> dict:
    """Every pool's sessions (cached); pool -> list of session rows, in seed order."""
    key = _cache_key(config)
    jobs = [(pool, _seed(config, pool, k)) for pool in pools for k in range(1, config.seeds + 1)]
    rows = {}
    if n_jobs <= 1:
        for pool, seed in jobs:
            rows[(pool, seed)] = _cached(pool, seed, config, key)
            if progress:
                progress(rows[(pool, seed)], len(rows), len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as executor:
            futures = {executor.submit(_cached, pool, seed, config, key): (pool, seed)
                       for pool, seed in jobs}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                if progress:
                    progress(rows[futures[future]], len(rows), len(jobs))
    return {pool: [rows[(pool, s)] for p, s in jobs if p == pool] for pool in pools}


def session_summary(rows: list[dict], direction: str) -> dict:
    """Bias, RMSE, share within the target, 95 % coverage of the estimate and the labelled
    fraction's bias over the sessions ``rows`` of one pool, for ``direction``."""
    truth = np.array([r[f"true_{direction}"] for r in rows])
    est = np.array([r[f"fraction_{direction}_estimate"] for r in rows])
    low = np.array([r[f"fraction_{direction}_ci_low"] for r in rows])
    high = np.array([r[f"fraction_{direction}_ci_high"] for r in rows])
    lab = np.array([r[f"fraction_{direction}_labelled"] for r in rows])
    err = est - truth
    nuisance = rows[0]["nuisance"]
    limit = TARGETS["error_clean"] if nuisance == "clean" else TARGETS["error_bursty"]
    responders = [r["labels"].get(direction, {}) for r in rows]
    n_resp = sum(sum(c.values()) for c in responders)
    found = sum(c.get(direction, 0) for c in responders)
    return {"n": len(rows), "truth": float(np.mean(truth)), "estimate": float(np.mean(est)),
            "bias": float(np.mean(err)), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "within": float(np.mean(np.abs(err) <= limit)), "limit": limit,
            "coverage": float(np.mean((low <= truth) & (truth <= high))),
            "ci_width": float(np.mean(high - low)),
            "labelled": float(np.mean(lab)), "labelled_bias": float(np.mean(lab - truth)),
            "power_x2": float(np.mean([r["power_x2"] for r in rows])),
            "realised_power": found / n_resp if n_resp else math.nan,
            "detectable_gain_80": float(np.median([r["detectable_gain_80"] for r in rows]))}


def _labels_of(row: dict) -> np.ndarray:
    """The session's labels (counts of each label over every truth kind) as an array."""
    counts: dict = {}
    for per_kind in row["labels"].values():
        for label, k in per_kind.items():
            counts[label] = counts.get(label, 0) + k
    return np.repeat(np.array(list(counts), dtype=object), list(counts.values())).astype(str)


def _cohort(day1: list[dict], day8: list[dict], mice: int) -> dict:
    """sfone's two tests and its sensitivity check on one cohort (mouse i: day1[i], day8[i])."""
    import pandas as pd

    from sfone.stats import compare_estimated_fractions, compare_proportions

    ids = [f"m{i}" for i in range(mice)]
    tables = [pd.DataFrame([{**r, "subject": m} for r, m in zip(day, ids, strict=True)])
              for day in (day1, day8)]
    est = compare_estimated_fractions(*tables, groups=("day1", "day8"), warn=False)
    labs = [np.concatenate([_labels_of(r) for r in day]) for day in (day1, day8)]
    owners = [np.concatenate([[m] * _labels_of(r).size for r, m in zip(day, ids, strict=True)])
              for day in (day1, day8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = compare_proportions(labs[0], labs[1], mice_a=owners[0], mice_b=owners[1],
                                  groups=("day1", "day8"), glmm=False)
    s = est.sensitivity
    return {"p_estimate": est.headline()["p_value"], "p_labelled": lab.headline()["p_value"],
            "warn": bool(s["warn"]), "estimate_difference": s["estimate_difference"],
            "labelled_difference": s["observed_labelled_difference"],
            "expected_artefact": s["expected_artefact"]}


def cohort_rates(pools: dict, config: Config, *, cohorts=None, seed: int = 20270127) -> dict:
    """Every cohort of ``cohorts`` (default :data:`COHORTS`), ``config.n_cohorts`` times:
    rejection rates at alpha = 0.05 of the two tests, the check's firing rate and the mean
    differences."""
    from .harness import wilson

    rng = np.random.default_rng(seed)
    out = {}
    for name, (what, pool1, pool8, null) in (cohorts or COHORTS).items():
        need = {pool1: config.mice, pool8: config.mice}
        if pool1 == pool8:
            need[pool1] = 2 * config.mice
        short = [f"{' '.join(p)}: {len(pools[p])} < {k}" for p, k in need.items()
                 if len(pools[p]) < k]
        if short:
            raise ValueError(f"cohort {name!r} needs more sessions per pool ({'; '.join(short)})"
                             "; raise --seeds or lower the mice")
        results = []
        for _ in range(config.n_cohorts):
            if pool1 == pool8:
                pick = rng.choice(len(pools[pool1]), 2 * config.mice, replace=False)
                d1, d8 = pick[:config.mice], pick[config.mice:]
            else:
                d1 = rng.choice(len(pools[pool1]), config.mice, replace=False)
                d8 = rng.choice(len(pools[pool8]), config.mice, replace=False)
            results.append(_cohort([pools[pool1][i] for i in d1], [pools[pool8][i] for i in d8],
                                   config.mice))
        row = {"what": what, "day1": list(pool1), "day8": list(pool8), "equal_truth": null,
               "n_cohorts": len(results)}
        for key in ("estimate", "labelled"):
            p = np.array([r[f"p_{key}"] for r in results], float)
            k = int(np.sum(p < TARGETS["alpha"]))
            row[f"reject_{key}"] = k / len(p)
            row[f"reject_{key}_ci"] = wilson(k, len(p))
            row[f"untestable_{key}"] = int(np.sum(~np.isfinite(p)))
        row["warn_rate"] = float(np.mean([r["warn"] for r in results]))
        for key in ("estimate_difference", "labelled_difference", "expected_artefact"):
            row[key] = float(np.nanmean([r[key] for r in results]))
        out[name] = row
    return out


def run(config: Config = FULL, *, n_jobs: int = 2, progress=None, pools=POOLS,
        cohorts=None) -> dict:
    """Sessions, their summaries per pool and direction, and the cohorts (the JSON); a
    subset of :data:`POOLS` and :data:`COHORTS` when given."""
    started = time.perf_counter()
    sessions = run_sessions(config, pools=pools, n_jobs=n_jobs, progress=progress)
    sessions_s = time.perf_counter() - started
    summary = {f"{n} {t}": {d: session_summary(sessions[(n, t)], d)
                            for d in ("activated", "inhibited")} for n, t in pools}
    cohorts = cohort_rates(sessions, config, cohorts=cohorts)
    return {"config": {**asdict(config), "design": asdict(config.design)},
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "n_jobs": n_jobs,
            "elapsed_s": time.perf_counter() - started, "sessions_s": sessions_s,
            "session_seconds": float(np.mean([r["seconds"] for rows in sessions.values()
                                              for r in rows])),
            "summary": summary, "cohorts": cohorts}


def _f(x, digits: int = 3) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _signed(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.3f}"


def _verdicts(name: str, row: dict) -> str:
    """Coverage in every pool; the error target in the clean and bursty ones."""
    fails = []
    if not name.startswith("all"):
        if abs(row["bias"]) > row["limit"]:
            fails.append(f"|bias| > {row['limit']:g}")
        if row["rmse"] > row["limit"]:
            fails.append(f"RMSE > {row['limit']:g}")
    if row["coverage"] < TARGETS["coverage_min"]:
        fails.append(f"coverage < {TARGETS['coverage_min']:g}")
    if fails:
        return "FAIL: " + ", ".join(fails)
    return "pass" if not name.startswith("all") else "pass (coverage; no error target)"


def render(result: dict) -> str:
    """The markdown section of one :func:`run` result."""
    c = result["config"]
    d = c["design"]
    lines = [
        "## Estimated fractions of responding ROIs (issue 27)", "",
        f"Written by `{result.get('command', 'python -m validation.fractions')}` on "
        f"{result['date']} ({c['mode']} mode) in {result['elapsed_s'] / 60:.1f} min with "
        f"{result['n_jobs']} processes ({result['session_seconds']:.1f} s per session: "
        "generation, files, reading, labels). `make validate` runs it after the grid; "
        "`python -m validation.fractions --quick` is a smoke run. Sessions: design "
        f"`{d['name']}` ({d['pre_s']:g} s rest, {d['n_runs']} x {d['run_s']:g} s run, "
        f"{d['post_s']:g} s after), {c['fs']:g} Hz, {c['n_rois']} ROIs, {c['seeds']} seeds "
        "per pool, sfone's default labels (`label_responses(ds, runs)`); each estimate is the "
        "`fraction_<direction>_estimate` attr and its 95 % interval "
        "`fraction_<direction>_ci_low/high` (`sfone classify --summary`).", "",
        "Targets (issue 27): the estimate within "
        f"{TARGETS['error_clean']:g} of the truth in clean sessions and within "
        f"{TARGETS['error_bursty']:g} with bursty spiking (judged on |bias| and RMSE), "
        f"interval coverage >= {TARGETS['coverage_min']:g}. The `all` pools (every nuisance) have no "
        "error target; coverage is judged in every pool.", "",
        "| pool | direction | truth | mean estimate | bias | RMSE | within target | 95 % "
        "coverage | mean CI width | labelled | labelled bias | power_x2 (mean) | realised "
        "power | detectable gain 80 % (median) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, per_dir in result["summary"].items():
        for direction, r in per_dir.items():
            lines.append(
                f"| {name} | {direction} | {_f(r['truth'], 2)} | {_f(r['estimate'])} "
                f"| {_signed(r['bias'])} | {_f(r['rmse'])} | {_f(r['within'], 2)} "
                f"(|err| <= {r['limit']:g}) | {_f(r['coverage'], 2)} | {_f(r['ci_width'])} "
                f"| {_f(r['labelled'])} | {_signed(r['labelled_bias'])} | {_f(r['power_x2'], 2)} "
                f"| {_f(r['realised_power'], 2)} | {_f(r['detectable_gain_80'], 2)} "
                f"| {_verdicts(name, r)} |")
    lines += [
        "", "Realised power: the share of true responders of that direction labelled so; "
        "power_x2: the session's own estimate (mean over ROIs of the power for a doubling at "
        "the default q).", "",
        f"### Two-day cohorts ({c['mice']} mice x 2 days, {c['n_cohorts']} cohorts each)", "",
        "Each mouse-day is one session drawn from a pool (distinct sessions within a cohort). "
        "Tests at alpha = 0.05, mice as the unit: `compare_estimated_fractions` (paired t on "
        "the per-mouse estimates) and `compare_proportions` (its headline paired t on the "
        "per-mouse labelled fractions). 'check fires': sfone's sensitivity check "
        "(docs/statistics.md). Rates with a Wilson 95 % interval over the cohorts; cohorts "
        f"share the pools' {c['seeds']} sessions, so the rates are conditional on them.", "",
        "| cohort | what | rejects, estimates | rejects, labelled | check fires | mean "
        "estimate difference | mean labelled difference | expected artefact | verdict |",
        "|---|---|---|---|---|---|---|---|---|"]
    for name, r in result["cohorts"].items():
        lo, hi = r["reject_estimate_ci"]
        llo, lhi = r["reject_labelled_ci"]
        if r["equal_truth"]:
            ok = r["reject_estimate"] <= TARGETS["type1_max"]
            verdict = (f"type-I {'pass' if ok else 'FAIL'} (<= {TARGETS['type1_max']:g})")
            if name.startswith("c"):
                verdict += "; check should not fire"
        else:
            verdict = "power (no target)"
        lines.append(
            f"| {name} | {r['what']} | {_f(r['reject_estimate'])} ({_f(lo)}-{_f(hi)}) "
            f"| {_f(r['reject_labelled'])} ({_f(llo)}-{_f(lhi)}) | {_f(r['warn_rate'])} "
            f"| {_signed(r['estimate_difference'])} | {_signed(r['labelled_difference'])} "
            f"| {_signed(r['expected_artefact'])} | {verdict} |")
    return "\n".join(lines) + "\n"


def section(result: dict | None = None) -> str:
    """The marked section of docs/validation.md (from ``result``, else the saved JSON; a note
    when there is none)."""
    if result is None and JSON.exists():
        result = json.loads(JSON.read_text())
    body = render(result) if result else (
        "## Estimated fractions of responding ROIs (issue 27)\n\nNot run yet: `python -m "
        "validation.fractions` writes this section.\n")
    return f"{START}\n{body}{END}\n"


def write_section(path: Path, result: dict) -> None:
    """Replace the marked section of ``path`` (append it when absent), atomically."""
    from sfone._atomic import atomic_path

    text = path.read_text() if path.exists() else ""
    block = section(result)
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validation.fractions",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK.seeds} sessions per pool, {QUICK.mice} mice, "
                             f"{QUICK.n_cohorts} cohorts")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seeds", type=int, help="sessions per pool")
    parser.add_argument("--cohorts", type=int, help="cohorts per cohort kind")
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument("--json", type=Path, default=JSON)
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section of --out from the saved --json")
    args = parser.parse_args(argv)
    if args.render_only:
        write_section(args.out, json.loads(args.json.read_text()))
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    config = QUICK if args.quick else FULL
    if args.seeds:
        config = replace(config, seeds=args.seeds)
    if args.cohorts:
        config = replace(config, n_cohorts=args.cohorts)

    def progress(row, done, total):
        print(f"[{done}/{total}] {row['nuisance']} {row['truth']} seed {row['seed']}: "
              f"{row['seconds']:.1f} s", file=sys.stderr, flush=True)

    result = run(config, n_jobs=args.jobs, progress=progress)
    result["command"] = ("python -m validation.fractions " + shlex.join(
        argv if argv is not None else sys.argv[1:])).strip()
    from .report import save_json

    save_json(args.json, result)
    write_section(args.out, result)
    print(render(result))
    print(f"wrote {args.out} and {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

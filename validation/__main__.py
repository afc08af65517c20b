"""``python -m validation [--quick] [--jobs N]``: run the grid, write docs/validation.md."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import harness, oracle, report

ROOT = Path(__file__).resolve().parents[1]
CLASSIFICATION_DOC = ROOT / "docs" / "classification.md"
BEFORE = ROOT / "validation" / "results" / "before_main.json"


def _oracle(args) -> dict | None:
    """The cached oracle table; (re)computed when asked, missing or stale in a full run."""
    if args.no_oracle:
        return None
    table = oracle.load_table()
    stale = table is not None and table.get("fingerprint") != oracle.source_fingerprint()
    if args.recompute_oracle or (not args.quick and (table is None or stale)):
        why = "asked" if args.recompute_oracle else "missing" if table is None else "stale"
        print(f"computing the oracle ({why}; about 10 min)", file=sys.stderr, flush=True)
        oracle.main(["--force"])
        return oracle.load_table()
    if stale:
        print("note: validation/results/oracle.json was computed from another generator or "
              "oracle; `python -m validation --recompute-oracle` refreshes it", file=sys.stderr)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validation", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="3 designs x {clean, all} at 10 Hz, one seed, 120 ROIs, 3 all-null "
                             "sessions each, 40 one-channel photometry sessions")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--default-only", action="store_true",
                        help="only sfone's default settings, not the other methods")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds of every mixed cell")
    parser.add_argument("--calibration-sessions", type=int, default=None, metavar="N",
                        help=f"all-null imaging sessions per cell (default "
                             f"{harness.CALIBRATION_SESSIONS}; fewer cannot pass the far-tail "
                             f"checks, which then read 'not judged')")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "validation.md")
    parser.add_argument("--json", type=Path, default=ROOT / "validation" / "results" / "latest.json")
    parser.add_argument("--before", type=Path, default=BEFORE,
                        help="JSON of an earlier run shown as the 'before' table (if it exists)")
    parser.add_argument("--save-as-before", action="store_true",
                        help="write the JSON to --before (the reference run of main's classifier)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite --out from the saved --json (and --before) without running")
    parser.add_argument("--recompute-oracle", action="store_true",
                        help="recompute validation/results/oracle.json (about 10 min)")
    parser.add_argument("--no-oracle", action="store_true",
                        help="no oracle column (and no oracle computation)")
    args = parser.parse_args(argv)
    if args.render_only:
        run = json.loads(args.json.read_text())
        before = json.loads(args.before.read_text()) if args.before.exists() else None
        if before is not None and before.get("date") == run.get("date"):
            before = None  # the run is the reference run itself
        report.write_report(args.out, run, before)
        if (run.get("mode") == "full" and len(run.get("variants", ())) > 1
                and report.update_methods_doc(CLASSIFICATION_DOC, run)):
            print(f"updated the method table of {CLASSIFICATION_DOC}", file=sys.stderr)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0

    start = time.perf_counter()
    table = _oracle(args)
    seeds = tuple(args.seeds) if args.seeds else ((101,) if args.quick else (101, 202))
    if args.calibration_sessions is not None and args.calibration_sessions < 1:
        parser.error(f"--calibration-sessions: at least 1, not {args.calibration_sessions}")
    calibration_sessions = args.calibration_sessions or harness.CALIBRATION_SESSIONS
    cells = (harness.quick_grid(seeds) if args.quick
             else harness.full_grid(seeds, calibration_sessions=calibration_sessions))
    variants = harness.method_variants(default_only=args.default_only)
    n_sessions = sum(len(c.seeds) for c in cells)
    done = []

    def progress(result):
        done.append(result)
        print(f"[{len(done)}/{n_sessions}] {result.cell.name} seed {result.seed}: "
              f"{result.wall_s:.1f} s ({sum(result.seconds.values()):.1f} s classifying)",
              file=sys.stderr, flush=True)

    results = harness.run_grid(cells, variants, n_jobs=args.jobs, progress=progress)
    rows = harness.summarise(results, table)
    run = {"format": report.FORMAT,
           "command": "python -m validation " + shlex.join(argv if argv is not None
                                                            else sys.argv[1:]),
           "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "elapsed_s": time.perf_counter() - start, "n_jobs": args.jobs,
           "mode": "quick" if args.quick else "full", "seeds": list(seeds),
           "calibration_sessions": calibration_sessions,
           "n_rois": cells[0].n_rois, "variants": [v[0] for v in variants],
           "provenance": report.provenance(ROOT), "rows": rows, "oracle": table,
           "raw_pairs": [{"cell": r.cell.name, "seed": r.seed, "raw": r.raw_pair}
                         for r in results if r.raw_pair],
           "session_seconds": [[r.cell.name, r.seed, round(r.wall_s, 2)] for r in results]}
    run["command"] = run["command"].strip()
    json_path = args.before if args.save_as_before else args.json
    report.save_json(json_path, run)
    report.record_timing(run)
    before = None
    if not args.save_as_before and args.before.exists():
        before = json.loads(args.before.read_text())
    report.write_report(args.out, run, before)
    if not args.quick and not args.save_as_before and not args.default_only:
        if report.update_methods_doc(CLASSIFICATION_DOC, run):
            print(f"updated the method table of {CLASSIFICATION_DOC}", file=sys.stderr)
    print(report.calibration_table(rows))
    print(report.power_table(rows))
    print(f"wrote {args.out} and {json_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

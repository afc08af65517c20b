"""``python -m benchmarks`` (``make bench``): run every benchmark, write benchmarks/results.json.

Each benchmark runs in its own subprocess so that its peak memory is its own. Options:
``--only NAME`` (repeatable) runs a subset; ``--out PATH`` changes the results file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def all_benchmarks() -> dict:
    found = {}
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            found.update({b.name: b for b in module.BENCHMARKS})
    return found


def machine() -> dict:
    import numpy

    import sfone

    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal"))
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "memory_gb": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "sfone": sfone.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    benchmarks = all_benchmarks()
    if args.run_one:
        from benchmarks._harness import run_benchmark

        print(json.dumps(run_benchmark(benchmarks[args.run_one])))
        return 0
    names = args.only or sorted(benchmarks)
    unknown = sorted(set(names) - set(benchmarks))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(benchmarks)}")
    if not names:
        print("no benchmarks defined yet", file=sys.stderr)
        return 1
    results, failed = [], []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-m", "benchmarks", "--run-one", name],
                              capture_output=True, text=True, cwd=HERE.parent)
        if proc.returncode != 0:
            failed.append(name)
            print(proc.stderr[-3000:], file=sys.stderr)
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"  {name}: sfone {result['sfone_s']:.3f} s, {result['baseline']} "
              f"{result['baseline_s']:.3f} s, speedup {result['speedup']:.2f} "
              f"(target {result['target_speedup']}), peak RSS {result['peak_rss_mb']:.0f} MB, "
              f"{'met' if result['target_met'] else 'NOT met'}", file=sys.stderr)
    from sfone._atomic import atomic_path

    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

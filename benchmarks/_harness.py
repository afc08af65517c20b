"""Benchmark harness: sfone against a baseline on the same generated data, in one process.

A benchmark module ``benchmarks/bench_<topic>.py`` defines ``BENCHMARKS``, a list of
:class:`Benchmark`. Each benchmark builds its data once, runs sfone and the baseline ``repeats``
times each, checks the two answers agree, and reports the medians, the speedup
(``baseline_s / sfone_s``) and the peak resident memory of each side.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sfone._atomic import atomic_path

WORK_DIR = Path(__file__).resolve().parent / "_work"


@dataclass
class Benchmark:
    name: str
    work: str
    baseline: str
    setup: Callable[[Path], object]
    run_sfone: Callable[[object], object]
    run_baseline: Callable[[object], object]
    check: Callable[[object, object], None]
    target_speedup: float
    target_rss_ratio: float | None = None  # sfone peak RSS <= ratio x baseline's
    target_rss_mb: float | None = None  # sfone peak RSS <= this many MB
    target_max_s: float | None = None  # sfone median time <= this many s (an absolute target)
    repeats: int = 5
    # run_baseline does 1/baseline_scale of the work (for baselines whose cost is exactly linear
    # in it, e.g. a per-ROI loop on a subset of ROIs); its time is multiplied by this factor
    baseline_scale: float = 1.0
    # check the results of the last timed runs instead of running both sides once more (for
    # slow benchmarks with small results)
    reuse_results: bool = False
    # untimed calls of each side before the timed repeats (imports, thread pools, first-call
    # caches), for benchmarks whose single run is short next to those one-off costs
    warmup: int = 0
    notes: list[str] = field(default_factory=list)


def build_once(folder: Path, is_complete: Callable[[Path], bool],
               build: Callable[[Path], None]) -> Path:
    """Generated data kept between runs: (re)built atomically only when ``is_complete`` fails,
    so an interrupted build never leaves a half-written folder behind."""
    if not is_complete(folder):
        with atomic_path(folder) as tmp:
            build(tmp)
    return folder


def _read_kb(field_name: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(fn: Callable[[object], object], data, repeats: int, warmup: int = 0):
    """Median wall time (s) of ``repeats`` calls after ``warmup`` untimed ones, peak RSS during
    all of them (MB) and the last result."""
    times, result = [], None
    for _ in range(warmup):
        fn(data)
    gc.collect()
    reset = _reset_peak_rss()
    for _ in range(repeats):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - start)
    peak_mb = _read_kb("VmHWM") / 1024 if reset else float("nan")
    return statistics.median(times), peak_mb, result


def run_benchmark(bench: Benchmark) -> dict:
    WORK_DIR.mkdir(exist_ok=True)
    data = bench.setup(WORK_DIR)
    baseline_s, baseline_rss, baseline_result = measure(bench.run_baseline, data, bench.repeats,
                                                   bench.warmup)
    baseline_s *= bench.baseline_scale
    if not bench.reuse_results:
        del baseline_result
    sfone_s, sfone_rss, sfone_result = measure(bench.run_sfone, data, bench.repeats, bench.warmup)
    if bench.reuse_results:
        bench.check(sfone_result, baseline_result)
    else:  # answers are compared once more on fresh results, outside the timed loops
        bench.check(bench.run_sfone(data), bench.run_baseline(data))
    speedup = baseline_s / sfone_s
    met = speedup >= bench.target_speedup
    if bench.target_rss_ratio is not None:
        met = met and sfone_rss <= bench.target_rss_ratio * baseline_rss
    if bench.target_rss_mb is not None:
        met = met and sfone_rss <= bench.target_rss_mb
    if bench.target_max_s is not None:
        met = met and sfone_s <= bench.target_max_s
    return {"name": bench.name, "work": bench.work, "sfone_s": sfone_s,
            "baseline": bench.baseline, "baseline_s": baseline_s, "speedup": speedup,
            "peak_rss_mb": sfone_rss, "baseline_peak_rss_mb": baseline_rss,
            "target_speedup": bench.target_speedup, "target_rss_ratio": bench.target_rss_ratio,
            "target_rss_mb": bench.target_rss_mb, "target_max_s": bench.target_max_s,
            "repeats": bench.repeats, "warmup": bench.warmup, "baseline_scale": bench.baseline_scale,
            "notes": list(bench.notes), "target_met": bool(met)}

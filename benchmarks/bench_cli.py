"""Command-line start-up: ``sfone --help`` and ``sfone formats`` against ``python -c "import numpy"``.

Each side is a fresh process (what a user waits for). Speedup = numpy import time / sfone time;
the target 0.5 means sfone answers within twice the time Python takes to import numpy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks._harness import Benchmark

SFONE = [sys.executable, "-m", "sfone"]
NUMPY = [sys.executable, "-c", "import numpy"]


def _run(argv) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _check_help(sfone_out, numpy_out) -> None:
    assert "Usage:" in sfone_out and "reproduce" in sfone_out, sfone_out[:200]
    assert numpy_out == ""


def _check_formats(sfone_out, numpy_out) -> None:
    assert "suite2p" in sfone_out and "clams" in sfone_out, sfone_out[:200]
    assert numpy_out == ""


def _bench(name: str, args: list[str], check) -> Benchmark:
    return Benchmark(
        name=name, work=f"`sfone {' '.join(args)}` in a new process",
        baseline='python -c "import numpy" in a new process',
        setup=lambda work_dir: Path(work_dir), run_sfone=lambda _: _run(SFONE + args),
        run_baseline=lambda _: _run(NUMPY), check=check, target_speedup=0.5, repeats=7,
        warmup=1, notes=["both sides start a new Python interpreter"])


BENCHMARKS = [_bench("cli_startup", ["--help"], _check_help),
              _bench("cli_formats", ["formats"], _check_formats)]

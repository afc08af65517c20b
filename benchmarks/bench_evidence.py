"""``sfone classify --plots``: the evidence page of 1,000 ROIs (issue 27).

The session is ``classify_session_vs_read``'s (``bench_classify.py``): a suite2p folder of
1,000 ROIs x 72,000 frames (1 h at 20 Hz, ``F`` + ``Fneu`` float32), a third of the ROIs
planted to respond after the run. sfone: the command line's own entry point, in this process,
``sfone classify PLANE --runs RUNS --out labels.csv --plots DIR --workers 2`` (2,000 PNGs: a
thumbnail and a full-size figure per ROI). Baseline: the same command without ``--plots``, so
``baseline_s / sfone_s`` shows what the page costs on top of the classification. The target is
absolute: the whole command in under 2 minutes on 2 cores (``target_max_s``). Check: the page
lists 1,000 ROIs, every PNG it links exists and is a PNG, and the labels are the planted ones.
"""

from __future__ import annotations

import re

from benchmarks._harness import Benchmark
from benchmarks.bench_classify import SESSION_ROIS, _session_setup

WORKERS = 2


def _classify(folder, plots: bool):
    import pandas as pd

    from sfone.cli import main

    out = folder / "labels.csv"
    args = ["classify", str(folder / "suite2p" / "plane0"), "--runs", str(folder / "runs.csv"),
            "--out", str(out)]
    if plots:
        args += ["--plots", str(folder / "evidence"), "--workers", str(WORKERS)]
    main(args, standalone_mode=False)
    return pd.read_csv(out, comment="#"), (folder / "evidence" if plots else None)


def _with_plots(folder):
    return _classify(folder, True)


def _without_plots(folder):
    return _classify(folder, False)


def _check(with_plots, without_plots):
    import numpy as np

    labels, page = with_plots
    assert labels.equals(without_plots[0]) and len(labels) == SESSION_ROIS
    # the planted responses (a third of the ROIs, +2 a.u. after the run) are found
    assert 0.25 < np.mean(labels["label"] == "activated") < 0.45
    text = (page / "index.html").read_text(encoding="utf-8")
    assert text.count("<tr id=\"roi-") == SESSION_ROIS
    links = set(re.findall(r'(?:src|href)="((?:thumbs|figures)/\d{5}\.png)"', text))
    assert len(links) == 2 * SESSION_ROIS
    for link in links:
        with open(page / link, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", link


BENCHMARKS = [Benchmark(
    name="evidence_page_1000_rois",
    work="`sfone classify --plots DIR --workers 2` of 1,000 ROIs x 1 h at 20 Hz (F + Fneu): "
         "labels CSV + evidence page (1,000 thumbnails + 1,000 full-size figures)",
    baseline="the same `sfone classify` without --plots",
    setup=_session_setup, run_sfone=_with_plots, run_baseline=_without_plots, check=_check,
    target_speedup=0.0, target_max_s=120.0, repeats=1, reuse_results=True,
    notes=["target: sfone_s <= 120 s (the whole command with --plots, 2 worker processes); "
           "speedup = classification alone / classification + page"])]

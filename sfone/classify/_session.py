"""The session GLM applied to a trace group: windows from the run schedule, binning in ROI
blocks, the zero-activity level of every ROI, missing bins, the fit of :mod:`._model`, and the
checks that refuse data which cannot support a label."""

from __future__ import annotations

import warnings

import numpy as np

from .._logging import progress
from ..exceptions import SchemaError
from ..io._checks import quality_issue
from . import _glm

BLOCK_ROIS = 256
MIN_BASELINE_BINS = 3  # fewer pre-run bins cannot anchor the pre-run level
#: the transient post-run term is fitted only with at least this many runs: after one run end
#: it rests on the few bins that follow it, and its test was anti-conservative there (bursty
#: spiking; docs/classification.md)
MIN_RUNS_FOR_TRANSIENT = 3
MIN_BINS = 120  # short recordings get shorter bins (down to 2 frames) so the model has support


#: a last post-run window shorter than this (s) gets a warning: labels then rest on a few bins
MIN_POST_WINDOW_S = 120.0


def _units_suspect(time, starts, ends) -> bool:
    """Whether the run times look like another unit than seconds: a run ends after the
    recording, or all runs sit in the first 5 % of a recording longer than 10 minutes (times in
    minutes)."""
    duration = time[-1] - time[0]
    return bool(ends[-1] > time[-1] + 1.0 or (duration > 600.0 and ends[-1] - time[0]
                                                   < 0.05 * duration))


def analysis_span(time, starts, ends, params, source) -> tuple[float, float]:
    """(first, last) s analysed: the pre-run baseline before the first run up to the end of the
    last run's post-run window, inside the recording. A last post-run window under
    :data:`MIN_POST_WINDOW_S` is a quality issue (strict mode, ``SFONE_STRICT=1``, makes it an
    error); a multi-run session's short final rest is not (it is the design). The question
    whether the run times are seconds is asked only when they look like another unit."""
    base, post = params["baseline_s"], params["post_run_s"]
    first = max(time[0], starts[0] + base[0])
    last = min(time[-1], ends[-1] + post[1])
    got_base = max(0.0, min(time[-1], starts[0] + base[1]) - first)
    got_post = max(0.0, last - max(time[0], ends[-1] + post[0]))
    units = (" Are the run times in seconds from the start of this recording?"
             if _units_suspect(time, starts, ends) else "")
    if got_base <= 0:
        raise SchemaError(f"{source}: the pre-run baseline window {tuple(base)} s (relative to "
                          f"the first run's start, {starts[0]:.1f} s) holds no recording "
                          f"({time[0]:.1f}-{time[-1]:.1f} s).{units}")
    if got_post < min(MIN_POST_WINDOW_S, post[1] - post[0]) or units:
        quality_issue(
            f"the post-run window of the last run {tuple(post)} s holds only {got_post:.1f} s "
            f"of the recording ({time[0]:.1f}-{time[-1]:.1f} s; runs {starts[0]:.1f}-"
            f"{ends[-1]:.1f} s), so its labels rest on few bins.{units}", path=source)
    return first, last


def schedule_windows(starts, ends, span, params) -> dict:
    """The windows the model uses, stated in the output attrs (s from recording start)."""
    next_start = np.concatenate([starts[1:], [span[1]]])
    post = [[float(e + params["post_run_s"][0]), float(min(e + params["post_run_s"][1], n))]
            for e, n in zip(ends, next_start, strict=True)]
    return {"baseline_window_s": [float(span[0]), float(starts[0])],
            "post_run_windows_s": post,
            "run_windows_s": [[float(s), float(e)] for s, e in zip(starts, ends, strict=True)]}


#: the zero-activity level of a trace: its 10th percentile over the pre-run baseline frames
#: plus this many frame-noise SDs (the percentile of a noisy trace sits below the level by about
#: 1.3 SD; calcium above it lifts it back by a part of that: 0.9 kept the estimate below the
#: true level in every activity the generator has, which the log contrast needs)
ZERO_LEVEL_NOISE_SDS = 0.9
ZERO_LEVEL_PERCENTILE = 10.0


def zero_level(x: np.ndarray) -> np.ndarray:
    """(roi,) estimate of each row's zero-activity level (baseline fluorescence without
    calcium) from its frames ``x`` (roi, frame): :data:`ZERO_LEVEL_PERCENTILE` percentile plus
    :data:`ZERO_LEVEL_NOISE_SDS` frame-noise SDs (robust SD of frame-to-frame differences)."""
    if x.shape[1] < 10:
        return np.full(x.shape[0], np.nan)
    out = np.empty(x.shape[0])
    gaps = np.isnan(x).any(axis=1)  # numpy's nan-aware quantiles go row by row: only for these
    for rows, percentile, median in ((~gaps, np.percentile, np.median),
                                     (gaps, np.nanpercentile, np.nanmedian)):
        if not rows.any():
            continue
        part = x[rows]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row is NaN
            level = percentile(part, ZERO_LEVEL_PERCENTILE, axis=1)
            diff = np.diff(part, axis=1)
            mad = median(np.abs(diff - median(diff, axis=1, keepdims=True)), axis=1)
        out[rows] = level + ZERO_LEVEL_NOISE_SDS * mad / 0.6745 / np.sqrt(2.0)
    return out


def _binned_blocks(da, neuropil, coefficient, bins, pre_frames):
    """(roi, bin) means of the trace (minus ``coefficient`` x neuropil) and of the neuropil,
    and each ROI's zero-activity level (:func:`zero_level`) over the frames ``pre_frames``."""
    from concurrent.futures import ThreadPoolExecutor

    y_parts, z_parts, levels = [], [], []
    # the zero levels (three quantile passes over the pre-run frames, numpy releases the GIL in
    # them) run beside the reading and binning of the next block
    pool = ThreadPoolExecutor(max_workers=1)
    for b in progress(range(0, da.shape[0], BLOCK_ROIS), desc="ROI blocks", unit="block"):
        block = np.asarray(da.data[b:b + BLOCK_ROIS])
        x = _glm.bin_means(block, bins)
        pre = block[:, pre_frames].astype(float)
        if neuropil is not None:
            nblock = np.asarray(neuropil.data[b:b + BLOCK_ROIS])
            z = _glm.bin_means(nblock, bins)
            x = x - coefficient * z
            pre = pre - coefficient * nblock[:, pre_frames]
            z_parts.append(z)
        y_parts.append(x)
        levels.append(pool.submit(zero_level, pre))
    try:
        levels = [future.result() for future in levels]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return (np.concatenate(y_parts), (np.concatenate(z_parts) if z_parts else None),
            np.concatenate(levels))


#: names of the segments of :func:`bin_segments`
SEGMENT_NAMES = ("pre", "run", "post", "other")


def bin_segments(bins, response) -> np.ndarray:
    """Segment of every bin for the per-segment noise variance: 0 before the first run, 1 in a
    run, 2 in a post-run window, 3 elsewhere."""
    seg = np.where(bins.run >= 0, 1, np.where(response[:, 0] > 0, 2, 3))
    seg[(bins.run < 0) & (bins.centre < bins.centre[bins.run >= 0].min(initial=np.inf))] = 0
    return seg


def _check_baseline(n_pre: int, bin_s: float, starts, span, params, source) -> None:
    """A pre-run baseline shorter than the protocol's ``min_baseline_s`` (default 300 s) or
    than :data:`MIN_BASELINE_BINS` bins is refused."""
    got = float(starts[0] - span[0])
    minimum = float(params.get("min_baseline_s", 300.0) or 0.0)
    if n_pre < MIN_BASELINE_BINS or got < minimum:
        raise SchemaError(
            f"{source}: the pre-run baseline holds {got:.0f} s of recording before the first run "
            f"(at {starts[0]:.1f} s; {n_pre} bin(s) of {bin_s:.1f} s); labels need at least "
            f"{minimum:.0f} s (protocol field min_baseline_s; with 120 s, 3-6.5 % of null ROIs "
            "were labelled). Record a longer rest before the run, or lower min_baseline_s in "
            "your protocol knowingly")


def glm_group(da, time, starts, ends, params, *, neuropil=None, coefficient=0.0,
              source="<dataset>") -> dict:
    """Post-run and run statistics of one (roi, time) group with the session model.

    Returns a dict: ``stats`` (per ROI: ``effect``, ``p``, ``df``, ``run_effect``, ``run_p``,
    ``tested``, ``fitted``, ``fitted_nuisance``), ``windows``, ``n_bins``, ``bin_s``,
    ``bleaching`` (what was divided out), ``noise`` (the pooled correlation), ``dropped_bins``
    and ``evidence`` (binned trace, bin times and segments).
    """
    from . import _model

    span = analysis_span(time, starts, ends, params, source)
    dt = float(np.median(np.diff(time)))
    bin_s = max(min(params.get("bin_s") or 30.0, (span[1] - span[0]) / MIN_BINS), 2.0 * dt)
    bins = _glm.schedule_bins(time, starts, ends, bin_s=bin_s, span=span)
    pre_frames = (time >= span[0]) & (time < starts[0])
    y, z, level0 = _binned_blocks(da, neuropil, coefficient, bins, pre_frames)
    frame_resp = _glm.response_regressors(time, starts, ends, post_run_s=params["post_run_s"],
                                          transient_tau_s=params["transient_tau_s"]).T
    response = np.nan_to_num(_glm.bin_means(frame_resp, bins).T)
    if starts.size < MIN_RUNS_FOR_TRANSIENT:
        response = response[:, :1]  # one or two run ends cannot tell a transient from noise
    segments = bin_segments(bins, response)
    _check_baseline(int((segments == 0).sum()), bin_s, starts, span, params, source)
    stats, extra = _model.classify_bins(y, z, bins, span, starts.size, response, segments,
                                        level0, params, source=source)
    windows = schedule_windows(starts, ends, span, params)
    return {"stats": stats, "windows": windows, "n_bins": bins.lo.size, "bin_s": float(bin_s),
            **extra,
            "evidence": {"binned": y, "bin_time": bins.centre,
                         "bin_segment": np.asarray(SEGMENT_NAMES)[segments]}}

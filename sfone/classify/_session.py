"""The session GLM applied to a trace group: windows from the run schedule, binning in ROI
blocks, the fit of :mod:`._glm`, and the checks that refuse data which cannot support a label."""

from __future__ import annotations

import numpy as np

from .._logging import progress
from ..exceptions import SchemaError
from ..io._checks import quality_issue
from . import _glm

BLOCK_ROIS = 256
MIN_BASELINE_BINS = 3  # fewer pre-run bins cannot anchor the pre-run level against the trend
#: the transient post-run term is fitted only with at least this many runs: after one run end
#: it rests on the few bins that follow it, and its test was anti-conservative there (bursty
#: spiking; docs/classification.md)
MIN_RUNS_FOR_TRANSIENT = 3
MIN_BINS = 120  # short recordings get shorter bins (down to 2 frames) so the model has support


def analysis_span(time, starts, ends, params, source) -> tuple[float, float]:
    """(first, last) s analysed: the pre-run baseline before the first run up to the end of the
    last run's post-run window, inside the recording. Clipping either window to less than half
    its length is a quality issue (a runs CSV in minutes, a recording cut short); strict mode
    (``SFONE_STRICT=1``) makes it an error."""
    base, post = params["baseline_s"], params["post_run_s"]
    first = max(time[0], starts[0] + base[0])
    last = min(time[-1], ends[-1] + post[1])
    got_base = max(0.0, min(time[-1], starts[0] + base[1]) - first)
    got_post = max(0.0, last - max(time[0], ends[-1] + post[0]))
    if got_base <= 0:
        raise SchemaError(f"{source}: the pre-run baseline window {tuple(base)} s (relative to "
                          f"the first run's start, {starts[0]:.1f} s) holds no recording "
                          f"({time[0]:.1f}-{time[-1]:.1f} s)")
    for name, got, window in (("pre-run baseline", got_base, base),
                              ("post-run window of the last run", got_post, post)):
        if got < 0.5 * (window[1] - window[0]):
            quality_issue(
                f"the {name} {tuple(window)} s holds only {got:.1f} s of the recording "
                f"({time[0]:.1f}-{time[-1]:.1f} s; runs {starts[0]:.1f}-{ends[-1]:.1f} s): less "
                "than half its length, so labels have little support. Are the run times in "
                "seconds from the start of this recording?", path=source)
    return first, last


def schedule_windows(starts, ends, span, params) -> dict:
    """The windows the model uses, stated in the output attrs (s from recording start)."""
    next_start = np.concatenate([starts[1:], [span[1]]])
    post = [[float(e + params["post_run_s"][0]), float(min(e + params["post_run_s"][1], n))]
            for e, n in zip(ends, next_start, strict=True)]
    return {"baseline_window_s": [float(span[0]), float(starts[0])],
            "post_run_windows_s": post,
            "run_windows_s": [[float(s), float(e)] for s, e in zip(starts, ends, strict=True)]}


def _binned_blocks(da, neuropil, coefficient, bins):
    """(roi, bin) means of the trace (minus ``coefficient`` x neuropil) and of the neuropil."""
    y_parts, z_parts = [], []
    for b in progress(range(0, da.shape[0], BLOCK_ROIS), desc="ROI blocks", unit="block"):
        x = _glm.bin_means(np.asarray(da.data[b:b + BLOCK_ROIS]), bins)
        if neuropil is not None:
            z = _glm.bin_means(np.asarray(neuropil.data[b:b + BLOCK_ROIS]), bins)
            x = x - coefficient * z
            z_parts.append(z)
        y_parts.append(x)
    return np.concatenate(y_parts), (np.concatenate(z_parts) if z_parts else None)


#: names of the segments of :func:`bin_segments`
SEGMENT_NAMES = ("pre", "run", "post", "other")


def bin_segments(bins, response) -> np.ndarray:
    """Segment of every bin for the per-segment noise variance: 0 before the first run, 1 in a
    run, 2 in a post-run window, 3 elsewhere."""
    seg = np.where(bins.run >= 0, 1, np.where(response[:, 0] > 0, 2, 3))
    seg[(bins.run < 0) & (bins.centre < bins.centre[bins.run >= 0].min(initial=np.inf))] = 0
    return seg


#: time constants (s) of the population bleaching curve; a shorter one would drop within the
#: pre-run baseline and the run, where it cannot be told from a post-run response
BLEACH_TAUS_S = (1200.0, 2400.0, 4800.0, 9600.0)
#: the curve is fitted only when the population's neuropil loses at least this fraction (log
#: units) over the analysed span: without bleaching the term would only cost power (seen: the
#: clean single-run power x2 fell from 0.95 to 0.87 when it was always fitted on a decay)
MIN_BLEACHING_LOSS = 0.01
#: ... and when the decay's amplitude is at least this many standard errors, its SE widened for
#: the lag-1 autocorrelation of the fit's residuals: the neuropil's own slow fluctuations
#: (a 15 % SD, 20 s neuropil fluctuates by more than 1 % over 30 s bins) fake a 1 % decay in
#: about half of the sessions that do not bleach; four time constants are tried, hence 4
MIN_BLEACHING_T = 4.0


def _fit_decay(median, base, t) -> tuple[float, np.ndarray, float, float]:
    """Least-squares fit of ``median`` by ``exp(-t / tau)`` + ``base`` for every tau of
    :data:`BLEACH_TAUS_S`: the best tau, its decay curve, the curve's loss over the span, and
    the amplitude's t statistic with an AR(1) variance inflation ``(1 + rho) / (1 - rho)`` from
    the residuals' lag-1 autocorrelation."""
    fits = []
    for tau in BLEACH_TAUS_S:
        X = np.column_stack([np.exp(-t / tau), base])
        beta = np.linalg.lstsq(X, median, rcond=None)[0]
        resid = median - X @ beta
        fits.append((float((resid**2).sum()), tau, X, beta[0], resid))
    rss, tau, X, amplitude, resid = min(fits, key=lambda fit: fit[0])
    dof = max(X.shape[0] - np.linalg.matrix_rank(X), 1)
    rho = float(np.clip(np.corrcoef(resid[:-1], resid[1:])[0, 1], 0.0, 0.95)
                if resid.size > 3 and resid.std() > 0 else 0.0)
    var = rss / dof * np.linalg.pinv(X.T @ X)[0, 0] * (1 + rho) / (1 - rho)
    decay = X[:, 0]
    t_stat = amplitude / np.sqrt(var) if var > 0 else (np.inf if amplitude > 0 else 0.0)
    return tau, decay, float(amplitude * (decay[0] - decay[-1])), float(t_stat)


#: ... or, when the neuropil's fluctuations hide it, when the cells decay with the curve: the
#: median over ROIs of the t statistic (white-noise SE) of the curve's coefficient in each
#: ROI's fit (intercept + run levels + response terms + its own ``Fneu``) reaches this (seen:
#: -0.45 to 0.54 in sessions that do not bleach, 2.1 to 7.6 in bleaching ones with neuropil
#: fluctuations)
MIN_CELLS_DECAY_T = 1.0


def _cells_decay_t(y, z, column, base) -> float:
    """Median over ROIs of the t statistic of ``column``'s coefficient in the fit of each ROI's
    binned trace by ``column`` + ``base`` + its own standardised binned neuropil."""
    finite = np.isfinite(y).all(axis=1) & np.isfinite(z).all(axis=1)
    if not finite.any():
        return float("nan")
    y, z = y[finite], _glm.standardised_rows(z[finite])
    common = np.column_stack([column, base])
    X = np.concatenate([np.broadcast_to(common, (y.shape[0],) + common.shape), z[:, :, None]],
                       axis=2)
    beta, inv = _glm._solve(X, y)
    dof = max(X.shape[1] - X.shape[2], 1)
    rss = ((y - np.einsum("rnk,rk->rn", X, beta)) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = beta[:, 0] / np.sqrt(rss / dof * inv[:, 0, 0])
    return float(np.nanmedian(t))


def population_bleaching(z, bins, span, n_runs, response, y=None) -> tuple[np.ndarray | None, float]:
    """The population's bleaching curve from the neuropil, as a standardised (bin,) column,
    and its time constant (s); ``(None, nan)`` when the neuropil does not decay.

    The cross-ROI median of log binned ``Fneu`` is fitted by intercept + run levels + the
    post-run response terms (a neuropil step or response after the run stays out of the
    curve) + ``exp(-(t - t0) / tau)`` for each ``tau`` of :data:`BLEACH_TAUS_S`; the best fit
    (least squares) gives the curve. It is used when it loses at least
    :data:`MIN_BLEACHING_LOSS` over the span and either its amplitude is at least
    :data:`MIN_BLEACHING_T` standard errors or the cells' binned traces ``y`` decay with it
    (:data:`MIN_CELLS_DECAY_T`). The neuropil bleaches with the cells while its own
    fluctuations keep ``Fneu`` itself from standing in for the curve; a free coefficient per
    ROI scales it.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        log_z = np.log(np.where(z > 0, z, np.nan))
    median = np.nanmedian(log_z, axis=0) if np.isfinite(log_z).any(axis=0).all() else None
    if median is None or not np.isfinite(median).all():
        return None, float("nan")
    base = np.concatenate([_glm.nuisance_design(bins, span, n_runs, 0), response], axis=1)
    tau, decay, loss, t_stat = _fit_decay(median, base, bins.centre - span[0])
    if not loss >= MIN_BLEACHING_LOSS or decay.std() == 0:
        return None, float("nan")
    column = (decay - decay.mean()) / decay.std()
    if t_stat >= MIN_BLEACHING_T or (
            y is not None and _cells_decay_t(y, z, column, base) >= MIN_CELLS_DECAY_T):
        return column, float(tau)
    return None, float("nan")


def session_nuisance(bins, span, n_runs, degree, bleaching) -> np.ndarray:
    """Intercept + Legendre trend + run indicators (+ the bleaching column when given)."""
    nuisance = _glm.nuisance_design(bins, span, n_runs, degree)
    if bleaching is not None:
        nuisance = np.concatenate([nuisance, bleaching[:, None]], axis=1)
    return nuisance


def fit_session(y, z, bins, span, n_runs, response, degree, segments,
                bleaching=None) -> dict:
    """The session model with a Legendre trend of ``degree`` (see :mod:`._glm`) and the
    population ``bleaching`` column (:func:`population_bleaching`) when given; ``segments``
    from :func:`bin_segments`."""
    nuisance = session_nuisance(bins, span, n_runs, degree, bleaching)
    run_cols = np.arange(degree + 1, nuisance.shape[1] - (bleaching is not None))
    out = _glm.glm_test(y, nuisance, response, z, centre=bins.centre,
                        segments=segments, run_cols=run_cols)
    out["trend_degree"] = np.full(y.shape[0], degree)
    return out


def glm_group(da, time, starts, ends, params, *, neuropil=None, coefficient=0.0,
              source="<dataset>") -> dict:
    """Post-run and run statistics of one (roi, time) group with the session GLM."""
    span = analysis_span(time, starts, ends, params, source)
    dt = float(np.median(np.diff(time)))
    bin_s = max(min(params.get("bin_s") or 30.0, (span[1] - span[0]) / MIN_BINS), 2.0 * dt)
    bins = _glm.schedule_bins(time, starts, ends, bin_s=bin_s, span=span)
    y, z = _binned_blocks(da, neuropil, coefficient, bins)
    frame_resp = _glm.response_regressors(time, starts, ends, post_run_s=params["post_run_s"],
                                          transient_tau_s=params["transient_tau_s"]).T
    response = np.nan_to_num(_glm.bin_means(frame_resp, bins).T)
    if starts.size < MIN_RUNS_FOR_TRANSIENT:
        response = response[:, :1]  # one or two run ends cannot tell a transient from noise
    segments = bin_segments(bins, response)
    n_pre = int((segments == 0).sum())
    if n_pre < MIN_BASELINE_BINS:
        raise SchemaError(
            f"{source}: the post-run response cannot be separated from the slow trend: the "
            f"pre-run baseline holds {n_pre} bin(s) of {bin_s:.1f} s before the first run (at "
            f"{starts[0]:.1f} s); need at least {MIN_BASELINE_BINS}. Are the run times in "
            "seconds from the start of this recording?")
    bleaching, bleaching_tau = (population_bleaching(z, bins, span, starts.size, response, y)
                                if z is not None else (None, float("nan")))
    top = session_nuisance(bins, span, starts.size, params["trend_degree"], bleaching)
    frac = _glm.separability(top, response)
    _glm.check_separable(frac, source=source)
    out = fit_session(y, z, bins, span, starts.size, response, params["trend_degree"], segments,
                      bleaching)
    windows = schedule_windows(starts, ends, span, params)
    return {"stats": out, "windows": windows, "separability": frac, "n_bins": bins.lo.size,
            "bin_s": float(bin_s), "bleaching_tau_s": bleaching_tau,
            "evidence": {"binned": y, "bin_time": bins.centre,
                         "bin_segment": np.asarray(SEGMENT_NAMES)[segments]}}

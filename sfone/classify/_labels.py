"""label_responses: per-ROI post-run labels (activated / inhibited / unchanged)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from .._logging import logger, progress
from .._validate import _check_option
from ..events import as_epochs
from ..exceptions import SchemaError
from ..perievent import analog_channels, is_dff, neuropil_coefficient, trace_array
from ..protocols import ClassificationProtocol, load_protocol
from ..schema import POST_RUN_LABELS
from ._cluster import cluster_labels, perirun_features
from ._methods import METHODS, NULLS
from ._null import (
    autocorrelation_pvalues,
    bh_qvalues,
    draw_shifts,
    shift_null_pvalues,
    wilcoxon_pvalues,
)
from ._session import glm_group
from ._windows import WindowMeans, window_ranges

__all__ = ["label_responses", "default_protocol", "cross_table", "LABELS"]

LABELS = POST_RUN_LABELS
#: label of a ROI the data cannot test (too few bins with data)
INSUFFICIENT_DATA = "insufficient data"
BLOCK_ROIS = 256


def default_protocol() -> ClassificationProtocol:
    """The default classification protocol (the shipped ``classification`` protocol).

    Returns
    -------
    sfone.protocols.ClassificationProtocol
        ``sfone/protocol_files/classification.yaml``, validated: the windows and rule
        :func:`label_responses` uses when no ``protocol`` is given.
    """
    return load_protocol("classification")


def _resolve(protocol, overrides: dict) -> dict:
    if protocol is None:
        proto = default_protocol()
    elif isinstance(protocol, ClassificationProtocol):
        proto = protocol
    else:
        proto = load_protocol(protocol)
    params = proto.model_dump()
    params.update({k: v for k, v in overrides.items() if v is not None})
    checked = ClassificationProtocol(**params)  # validates windows and ranges
    params = checked.model_dump()
    explicit_statistic = overrides.get("statistic") or (protocol is not None and proto.statistic)
    if params["method"] == "threshold" and not explicit_statistic:
        params["statistic"] = "median"  # the related lab's convention: median post-run z
    return params


def _decide(effect, p, q, alpha, use_q):
    sig = (q if use_q else p) < alpha
    return np.where(sig & (effect > 0), "activated",
                    np.where(sig & (effect < 0), "inhibited", "unchanged"))



def _block_stats(x, base, resp, params, n_runs, shifts) -> dict:
    """Effect and p-value (or threshold summary) of one response window for a block of ROIs."""
    means = WindowMeans(x)
    mu, sd = means.mean(base), means.sd(base)
    diff = means.mean(resp) - mu  # (roi, run)
    out = {"effect": _run_mean(diff / np.where(sd > 0, sd, np.nan))}
    if params["method"] == "threshold":
        summary = diff
        if params["statistic"] == "median":
            summary = np.stack([np.nanmedian(x[:, lo:hi], axis=1) for lo, hi
                                in zip(resp.lo, resp.hi, strict=True)], 1) - mu
        out["summary"] = _run_mean(summary / np.where(sd > 0, sd, np.nan))
    elif n_runs >= params["min_runs_for_wilcoxon"]:
        out["p"] = wilcoxon_pvalues(diff)
    elif params["null"] == "shift":
        out["p"] = shift_null_pvalues(x, base, resp, shifts, diff.mean(axis=1))
    else:
        out["p"] = autocorrelation_pvalues(x, base, resp, diff.mean(axis=1), params["max_lag"])
    return out


def _run_mean(values):
    values = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(invalid="ignore"):
        return np.nanmean(values, axis=1) if np.isfinite(values).any() else values[:, 0]


def _null_name(params, n_runs):
    if params["method"] == "threshold":
        return "none (fixed threshold)"
    if n_runs >= params["min_runs_for_wilcoxon"]:
        return "wilcoxon across runs"
    return "circular shift" if params["null"] == "shift" else "autocorrelation-robust (HAC)"


def _decide_window(stats, params):
    """(label, effect, p, q) from the concatenated block statistics of one window."""
    effect = stats["effect"]
    if params["method"] == "threshold":
        theta, summary = params["threshold"], stats["summary"]
        label = np.where(summary > theta, "activated",
                         np.where(summary < -theta, "inhibited", "unchanged"))
        nan = np.full(effect.size, np.nan)
        return label, effect, nan, nan
    p = stats["p"]
    q = bh_qvalues(p) if params["fdr"] else p
    return _decide(effect, p, q, params["alpha"], params["fdr"]), effect, p, q


def _blocks(da):
    """float64 numpy blocks of ROIs (numpy or dask data; dask computes one block at a time),
    each row minus its median so cumulative sums keep their precision (labels are offset-free)."""
    for b in progress(range(0, da.shape[0], BLOCK_ROIS), desc="ROI blocks", unit="block"):
        x = np.asarray(da.data[b:b + BLOCK_ROIS], dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
            yield x - np.nanmedian(x, axis=1, keepdims=True)


def _analyse(da, windows: dict, params, n_runs, shifts):
    """Run every window's statistics over ROI blocks; returns {window: concatenated stats}."""
    parts = {name: [] for name in windows}
    for x in _blocks(da):
        for name, (base, resp, window_params) in windows.items():
            if window_params["method"] == "cluster":
                parts[name].append({"features": perirun_features(x, base, resp)})
            else:
                parts[name].append(_block_stats(x, base, resp, window_params, n_runs, shifts))
    return {name: {key: np.concatenate([part[key] for part in blocks])
                   for key in blocks[0]} for name, blocks in parts.items()}


def trace_groups(ds, variable=None) -> list[xr.DataArray]:
    """(roi, time) DataArrays to classify: one, or for a photometry Dataset whose channels have
    their own clocks, one per clock (each channel classified on its own clock).

    Photometry: only motion- and bleaching-corrected channels (dF/F, e.g. from
    ``sfone photometry dff``) are classified; a Dataset with raw channels only is refused (a raw
    channel bleaches, and the isosbestic control is not a cell)."""
    if isinstance(ds, xr.Dataset) and variable is None and "F" not in ds.data_vars:
        names = analog_channels(ds)
        corrected = [n for n in names if is_dff(ds[n])]
        if names and not corrected:
            raise SchemaError(
                f"{ds.attrs.get('source_file', '<dataset>')}: raw photometry channels "
                f"{names} cannot be classified (they bleach, and the isosbestic control is not a "
                "cell); compute dF/F first with `sfone photometry dff` and classify its output")
        by_clock: dict[str, list[str]] = {}
        for name in corrected:
            by_clock.setdefault(str(ds[name].dims[0]), []).append(name)
        return [trace_array(ds[names]) for names in by_clock.values()]
    return [trace_array(ds, variable)]


def _setup(da, epochs, params):
    time = np.asarray(da["time"].values, dtype=float)
    events = as_epochs(epochs, recording=(time[0], time[-1]))
    starts = np.asarray(events["start"].values, float)
    ends = np.asarray(events["end"].values, float)
    if starts.size == 0:
        source = getattr(epochs, "attrs", {}).get("source_file", epochs if isinstance(
            epochs, str) else "<runs>")
        raise SchemaError(f"{source}: no run lies inside the recording ({time[0]:.1f}-"
                          f"{time[-1]:.1f} s); run times must be seconds from the start of "
                          "this recording")
    if params["method"] == "glm":
        return da, time, starts.size, starts, ends, None
    base = window_ranges(time, starts, ends, params["baseline_s"], anchor="start",
                         name="baseline")
    post = window_ranges(time, starts, ends, params["post_run_s"], anchor="end", name="post-run")
    run = (None if params.get("run_s") is None else
           window_ranges(time, starts, ends, params["run_s"], anchor="start", name="run"))
    return da, time, starts.size, base, post, run


def _group_stats(group, params) -> dict:
    """Window statistics of one clock group (its own frame interval, shifts and max lag)."""
    da, time, n_runs, base, post, run = group
    dt = float(np.median(np.diff(time)))
    group_params = {**params, "max_lag": int(round(params["min_shift_s"] / dt))}
    shifts = draw_shifts(time.size, params["n_shuffles"], group_params["max_lag"],
                         np.random.default_rng(params["random_state"]))
    windows = {"post": (base, post, group_params)}
    if run is not None:  # run labels: the cluster method falls back to the test
        windows["run"] = (base, run, {**group_params, "method": "test"
                                      if params["method"] == "cluster" else params["method"]})
    return _analyse(da, windows, group_params, n_runs, shifts)


def label_responses(ds, epochs, *, protocol=None, method: str | None = None,
                    baseline_s=None, post_run_s=None, run_s=None, statistic: str | None = None,
                    threshold: float | None = None, alpha: float | None = None,
                    fdr: bool | None = None, n_shuffles: int | None = None,
                    min_shift_s: float | None = None, min_runs_for_wilcoxon: int | None = None,
                    random_state=None, null: str | None = None, bin_s: float | None = None,
                    trend_degree: int | None = None, transient_tau_s: float | None = None,
                    min_baseline_s: float | None = None,
                    run_labels: bool = True, variable: str | None = None,
                    cells_only: bool = False) -> xr.Dataset:
    """Label every ROI as post-run ``activated``, ``inhibited`` or ``unchanged``.

    Every keyword from ``method`` to ``transient_tau_s`` overrides the protocol's field of the
    same name; ``None`` keeps the protocol's value. Defaults below are those of the shipped
    ``classification`` protocol (``protocols/classification.yaml``, see
    ``docs/classification.md``).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        Imaging Dataset (dims ``roi``, ``time``), photometry Dataset of dF/F channels (each
        channel one "roi", classified on its own clock; raw channels are refused) or a
        ``(roi, time)`` DataArray; ``time`` in s.
    epochs : xarray.Dataset, str, os.PathLike, pandas.DataFrame or array_like
        Run epochs, s from the start of this recording: events Dataset, runs-CSV path,
        DataFrame or ``(n, 2)`` array of start/end (see :func:`sfone.events.as_epochs`).
    protocol : ClassificationProtocol, str or os.PathLike, optional
        Protocol object, YAML path or shipped protocol name; default the shipped
        ``classification`` protocol (:func:`default_protocol`).
    method : str, optional
        A key of :data:`sfone.classify.METHODS`: ``"glm"`` (default: one session regression
        per ROI on binned traces with a polynomial trend, run levels, the neuropil as a
        regressor and sustained + transient post-run terms, REML-chosen noise model, Wald F
        test), ``"test"`` (post-run vs baseline window means), ``"threshold"`` or
        ``"cluster"``.
    baseline_s : (float, float), optional
        ``(start, end)`` in s relative to run start, ending at or before it (default
        ``(-600, 0)``). ``glm``: the rest from ``start`` before the first run up to that run's
        start; other methods: before each run, from no earlier than the previous run's end.
    post_run_s : (float, float), optional
        ``(start, end)`` in s relative to each run end, clipped at the next run's start and the
        recording's end (default ``(0, 3600)``).
    run_s : (float, float), optional
        During-run window, s relative to run start and clipped to the run, for the run labels
        of methods other than ``glm`` (default ``(0, 600)``); ``glm`` uses the whole run.
    statistic : {"mean", "median"}, optional
        ``threshold`` method: summary of the post-run window (default ``"median"`` for
        ``threshold`` unless the keyword or a given protocol sets it).
    threshold : float, optional
        ``threshold`` method: theta in baseline z (SD) units; post-run z > theta is
        activated, < -theta inhibited (default 1.64).
    alpha : float, optional
        Significance level: a label needs q < ``alpha`` (p < ``alpha`` without ``fdr``)
        (default 0.05).
    fdr : bool, optional
        Benjamini-Hochberg across all ROIs (and channels) of the input (default True).
    n_shuffles : int, optional
        ``test`` method with ``null="shift"``: number of circular shifts (>= 100, default
        1000).
    min_shift_s : float, optional
        ``test`` method: shortest circular shift and longest autocovariance lag of the null,
        in s (default 60).
    min_runs_for_wilcoxon : int, optional
        ``test`` method: from this many runs on, a Wilcoxon signed-rank test across runs
        replaces the null (>= 2, default 6).
    random_state : int, optional
        Seed of the circular shifts and of the ``cluster`` mixture model (default 0; ``None``
        keeps the protocol's seed).
    null : {"autocorrelation", "shift"}, optional
        ``test`` method's null with fewer runs than ``min_runs_for_wilcoxon``
        (:data:`sfone.classify.NULLS`; default ``"autocorrelation"``); ``glm`` ignores it.
    bin_s : float, optional
        ``glm`` bin length in s (default 30; bins never straddle a run edge, are shortened to
        give at least 120 bins over the analysed span, and are at least 2 frames long).
    trend_degree : int, optional
        ``glm``: Legendre polynomial degree (0-6) of the slow trend over the session
        (default 1, linear).
    transient_tau_s : float, optional
        ``glm``: time constant in s of the transient post-run term
        ``exp(-(t - run end) / tau)``, fitted only with at least 3 runs (default 60).
    min_baseline_s : float, optional
        ``glm``: shortest pre-run baseline accepted, s (default 300; a shorter one is a
        ``SchemaError``: at 120 s, 3-6.5 % of null ROIs were labelled).
    run_labels : bool, default True
        Also label how each ROI responds during the runs (``run_*`` variables).
    variable : str, optional
        Trace to classify; default ``F`` corrected with the file's ``neuropil_coefficient``
        (``F - c * Fneu``; ``glm`` also keeps ``Fneu`` as a regressor), ``F`` without
        ``Fneu``, or the dF/F channels of a photometry Dataset.
    cells_only : bool, default False
        Keep only the ROIs whose ``iscell`` coordinate is True.

    Returns
    -------
    xarray.Dataset
        Over ``roi``: ``label``, ``effect`` (units ``"z"``: baseline SDs, ``glm``: residual
        SDs of the binned trace), ``p_value``, ``q_value`` (NaN for ``threshold`` and
        ``cluster``), ``glm`` also ``trend_degree``, and with run labels ``run_label``,
        ``run_effect``, ``run_p_value``, ``run_q_value``. Attrs: the parameters used, the null,
        ``n_runs``, ``signal``, the windows used (``glm``: ``baseline_window_s``,
        ``post_run_windows_s``, ``run_windows_s``, s from recording start, ``bin_s``,
        ``n_bins``, ``separability``), and the input's ``subject``, ``session``, ``day``,
        ``session_start``, ``source_file`` where present.

    Raises
    ------
    sfone.exceptions.SchemaError
        No run inside the recording, a window too short to support a label, raw photometry
        channels only, or ``cells_only`` without an ``iscell`` coordinate.
    pydantic.ValidationError
        A keyword outside its protocol field's range (e.g. ``alpha`` not in (0, 1)).
    """
    overrides = dict(method=method, baseline_s=baseline_s, post_run_s=post_run_s, run_s=run_s,
                     statistic=statistic, threshold=threshold, alpha=alpha, fdr=fdr,
                     n_shuffles=n_shuffles, min_shift_s=min_shift_s, null=null, bin_s=bin_s,
                     trend_degree=trend_degree, transient_tau_s=transient_tau_s,
                     min_baseline_s=min_baseline_s,
                     min_runs_for_wilcoxon=min_runs_for_wilcoxon, random_state=random_state)
    params = _resolve(protocol, overrides)
    _check_option("method", params["method"], sorted(METHODS))
    _check_option("null", params["null"], sorted(NULLS))
    if cells_only:
        if "iscell" not in ds.coords:
            raise SchemaError(f"{ds.attrs.get('source_file', '<dataset>')}: cells_only needs an "
                              "'iscell' coordinate, which this dataset does not have")
        ds = ds.isel(roi=np.asarray(ds["iscell"].values, bool))
    if not run_labels:
        params["run_s"] = None
    if params["method"] == "glm":
        return _label_glm(ds, epochs, params, variable, run_labels)
    groups = [_setup(da, epochs, params) for da in trace_groups(ds, variable)]
    n_runs, has_run = groups[0][2], groups[0][5] is not None
    parts = [_group_stats(group, params) for group in groups]
    stats = {w: {k: np.concatenate([part[w][k] for part in parts]) for k in parts[0][w]}
             for w in parts[0]}
    run_params = {**params, "method": "test" if params["method"] == "cluster"
                  else params["method"]}
    if params["method"] == "cluster":
        label, effect = cluster_labels(stats["post"]["features"], params)
        p = q = np.full(label.size, np.nan)
        null_used = "none (cluster)"
    else:
        label, effect, p, q = _decide_window(stats["post"], params)
        null_used = _null_name(params, n_runs)
    out = {"label": label, "effect": effect, "p_value": p, "q_value": q}
    if has_run:
        r = _decide_window(stats["run"], run_params)
        out.update(run_label=r[0], run_effect=r[1], run_p_value=r[2], run_q_value=r[3])
    logger.info("labelled %d ROIs with method %s (%s)", label.size, params["method"], null_used)
    result = _result([g[0] for g in groups], out, params, n_runs, null_used, variable, ds)
    result.attrs.update(_fraction_attrs(result, params))
    return result


def _fraction_attrs(result, params, sd_log=None) -> dict:
    """The session's labelled and estimated fractions and sensitivity
    (:func:`sfone.classify._fractions.estimate_fractions`) as result attrs."""
    from ._fractions import estimate_fractions

    seed = params.get("random_state")
    return estimate_fractions(result["label"].values, result["p_value"].values,
                              result["effect"].values, sd_log, q=params["alpha"],
                              random_state=0 if seed is None else int(seed))


def _imaging_inputs(ds, variable):
    """(trace, neuropil or None, coefficient) of the glm: F and Fneu of an imaging Dataset
    (the correction F - c * Fneu is applied bin by bin), else the trace of :func:`trace_groups`."""
    if isinstance(ds, xr.Dataset) and variable is None and "F" in ds and "Fneu" in ds:
        coefficient = neuropil_coefficient(ds)
        f, fneu = trace_array(ds, "F"), trace_array(ds, "Fneu")
        return [(f.rename("F - neuropil_coefficient*Fneu"), fneu, coefficient)]
    return [(da, None, 0.0) for da in trace_groups(ds, variable)]


def _label_glm(ds, epochs, params, variable, run_labels):
    source = str(ds.attrs.get("source_file", "<dataset>")) if hasattr(ds, "attrs") else "<dataset>"
    results, arrays, extra, evidence = [], [], {}, []
    for da, neuropil, coefficient in _imaging_inputs(ds, variable):
        _, time, n_runs, starts, ends, _ = _setup(da, epochs, params)
        group = glm_group(da, time, starts, ends, params, neuropil=neuropil,
                          coefficient=coefficient, source=source)
        results.append(group["stats"])
        arrays.append(da)
        evidence.append(group["evidence"])
        extra = {**group["windows"], "bin_s": group["bin_s"], "n_bins": group["n_bins"],
                 "separability": group["separability"],
                 "dropped_bins": group["dropped_bins"]}
        if "noise_tau_s" in group:
            extra.update(noise_tau_s=group["noise_tau_s"], noise_share=group["noise_share"])
        if neuropil is not None:
            extra["neuropil_coefficient"] = float(coefficient)
        for key, value in (group.get("bleaching") or {}).items():
            extra[f"bleaching_{key}"] = value
    stats = {k: np.concatenate([r[k] for r in results])
             for k in ("effect", "p", "run_effect", "run_p", "tested")}
    tested = stats["tested"]
    p = np.where(tested, stats["p"], np.nan)
    q = np.full(p.shape, np.nan)
    q[tested] = bh_qvalues(p[tested]) if params["fdr"] else p[tested]
    label = _decide(stats["effect"], np.nan_to_num(p, nan=1.0), np.nan_to_num(q, nan=1.0),
                    params["alpha"], params["fdr"]).astype(object)
    label[~tested] = INSUFFICIENT_DATA
    out = {"label": label.astype(str), "effect": stats["effect"], "p_value": p, "q_value": q}
    if run_labels:
        run_p = np.where(tested, stats["run_p"], np.nan)
        run_q = np.full(p.shape, np.nan)
        ok = tested & np.isfinite(run_p)
        run_q[ok] = bh_qvalues(run_p[ok]) if params["fdr"] else run_p[ok]
        run_label = _decide(stats["run_effect"], np.nan_to_num(run_p, nan=1.0),
                            np.nan_to_num(run_q, nan=1.0), params["alpha"],
                            params["fdr"]).astype(object)
        run_label[~ok] = INSUFFICIENT_DATA
        out.update(run_label=run_label.astype(str), run_effect=stats["run_effect"],
                   run_p_value=run_p, run_q_value=run_q)
    logger.info("labelled %d ROIs with method glm (%d not tested)", p.size, int((~tested).sum()))
    result = _result(arrays, out, params, n_runs, GLM_MODEL, variable, ds)
    result.attrs.update(extra)
    sd_log = np.concatenate([r["sd_log"] for r in results])
    result.attrs.update(_fraction_attrs(result, params, sd_log))
    if len(results) == 1:  # one clock: the binned traces and fits behind every label
        result = result.assign(_evidence(evidence[0], results[0], arrays[0]))
    return result


#: what the glm fits and tests, recorded in every result (attr ``null``; the labels CSV header)
GLM_MODEL = ("session GLS on binned traces: level, one level per run, neuropil, post-run "
             "sustained (+ transient with >= 3 runs) terms; each ROI's bleaching divided out "
             "(its neuropil's relative decay x the population's); one white + OU noise "
             "correlation pooled over ROIs, variances per segment; Satterthwaite t/F, the "
             "larger of the linear and log-scale contrasts (exact joint null); BH across ROIs")


def _evidence(evidence: dict, stats: dict, da) -> dict:
    """(roi, bin) variables of the glm: ``binned`` trace, ``fitted`` model and
    ``fitted_nuisance`` (the model without its post-run response terms), over coordinate
    ``bin_time`` (s, bin centres) with ``bin_segment`` (pre / run / post / other)."""
    units = str(da.attrs.get("units", "a.u."))
    coords = {"bin_time": ("bin", evidence["bin_time"], {"units": "s",
                                                          "long_name": "bin centre"}),
              "bin_segment": ("bin", evidence["bin_segment"].astype(str))}
    return {name: xr.DataArray(np.asarray(values, dtype=np.float32), dims=("roi", "bin"),
                               coords=coords, attrs={"units": units, "long_name": text})
            for name, values, text in (
                ("binned", evidence["binned"], "binned trace"),
                ("fitted", stats["fitted"], "fitted session model"),
                ("fitted_nuisance", stats["fitted_nuisance"],
                 "fitted session model without the post-run response terms"))}


_UNITS = {"label": "1", "effect": "z", "p_value": "1", "q_value": "1", "trend_degree": "1"}


PROVENANCE = ("subject", "session", "day", "session_start", "source_file")


def _result(arrays, out, params, n_runs, null, variable, ds=None):
    roi = np.concatenate([np.asarray(da["roi"].values) for da in arrays])
    roi_coords = {}
    if len(arrays) == 1:
        roi_coords = {name: ("roi", c.values, c.attrs) for name, c in arrays[0].coords.items()
                      if c.dims == ("roi",) and name != "roi"}
    data = {name: ("roi", np.asarray(values),
                   {"units": _UNITS[name.removeprefix("run_")]}) for name, values in out.items()}
    attrs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()
             if v is not None and k not in {"kind", "name"}}
    signal = variable or (arrays[0].name if len(arrays) == 1 else None) or "F - neuropil_coefficient*Fneu"
    from .. import __version__

    attrs.update(fdr=int(params["fdr"]), random_state=str(params["random_state"]),
                 n_runs=int(n_runs), null=null, signal=str(signal),
                 labels=list(LABELS) + [INSUFFICIENT_DATA], sfone_version=__version__)
    source_attrs = getattr(ds, "attrs", {}) or {}
    attrs.update({k: source_attrs[k] for k in PROVENANCE if k in source_attrs})
    return xr.Dataset(data, coords={"roi": roi, **roi_coords}, attrs=attrs)


#: result attrs recorded in a labels file's header, in this order
PROVENANCE_ATTRS = ("sfone_version", "method", "null", "signal", "source_file", "subject",
                    "session", "day", "baseline_s", "post_run_s", "baseline_window_s",
                    "post_run_windows_s", "run_windows_s", "bin_s", "n_bins", "dropped_bins",
                    "trend_degree", "transient_tau_s", "noise_tau_s", "noise_share",
                    "bleaching_population_loss", "bleaching_relative_curves",
                    "neuropil_coefficient", "alpha", "fdr", "min_baseline_s")


def provenance_lines(result: xr.Dataset) -> str:
    r"""The header of a labels file: one ``# key: value`` line per recorded setting of
    ``result`` (method, null model, windows, noise model, bleaching, sfone version), so two
    labels files can be compared setting by setting.

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`label_responses`.

    Returns
    -------
    str
        Lines ending in ``\n``; read the table with ``pandas.read_csv(path, comment="#")``.
    """
    lines = []
    for key in PROVENANCE_ATTRS:
        if key in result.attrs:
            value = " ".join(str(result.attrs[key]).split())
            lines.append(f"# {key}: {value}\n")
    return "".join(lines)


def cross_table(result: xr.Dataset) -> pd.DataFrame:
    """Counts of run-response label (rows) x post-run label (columns).

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`label_responses` with run labels (``run_label`` and ``label``
        over ``roi``).

    Returns
    -------
    pandas.DataFrame
        Integer counts of ROIs, index ``run`` and columns ``post_run``, both in the order
        ``activated``, ``inhibited``, ``unchanged`` (labels nobody has count 0).

    Raises
    ------
    ValueError
        When ``result`` has no ``run_label``.
    """
    if "run_label" not in result:
        raise ValueError("the result has no run labels: call label_responses with run_s set")
    table = pd.crosstab(pd.Series(result["run_label"].values, name="run"),
                        pd.Series(result["label"].values, name="post_run"))
    return table.reindex(index=list(LABELS), columns=list(LABELS), fill_value=0)

"""Seeded imaging sessions with KNOWN post-run labels around treadmill runs.

:func:`make_imaging_session` returns a contract-valid imaging Dataset (dims ``(roi, time)``,
``F``/``Fneu``/``spks``, ``iscell``, ``fs``) plus the run epochs. The truth is stored on the
Dataset: coordinate ``true_label`` (``activated`` | ``inhibited`` | ``unchanged``),
``true_run_label`` (response during the run) and ``roi_kind`` (``neuron`` | ``low_rate`` |
``noise``). :func:`make_cohort` builds day-1 / day-8 sessions for several mice whose pooled
activated fractions are exactly the requested ones (31.8 % and 53.2 % by default).

Model (all rates in events/s, times in s): Poisson calcium events per ROI at a baseline rate;
activated cells raise the rate 2.5-4x during the post-run effect, inhibited cells lower it to
10-30 % of baseline, low-rate cells (0.02-0.06 Hz) fall silent. Events are convolved with an
exponential indicator kernel (decay 0.4-1.5 s); F = F0 + calcium + 0.7 x Fneu + AR(1) noise
with a 0.5-2 s time constant and a per-ROI SD (relative to the event amplitude) of 0.1-0.5
(0.05-0.12 for the quiet low-rate cells).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.signal import lfilter

from ..schema import POST_RUN_LABELS, finalize_dataset, make_events

__all__ = ["make_imaging_session", "make_cohort", "run_schedule"]

LABELS = POST_RUN_LABELS
NEUCOEFF = 0.7


def run_schedule(n_runs: int, *, baseline_s: float, run_s: float, post_s: float):
    """Start/end times (s) of ``n_runs`` runs: ``baseline_s`` quiet, then (run, post) repeated.

    Parameters
    ----------
    n_runs : int
        Runs.
    baseline_s : float
        Quiet time before the first run (s).
    run_s : float
        Run duration (s).
    post_s : float
        Recording after each run (s).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Run starts and ends (s).
    """
    period = run_s + post_s
    start = baseline_s + period * np.arange(n_runs)
    return start, start + run_s


def _rate_profile(time, starts, ends, *, effect_s):
    """Masks (time,) of 'during a run' and 'inside a post-run effect period'."""
    during = np.zeros(time.size, bool)
    post = np.zeros(time.size, bool)
    for s, e in zip(starts, ends, strict=True):
        during |= (time >= s) & (time < e)
        post |= (time >= e) & (time < e + effect_s)
    return during, post


def _assign_kinds(n_rois, fractions, noise_fraction, low_rate_fraction, rng):
    """Per-ROI true post-run label and kind, in shuffled order."""
    n_noise = int(round(noise_fraction * n_rois))
    n_cells = n_rois - n_noise
    counts = np.floor(np.asarray(fractions, float) * n_cells).astype(int)
    counts[2] = n_cells - counts[0] - counts[1]
    labels = np.repeat(np.array(LABELS), counts).tolist() + ["unchanged"] * n_noise
    kinds = ["neuron"] * n_cells + ["noise"] * n_noise
    inhibited = [i for i, lab in enumerate(labels) if lab == "inhibited"]
    n_low = min(len(inhibited), int(round(low_rate_fraction * n_cells)))
    for i in inhibited[:n_low]:
        kinds[i] = "low_rate"
    order = rng.permutation(n_rois)
    return np.array(labels)[order], np.array(kinds)[order]


def _rates(labels, kinds, during, post, rng):
    """Event rate (roi, time) in events/s, and the true run-response label per ROI."""
    n = labels.size
    base = rng.uniform(0.1, 0.4, n)
    base[kinds == "low_rate"] = rng.uniform(0.02, 0.06, (kinds == "low_rate").sum())
    post_gain = np.ones(n)
    act, inh = labels == "activated", labels == "inhibited"
    post_gain[act] = rng.uniform(2.5, 4.0, act.sum())
    post_gain[inh] = rng.uniform(0.1, 0.3, inh.sum())
    post_gain[kinds == "low_rate"] = 0.0
    run_gain = rng.choice([0.3, 1.0, 3.0], size=n, p=[0.2, 0.5, 0.3])
    run_label = np.where(run_gain > 1, "activated", np.where(run_gain < 1, "inhibited",
                                                             "unchanged"))
    rate = np.broadcast_to(base[:, None], (n, during.size)).copy()
    rate[:, post] *= post_gain[:, None]
    rate[:, during] *= run_gain[:, None]
    rate[kinds == "noise"] = 0.0
    run_label[kinds == "noise"] = "unchanged"
    return rate, run_label


def _ar1(noise, tau_s, fs):
    """Filter white noise (roi, time) into AR(1) noise with unit marginal SD per row."""
    phi = np.exp(-1.0 / (np.asarray(tau_s) * fs))
    out = np.empty_like(noise)
    for value in np.unique(phi):  # few distinct taus; vectorised over the ROIs sharing one
        rows = phi == value
        out[rows] = lfilter([np.sqrt(1 - value**2)], [1, -value], noise[rows], axis=1)
    return out


def _traces(rate, fs, rng, low_rate):
    """F, Fneu, spks (roi, time) from event rates; float32. Low-rate cells are quiet, clean
    cells (noise SD 0.05-0.12 of the event amplitude) whose rare transients stand out."""
    n, t = rate.shape
    events = rng.poisson(rate / fs).astype(float)
    events *= rng.uniform(0.7, 1.3, events.shape) * (events > 0)
    decay = np.round(rng.uniform(0.4, 1.5, n), 1)
    calcium = np.empty_like(events)
    for tau in np.unique(decay):
        rows = decay == tau
        calcium[rows] = lfilter([1.0], [1, -np.exp(-1 / (tau * fs))], events[rows], axis=1)
    noise_sd = rng.uniform(0.1, 0.5, n)
    noise_sd[low_rate] = rng.uniform(0.05, 0.12, low_rate.sum())
    noise_tau = np.round(rng.uniform(0.5, 2.0, n), 1)
    noise = _ar1(rng.standard_normal((n, t)), noise_tau, fs) * noise_sd[:, None]
    neuropil = 0.3 * _ar1(rng.standard_normal((1, t)), np.array([20.0]), fs)
    fneu = 2.0 + neuropil + 0.05 * rng.standard_normal((n, t))
    f0 = rng.uniform(1.0, 3.0, n)[:, None]
    # contamination by the neuropil signal itself, so F - 0.7 Fneu = F0 + calcium + noise > 0
    f = f0 + calcium + NEUCOEFF * fneu + noise
    return f.astype(np.float32), fneu.astype(np.float32), events.astype(np.float32)


def make_imaging_session(n_rois: int = 100, *, fs: float = 10.0, n_runs: int = 1,
                         baseline_s: float = 600.0, run_s: float = 600.0,
                         post_s: float = 3600.0, effect_s: float | None = None,
                         fractions=(0.35, 0.25, 0.40), noise_fraction: float = 0.1,
                         low_rate_fraction: float = 0.05, jitter: float = 0.0,
                         subject: str = "sim", random_state=0):
    """Simulate one imaging session around ``n_runs`` treadmill runs, with known labels.

    Parameters
    ----------
    n_rois : int, default 100
        ROIs: cells plus ``noise_fraction`` pure-noise ROIs with ``iscell`` False.
    fs : float, default 10.0
        Frame rate (Hz).
    n_runs : int, default 1
        Runs.
    baseline_s, run_s, post_s : float, default 600.0, 600.0, 3600.0
        Schedule (s): ``baseline_s`` before the first run, then each run lasts ``run_s`` and is
        followed by ``post_s`` of recording.
    effect_s : float, optional
        How long the post-run rate change lasts after each run end (s); default ``post_s`` for
        one run, ``post_s - baseline_s`` for several (so each run's own pre-run baseline is back
        at the resting rate).
    fractions : (float, float, float), default (0.35, 0.25, 0.40)
        (activated, inhibited, unchanged) shares among the cells.
    noise_fraction : float, default 0.1
        Share of ROIs that are pure noise (``iscell`` False).
    low_rate_fraction : float, default 0.05
        Share of cells that are low-rate (0.02-0.06 Hz) and fall silent after the run (their true
        label is ``inhibited``).
    jitter : float, default 0.0
        SD of the frame-time jitter as a fraction of the frame interval (real timestamps).
    subject : str, default "sim"
        The Dataset's ``subject`` attr.
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    (xarray.Dataset, xarray.Dataset)
        The imaging Dataset carries the truth in coords ``true_label``, ``true_run_label`` and
        ``roi_kind``; the events Dataset has the run ``start``/``end`` (s).
    """
    rng = np.random.default_rng(random_state)
    starts, ends = run_schedule(n_runs, baseline_s=baseline_s, run_s=run_s, post_s=post_s)
    if effect_s is None:
        effect_s = post_s if n_runs == 1 else post_s - baseline_s
    n_time = int(round((ends[-1] + post_s) * fs))
    time = np.arange(n_time) / fs
    if jitter:
        time = time + rng.normal(0, jitter / fs, n_time).clip(-0.45 / fs, 0.45 / fs)
    during, post = _rate_profile(time, starts, ends, effect_s=effect_s)
    labels, kinds = _assign_kinds(n_rois, fractions, noise_fraction, low_rate_fraction, rng)
    rate, run_label = _rates(labels, kinds, during, post, rng)
    f, fneu, spks = _traces(rate, fs, rng, kinds == "low_rate")
    iscell = kinds != "noise"
    prob = np.where(iscell, rng.uniform(0.6, 1.0, n_rois), rng.uniform(0.0, 0.4, n_rois))
    ds = xr.Dataset(
        {"F": (("roi", "time"), f, {"units": "a.u.", "long_name": "ROI fluorescence"}),
         "Fneu": (("roi", "time"), fneu, {"units": "a.u.", "long_name": "neuropil fluorescence"}),
         "spks": (("roi", "time"), spks, {"units": "a.u.", "long_name": "event amplitudes"})},
        coords={"roi": np.arange(n_rois), "time": ("time", time, {"units": "s"}),
                "iscell": ("roi", iscell), "iscell_prob": ("roi", prob),
                "y": ("roi", rng.uniform(0, 512, n_rois), {"units": "pixel"}),
                "x": ("roi", rng.uniform(0, 512, n_rois), {"units": "pixel"}),
                "plane": ("roi", np.zeros(n_rois, int)),
                "true_label": ("roi", labels), "true_run_label": ("roi", run_label),
                "roi_kind": ("roi", kinds)})
    ds = finalize_dataset(ds, modality="imaging", source_format="simulated",
                          source_file="<simulated>", subject=subject, fs=float(fs),
                          neuropil_coefficient=NEUCOEFF, random_state=str(random_state))
    epochs = make_events(starts, ends, source_format="simulated", source_file="<simulated>")
    return ds, epochs


def _day_counts(n_per_mouse, fraction):
    """Activated cells per mouse so the pooled fraction is as close as possible to ``fraction``."""
    n_per_mouse = np.asarray(n_per_mouse)
    target = fraction * n_per_mouse.sum()
    exact = fraction * n_per_mouse
    counts = np.floor(exact).astype(int)
    extra = int(round(target)) - counts.sum()
    counts[np.argsort(exact - counts)[::-1][:extra]] += 1
    return counts


def make_cohort(n_mice: int = 5, *, days=(1, 8), activated=(0.318, 0.532),
                inhibited=(0.25, 0.15), cells_per_mouse=(22, 31), fs: float = 5.0,
                baseline_s: float = 300.0, run_s: float = 300.0, post_s: float = 900.0,
                random_state=0):
    """Day-1 / day-8 imaging sessions of several mice with known activated fractions.

    Every mouse is imaged on each day (different cells each day). The pooled fraction of
    activated cells on each day is the whole-cell count closest to ``activated[i]`` (with the
    default seed: 43/134 = 32.1 % and 77/145 = 53.1 %). Sessions are short (25 min at 5 Hz) to
    stay cheap.

    Parameters
    ----------
    n_mice : int, default 5
        Mice.
    days : tuple of int, default (1, 8)
        Imaging days.
    activated : tuple of float, default (0.318, 0.532)
        Pooled activated fraction per day.
    inhibited : tuple of float, default (0.25, 0.15)
        Inhibited fraction per day (capped by what activation leaves).
    cells_per_mouse : (int, int) or dict, default (22, 31)
        (min, max) cells per mouse and day, or ``{day: [cells of each mouse]}``.
    fs : float, default 5.0
        Frame rate (Hz).
    baseline_s, run_s, post_s : float, default 300.0, 300.0, 900.0
        Schedule (s), see :func:`make_imaging_session`.
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    list of dict
        One per session: ``mouse``, ``day``, ``dataset`` (imaging Dataset with truth) and
        ``epochs`` (events Dataset).

    Raises
    ------
    ValueError
        If a ``cells_per_mouse`` dict lists a different number of mice.
    """
    rng = np.random.default_rng(random_state)
    sessions = []
    for day, act, inh in zip(days, activated, inhibited, strict=True):
        if isinstance(cells_per_mouse, dict):  # exact cells per mouse on each day
            n_cells = np.asarray(cells_per_mouse[day], dtype=int)
            if n_cells.size != n_mice:
                raise ValueError(f"cells_per_mouse[{day}] lists {n_cells.size} mice, "
                                 f"expected {n_mice}")
        else:
            n_cells = rng.integers(cells_per_mouse[0], cells_per_mouse[1] + 1, n_mice)
        n_act = _day_counts(n_cells, act)
        for mouse in range(n_mice):
            n = int(n_cells[mouse])
            fr_act = n_act[mouse] / n
            fr_inh = min(inh, 1 - fr_act)
            seed = int(rng.integers(2**31))
            ds, epochs = make_imaging_session(
                n, fs=fs, baseline_s=baseline_s, run_s=run_s, post_s=post_s,
                fractions=(fr_act + 1e-9, fr_inh, 1 - fr_act - fr_inh), noise_fraction=0.0,
                low_rate_fraction=0.05, subject=f"mouse{mouse + 1}", random_state=seed)
            ds.attrs["day"] = int(day)
            sessions.append({"mouse": f"mouse{mouse + 1}", "day": int(day), "dataset": ds,
                             "epochs": epochs})
    return sessions

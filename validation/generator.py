"""Independent generator of imaging sessions with known post-run labels (issue 14).

Written without reading ``sfone.simulate`` or ``sfone.classify``: it writes what an acquisition
and suite2p would leave on disk (``suite2p/plane0/{F,Fneu,spks,iscell,stat,ops}.npy``, the
<=0.14 flat-``ops`` layout) plus ``runs.csv`` (``start_s,end_s``), ``truth.csv`` (one row per
ROI) and ``session.json`` (design, nuisances, seed, every drawn parameter), and photometry-like
channels (dF/F traces and a raw signal/isosbestic pair) as a CSV with a ``Time(s)`` column.

Model (all times in s, fluorescence in a.u.):

* spikes: Poisson, or bursty (burst onsets Poisson at rate r / mean burst size, 1 + geometric
  extra spikes 10-30 ms apart); optional slow log-rate modulation (OU, SD 0.5, tau 60 s,
  mean-rate preserving);
* response: the rate is multiplied by ``gain ** h(t)``; ``h`` is 1 after the run end
  (``sustained``), ``exp(-(t - last run end) / 60 s)`` (``decaying``), or 1 from the first run
  end on (``persisting``); ``activated`` gain 2, ``inhibited`` 0.25, ``transient`` gain 2 with
  the decaying shape in every design, ``null`` gain 1;
* calcium: double-exponential kernel ``exp(-t/decay) - exp(-t/rise)`` scaled to a peak of
  ``amplitude`` (dF/F per spike), rise 50-100 ms, decay 0.4-1.5 s, evaluated exactly at the
  real (jittered) frame times;
* F = bleach(t) * (F0 * (1 + calcium) + contamination * neuropil(t)) + F0 * drift(t) + noise;
  ``Fneu`` = bleach(t) * neuropil(t) + its own small noise; the per-frame noise SD is 0.3-1.2x
  the spike amplitude ``F0 * amplitude``;
* nuisances (each a switch in :class:`Nuisance`): bursty spiking with rate modulation,
  photobleaching (10-20 % lost over the session, tau 20-60 min), slow drift (OU, tau 300 s, SD
  1 % of F0), a shared neuropil with fast (tau 1 s) and slow (tau 120 s) fluctuations while
  the true contamination is drawn in 0.4-1.0 (the file's ``ops['neucoeff']`` keeps its own
  value), a 5-10 % neuropil step at the first run end, frame-time jitter (SD 10 % of the frame
  period, plus a clock 0-0.05 % off the nominal ``fs`` stored in ``ops``);
* photometry dF/F channels (:func:`write_photometry`, issue 26): a residual bleaching
  exponential falling by 0.02 dF/F (2 % of F0) over the session, tau 20-60 min, and a slow
  drift (OU, SD 0.01 dF/F, tau 300 s), each drawn per channel.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Design", "Nuisance", "DESIGNS", "NUISANCES", "KINDS", "EXPECTED_LABEL",
           "double_exponential", "calcium_at", "spike_times", "ou_process", "simulate_session",
           "write_session", "write_photometry", "Session", "draw_spike_trains"]

#: truth kinds and the post-run label a correct classifier gives them
KINDS = ("null", "activated", "inhibited", "transient")
EXPECTED_LABEL = {"null": "unchanged", "activated": "activated", "inhibited": "inhibited",
                  "transient": "activated"}
GAIN = {"null": 1.0, "activated": 2.0, "inhibited": 0.25, "transient": 2.0}
TRANSIENT_TAU_S = 60.0
#: slow log-rate modulation (OU) of the ``rate_modulation`` nuisance
LOG_RATE_SD, LOG_RATE_TAU_S = 0.5, 60.0
#: bursty spiking: burst onsets at rate / BURST_MEAN_SIZE, 1 + geometric(0.5) extra spikes
BURST_MEAN_SIZE = 3.0


@dataclass(frozen=True)
class Design:
    """A run schedule: ``pre_s`` rest, ``n_runs`` runs of ``run_s`` with ``rest_s`` between,
    then ``post_s`` after the last run; ``response`` is the shape of activated/inhibited."""

    name: str
    pre_s: float
    n_runs: int
    run_s: float
    rest_s: float
    post_s: float
    response: str  # sustained | decaying | persisting

    @property
    def duration_s(self) -> float:
        return self.pre_s + self.n_runs * self.run_s + (self.n_runs - 1) * self.rest_s + self.post_s

    def runs(self) -> np.ndarray:
        """(n_runs, 2) run start and end times in s from session start."""
        starts = self.pre_s + np.arange(self.n_runs) * (self.run_s + self.rest_s)
        return np.c_[starts, starts + self.run_s]


DESIGNS = {
    "single": Design("single", 600.0, 1, 1200.0, 0.0, 2400.0, "sustained"),
    "five_short": Design("five_short", 600.0, 5, 90.0, 120.0, 600.0, "decaying"),
    "eight_short": Design("eight_short", 600.0, 8, 60.0, 120.0, 600.0, "persisting"),
}


@dataclass(frozen=True)
class Nuisance:
    """Switches of every nuisance; ``Nuisance()`` is a clean session."""

    bursty: bool = False
    rate_modulation: bool = False
    bleaching: bool = False
    drift: bool = False
    neuropil: bool = False
    neuropil_step: bool = False
    jitter: bool = False
    #: neuropil coefficient the file's ops.npy states (suite2p's default 0.7)
    ops_neucoeff: float = 0.7
    #: range of the neuropil step (fraction of its level) and of the bleaching loss
    step_fraction: tuple = (0.05, 0.10)
    bleach_loss: tuple = (0.10, 0.20)
    #: photometry dF/F channels only (:func:`write_photometry`; the imaging data ignore them):
    #: a residual bleaching exponential left in the dF/F (falls by RESIDUAL_BLEACH over the
    #: session, tau 20-60 min) and a slow OU drift (SD DFF_DRIFT_SD in dF/F units, tau 300 s)
    residual_bleaching: bool = False
    dff_drift: bool = False

    def on(self) -> list[str]:
        return [k for k, v in asdict(self).items() if v is True]


_ALL = Nuisance(True, True, True, True, True, True, True)
NUISANCES = {
    "clean": Nuisance(),
    "bursty": Nuisance(bursty=True, rate_modulation=True),
    "bleaching": Nuisance(bleaching=True),
    "drift": Nuisance(drift=True),
    "neuropil": Nuisance(neuropil=True),
    "neuropil_step": Nuisance(neuropil=True, neuropil_step=True),
    "jitter": Nuisance(jitter=True),
    # the pair found to break the first glm (29 % of null ROIs labelled): bleaching while the
    # neuropil fluctuates, so Fneu alone no longer traces the bleaching curve
    "bleaching_neuropil": Nuisance(bleaching=True, neuropil=True),
    "all": _ALL,
    # the all-null case: ops says neucoeff 1.0 and the neuropil rises after the run
    "neucoeff_1": Nuisance(neuropil=True, neuropil_step=True, ops_neucoeff=1.0,
                           step_fraction=(0.10, 0.10)),
    # photometry (issue 26): what an imperfect bleaching correction or a slow baseline wander
    # leaves in a dF/F channel
    "residual_bleaching": Nuisance(residual_bleaching=True),
    "dff_drift": Nuisance(dff_drift=True),
}
#: residual bleaching of a dF/F channel: the fall over the session (0.02 dF/F = 2 % of F0)
RESIDUAL_BLEACH = 0.02
#: OU drift of a dF/F channel: SD 0.01 dF/F (1 % of F0, the imaging drift's 1 % of F0), tau 300 s
DFF_DRIFT_SD, DFF_DRIFT_TAU_S = 0.01, 300.0


@dataclass
class Session:
    """Everything :func:`simulate_session` draws; arrays are (roi, frame) float32."""

    design: Design
    nuisance: Nuisance
    fs: float
    seed: int
    frame_times: np.ndarray
    F: np.ndarray
    Fneu: np.ndarray
    spks: np.ndarray
    calcium: np.ndarray  # noise-free dF/F of each cell
    truth: pd.DataFrame
    neuropil: np.ndarray  # shared neuropil before bleaching (a.u.)
    bleach: np.ndarray  # (roi, frame) multiplicative bleaching of each ROI
    extra: dict = field(default_factory=dict)


def double_exponential(t, rise_s: float, decay_s: float) -> np.ndarray:
    """Kernel ``exp(-t/decay) - exp(-t/rise)`` scaled to a peak of 1 (0 for t < 0)."""
    t = np.clip(np.asarray(t, dtype=float), 0, None)
    out = (np.exp(-t / decay_s) - np.exp(-t / rise_s)) / _kernel_peak(rise_s, decay_s)
    return np.where(np.asarray(t) > 0, out, 0.0)


def ou_process(n: int, dt: float, tau_s: float, sd: float, rng, size: int = 1) -> np.ndarray:
    """Stationary Ornstein-Uhlenbeck samples ``(size, n)`` at step ``dt`` (exact AR(1))."""
    from scipy.signal import lfilter

    a = np.exp(-dt / tau_s)
    innovations = rng.standard_normal((size, n)) * sd * np.sqrt(1 - a * a)
    innovations[:, 0] = rng.standard_normal(size) * sd
    return lfilter([1.0], [1.0, -a], innovations, axis=1)


def spike_times(rate, frame_times, rng, *, bursty: bool = False) -> np.ndarray:
    """Spike times (s) of one cell whose rate (Hz) is piecewise constant between frames.

    ``rate[k]`` holds on ``(frame_times[k-1], frame_times[k]]`` (before frame 0: from
    ``frame_times[0] - median interval``). Bursty: burst onsets at ``rate / 3`` (mean burst of 3
    spikes: 1 + geometric(0.5) extra spikes, intervals uniform 10-30 ms).
    """
    edges = np.r_[frame_times[0] - np.median(np.diff(frame_times)), frame_times]
    widths = np.diff(edges)
    mean_size = BURST_MEAN_SIZE if bursty else 1.0
    counts = rng.poisson(np.asarray(rate) * widths / mean_size)
    idx = np.repeat(np.arange(len(widths)), counts)
    onsets = edges[idx] + rng.random(idx.size) * widths[idx]
    if not bursty:
        return onsets
    extra = rng.geometric(0.5, size=onsets.size)  # >= 1 extra spike: mean size 1 + 2 = 3
    owner = np.repeat(np.arange(onsets.size), extra)
    gaps = rng.uniform(0.010, 0.030, size=owner.size)
    # cumulative gap within each burst
    starts = np.r_[0, np.cumsum(extra)[:-1]]
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[starts] - gaps[starts], extra)
    times = np.r_[onsets, onsets[owner] + cum]
    return np.sort(times[times <= frame_times[-1]])


def _kernel_peak(rise_s, decay_s):
    rise_s, decay_s = np.asarray(rise_s, float), np.asarray(decay_s, float)
    t_peak = rise_s * decay_s / (decay_s - rise_s) * np.log(decay_s / rise_s)
    return np.exp(-t_peak / decay_s) - np.exp(-t_peak / rise_s)


def _carry(drive: np.ndarray, frame_times: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``acc[k] = acc[k-1] * exp(-(t[k] - t[k-1]) / tau) + drive[k]`` for every row."""
    from scipy.signal import lfilter

    dt = np.diff(frame_times)
    out = np.empty_like(drive)
    if dt.size == 0 or np.ptp(dt) < 1e-9 * dt.mean():  # regular clock: a linear filter per row
        step = dt[0] if dt.size else 1.0
        for i in range(drive.shape[0]):
            out[i] = lfilter([1.0], [1.0, -np.exp(-step / tau[i])], drive[i])
        return out
    factor = np.exp(-dt[None, :] / tau[:, None])
    acc = drive[:, 0].copy()
    out[:, 0] = acc
    for k in range(1, drive.shape[1]):
        acc *= factor[:, k - 1]
        acc += drive[:, k]
        out[:, k] = acc
    return out


def calcium_at(spikes, frame_times: np.ndarray, rise_s, decay_s) -> np.ndarray:
    """Sum of :func:`double_exponential` kernels of spike times evaluated at ``frame_times``.

    ``spikes``: one array of spike times (s), or a list of them with per-cell ``rise_s`` and
    ``decay_s``. Exact for any (jittered) frame times: each exponential is carried frame to frame
    with its own decay factor, and every spike enters at its exact delay before the next frame.
    Returns ``(n_frames,)`` or ``(n_cells, n_frames)``.
    """
    single = isinstance(spikes, np.ndarray) and spikes.ndim == 1 and np.ndim(rise_s) == 0
    trains = [spikes] if single else list(spikes)
    rise = np.broadcast_to(np.asarray(rise_s, float), (len(trains),))
    decay = np.broadcast_to(np.asarray(decay_s, float), (len(trains),))
    n = len(frame_times)
    out = np.zeros((len(trains), n))
    for tau, sign in ((decay, 1.0), (rise, -1.0)):
        drive = np.zeros((len(trains), n))
        for i, train in enumerate(trains):
            frame = np.searchsorted(frame_times, train, side="left")
            keep = frame < n
            frame = frame[keep]
            drive[i] = np.bincount(frame, minlength=n,
                                   weights=np.exp(-(frame_times[frame] - train[keep]) / tau[i]))
        out += sign * _carry(drive, frame_times, tau)
    out /= _kernel_peak(rise, decay)[:, None]
    return out[0] if single else out


def _response_profile(design: Design, shape: str, frame_times: np.ndarray) -> np.ndarray:
    """``h(t)`` in [0, 1]: the fraction of the log-gain applied at each frame."""
    ends = design.runs()[:, 1]
    h = np.zeros(frame_times.size)
    if shape == "sustained":
        h[frame_times >= ends[0]] = 1.0  # one run: from its end on
        if design.n_runs > 1:  # several runs: during each post-run rest
            h[:] = 0.0
            starts = design.runs()[:, 0]
            for k, end in enumerate(ends):
                stop = starts[k + 1] if k + 1 < len(starts) else np.inf
                h[(frame_times >= end) & (frame_times < stop)] = 1.0
    elif shape == "persisting":
        h[frame_times >= ends[0]] = 1.0
    elif shape == "decaying":
        last = np.searchsorted(ends, frame_times, side="right") - 1
        after = last >= 0
        h[after] = np.exp(-(frame_times[after] - ends[last[after]]) / TRANSIENT_TAU_S)
    else:
        raise ValueError(f"unknown response shape {shape!r}")
    return h


def _frame_times(design: Design, fs: float, jitter: bool, rng) -> tuple[np.ndarray, float]:
    n = int(round(design.duration_s * fs))
    if not jitter:
        return np.arange(n) / fs, 1.0
    clock = 1.0 + rng.uniform(-5e-4, 5e-4)  # true frame period / nominal
    times = (np.arange(n) + rng.normal(0.0, 0.1, n)) * clock / fs
    return np.maximum.accumulate(times + np.arange(n) * 1e-9), clock


def draw_spike_trains(design: Design, nuisance: Nuisance, rate0, kinds, frame_times, dt: float,
                      rng) -> list[np.ndarray]:
    """Spike times (s) of every cell: baseline rate ``rate0`` (Hz) x the response of its kind
    (``gain ** h(t)``) x the slow log-rate modulation (OU, SD 0.5, tau 60 s, sampled every
    ``dt`` s, mean-rate preserving) when ``nuisance.rate_modulation``; Poisson or bursty
    (:func:`spike_times`). The draws :func:`simulate_session` makes, in its order."""
    n_rois, n = len(rate0), len(frame_times)
    modulation = (ou_process(n, dt, LOG_RATE_TAU_S, LOG_RATE_SD, rng, n_rois)
                  - 0.5 * LOG_RATE_SD**2
                  if nuisance.rate_modulation else np.zeros((n_rois, n)))
    profiles = {shape: _response_profile(design, shape, frame_times)
                for shape in {design.response, "decaying"}}
    trains = []
    for i in range(n_rois):
        h = profiles["decaying" if kinds[i] == "transient" else design.response]
        rate = rate0[i] * np.exp(np.log(GAIN[kinds[i]]) * h + modulation[i])
        trains.append(spike_times(rate, frame_times, rng, bursty=nuisance.bursty))
    return trains


def simulate_session(design: Design | str = "single", nuisance: Nuisance | str = "clean", *,
                     fs: float = 10.0, n_rois: int = 200, fractions=None, seed: int = 0,
                     rate_hz=(0.2, 1.0), keep_spikes: bool = False) -> Session:
    """Draw one session; ``fractions`` maps kind -> fraction (default 50 % null, 20 %
    activated, 15 % inhibited, 15 % transient); baseline rates log-uniform in ``rate_hz``.
    ``keep_spikes``: also store every cell's spike times (s) as ``extra["spike_times"]`` (a
    list of arrays; no random draw changes, so F, Fneu and the truth are the same)."""
    design = DESIGNS[design] if isinstance(design, str) else design
    nuisance = NUISANCES[nuisance] if isinstance(nuisance, str) else nuisance
    rng = np.random.default_rng(seed)
    fractions = fractions or {"null": 0.5, "activated": 0.2, "inhibited": 0.15, "transient": 0.15}
    counts = np.floor(np.array([fractions.get(k, 0.0) for k in KINDS]) * n_rois).astype(int)
    counts[0] += n_rois - counts.sum()
    kinds = rng.permutation(np.repeat(np.array(KINDS), counts))

    frame_times, clock = _frame_times(design, fs, nuisance.jitter, rng)
    n = frame_times.size
    dt = 1.0 / fs

    rate0 = np.exp(rng.uniform(np.log(rate_hz[0]), np.log(rate_hz[1]), n_rois))
    rise = rng.uniform(0.05, 0.10, n_rois)
    decay = rng.uniform(0.4, 1.5, n_rois)
    amplitude = rng.uniform(0.1, 0.3, n_rois)  # peak dF/F of one spike
    f0 = np.exp(rng.uniform(np.log(200), np.log(1000), n_rois))
    noise_ratio = rng.uniform(0.3, 1.2, n_rois)

    trains = draw_spike_trains(design, nuisance, rate0, kinds, frame_times, dt, rng)
    n_spikes = np.array([t.size for t in trains])
    calcium = amplitude[:, None] * calcium_at(trains, frame_times, rise, decay)

    # shared neuropil: level N0 = 1000, the cells' own F0 200-1000 (suite2p's F is mostly
    # neuropil for dim cells); fast (1 s) and slow (120 s) fluctuations
    n0 = 1000.0
    if nuisance.neuropil:
        neuropil = n0 * (1 + ou_process(n, dt, 120.0, 0.05, rng)[0]
                         + ou_process(n, dt, 1.0, 0.03, rng)[0])
        contamination = rng.uniform(0.4, 1.0, n_rois)
    else:
        neuropil = np.full(n, n0)
        contamination = np.full(n_rois, nuisance.ops_neucoeff)
    step = rng.uniform(*nuisance.step_fraction) if nuisance.neuropil_step else 0.0
    neuropil = neuropil * (1 + step * (frame_times >= design.runs()[0, 1]))
    local = 1 + 0.1 * rng.standard_normal(n_rois)  # each ROI's annulus sees its own level

    if nuisance.bleaching:
        loss = rng.uniform(*nuisance.bleach_loss, n_rois)
        tau_b = rng.uniform(20 * 60, 60 * 60, n_rois)
    else:
        loss, tau_b = np.zeros(n_rois), np.full(n_rois, np.inf)
    duration = frame_times[-1] - frame_times[0]
    # bleach(t) = 1 - a (1 - exp(-t / tau)) with a chosen so that bleach(end) = 1 - loss
    scale = np.where(np.isfinite(tau_b), -np.expm1(-duration / tau_b), 1.0)
    depth = loss / scale
    bleach = 1 - depth[:, None] * -np.expm1(-(frame_times - frame_times[0])[None] / tau_b[:, None])
    drift = (ou_process(n, dt, 300.0, 0.01, rng, n_rois) if nuisance.drift
             else np.zeros((n_rois, n)))

    fneu_true = local[:, None] * neuropil[None]
    spike_amp = f0 * amplitude
    F = (bleach * (f0[:, None] * (1 + calcium) + contamination[:, None] * fneu_true)
         + f0[:, None] * drift + (noise_ratio * spike_amp)[:, None] * rng.standard_normal((n_rois, n)))
    Fneu = bleach * fneu_true + 0.02 * n0 * rng.standard_normal((n_rois, n))
    fc = F - nuisance.ops_neucoeff * Fneu
    spks = np.maximum(0.0, fc - np.exp(-dt / decay)[:, None] * np.roll(fc, 1, axis=1))
    spks[:, 0] = 0.0

    truth = pd.DataFrame({
        "roi": np.arange(n_rois), "kind": kinds, "expected_label": [EXPECTED_LABEL[k] for k in kinds],
        "gain": [GAIN[k] for k in kinds],
        "shape": ["decaying" if k == "transient" else design.response for k in kinds],
        "rate_hz": rate0, "n_spikes": n_spikes, "rise_s": rise, "decay_s": decay,
        "amplitude_dff": amplitude, "F0": f0, "noise_sd": noise_ratio * spike_amp,
        "noise_ratio": noise_ratio, "contamination": contamination, "neuropil_local": local,
        "bleach_loss": loss, "bleach_tau_s": tau_b,
    })
    extra = {"neuropil_step": step, "clock": clock, "neuropil_level": n0}
    if keep_spikes:
        extra["spike_times"] = trains
    return Session(design, nuisance, float(fs), int(seed), frame_times,
                   F.astype(np.float32), Fneu.astype(np.float32), spks.astype(np.float32),
                   calcium.astype(np.float32), truth, neuropil, bleach, extra=extra)


def _stat(n_rois: int, rng, shape=(512, 512)) -> np.ndarray:
    stat = []
    for _ in range(n_rois):
        cy, cx = rng.uniform(10, shape[0] - 10), rng.uniform(10, shape[1] - 10)
        yy, xx = np.mgrid[-4:5, -4:5]
        inside = yy**2 + xx**2 <= 16
        ypix = (np.round(cy) + yy[inside]).astype(np.int32)
        xpix = (np.round(cx) + xx[inside]).astype(np.int32)
        lam = np.exp(-(yy[inside] ** 2 + xx[inside] ** 2) / 8.0).astype(np.float32)
        stat.append({"ypix": ypix, "xpix": xpix, "lam": lam, "med": [float(np.round(cy)),
                     float(np.round(cx))], "npix": int(inside.sum()), "radius": 4.0,
                     "iplane": 0})
    return np.array(stat, dtype=object)


def write_session(session: Session, folder) -> Path:
    """Write ``folder/suite2p/plane0/*.npy``, ``runs.csv``, ``truth.csv``, ``frame_times.npy``
    and ``session.json``; returns the plane folder."""
    folder = Path(folder)
    plane = folder / "suite2p" / "plane0"
    plane.mkdir(parents=True, exist_ok=True)
    n_rois, n = session.F.shape
    rng = np.random.default_rng(session.seed + 7919)
    np.save(plane / "F.npy", session.F)
    np.save(plane / "Fneu.npy", session.Fneu)
    np.save(plane / "spks.npy", session.spks)
    np.save(plane / "iscell.npy", np.c_[np.ones(n_rois), rng.uniform(0.6, 1.0, n_rois)])
    np.save(plane / "stat.npy", _stat(n_rois, rng), allow_pickle=True)
    ops = {"fs": session.fs, "neucoeff": session.nuisance.ops_neucoeff, "tau": 1.0,
           "nframes": n, "Ly": 512, "Lx": 512, "nplanes": 1, "nchannels": 1,
           "frames_per_file": np.array([n]), "filelist": ["movie.tif"], "suite2p_version": "0.14.4"}
    np.save(plane / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    runs = session.design.runs()
    pd.DataFrame({"start_s": runs[:, 0], "end_s": runs[:, 1]}).to_csv(folder / "runs.csv",
                                                                      index=False)
    session.truth.to_csv(folder / "truth.csv", index=False)
    np.save(folder / "frame_times.npy", session.frame_times)
    meta = {"design": asdict(session.design), "nuisance": asdict(session.nuisance),
            "fs": session.fs, "seed": session.seed, "n_rois": n_rois, "n_frames": n,
            **{k: float(v) for k, v in session.extra.items() if np.isscalar(v)}}
    (folder / "session.json").write_text(json.dumps(meta, indent=1))
    return plane


def write_photometry(session: Session, path, *, n_channels: int = 20, kinds=None) -> Path:
    """Photometry-like CSV from ``session``: ``Time(s)``, ``dff_<i>`` (bulk dF/F of groups of
    the session's cells of one kind, bleaching folded out) and a raw ``signal`` /
    ``isosbestic`` pair (bleaching, shared motion, the bulk response of the first group only in
    the signal); the group kinds are in ``<path>.truth.csv``.

    ``kinds``: the kind of each dF/F channel (default ``KINDS`` in turn). The session's
    photometry nuisances enter every dF/F channel (not the raw pair), each with its own draw:
    ``residual_bleaching`` adds ``-RESIDUAL_BLEACH (1 - exp(-t / tau)) / (1 - exp(-T / tau))``
    (tau uniform 20-60 min, T the session length: it falls by exactly 0.02 dF/F), ``dff_drift``
    an OU of SD ``DFF_DRIFT_SD`` dF/F and tau ``DFF_DRIFT_TAU_S``. They are drawn from a
    generator of their own, so the channels of a session without them are unchanged."""
    rng = np.random.default_rng(session.seed + 104729)
    truth = session.truth
    cell_kinds = truth["kind"].to_numpy()
    kinds = [KINDS[i % len(KINDS)] for i in range(n_channels)] if kinds is None else list(kinds)
    if len(kinds) != n_channels:
        raise ValueError(f"kinds has {len(kinds)} entries for {n_channels} channels")
    rows, groups = [], []
    for kind in kinds:
        pool = np.flatnonzero(cell_kinds == kind)
        if pool.size == 0:
            raise ValueError(f"the session has no {kind!r} cell for a photometry channel")
        pick = rng.choice(pool, size=min(10, pool.size), replace=False)
        groups.append(kind)
        bulk = session.calcium[pick].mean(axis=0)
        rows.append(bulk + 0.3 * bulk.std() * rng.standard_normal(bulk.size))
    t = session.frame_times
    motion = 0.03 * ou_process(t.size, 1 / session.fs, 2.0, 1.0, rng)[0]
    bleach_s = 1 - 0.15 * -np.expm1(-t / 1800)
    bleach_i = 1 - 0.10 * -np.expm1(-t / 2400)
    signal = 2.0 * bleach_s * (1 + rows[0] + motion) + 0.002 * rng.standard_normal(t.size)
    iso = 1.5 * bleach_i * (1 + motion) + 0.002 * rng.standard_normal(t.size)
    rows = _dff_nuisances(session, rows)
    table = {"Time(s)": t}
    table.update({f"dff_{i}": r for i, r in enumerate(rows)})
    table.update(signal=signal, isosbestic=iso)
    path = Path(path)
    pd.DataFrame(table).to_csv(path, index=False, float_format="%.6g")
    pd.DataFrame({"channel": [f"dff_{i}" for i in range(n_channels)] + ["signal", "isosbestic"],
                  "kind": groups + [groups[0], "control"],
                  "expected_label": [EXPECTED_LABEL[k] for k in groups]
                  + [EXPECTED_LABEL[groups[0]], "none"]}).to_csv(
        path.with_suffix(".truth.csv"), index=False)
    return path


def _dff_nuisances(session: Session, rows: list) -> list:
    """The photometry nuisances of ``session.nuisance`` added to each dF/F channel."""
    nuisance = session.nuisance
    if not (nuisance.residual_bleaching or nuisance.dff_drift):
        return rows
    rng = np.random.default_rng(session.seed + 15485863)
    t = session.frame_times - session.frame_times[0]
    out = []
    for row in rows:
        if nuisance.residual_bleaching:
            tau = rng.uniform(20 * 60, 60 * 60)
            row = row - RESIDUAL_BLEACH * np.expm1(-t / tau) / np.expm1(-t[-1] / tau)
        if nuisance.dff_drift:
            row = row + ou_process(t.size, 1 / session.fs, DFF_DRIFT_TAU_S, DFF_DRIFT_SD, rng)[0]
        out.append(row)
    return out


def with_nuisance(base: Nuisance | str, **switches) -> Nuisance:
    """``base`` with some switches changed (``with_nuisance("clean", bleaching=True)``)."""
    base = NUISANCES[base] if isinstance(base, str) else base
    return replace(base, **switches)

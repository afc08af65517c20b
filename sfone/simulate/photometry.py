"""Simulated fiber-photometry recordings with known truth, and writers of the real file formats.

The model (Keevers & Jean-Richard-dit-Bressel 2025 style): each channel bleaches with its own
double exponential; a shared multiplicative motion artefact hits both channels; the signal carries
transients ``dff_true``; each channel has independent Gaussian noise. The control is sampled
``stagger`` sample periods after the signal (time-division rigs), so the two clocks differ.

``signal(t) = B_s(t) * m(t) * (1 + dff_true(t)) + noise``; ``control(t) = B_c(t) * m(t) + noise``.

Writers produce Doric v1 and v6 ``.doric``, pyPhotometry ``.ppd``, Neurophotometrics CSV and a
generic CSV from the documented layouts (no real ``.doric`` file is public).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from .._atomic import atomic_path, write_csv

__all__ = ["SimulatedPhotometry", "simulate_photometry", "transient_kernel", "write_doric_v1",
           "write_doric_v6", "write_ppd", "write_npm_csv", "write_photometry_csv",
           "write_samples", "BASE_TRANSIENT_RATE_HZ"]

PPD_VOLTS_PER_DIVISION = 0.00010122
#: default rate of the simulated dF/F transients (Hz)
BASE_TRANSIENT_RATE_HZ = 0.1


@dataclass
class SimulatedPhotometry:
    """A simulated two-channel recording; all times in seconds, traces in volts.

    Parameters
    ----------
    fs : float
        Per-channel sampling rate (Hz).
    time_signal, time_control : numpy.ndarray
        Sample times of the signal and control channels (s).
    signal, control : numpy.ndarray
        Signal (470 nm) and control (isosbestic) traces (V).
    dff_true : numpy.ndarray
        True dF/F on ``time_signal``.
    motion : numpy.ndarray
        Shared multiplicative artefact on ``time_signal``.
    ttl : numpy.ndarray
        0/1 level on ``time_signal``.
    ttl_onsets : numpy.ndarray
        Time of the first high sample of each pulse (s).
    ttl_offsets : numpy.ndarray
        Time of the first low sample after each pulse (s).
    """

    fs: float
    time_signal: np.ndarray
    time_control: np.ndarray
    signal: np.ndarray
    control: np.ndarray
    dff_true: np.ndarray  # on time_signal
    motion: np.ndarray  # shared multiplicative artefact on time_signal
    ttl: np.ndarray  # 0/1 level on time_signal
    ttl_onsets: np.ndarray  # time of the first high sample of each pulse
    ttl_offsets: np.ndarray  # time of the first low sample after each pulse


def _double_exp(t, base, fast, tau_fast, slow, tau_slow):
    return base + fast * np.exp(-t / tau_fast) + slow * np.exp(-t / tau_slow)


def transient_kernel(t, onsets, amplitudes, rise_s: float = 0.15,
                     decay_s: float = 1.2) -> np.ndarray:
    """dF/F of calcium-like transients: the sum of ``a (1 - exp(-lag / rise_s)) exp(-lag /
    decay_s)`` over the onsets (s) after each.

    Parameters
    ----------
    t : numpy.ndarray
        Times (s).
    onsets, amplitudes : array_like
        Onset times (s) and peak-scale amplitudes (dF/F) of the transients.
    rise_s, decay_s : float
        Rise and decay time constants (s).

    Returns
    -------
    numpy.ndarray
        dF/F at ``t``.
    """
    onsets, amplitudes = np.asarray(onsets, dtype=float), np.asarray(amplitudes, dtype=float)
    lag = t[None, :] - onsets[:, None]
    kernel = np.where(lag > 0, (1 - np.exp(-np.maximum(lag, 0) / rise_s))
                      * np.exp(-np.maximum(lag, 0) / decay_s), 0.0)
    return (amplitudes[:, None] * kernel).sum(axis=0)


def _transients(t, rng, rate_hz):
    n = rng.poisson(rate_hz * t[-1])
    onsets = np.sort(rng.uniform(5.0, t[-1] - 5.0, n))
    amplitudes = rng.uniform(0.05, 0.3, n)
    return transient_kernel(t, onsets, amplitudes)


def _motion_fn(duration, rng, n_artefacts):
    """A function of time: product of smooth dips (shared motion artefacts) and a slow wander."""
    margin = min(10.0, duration / 4)
    centres = rng.uniform(margin, duration - margin, n_artefacts)
    depths = rng.uniform(0.05, 0.25, n_artefacts)
    widths = rng.uniform(0.3, 2.0, n_artefacts)
    wander_phase = rng.uniform(0, 2 * np.pi)

    def motion(t):
        dips = depths[:, None] * np.exp(-0.5 * ((t[None, :] - centres[:, None])
                                                / widths[:, None]) ** 2)
        # a product of dips stays positive however many artefacts overlap
        return np.prod(1.0 - dips, axis=0) * (1 + 0.02 * np.sin(2 * np.pi * t / 97
                                                              + wander_phase))

    return motion


def _ttl(t, rng, interval_s, width_s):
    onsets = np.arange(interval_s, t[-1] - 2 * width_s, interval_s)
    onsets = onsets + rng.uniform(-0.3, 0.3, onsets.size) * interval_s
    level = np.zeros(t.size, dtype=np.int8)
    first_high, first_low = [], []
    for onset in onsets:  # a few dozen pulses
        i0, i1 = np.searchsorted(t, [onset, onset + width_s])
        level[i0:i1] = 1
        first_high.append(t[i0])
        first_low.append(t[i1])
    return level, np.array(first_high), np.array(first_low)


def simulate_photometry(*, duration_s: float = 600.0, fs: float = 20.0, stagger: float = 0.5,
                        transient_rate_hz: float = BASE_TRANSIENT_RATE_HZ, n_artefacts: int = 12,
                        noise_sd: float = 0.002, ttl_interval_s: float = 30.0,
                        ttl_width_s: float = 1.0, response=None,
                        random_state=0) -> SimulatedPhotometry:
    """Simulate a signal/control pair with bleaching, motion artefacts, transients and a TTL line.

    Parameters
    ----------
    duration_s, fs : float
        Length (s) and per-channel sampling rate (Hz).
    stagger : float
        Control sampled ``stagger / fs`` s after the signal (0: simultaneous, one shared clock).
    transient_rate_hz : float, default 0.1
        Rate of dF/F transients (Hz).
    n_artefacts : int, default 12
        Motion artefacts.
    noise_sd : float
        Gaussian noise per channel (V).
    ttl_interval_s : float, default 30.0
        Interval between TTL pulses (s).
    ttl_width_s : float, default 1.0
        TTL pulse width (s).
    response : callable, optional
        ``response(t) -> dF/F`` (t in s, an array), added to the transients in ``dff_true``
        (a slow response to an event, such as a post-run rise); draws nothing from the seed,
        so a recording without it is unchanged.
    random_state : int or numpy Generator
        Seed; the same seed gives the same recording.

    Returns
    -------
    SimulatedPhotometry
    """
    rng = np.random.default_rng(random_state)
    t_sig = np.arange(int(round(duration_s * fs))) / fs
    t_ctl = t_sig + stagger / fs
    motion = _motion_fn(duration_s, rng, n_artefacts)
    dff = _transients(t_sig, rng, transient_rate_hz)
    if response is not None:
        dff = dff + np.asarray(response(t_sig), dtype=float)
    bleach_s = _double_exp(t_sig, 1.0, 0.4, 60.0, 0.3, 600.0)
    bleach_c = _double_exp(t_ctl, 0.6, 0.25, 80.0, 0.15, 900.0)
    signal = bleach_s * motion(t_sig) * (1 + dff) + rng.normal(0, noise_sd, t_sig.size)
    control = bleach_c * motion(t_ctl) + rng.normal(0, noise_sd, t_ctl.size)
    level, on, off = _ttl(t_sig, rng, ttl_interval_s, ttl_width_s)
    return SimulatedPhotometry(fs, t_sig, t_ctl, signal, control, dff, motion(t_sig), level, on,
                               off)


# ---------------------------------------------------------------------------------------- writers

def _h5_dataset(group: h5py.Group, name: str, values) -> None:
    group.create_dataset(name, data=np.asarray(values), track_times=False)


def write_doric_v6(sim: SimulatedPhotometry, path, *, warmup_samples: int = 5,
                   unused_channel: bool = True,
                   created: str = "Mon Jan 06 10:00:00 2025") -> Path:
    """Write a Doric v6 ``.doric``: one ``Time`` per group (signal/control lock-ins, DigitalIO).

    With ``unused_channel``, includes an all-NaN crosstalk channel ``AIN01xAOUT02-LockIn``
    (unused demodulation); ``warmup_samples`` leading NaNs in each lock-in channel (warm-up).

    Parameters
    ----------
    sim : SimulatedPhotometry
        The recording to write.
    path : str or os.PathLike
        Output file (written atomically).
    warmup_samples : int, default 5
        Leading NaN samples of each lock-in channel.
    unused_channel : bool, default True
        Include the all-NaN crosstalk channel.
    created : str, default "Mon Jan 06 10:00:00 2025"
        The file's ``Created`` attr (session start).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    signal = sim.signal.copy()
    control = sim.control.copy()
    signal[:warmup_samples] = np.nan
    control[:warmup_samples] = np.nan
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as fh:
        fh.attrs["Created"] = created
        config = fh.create_group("Configurations/FPConsole", track_order=True)
        config.attrs["Name"] = "FPConsole"
        series = fh.create_group("DataAcquisition/FPConsole/Signals/Series0001", track_order=True)
        lockins = [("AIN01xAOUT01-LockIn", sim.time_signal, signal),
                   ("AIN01xAOUT02-LockIn", sim.time_signal, np.full(signal.shape, np.nan)),
                   ("AIN02xAOUT02-LockIn", sim.time_control, control)]
        for name, time, values in lockins if unused_channel else lockins[::2]:
            group = series.create_group(name, track_order=True)
            _h5_dataset(group, "Time", time)
            _h5_dataset(group, "Values", values)
        dio = series.create_group("DigitalIO", track_order=True)
        _h5_dataset(dio, "Time", sim.time_signal)
        _h5_dataset(dio, "DIO01", sim.ttl.astype(float))
    return Path(path)


def write_doric_v1(sim: SimulatedPhotometry, path) -> Path:
    """Write a legacy Doric ``.doric`` (``Traces/Console``, one shared time vector).

    The legacy layout has one clock: simulate with ``stagger=0``.

    Parameters
    ----------
    sim : SimulatedPhotometry
        The recording to write.
    path : str or os.PathLike
        Output file (written atomically).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as fh:
        console = fh.create_group("Traces/Console", track_order=True)
        _h5_dataset(console.create_group("Time(s)"), "Console_time(s)", sim.time_signal)
        for name, values in (("AIn-1 - Dem (AOut-1)", sim.signal),
                             ("AIn-2 - Dem (AOut-2)", sim.control),
                             ("DI--O-1", sim.ttl.astype(float))):
            _h5_dataset(console.create_group(name), name, values)
    return Path(path)


def write_ppd(sim: SimulatedPhotometry, path, *, subject: str = "sim01",
              date_time: str = "2025-01-06T10:00:00") -> Path:
    """Write a pyPhotometry ``.ppd`` with an old-style header (float ``version`` 0.2, pulsed mode).

    The control is analog_2 (sampled half a period after analog_1: simulate with ``stagger=0.5``);
    the TTL is digital_1.

    Parameters
    ----------
    sim : SimulatedPhotometry
        The recording to write.
    path : str or os.PathLike
        Output file (written atomically).
    subject : str, default "sim01"
        Header ``subject_ID``.
    date_time : str, default "2025-01-06T10:00:00"
        Header ``date_time`` (ISO 8601).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    header = {"subject_ID": subject, "date_time": date_time, "mode": "2 colour time div.",
              "sampling_rate": int(sim.fs), "volts_per_division": [PPD_VOLTS_PER_DIVISION] * 2,
              "LED_current": [40, 40], "version": 0.2}
    header_bytes = json.dumps(header).encode()
    counts = [np.clip(np.round(x / PPD_VOLTS_PER_DIVISION), 0, 2 ** 15 - 1).astype(np.uint16)
              for x in (sim.signal, sim.control)]
    words = np.empty(2 * sim.signal.size, dtype="<u2")
    words[0::2] = (counts[0] << 1) | sim.ttl.astype(np.uint16)
    words[1::2] = counts[1] << 1
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(len(header_bytes).to_bytes(2, "little") + header_bytes
                              + words.tobytes())
    return Path(path)


def write_npm_csv(sim: SimulatedPhotometry, path, *, all_led_first_frame: bool = True) -> Path:
    """Write a Neurophotometrics V2 ``PhotometryWriter`` CSV (frames alternate 470/415).

    With ``all_led_first_frame`` the first frame has ``LedState`` 7 (all LEDs, as FP3002 files
    do; readers drop it). The signal is 470 nm, the control 415 nm sampled ``stagger`` periods
    later (simulate with ``stagger=0.5``).

    Parameters
    ----------
    sim : SimulatedPhotometry
        The recording to write.
    path : str or os.PathLike
        Output file (written atomically).
    all_led_first_frame : bool, default True
        Start with an all-LED frame (``LedState`` 7).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    n = sim.signal.size
    frame_time = np.empty(2 * n + 1)
    frame_time[0] = sim.time_signal[0] - 0.5 / sim.fs
    frame_time[1::2] = sim.time_signal
    frame_time[2::2] = sim.time_control
    led = np.empty(2 * n + 1, dtype=int)
    led[0], led[1::2], led[2::2] = 7, 2, 1
    value = np.empty(2 * n + 1)
    value[0], value[1::2], value[2::2] = sim.signal[0] + sim.control[0], sim.signal, sim.control
    origin = 100.0
    table = pd.DataFrame({"FrameCounter": np.arange(2 * n + 1),
                          "SystemTimestamp": np.round(origin + frame_time, 6),
                          "LedState": led,
                          "ComputerTimestamp": np.round((36000.0 + frame_time) * 1000, 3),
                          "G0": value})
    if not all_led_first_frame:
        table = table.iloc[1:]
    return write_csv(table, path, float_format="%.9g")


def write_photometry_csv(sim: SimulatedPhotometry, path) -> Path:
    """Write a generic CSV ``Time(s),signal,control,TTL`` (one clock: simulate with stagger=0).

    Parameters
    ----------
    sim : SimulatedPhotometry
        The recording to write.
    path : str or os.PathLike
        Output file (written atomically).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    table = pd.DataFrame({"Time(s)": np.round(sim.time_signal, 6), "signal": sim.signal,
                          "control": sim.control, "TTL": sim.ttl})
    return write_csv(table, path, float_format="%.9g")


def write_samples(out_dir) -> list[Path]:
    """One small simulated file per photometry format in ``out_dir`` (seeded, reproducible).

    The samples read without repair warnings (no all-NaN channel, no all-LED frame).

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder written into.

    Returns
    -------
    list of pathlib.Path
        Doric v6, Doric v1, pyPhotometry, Neurophotometrics and generic CSV files.
    """
    out_dir = Path(out_dir)
    staggered = simulate_photometry(duration_s=180.0, fs=20.0, stagger=0.5, random_state=41)
    shared = simulate_photometry(duration_s=180.0, fs=20.0, stagger=0.0, random_state=42)
    return [write_doric_v6(staggered, out_dir / "photometry_doric_v6.doric",
                           unused_channel=False),
            write_doric_v1(shared, out_dir / "photometry_doric_v1.doric"),
            write_ppd(staggered, out_dir / "photometry_pyphotometry.ppd"),
            write_npm_csv(staggered, out_dir / "photometry_npm.csv", all_led_first_frame=False),
            write_photometry_csv(shared, out_dir / "photometry_generic.csv")]

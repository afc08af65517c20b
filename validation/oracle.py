"""An upper bound on post-run power: what a test on the noise-free calcium could reach.

For each session of the independent generator, the statistic is the log ratio of the noise-free
calcium (``Session.calcium``: no measurement noise, no bleaching, drift or neuropil) in the
post-run rests, weighted by the true response profile of the kind tested (a matched filter: it
knows the shape), to its mean in the pre-run rest. The null ROIs of the same session, with the
same weights, give the two-sided 5 % critical values (an oracle: it knows which ROIs are null,
and it uses a per-ROI 5 % level, not a false-discovery rate). The fraction of activated (x2), inhibited
(x0.25) and transient ROIs beyond them bounds the power of any classifier that sees F with noise
and compares post-run with pre-run activity: the spiking itself (bursty, with slow log-rate
modulation) varies that much between the windows.

``python -m validation.oracle [--seeds 101 202]`` prints the table of docs/classification.md.
"""

from __future__ import annotations

import argparse

import numpy as np

from .generator import DESIGNS, _response_profile, simulate_session
from .harness import FRACTIONS

__all__ = ["oracle_power"]


def oracle_power(design: str, nuisance: str, seed: int, *, fs: float = 10.0,
                 n_rois: int = 200) -> dict:
    """Power of the noise-free-calcium oracle (see the module docstring) for one session."""
    s = simulate_session(design, nuisance, fs=fs, n_rois=n_rois, seed=seed, fractions=FRACTIONS)
    t, runs = s.frame_times, s.design.runs()
    pre = t < runs[0, 0]
    post = np.zeros(t.size, bool)
    for k in range(len(runs)):
        stop = runs[k + 1, 0] if k + 1 < len(runs) else np.inf
        post |= (t >= runs[k, 1]) & (t < stop)
    kinds = s.truth["kind"].to_numpy()
    baseline = s.calcium[:, pre].mean(axis=1)
    out = {}
    for kind, side in (("activated", 1), ("inhibited", -1), ("transient", 1)):
        shape = "decaying" if kind == "transient" else s.design.response
        weight = _response_profile(s.design, shape, t) * post
        log_ratio = np.log((s.calcium @ weight) / weight.sum() / baseline)
        for name, stat in (("", log_ratio), (" rate-aware", _rate_standardised(
                log_ratio, s.truth["rate_hz"].to_numpy(), kinds == "null"))):
            low, high = np.quantile(stat[kinds == "null"], [0.025, 0.975])
            v = stat[kinds == kind]
            out[kind + name] = float(np.mean(v > high) if side > 0 else np.mean(v < low))
    return out


def _rate_standardised(log_ratio, rate, null):
    """``log_ratio`` over its null SD at each ROI's baseline rate: the null variance modelled
    as ``a + b / rate`` (slow modulation + spike-count noise), fitted on the null ROIs. A ROI
    that fires fast has a less noisy ratio; this oracle gives it a lower threshold."""
    X = np.column_stack([np.ones(null.sum()), 1.0 / rate[null]])
    a, b = np.clip(np.linalg.lstsq(X, log_ratio[null] ** 2, rcond=None)[0], 1e-12, None)
    return log_ratio / np.sqrt(a + b / rate)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 202])
    args = parser.parse_args(argv)
    print("| design | spiking | oracle power x2 | oracle power x0.25 | oracle power transient |"
          " rate-aware x2 | rate-aware x0.25 | rate-aware transient |")
    print("|---|---|---|---|---|---|---|---|")
    for design in DESIGNS:
        for nuisance, name in (("clean", "Poisson"), ("bursty", "bursty + log-rate OU")):
            rows = [oracle_power(design, nuisance, seed) for seed in args.seeds]
            mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
            cells = " | ".join(f"{mean[k + suffix]:.2f}" for suffix in ("", " rate-aware")
                               for k in ("activated", "inhibited", "transient"))
            print(f"| `{design}` | {name} | {cells} |")


if __name__ == "__main__":
    main()

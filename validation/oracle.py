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
        low, high = np.quantile(log_ratio[kinds == "null"], [0.025, 0.975])
        v = log_ratio[kinds == kind]
        out[kind] = float(np.mean(v > high) if side > 0 else np.mean(v < low))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 202])
    args = parser.parse_args(argv)
    print("| design | spiking | oracle power x2 | oracle power x0.25 | oracle power transient |")
    print("|---|---|---|---|---|")
    for design in DESIGNS:
        for nuisance, name in (("clean", "Poisson"), ("bursty", "bursty + log-rate OU")):
            rows = [oracle_power(design, nuisance, seed) for seed in args.seeds]
            mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
            print(f"| `{design}` | {name} | {mean['activated']:.2f} | {mean['inhibited']:.2f} "
                  f"| {mean['transient']:.2f} |")


if __name__ == "__main__":
    main()

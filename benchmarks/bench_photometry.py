"""dF/F control fit: sfone's robust IRLS against statsmodels RLM(HuberT) (GuPPy's approach)."""

from __future__ import annotations

import numpy as np

from benchmarks._harness import Benchmark
from sfone._robust_fit import fit_line

FS_HZ = 1000.0
DURATION_S = 3600.0


def _setup(work_dir):
    rng = np.random.default_rng(0)
    n = int(FS_HZ * DURATION_S)
    t = np.arange(n) / FS_HZ
    control = 1.0 + 0.2 * np.exp(-t / 900.0) + rng.normal(0, 0.003, n)
    transients = np.zeros(n)
    onsets = rng.choice(n - 5000, size=400, replace=False)
    kernel = 0.05 * np.exp(-np.arange(5000) / 800.0)
    for onset in onsets:  # setup only, not timed
        transients[onset:onset + 5000] += kernel
    signal = 0.1 + 0.9 * control + transients + rng.normal(0, 0.003, n)
    return control, signal


def _sfone(data):
    control, signal = data
    return np.array(fit_line(control, signal, method="irls", norm="huber", tuning=1.345))


def _statsmodels(data):
    import statsmodels.api as sm

    control, signal = data
    model = sm.RLM(signal, sm.add_constant(control), M=sm.robust.norms.HuberT(t=1.345))
    # converge on the coefficients (the default deviance rule stops at maxiter on this data)
    return np.asarray(model.fit(conv="coefs", tol=1e-10).params)


def _check(sfone_params, baseline_params):
    np.testing.assert_allclose(sfone_params, baseline_params, rtol=1e-6, atol=1e-9)


BENCHMARKS = [Benchmark(
    name="dff_irls_vs_statsmodels",
    work="2 channels, 1 h at 1 kHz, Huber robust fit of control to signal",
    baseline="statsmodels RLM(HuberT)",
    setup=_setup, run_sfone=_sfone, run_baseline=_statsmodels, check=_check,
    target_speedup=5.0, repeats=3)]

"""Type-I error and power of the day 1 vs day 8 tests on simulated cohorts (docs/statistics.md).

Each simulated cohort: ``mice`` mice imaged on two days; mouse m on day d has ``n`` neurons
(Poisson(``cells``), at least 10), of which Binomial(n, expit(mu + day effect + a_m + b_md)) are
post-run activated, with a_m ~ N(0, 0.5) between mice and b_md ~ N(0, ``mouse_day_sd``) the
mouse x day variation. mu = logit(0.318) (the paper's day 1); under the null the day effect is 0,
for power it is logit(0.532) - logit(0.318) (the paper's day 8).

Cheap tests run on every cohort, the model-based ones (GEE, GLMM, variational GLMM) on the first
``--model-reps`` cohorts of the main design. Every test is the call sfone.stats makes (checked
on the first cohorts: the script's p-values equal ``compare_proportions``'). The calibration is
on data the tests were not tuned on: seeds below are used nowhere else.

    python validation/day_comparison.py              # prints the markdown tables of the docs
    python validation/day_comparison.py --quick      # fewer cohorts (a smoke run, ~1 min)
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from scipy import stats
from scipy.special import expit, logit

BASE = logit(0.318)
EFFECT = logit(0.532) - logit(0.318)
MOUSE_SD = 0.5
SEED = 20261201
WILCOXON_REPS = 400


def simulate(rng, *, mice, cells, mouse_day_sd, effect, reps=None):
    """(k, n) arrays of shape (mice, 2), or (reps, mice, 2): activated and imaged neurons."""
    shape = (mice, 2) if reps is None else (reps, mice, 2)
    n = np.maximum(rng.poisson(cells, shape), 10)
    a = rng.normal(0, MOUSE_SD, shape[:-1] + (1,))
    b = rng.normal(0, mouse_day_sd, shape) if mouse_day_sd > 0 else np.zeros(shape)
    eta = BASE + np.array([0.0, effect]) + a + b
    return rng.binomial(n, expit(eta)), n


def cheap_pvalues(k, n):
    """p-values of the tests cheap enough for every cohort (name -> array over cohorts).

    ``k``, ``n``: (cohorts, mice, 2). Same scipy calls as sfone.stats, vectorised over cohorts.
    """
    from sfone.stats import empirical_logit

    frac = k / n
    lg = empirical_logit(k, n)
    out = {"mouse_paired_t": stats.ttest_rel(frac[..., 1], frac[..., 0], axis=1).pvalue,
           "mouse_paired_t_logit": stats.ttest_rel(lg[..., 1], lg[..., 0], axis=1).pvalue}
    out["mouse_paired_t"] = np.where(np.isnan(out["mouse_paired_t"]), 1.0, out["mouse_paired_t"])
    diff = frac[..., 1] - frac[..., 0]
    # the exact Wilcoxon is slow: first WILCOXON_REPS cohorts only (NaN = not run)
    out["mouse_wilcoxon"] = np.array([(stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0)
                                      if i < WILCOXON_REPS else np.nan
                                      for i, d in enumerate(diff)])
    act, rest = k.sum(axis=1), (n - k).sum(axis=1)  # (cohorts, 2 days)
    tables = np.stack([np.stack([act[:, 0], rest[:, 0]], 1), np.stack([act[:, 1], rest[:, 1]], 1)],
                      1)  # (cohorts, day, activated/not)
    expected = tables.sum(2, keepdims=True) * tables.sum(1, keepdims=True) / tables.sum((1, 2),
                                                                                         keepdims=True)
    chi2 = ((tables - expected) ** 2 / expected).sum((1, 2))
    out["chi2"] = stats.chi2.sf(chi2, 1)
    out["fisher"] = np.array([stats.fisher_exact(t).pvalue for t in tables])
    return out


def gee_pvalues(k, n):
    """GEE (binomial, exchangeable, mouse clusters) on the cells: robust and bias-reduced SE."""
    import statsmodels.api as sm

    mice = k.shape[0]
    rows = [(m, d, y) for m in range(mice) for d in (0, 1)
            for y in np.r_[np.ones(k[m, d]), np.zeros(n[m, d] - k[m, d])]]
    data = np.array(rows, float)
    exog = sm.add_constant(data[:, 1])
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GEE(data[:, 2], exog, groups=data[:, 0], family=sm.families.Binomial(),
                       cov_struct=sm.cov_struct.Exchangeable())
        for cov in ("robust", "bias_reduced"):
            try:
                fit = model.fit(cov_type=cov)
                out[f"gee_{cov}"] = float(fit.pvalues[1])
            except Exception:  # noqa: BLE001 - a failed fit counts as not rejecting
                out[f"gee_{cov}"] = np.nan
    return out


def glmm_pvalues(k, n):
    """Maximum-likelihood binomial GLMM LR tests: (1|mouse) and (1|mouse) + (1|mouse:day)."""
    from sfone.stats._glmm import glmm_day_test

    mice = k.shape[0]
    mouse = np.repeat(np.arange(mice), 2)
    day = np.tile([0.0, 1.0], mice)
    return {"glmm_mouse": glmm_day_test(k.ravel(), n.ravel(), mouse, day,
                                        mouse_day=False)["p_value"],
            "glmm_mouse_day": glmm_day_test(k.ravel(), n.ravel(), mouse, day)["p_value"]}


def vb_pvalues(k, n):
    """statsmodels BinomialBayesMixedGLM (variational Bayes): 2 * Phi(-|posterior mean / sd|)."""
    import pandas as pd
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    rows = [{"mouse": f"m{m}", "md": f"m{m}d{d}", "day": d, "y": y}
            for m in range(k.shape[0]) for d in (0, 1)
            for y in np.r_[np.ones(k[m, d]), np.zeros(n[m, d] - k[m, d])]]
    data = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BinomialBayesMixedGLM.from_formula(
            "y ~ day", {"mouse": "0 + C(mouse)", "md": "0 + C(md)"}, data)
        fit = model.fit_vb()
    z = fit.fe_mean[1] / fit.fe_sd[1]
    return {"glmm_vb": float(2 * stats.norm.sf(abs(z)))}


def check_against_library(rng):
    """The script's p-values equal those of sfone.stats.compare_proportions on the same cohorts."""
    from sfone.stats import compare_proportions

    k_all, n_all = simulate(rng, mice=5, cells=30, mouse_day_sd=0.3, effect=0.0, reps=3)
    mine = cheap_pvalues(k_all, n_all)
    for i, (k, n) in enumerate(zip(k_all, n_all, strict=True)):
        labels, mice = {0: [], 1: []}, {0: [], 1: []}
        for m in range(k.shape[0]):
            for d in (0, 1):
                labels[d] += ["activated"] * k[m, d] + ["unchanged"] * (n[m, d] - k[m, d])
                mice[d] += [f"m{m}"] * n[m, d]
        result = compare_proportions(labels[0], labels[1], mice_a=mice[0], mice_b=mice[1],
                                     wilcoxon=True)
        for name in ("mouse_paired_t", "mouse_paired_t_logit", "mouse_wilcoxon", "chi2", "fisher"):
            assert np.isclose(result.p_value(name), mine[name][i], rtol=1e-9), name
        glmm = glmm_pvalues(k, n)["glmm_mouse_day"]
        assert np.isclose(result.p_value("glmm_lrt"), glmm, rtol=1e-6), "glmm"


def run_design(rng, *, mice, cells, mouse_day_sd, effect, reps, model_reps):
    """Rejection rates at 0.05: test name -> (rate, number of cohorts)."""
    k, n = simulate(rng, mice=mice, cells=cells, mouse_day_sd=mouse_day_sd, effect=effect,
                    reps=reps)
    pvalues = cheap_pvalues(k, n)
    for name, count in model_reps.items():
        rows = [MODELS[name](k[i], n[i]) for i in range(min(count, reps))]
        for key in (rows[0] if rows else {}):
            pvalues[key] = np.array([r[key] for r in rows], float)
    rates = {}
    for name, p in pvalues.items():
        p = p[np.isfinite(p)]
        rates[name] = (float(np.mean(p < 0.05)), int(p.size))
    return rates


MODELS = {"gee": gee_pvalues, "glmm": glmm_pvalues, "vb": vb_pvalues}
COLUMNS = [("chi2", "pooled chi2 (secondary)"), ("fisher", "pooled Fisher (secondary)"),
           ("mouse_paired_t", "**paired t, fractions (headline)**"),
           ("mouse_paired_t_logit", "paired t, logit fractions"),
           ("mouse_wilcoxon", "Wilcoxon signed-rank"), ("gee_robust", "GEE, robust SE"),
           ("gee_bias_reduced", "GEE, bias-reduced SE"), ("glmm_mouse", "GLMM (1|mouse), LRT"),
           ("glmm_mouse_day", "GLMM (1|mouse)+(1|mouse:day), LRT"),
           ("glmm_vb", "statsmodels VB GLMM, posterior z")]


def table(results, title):
    present = [(key, name) for key, name in COLUMNS if any(key in r for _, r in results)]
    lines = [f"**{title}**", "", "| design | " + " | ".join(n for _, n in present) + " |",
             "|---|" + "---|" * len(present)]
    for design, rates in results:
        cells = [f"{rates[k][0]:.3f} ({rates[k][1]})" if k in rates else "" for k, _ in present]
        lines.append(f"| {design} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000, help="cohorts per design (cheap tests)")
    parser.add_argument("--model-reps", type=int, default=60,
                        help="cohorts per design for GEE and the GLMMs, type-I error")
    parser.add_argument("--power-model-reps", type=int, default=30,
                        help="cohorts per design for GEE and the GLMMs, power")
    parser.add_argument("--vb-reps", type=int, default=20,
                        help="cohorts per design for the variational GLMM (type-I error only)")
    parser.add_argument("--quick", action="store_true", help="400 / 20 / 10 / 5 cohorts")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.model_reps, args.power_model_reps, args.vb_reps = 400, 20, 10, 5
    rng = np.random.default_rng(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LowPowerWarning of the 5-mouse Wilcoxon, expected here
        check_against_library(np.random.default_rng(SEED + 1))
    start = time.time()
    designs = [(5, 30, sd) for sd in (0.0, 0.3, 0.6)]
    extra = [(5, 100, 0.3), (8, 30, 0.3), (12, 30, 0.3)]
    for effect, title in ((0.0, "Type-I error at alpha = 0.05 (no day effect)"),
                          (EFFECT, "Power at alpha = 0.05 (31.8 % -> 53.2 %)")):
        results = []
        for mice, cells, sd in designs + extra:
            models = {}
            if (mice, cells) == (5, 30):
                count = args.model_reps if effect == 0 else args.power_model_reps
                models = {"glmm": count, "gee": count, "vb": args.vb_reps if effect == 0 else 0}
            rates = run_design(rng, mice=mice, cells=cells, mouse_day_sd=sd, effect=effect,
                               reps=args.reps, model_reps=models)
            label = f"{mice} mice, ~{cells} neurons/mouse/day, mouse x day SD {sd}"
            results.append((label, rates))
            print(f"[{time.time() - start:.0f} s] {title[:12]} {label}", file=sys.stderr)
        print(table(results, title), end="\n\n")
    print(f"Cells: rejection rate (number of simulated cohorts). Seed {SEED}; "
          f"{time.time() - start:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""False-positive rate and power of the stress-test group test, and crossover accuracy.

Run ``python -m sfone.calorimetry.stress_validation [--reps 200]`` to regenerate the tables in
docs/calorimetry.md. Mice are simulated with :func:`sfone.simulate.calorimetry.simulate_stress_test`
from the per-mouse model of the study sample set (:data:`sfone.simulate.study.STRESS_GROUPS`:
VO2max ~ N(group mean, 250 mL/kg/h), crossover speed ~ N(group mean, 1 m/min), exhaustion speed
= group mean + U{-2..2} m/min). Under the null both groups are drawn from the control model;
under the alternative the silenced model differs (crossover -4.5 m/min, exhaustion -5 m/min,
VO2max -50 mL/kg/h). Every replicate uses new mice. The Mann-Whitney U test sfone uses is shown
beside Welch's t-test for comparison.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from .._logging import progress
from .stress import _mann_whitney, stress_test_endpoints

__all__ = ["simulate_mice", "error_rates", "crossover_accuracy", "ENDPOINTS"]

ENDPOINTS = ("vo2max_ml_kg_h", "crossover_speed_m_min", "brooks_mercier_speed_m_min",
             "time_to_exhaustion_s", "distance_m", "max_speed_m_min")


def simulate_mice(protocol, group: str, n: int, rng) -> pd.DataFrame:
    """Endpoints (plus the true crossover speed) of ``n`` simulated mice of a study group.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol simulated and analysed.
    group : str
        A key of :data:`sfone.simulate.study.STRESS_GROUPS` (``"control"``, ``"silenced"``).
    n : int
        Mice to simulate.
    rng : numpy.random.Generator
        Random generator (advanced in place).

    Returns
    -------
    pandas.DataFrame
        :func:`~sfone.calorimetry.stress_test_endpoints` table plus
        ``true_crossover_speed_m_min``.
    """
    from ..simulate.calorimetry import simulate_stress_test
    from ..simulate.study import STRESS_GROUPS

    mean = STRESS_GROUPS[group]
    mice = {f"{group}{k}": {
        "vo2max_ml_kg_h": float(rng.normal(mean["vo2max_ml_kg_h"], 250)),
        "crossover_speed_m_min": float(rng.normal(mean["crossover_speed_m_min"], 1.0)),
        "exhaustion_speed_m_min": float(mean["exhaustion_speed_m_min"] + rng.integers(-2, 3))}
        for k in range(n)}
    ds = simulate_stress_test(protocol, groups=mice, n_per_group=1,
                              random_state=int(rng.integers(2**31)))
    table = stress_test_endpoints(ds, protocol)
    table["true_crossover_speed_m_min"] = [m["crossover_speed_m_min"] for m in mice.values()]
    return table


def _welch(a, b) -> float:
    from scipy import stats

    if np.ptp(np.concatenate([a, b])) == 0 or np.var(a) + np.var(b) == 0:
        return np.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def error_rates(protocol, *, n_per_group: int = 6, reps: int = 200, alpha: float = 0.05,
                seed: int = 2026) -> pd.DataFrame:
    """Rejection rate at ``alpha`` per endpoint, test and scenario (null / alternative).

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol simulated and analysed.
    n_per_group : int, default 6
        Mice per group in each replicate.
    reps : int, default 200
        Simulated replicates.
    alpha : float, default 0.05
        Significance level.
    seed : int, default 2026
        Random seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario``, ``endpoint``, ``test`` (Mann-Whitney U or Welch t),
        ``rejection_rate``, ``reps`` and ``n_per_group``.
    """
    rng = np.random.default_rng(seed)
    hits = {}
    for _ in progress(range(reps), desc="stress-test replicates", unit="rep"):
        control = simulate_mice(protocol, "control", 3 * n_per_group, rng)
        silenced = simulate_mice(protocol, "silenced", n_per_group, rng)
        pairs = {"null (control vs control)": (control.iloc[:n_per_group],
                                               control.iloc[n_per_group:2 * n_per_group]),
                 "alternative (control vs silenced)": (control.iloc[2 * n_per_group:], silenced)}
        for scenario, (a, b) in pairs.items():
            for endpoint in ENDPOINTS:
                x, y = a[endpoint].dropna().to_numpy(float), b[endpoint].dropna().to_numpy(float)
                for test, p in (("Mann-Whitney U", _mann_whitney(x, y)["p_value"]
                                 if np.ptp(np.concatenate([x, y])) > 0 else np.nan),
                                ("Welch t", _welch(x, y))):
                    key = (scenario, endpoint, test)
                    hits.setdefault(key, []).append(bool(p < alpha) if np.isfinite(p) else False)
    rows = [{"scenario": s, "endpoint": e, "test": t, "rejection_rate": float(np.mean(v)),
             "reps": len(v), "n_per_group": n_per_group} for (s, e, t), v in hits.items()]
    return pd.DataFrame(rows)


def crossover_accuracy(protocol, *, n: int = 60, seed: int = 7) -> pd.DataFrame:
    """Error of the RER-1.0 crossover speed against the simulated truth, both groups.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol simulated and analysed.
    n : int, default 60
        Simulated mice (half per group).
    seed : int, default 7
        Random seed.

    Returns
    -------
    pandas.DataFrame
        One row: ``mice``, ``bias_m_min``, ``sd_m_min`` and ``max_abs_m_min`` (m/min).
    """
    rng = np.random.default_rng(seed)
    mice = pd.concat([simulate_mice(protocol, g, n // 2, rng).assign(model=g)
                      for g in ("control", "silenced")])
    err = mice["crossover_speed_m_min"] - mice["true_crossover_speed_m_min"]
    return pd.DataFrame([{"mice": len(mice), "bias_m_min": float(err.mean()),
                          "sd_m_min": float(err.std()),
                          "max_abs_m_min": float(err.abs().max())}])


def _markdown(table: pd.DataFrame) -> str:
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
             for row in table.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main(argv=None) -> None:
    from ..protocols import load_protocol

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n-per-group", type=int, default=6)
    args = parser.parse_args(argv)
    protocol = load_protocol("stress_test")
    table = error_rates(protocol, n_per_group=args.n_per_group, reps=args.reps)
    wide = table.pivot_table(index=["endpoint", "test"], columns="scenario",
                             values="rejection_rate").reset_index()
    sys.stdout.write(_markdown(wide) + "\n\n" + _markdown(crossover_accuracy(protocol)) + "\n")


if __name__ == "__main__":
    main()

"""ANCOVA of energy expenditure (or VO2) on group with body mass as covariate.

Follows Tschöp et al. (Nat Methods 2012) and Speakman et al. (Dis Model Mech 2013), as CalR and
the NIH MMPC recommend: never divide by mass for inference.

1. Fit ``y ~ mass * C(group)`` and test the group x mass interaction (F test of the reduced
   against the full model: homogeneity of slopes).
2. Without interaction (p >= alpha) fit ``y ~ mass + C(group)``; the group effect is the type-II
   F test, and CalR's Wald t p-values per non-reference group are reported too.
3. Adjusted means per group at the mean mass (with SE and 95 % CI) and pairwise differences of
   adjusted means with Holm correction (for more than two groups; also given for two).
   With interaction, the adjusted means and pairs come from the full model at the mean mass and
   ``slopes_homogeneous`` is False: interpret them with care.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["AncovaResult", "ancova", "ancova_periods"]


@dataclass
class AncovaResult:
    """What :func:`ancova` found; ``adjusted_means`` and ``pairwise`` are DataFrames."""

    response: str
    covariate: str
    formula: str
    p_interaction: float
    slopes_homogeneous: bool
    p_group: float
    p_covariate: float
    wald_p_group: dict
    covariate_mean: float
    adjusted_means: pd.DataFrame
    pairwise: pd.DataFrame
    n: int
    slopes: dict = field(default_factory=dict)  # group -> response units per covariate unit


def _slopes(model, groups, covariate) -> dict[str, float]:
    """Slope of each group in ``model``: the common slope, plus the group's interaction term when
    the slopes were not homogeneous (``y ~ covariate * C(group)``)."""
    params = model.params
    return {g: float(params[covariate] + params.get(f"{covariate}:C(group)[T.{g}]", 0.0))
            for g in groups}


def _adjusted(model, groups, covariate, mass, counts) -> pd.DataFrame:
    grid = pd.DataFrame({covariate: mass, "group": groups})
    pred = model.get_prediction(grid).summary_frame(alpha=0.05)
    return pd.DataFrame({"group": groups, "adjusted_mean": pred["mean"].to_numpy(),
                         "se": pred["mean_se"].to_numpy(), "ci_low": pred["mean_ci_lower"].to_numpy(),
                         "ci_high": pred["mean_ci_upper"].to_numpy(),
                         "n": [int(counts[g]) for g in groups]})


def _contrast(names: list[str], group: str, covariate: str, mass: float) -> np.ndarray:
    """Coefficient weights of the adjusted mean of ``group`` minus the reference group's."""
    weights = np.zeros(len(names))
    for k, name in enumerate(names):
        if name == f"C(group)[T.{group}]":
            weights[k] = 1.0
        elif name in (f"{covariate}:C(group)[T.{group}]", f"C(group)[T.{group}]:{covariate}"):
            weights[k] = mass
    return weights


def _pairwise(model, groups, covariate, mass) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    names = list(model.params.index)
    out = []
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            contrast = (_contrast(names, groups[j], covariate, mass)
                        - _contrast(names, groups[i], covariate, mass))
            test = model.t_test(contrast)
            out.append({"group_a": groups[i], "group_b": groups[j],
                        "difference": float(np.squeeze(test.effect)),
                        "se": float(np.squeeze(test.sd)), "t": float(np.squeeze(test.tvalue)),
                        "p": float(np.squeeze(test.pvalue))})
    table = pd.DataFrame(out)
    if len(table):
        table["p_holm"] = multipletests(table["p"], method="holm")[1]
    return table


def ancova(data: pd.DataFrame, *, response: str = "ee_kcal_h", covariate: str = "total_mass",
           group: str = "group", alpha: float = 0.05) -> AncovaResult:
    """ANCOVA of ``response`` ~ group + ``covariate`` on one row per subject.

    Parameters
    ----------
    data : DataFrame
        One row per subject (e.g. one period of :func:`summarize_periods`), with the response,
        the covariate (total or lean mass, g) and the group label.
    alpha : float
        Level of the interaction (homogeneity of slopes) test.
    """
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    frame = pd.DataFrame({"y": pd.to_numeric(data[response], errors="coerce"),
                          covariate: pd.to_numeric(data[covariate], errors="coerce"),
                          "group": data[group].astype(str)}).dropna()
    groups = sorted(frame["group"].unique())
    if len(groups) < 2 or len(frame) < len(groups) * 2 + 1:
        raise ValueError(f"ANCOVA needs >= 2 groups and enough subjects; got groups {groups} "
                         f"with {len(frame)} complete rows")
    full = smf.ols(f"y ~ {covariate} * C(group)", data=frame).fit()
    reduced = smf.ols(f"y ~ {covariate} + C(group)", data=frame).fit()
    p_interaction = float(anova_lm(reduced, full)["Pr(>F)"].iloc[1])
    homogeneous = p_interaction >= alpha
    model = reduced if homogeneous else full
    type2 = anova_lm(reduced, typ=2)
    wald = {name.split("[T.")[1].rstrip("]"): float(p) for name, p in reduced.pvalues.items()
            if name.startswith("C(group)")}
    mass_mean = float(frame[covariate].mean())
    counts = frame["group"].value_counts()
    return AncovaResult(
        response=response, covariate=covariate,
        formula=f"{response} ~ {covariate} {'+' if homogeneous else '*'} C(group)",
        p_interaction=p_interaction, slopes_homogeneous=homogeneous,
        p_group=float(type2.loc["C(group)", "PR(>F)"]),
        p_covariate=float(type2.loc[covariate, "PR(>F)"]), wald_p_group=wald,
        covariate_mean=mass_mean,
        adjusted_means=_adjusted(model, groups, covariate, mass_mean, counts),
        pairwise=_pairwise(model, groups, covariate, mass_mean), n=len(frame),
        slopes=_slopes(model, groups, covariate))


def ancova_periods(summary: pd.DataFrame, *, response: str = "ee_kcal_h",
                   covariate: str = "total_mass", alpha: float = 0.05) -> dict[str, AncovaResult]:
    """:func:`ancova` for each period of a :func:`summarize_periods` table."""
    return {period: ancova(part, response=response, covariate=covariate, alpha=alpha)
            for period, part in summary.groupby("period", sort=False)}

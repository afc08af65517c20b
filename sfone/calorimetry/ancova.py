"""ANCOVA of energy expenditure (or VO2) on group with body mass as covariate.

Follows Tschöp et al. (Nat Methods 2012) and Speakman et al. (Dis Model Mech 2013), as CalR and
the NIH MMPC recommend: never divide by mass for inference.

1. Fit ``y ~ mass * C(group)`` and test the group x mass interaction (F test of the reduced
   against the full model: homogeneity of slopes).
2. Select the model: without interaction (p >= alpha) the additive ``y ~ mass + C(group)``
   (common slope), otherwise the full model (one slope per group).
3. Everything reported comes from the selected model (``model`` says which), fitted with the
   mass centred at its mean: ``p_group`` is the F test that all groups have the same mean at the
   mean mass (for the additive model this is the type-II F test of group), ``wald_p_group`` the
   t test of each non-reference group against the reference at the mean mass (CalR's Wald p for
   the additive model), ``p_covariate`` the test that the slope (all slopes, with interaction) is
   zero, adjusted means per group at the mean mass (SE, 95 % CI) and pairwise differences of
   adjusted means with Holm correction. With interaction the group difference depends on the
   mass: the values at the mean mass are one slice of it; interpret them with care.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["AncovaResult", "ancova", "ancova_periods"]


@dataclass
class AncovaResult:
    """What :func:`ancova` found; ``adjusted_means`` and ``pairwise`` are DataFrames.

    ``model`` is ``"additive"`` (common slope) or ``"interaction"`` (a slope per group): the
    model every test, mean and slope here comes from.

    Parameters
    ----------
    response : str
        Response column (e.g. ``"ee_kcal_h"``).
    covariate : str
        Covariate column (e.g. ``"total_mass"``, g).
    formula : str
        The fitted model, e.g. ``"ee_kcal_h ~ total_mass + C(group)"``.
    p_interaction : float
        p of the group x covariate interaction (homogeneity of slopes) F test.
    slopes_homogeneous : bool
        ``p_interaction >= alpha``: the additive model was used.
    p_group : float
        p of the F test of equal group means at the mean covariate (see ``p_group_test``).
    p_covariate : float
        p of the F test of the covariate slope(s).
    wald_p_group : dict of str to float
        Group -> Wald p of its difference from the reference (first) group.
    covariate_mean : float
        Mean covariate of the subjects (covariate units); adjusted means are taken there.
    adjusted_means : pandas.DataFrame
        One row per group: ``group``, ``adjusted_mean`` (response units), ``se``, ``ci_low``,
        ``ci_high`` (95 %), ``n``.
    pairwise : pandas.DataFrame
        One row per pair: ``group_a``, ``group_b``, ``difference`` (b minus a), ``se``, ``t``,
        ``p`` and ``p_holm``.
    n : int
        Subjects used (complete rows).
    slopes : dict of str to float, default {}
        Group -> slope (response units per covariate unit).
    model : {"additive", "interaction"}, default "additive"
        The model the tests come from.
    p_group_test : str, default ""
        Description of the test behind ``p_group``.
    """

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
    model: str = "additive"
    p_group_test: str = ""


_X = "mass_centred"  # the covariate minus its mean, in the fitted formulas


def _group_terms(model) -> list[str]:
    return [n for n in model.params.index if n.startswith("C(group)[T.")]


def _slopes(model, groups) -> dict[str, float]:
    """Slope of each group in ``model``: the common slope, plus the group's interaction term when
    the slopes were not homogeneous."""
    params = model.params
    return {g: float(params[_X] + params.get(f"{_X}:C(group)[T.{g}]", 0.0)) for g in groups}


def _adjusted(model, groups, counts) -> pd.DataFrame:
    grid = pd.DataFrame({_X: 0.0, "group": groups})  # the mean mass
    pred = model.get_prediction(grid).summary_frame(alpha=0.05)
    return pd.DataFrame({"group": groups, "adjusted_mean": pred["mean"].to_numpy(),
                         "se": pred["mean_se"].to_numpy(), "ci_low": pred["mean_ci_lower"].to_numpy(),
                         "ci_high": pred["mean_ci_upper"].to_numpy(),
                         "n": [int(counts[g]) for g in groups]})


def _contrast(names: list[str], group: str) -> np.ndarray:
    """Coefficient weights of the adjusted mean (at the mean mass) of ``group`` minus the
    reference group's: with the covariate centred this is the group's dummy coefficient."""
    return np.array([1.0 if name == f"C(group)[T.{group}]" else 0.0 for name in names])


def _pairwise(model, groups) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    names = list(model.params.index)
    out = []
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            test = model.t_test(_contrast(names, groups[j]) - _contrast(names, groups[i]))
            out.append({"group_a": groups[i], "group_b": groups[j],
                        "difference": float(np.squeeze(test.effect)),
                        "se": float(np.squeeze(test.sd)), "t": float(np.squeeze(test.tvalue)),
                        "p": float(np.squeeze(test.pvalue))})
    table = pd.DataFrame(out)
    if len(table):
        table["p_holm"] = multipletests(table["p"], method="holm")[1]
    return table


def _f_test(model, terms: list[str]) -> float:
    """p of the joint F test that the coefficients ``terms`` of ``model`` are all zero."""
    names = list(model.params.index)
    matrix = np.zeros((len(terms), len(names)))
    for row, term in enumerate(terms):
        matrix[row, names.index(term)] = 1.0
    return float(np.squeeze(model.f_test(matrix).pvalue))


def ancova(data: pd.DataFrame, *, response: str = "ee_kcal_h", covariate: str = "total_mass",
           group: str = "group", alpha: float = 0.05) -> AncovaResult:
    """ANCOVA of ``response`` ~ group + ``covariate`` on one row per subject.

    The covariate is centred; the interaction model (a slope per group) is used when the
    homogeneity-of-slopes test rejects at ``alpha``, else the additive model.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject (e.g. one period of :func:`summarize_periods`), with the response,
        the covariate (total or lean mass, g) and the group label.
    response : str, default "ee_kcal_h"
        Response column (e.g. energy expenditure, kcal/h).
    covariate : str, default "total_mass"
        Covariate column (g).
    group : str, default "group"
        Group column.
    alpha : float, default 0.05
        Level of the interaction (homogeneity of slopes) test.

    Returns
    -------
    AncovaResult

    Raises
    ------
    ValueError
        With fewer than 2 groups, or too few complete rows (2 per group + 1).
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
    mass_mean = float(frame[covariate].mean())
    frame[_X] = frame[covariate] - mass_mean
    full = smf.ols(f"y ~ {_X} * C(group)", data=frame).fit()
    reduced = smf.ols(f"y ~ {_X} + C(group)", data=frame).fit()
    p_interaction = float(anova_lm(reduced, full)["Pr(>F)"].iloc[1])
    homogeneous = p_interaction >= alpha
    model = reduced if homogeneous else full
    slope_terms = [n for n in model.params.index if n == _X or n.startswith(f"{_X}:")]
    wald = {name.split("[T.")[1].rstrip("]"): float(p) for name, p in model.pvalues.items()
            if name in _group_terms(model)}
    counts = frame["group"].value_counts()
    kind = "additive" if homogeneous else "interaction"
    return AncovaResult(
        response=response, covariate=covariate,
        formula=f"{response} ~ {covariate} {'+' if homogeneous else '*'} C(group)",
        p_interaction=p_interaction, slopes_homogeneous=homogeneous,
        p_group=_f_test(model, _group_terms(model)),
        p_covariate=_f_test(model, slope_terms), wald_p_group=wald,
        covariate_mean=mass_mean, adjusted_means=_adjusted(model, groups, counts),
        pairwise=_pairwise(model, groups), n=len(frame), slopes=_slopes(model, groups),
        model=kind,
        p_group_test=("F test of equal group means at the mean mass, common-slope model "
                      "(= type-II F)" if homogeneous else
                      "F test of equal group means at the mean mass, separate-slopes model"))


def ancova_periods(summary: pd.DataFrame, *, response: str = "ee_kcal_h",
                   covariate: str = "total_mass", alpha: float = 0.05) -> dict[str, AncovaResult]:
    """:func:`ancova` for each period of a :func:`summarize_periods` table.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarize_periods` (column ``period``, one row per subject and period).
    response : str, default "ee_kcal_h"
        Response column.
    covariate : str, default "total_mass"
        Covariate column (g).
    alpha : float, default 0.05
        Level of the homogeneity-of-slopes test.

    Returns
    -------
    dict of str to AncovaResult
        Period -> result, in the table's period order.
    """
    return {period: ancova(part, response=response, covariate=covariate, alpha=alpha)
            for period, part in summary.groupby("period", sort=False)}

"""Group statistics on post-run labels: day 1 vs day 8 (or any two groups), mouse by mouse.

Cells are nested in mice: two days of one cohort differ by mouse-to-mouse and day-to-day
variation on top of the binomial noise of the cells, so a test that pools cells counts mice
that differ as a treatment effect (its type-I error reaches 0.2 in ``docs/statistics.md``).

:func:`compare_proportions` gives, for two groups of labelled cells:

* the headline test, at the mouse level: a paired t-test on per-mouse activated fractions when
  the same mice are in both groups (Welch's t when they are different mice), with n mice and
  n cells; its type-I error and power are measured in ``docs/statistics.md``;
* alternatives at the mouse level: the t-test on empirical logits, the Wilcoxon signed-rank (only
  when it can reach ``alpha``: 5 mice cannot) and a binomial GLMM likelihood-ratio test;
* secondary, pooled over cells: the 2 x 3 (group x class) chi-square with Cramer's V, Fisher's
  exact test on activated-vs-not with the odds ratio and Cohen's h;
* Wilson confidence intervals of every class proportion of each group;
* McNemar's test when the same cells are tracked across the two groups (``paired_cells=True``).

:func:`compare_magnitude` does the same for the response size (each neuron's ``effect``): the
per-mouse mean, day against day, with a paired t-test across mice.

:func:`compare_estimated_fractions` tests the sessions' estimated fractions of responding ROIs
(``label_responses`` attrs) with the same mouse-level design, and checks whether the two groups'
sessions differ in sensitivity enough to make the labelled fractions differ on their own.

Mice are paired by subject id, never by position in a list.

The package, by concern: ``_cells`` (labels and the mouse of each cell), ``_rows`` (the rows of
a ``tests`` table, the paired or independent design), ``_headline`` (the mouse-level tests),
``_glmm`` (the binomial GLMM), ``_proportions``, ``_magnitude``, ``_estimates`` (estimated
fractions and the sensitivity check), ``_cohort`` (the day tests of a
cohort) and ``_groups`` (generic group tests of the ``sfone reproduce`` figures). Import every
name from ``sfone.stats``.
"""

from __future__ import annotations

from ._cohort import cohort_day_tests
from ._estimates import (
    SENSITIVITY_MIN_ARTEFACT,
    SENSITIVITY_SHARE,
    FractionEstimateComparison,
    compare_estimated_fractions,
    pooled_estimates,
    session_fractions,
)
from ._groups import (
    holm,
    mann_whitney,
    mixed_interaction,
    one_way_anova,
    pairwise_tests,
    welch_test,
)
from ._headline import rank_sum_min_p, signed_rank_min_p
from ._magnitude import MagnitudeComparison, compare_magnitude
from ._proportions import ProportionComparison, compare_proportions, empirical_logit, wilson_ci
from ._rows import LowPowerWarning, PairingWarning

__all__ = ["compare_proportions", "ProportionComparison", "compare_magnitude", "cohort_day_tests",
           "MagnitudeComparison", "wilson_ci", "empirical_logit", "signed_rank_min_p",
           "rank_sum_min_p", "LowPowerWarning", "PairingWarning",
           # estimated fractions (issue 27): the mouse-level test and the sensitivity check
           "compare_estimated_fractions", "FractionEstimateComparison", "session_fractions",
           "pooled_estimates", "SENSITIVITY_MIN_ARTEFACT", "SENSITIVITY_SHARE",
           # generic group tests used by the figures of ``sfone reproduce`` (one row per animal)
           "welch_test", "mann_whitney", "mixed_interaction", "one_way_anova", "holm",
           "pairwise_tests"]

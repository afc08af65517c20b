"""The estimated fractions of two groups of sessions, mouse by mouse, and the sensitivity check.

A labelled fraction is (true fraction) x (power) + (false labels), and power depends on the
recording; :func:`sfone.classify.label_responses` therefore records, per session, an estimate
of the fraction that responds whatever the session could detect (``fraction_<direction>_
estimate`` with its 95 % interval) and the session's sensitivity (``power_x2``: the mean power
for a doubling; ``detectable_gain_80``). :func:`compare_estimated_fractions` tests day 1 vs day
8 on those estimates with the same mouse-level design as the headline test on labelled
fractions (:func:`compare_proportions`): a paired t-test on per-mouse estimates when the same
mice are in both groups, Welch's t otherwise.

**Sensitivity check.** When the two groups' sessions differ in power, the labelled fractions
differ even if the biology does not. The labelled-fraction difference that sensitivity alone
produces is about::

    expected = pooled estimated fraction x (mean power_x2 of group b - of group a)

(per-mouse means over the mice the test uses; the pooled fraction is the mean of their
estimates over both groups). The check fires (a :class:`~sfone.exceptions.QualityWarning` and
``sensitivity["warn"]``) when ``|expected| >= SENSITIVITY_MIN_ARTEFACT`` (0.05) **and**
``|expected| >= SENSITIVITY_SHARE x |observed|`` (half of the observed mean per-mouse
labelled difference): the labelled comparison then says as much about the recordings as
about the neurons, and the estimates are the ones to compare. Measured in docs/validation.md
("Estimated fractions").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import QualityWarning
from ._headline import _t_row
from ._rows import _design, _not_computed, _test_dict, _tests_frame, _wide

__all__ = ["compare_estimated_fractions", "session_fractions", "pooled_estimates",
           "FractionEstimateComparison", "SENSITIVITY_MIN_ARTEFACT", "SENSITIVITY_SHARE",
           "DIRECTIONS"]

#: smallest labelled-fraction difference from sensitivity alone that the check reports
SENSITIVITY_MIN_ARTEFACT = 0.05
#: ... when it is also at least this share of the observed labelled difference
SENSITIVITY_SHARE = 0.5
DIRECTIONS = ("activated", "inhibited")

#: the per-session attrs of a label_responses result that a session row carries
_SESSION_ATTRS = ("n_rois", "n_tested", "fraction_activated_labelled",
                  "fraction_activated_estimate", "fraction_activated_ci_low",
                  "fraction_activated_ci_high", "fraction_inhibited_labelled",
                  "fraction_inhibited_estimate", "fraction_inhibited_ci_low",
                  "fraction_inhibited_ci_high", "detectable_gain_80", "power_x2")


def session_fractions(results, *, subjects=None) -> pd.DataFrame:
    """One row per session: its subject, session, day and the fraction attrs of its result.

    Parameters
    ----------
    results : list of xarray.Dataset
        :func:`sfone.classify.label_responses` results, one per session.
    subjects : list of str, optional
        The subject of each result; default: each result's ``subject`` attr.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``session``, ``day`` and the ``n_rois``, ``n_tested``,
        ``fraction_<direction>_{labelled,estimate,ci_low,ci_high}``, ``detectable_gain_80``
        and ``power_x2`` attrs (fractions of the tested ROIs; NaN when a result lacks one).

    Raises
    ------
    ValueError
        If a result has no subject (and none is given) or ``subjects`` has the wrong length.
    """
    if subjects is not None and len(subjects) != len(results):
        raise ValueError(f"{len(subjects)} subjects for {len(results)} results; pass one per "
                         "result")
    rows = []
    for i, result in enumerate(results):
        subject = subjects[i] if subjects is not None else result.attrs.get("subject")
        if subject is None or str(subject) == "":
            raise ValueError(f"result {i} (session {result.attrs.get('session')!r}) has no "
                             "subject; set result.attrs['subject'] or pass subjects=")
        row = {"subject": str(subject), "session": str(result.attrs.get("session", i)),
               "day": str(result.attrs.get("day", ""))}
        row.update({k: float(result.attrs.get(k, math.nan)) for k in _SESSION_ATTRS})
        rows.append(row)
    return pd.DataFrame(rows)


_Z95 = 1.959963984540054


def pooled_estimates(sessions: pd.DataFrame, *, by: str = "day", order=None) -> pd.DataFrame:
    """Each group's labelled and estimated fractions, its sessions pooled.

    The sessions of a group are weighted by their tested ROIs (the fractions of their ROIs
    taken together). The estimate's 95 % interval is the normal one from the sessions'
    intervals: each session's SE is its interval's width / (2 x 1.96), the sessions are
    independent, and the interval is clipped to [0, 1]. It reflects the ROIs' sampling only,
    as a Wilson interval of a pooled labelled fraction does; the mouse-level test is
    :func:`compare_estimated_fractions`.

    Parameters
    ----------
    sessions : pandas.DataFrame
        One row per session (:func:`session_fractions`): ``by``, ``subject``, ``n_tested``, the
        ``fraction_<direction>_{labelled,estimate,ci_low,ci_high}`` columns and, optionally,
        ``power_x2`` and ``detectable_gain_80``.
    by : str, default "day"
        Column of the groups.
    order : sequence of str, optional
        Groups in this order (default: as they appear).

    Returns
    -------
    pandas.DataFrame
        One row per (group, direction): ``group``, ``direction``, ``labelled``, ``estimate``,
        ``ci_low``, ``ci_high`` (fractions of the tested ROIs), ``n_tested``, ``n_sessions``,
        ``n_mice``, ``power_x2`` (weighted mean) and ``detectable_gain_80`` (median over the
        sessions; dimensionless gain).
    """
    groups = list(order) if order is not None else list(dict.fromkeys(sessions[by].astype(str)))
    rows = []
    for group in groups:
        part = sessions[sessions[by].astype(str) == str(group)]
        n = part["n_tested"].to_numpy(float)
        w = n / n.sum() if len(part) and n.sum() > 0 else np.full(len(part), math.nan)
        for direction in DIRECTIONS:
            est = part[f"fraction_{direction}_estimate"].to_numpy(float)
            se = (part[f"fraction_{direction}_ci_high"].to_numpy(float)
                  - part[f"fraction_{direction}_ci_low"].to_numpy(float)) / (2 * _Z95)
            value = float(np.sum(w * est))
            half = _Z95 * float(np.sqrt(np.sum((w * se) ** 2)))
            rows.append({
                "group": str(group), "direction": direction,
                "labelled": float(np.sum(w * part[f"fraction_{direction}_labelled"]
                                         .to_numpy(float))),
                "estimate": value, "ci_low": max(0.0, value - half),
                "ci_high": min(1.0, value + half), "n_tested": int(n.sum()),
                "n_sessions": len(part), "n_mice": int(part["subject"].nunique()),
                "power_x2": (float(np.sum(w * part["power_x2"].to_numpy(float)))
                             if "power_x2" in part else math.nan),
                "detectable_gain_80": (float(np.median(part["detectable_gain_80"]))
                                       if "detectable_gain_80" in part and len(part)
                                       else math.nan)})
    return pd.DataFrame(rows)


def _as_table(sessions, mice, name) -> pd.DataFrame:
    """The session rows of one group (a table, or label_responses results), with ``subject``."""
    if isinstance(sessions, pd.DataFrame):
        table = sessions.copy()
        if mice is not None:
            if len(mice) != len(table):
                raise ValueError(f"{name}: {len(mice)} subject ids for {len(table)} sessions")
            table["subject"] = [str(m) for m in mice]
    else:
        table = session_fractions(list(sessions), subjects=mice)
    if "subject" not in table:
        raise ValueError(f"{name}: the session table needs a 'subject' column")
    if table.empty:
        raise ValueError(f"{name}: no sessions")
    table["subject"] = table["subject"].astype(str)
    return table


def _weighted(part: pd.DataFrame, column: str) -> float:
    """The ``n_tested``-weighted mean of ``column`` over one mouse's sessions (the estimate of
    the sessions' ROIs pooled: it is linear in the ROI counts)."""
    values = part[column].to_numpy(float)
    weights = part["n_tested"].to_numpy(float) if "n_tested" in part else np.ones(len(part))
    ok = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else math.nan


def _per_mouse(tables, groups, direction) -> pd.DataFrame:
    estimate, labelled = f"fraction_{direction}_estimate", f"fraction_{direction}_labelled"
    frames = []
    for table, g in zip(tables, groups, strict=True):
        missing = [c for c in (estimate, labelled) if c not in table]
        if missing:
            raise ValueError(f"{g}: the session table has no column {missing} (the attrs of "
                             "a label_responses result)")
        rows = []
        for mouse, part in table.groupby("subject", sort=True):
            rows.append({"group": g, "mouse": mouse, "n_sessions": len(part),
                         "n_tested": int(np.nansum(part["n_tested"])) if "n_tested" in part
                         else len(part),
                         "estimate": _weighted(part, estimate),
                         "labelled": _weighted(part, labelled),
                         "power_x2": (_weighted(part, "power_x2") if "power_x2" in part
                                      else math.nan)})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


@dataclass
class FractionEstimateComparison:
    """Result of :func:`compare_estimated_fractions`.

    Parameters
    ----------
    per_mouse : pandas.DataFrame
        One row per (group, mouse): ``group``, ``mouse``, ``n_sessions``, ``n_tested`` (tested
        ROIs), ``estimate`` and ``labelled`` (the mouse's estimated and labelled fractions,
        its sessions weighted by tested ROIs) and ``power_x2``.
    tests : pandas.DataFrame
        The mouse-level test on the estimates, with the columns of
        :class:`ProportionComparison`'s ``tests`` (``n_cells``: tested ROIs).
    sensitivity : dict
        ``power_a``, ``power_b`` (mean power for a doubling), ``pooled_estimate``,
        ``expected_artefact`` (the labelled difference sensitivity alone gives),
        ``observed_labelled_difference`` and ``estimate_difference`` (means over mice, b - a),
        ``warn`` (bool), ``message`` ("" when it does not fire) and ``reason`` (why the check
        could not run, e.g. sessions without ``power_x2``; "" when it ran: its values are
        then finite).
    groups : tuple of str
        Names of the two groups.
    direction : str
        ``"activated"`` or ``"inhibited"``.
    notes : list of str, default []
        Why tests were skipped.
    """

    per_mouse: pd.DataFrame
    tests: pd.DataFrame
    sensitivity: dict
    groups: tuple[str, str]
    direction: str
    notes: list[str] = field(default_factory=list)

    def headline(self) -> dict:
        """The mouse-level test on the estimated fractions.

        Returns
        -------
        dict
            ``{"test", "statistic", "p_value", "n_mice", "n_cells"}``; NaN statistic and
            p-value with ``reason`` when the mice do not allow it.
        """
        names = self.tests.index[self.tests["role"] == "headline"]
        if len(names):
            return _test_dict(self.tests, names[0])
        return _not_computed(f"mouse-level test of the estimated {self.direction} fraction",
                             "; ".join(n.split(": ", 1)[-1] for n in self.notes
                                       if n.startswith("mouse-level")) or "too few mice",
                             n_mice=self.per_mouse["mouse"].nunique(),
                             n_cells=int(self.per_mouse["n_tested"].sum()))


def _sensitivity(per_mouse, groups, mice) -> dict:
    """The sensitivity check over the mice ``mice`` of the test (see the module docstring)."""
    used = per_mouse[per_mouse["mouse"].isin(mice)] if mice is not None else per_mouse
    a, b, shared = _wide(used, "labelled", groups)
    ea, eb, _ = _wide(used, "estimate", groups)
    pa, pb, _ = _wide(used, "power_x2", groups)
    if len(shared) and mice is not None:
        observed = float((b[shared] - a[shared]).mean())
        est_diff = float((eb[shared] - ea[shared]).mean())
    else:
        observed, est_diff = float(b.mean() - a.mean()), float(eb.mean() - ea.mean())
    power_a, power_b = float(pa.mean()), float(pb.mean())
    pooled = float(np.nanmean(np.r_[ea.to_numpy(float), eb.to_numpy(float)]))
    expected = max(pooled, 0.0) * (power_b - power_a)
    out = {"power_a": power_a, "power_b": power_b, "pooled_estimate": pooled,
           "expected_artefact": expected, "observed_labelled_difference": observed,
           "estimate_difference": est_diff, "warn": False, "message": "", "reason": ""}
    if not np.isfinite(expected):
        out["reason"] = ("a group's sessions have no power_x2: their labels' method gives no "
                         "per-ROI standard error" if not (np.isfinite(power_a)
                                                          and np.isfinite(power_b))
                         else "no finite estimate or labelled difference")
        return out
    big = abs(expected) >= SENSITIVITY_MIN_ARTEFACT
    if big and abs(expected) >= SENSITIVITY_SHARE * abs(observed):
        g_a, g_b = groups
        same_way = np.sign(expected) == np.sign(observed) and observed != 0
        effect = ("could produce the observed labelled difference on its own" if same_way
                  else "could hide a difference of that size in the labelled fractions")
        out["warn"] = True
        out["message"] = (
            f"{g_a} vs {g_b}: the sessions differ in sensitivity (mean power for a doubling "
            f"{power_a:.2f} on {g_a}, {power_b:.2f} on {g_b}); with the pooled estimated "
            f"fraction {pooled:.3f} this alone shifts the labelled fraction by "
            f"{expected:+.3f}, against an observed labelled difference of {observed:+.3f}: it "
            f"{effect}. Compare the estimated fractions (difference {est_diff:+.3f}).")
    return out


def compare_estimated_fractions(sessions_a, sessions_b, *, direction: str = "activated",
                                mice_a=None, mice_b=None, groups=("day 1", "day 8"),
                                warn: bool = True) -> FractionEstimateComparison:
    """Compare two groups' estimated fractions of responding ROIs, mouse by mouse.

    Each mouse contributes the estimate of its sessions (weighted by their tested ROIs, as if
    their ROIs were one session). The test is the headline design of
    :func:`compare_proportions`: a paired t-test across mice when the same mice are in both
    groups (paired by subject id), Welch's t for different mice. The sensitivity check (module
    docstring) says when the groups' sessions differ in power enough to make the labelled
    fractions differ on their own.

    Parameters
    ----------
    sessions_a, sessions_b : pandas.DataFrame or list of xarray.Dataset
        Per-session rows (:func:`session_fractions`, or the per-session table of ``sfone
        reproduce``: a ``subject`` column and the ``fraction_<direction>_estimate``,
        ``fraction_<direction>_labelled``, ``n_tested`` and ``power_x2`` columns), or the
        :func:`sfone.classify.label_responses` results themselves (subject from the attr).
    direction : {"activated", "inhibited"}, default "activated"
        Which fraction is compared.
    mice_a, mice_b : sequence of str, optional
        The subject of each session (row or result) of a / b; default: their own.
    groups : tuple of str, default ("day 1", "day 8")
        Names of the two groups.
    warn : bool, default True
        Issue a :class:`~sfone.exceptions.QualityWarning` when the sensitivity check fires.

    Returns
    -------
    FractionEstimateComparison

    Raises
    ------
    ValueError
        For an unknown ``direction``, a group without sessions or subjects, or a table without
        the fraction columns.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    tables = [_as_table(s, m, g) for s, m, g in ((sessions_a, mice_a, groups[0]),
                                                  (sessions_b, mice_b, groups[1]))]
    per_mouse = _per_mouse(tables, groups, direction)
    notes = []
    empty = per_mouse[~np.isfinite(per_mouse["estimate"].to_numpy(float))]
    if len(empty):
        names = [f"{r.group}/{r.mouse}" for r in empty.itertuples()]
        notes.append(f"no tested ROIs (no estimate), left out: {', '.join(names)}")
        per_mouse = per_mouse.drop(index=empty.index).reset_index(drop=True)
    name = f"{groups[0]} vs {groups[1]}"
    design, shared = _design(per_mouse.rename(columns={"n_tested": "n_cells"}), groups, name)
    a, b, _ = _wide(per_mouse, "estimate", groups)
    what = f"per-mouse estimated {direction} fractions"
    rows, mice = {}, None
    if design == "paired" and len(shared) >= 2:
        mice = list(shared)
        cells = int(per_mouse[per_mouse["mouse"].isin(shared)]["n_tested"].sum())
        rows["mouse_paired_t"] = _t_row(f"paired t, {what}", b[shared], a[shared], paired=True,
                                        role="headline", n_mice=len(shared), n_cells=cells)
    elif design == "independent" and len(a) >= 2 and len(b) >= 2:
        mice = list(per_mouse["mouse"].unique())
        rows["mouse_welch_t"] = _t_row(f"Welch t, {what}", b, a, paired=False, role="headline",
                                       n_mice=len(a) + len(b),
                                       n_cells=int(per_mouse["n_tested"].sum()))
    elif design == "paired":
        notes.append(f"mouse-level test skipped: {len(shared)} mouse with estimates in both "
                     "groups (a paired test needs 2)")
    else:
        notes.append(f"mouse-level test skipped: {len(a)} and {len(b)} mice (Welch's t needs "
                     "2 per group)")
    sensitivity = _sensitivity(per_mouse, groups, mice if mice is not None
                               else list(per_mouse["mouse"].unique()))
    if sensitivity["warn"] and warn:
        warnings.warn(sensitivity["message"], QualityWarning, stacklevel=2)
    return FractionEstimateComparison(per_mouse=per_mouse, tests=_tests_frame(rows),
                                      sensitivity=sensitivity, groups=tuple(groups),
                                      direction=direction, notes=notes)

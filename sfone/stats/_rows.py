"""What the comparisons share: the rows of their ``tests`` tables, and the mouse design.

A test row holds the description, statistic, p-value, level (``"mouse"`` or ``"neuron"``), role
(``"headline"``, ``"alternative"`` or ``"secondary"``), n mice, n cells and the smallest p the
test can give. :func:`_design` tells a paired design (the same mice in both groups) from an
independent one and warns about mice in one group only.
"""

from __future__ import annotations

import math
import warnings

import pandas as pd

from ..exceptions import SfoneWarning


class LowPowerWarning(SfoneWarning):
    """A requested test cannot reach the significance level with this many mice."""


class PairingWarning(SfoneWarning):
    """Some mice are in one group only and are left out of the paired tests."""


#: the columns of every ``tests`` table, present even when no test could be run
TEST_COLUMNS = ("test", "statistic", "p_value", "level", "role", "n_mice", "n_cells", "min_p",
                "reason")


def _tests_frame(rows: dict) -> pd.DataFrame:
    """The ``tests`` table of ``{name: row}``, with :data:`TEST_COLUMNS` even when empty
    (``reason`` is "" for a test that was computed)."""
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(TEST_COLUMNS))
    frame["reason"] = frame["reason"].fillna("").astype(str)
    return frame


def _not_computed(test: str, reason: str, *, n_mice: int = 0, n_cells: int = 0) -> dict:
    """A test dict for a test that could not be run: NaN statistic and p, and the reason.

    ``test`` reads ``"<test>: not computed (<reason>)"`` so a figure or caption that shows it
    states why; ``reason`` is also a key of its own.
    """
    return {"test": f"{test}: not computed ({reason})", "statistic": math.nan,
            "p_value": math.nan, "n_mice": int(n_mice), "n_cells": int(n_cells),
            "reason": reason}


def _test_dict(tests: pd.DataFrame, name: str, *, with_n: bool = True) -> dict:
    row = tests.loc[name]
    label = str(row["test"])
    if with_n:
        label += f" (n = {int(row['n_mice'])} mice, {int(row['n_cells'])} neurons)"
    out = {"test": label, "statistic": float(row["statistic"]), "p_value": float(row["p_value"]),
           "n_mice": int(row["n_mice"]), "n_cells": int(row["n_cells"])}
    if row.get("reason"):
        out["reason"] = str(row["reason"])
    return out


def _row(test, statistic, p, *, level, role, n_mice, n_cells, min_p=0.0, reason=""):
    """One row of a ``tests`` table; a test that was not run has NaN values and a ``reason``
    (its ``test`` then reads "<test>: not computed (<reason>)")."""
    if reason:
        test = f"{test}: not computed ({reason})"
    return {"test": test, "statistic": float(statistic), "p_value": float(p), "level": level,
            "role": role, "n_mice": int(n_mice), "n_cells": int(n_cells), "min_p": float(min_p),
            "reason": reason}


def _wide(per_mouse, value, groups):
    """(a, b) Series of ``value`` by mouse; ``shared`` mice in both groups."""
    a = per_mouse[per_mouse.group == groups[0]].set_index("mouse")[value]
    b = per_mouse[per_mouse.group == groups[1]].set_index("mouse")[value]
    return a, b, a.index.intersection(b.index)


def _design(per_mouse, groups, name):
    """"paired" (same mice in both groups, complete pairs), "independent" (no mouse in common)."""
    a, b, shared = _wide(per_mouse, "n_cells", groups)
    if len(shared) == 0:
        return "independent", shared
    only = sorted(map(str, set(a.index).symmetric_difference(b.index)))
    if only:
        warnings.warn(f"{name}: mice {only} have cells in one group only; they are left out of "
                      f"the paired mouse-level tests ({len(shared)} complete pairs)",
                      PairingWarning, stacklevel=3)
    return "paired", shared

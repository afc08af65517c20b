"""What the comparisons share: the rows of their ``tests`` tables, and the mouse design.

A test row holds the description, statistic, p-value, level (``"mouse"`` or ``"neuron"``), role
(``"headline"``, ``"alternative"`` or ``"secondary"``), n mice, n cells and the smallest p the
test can give. :func:`_design` tells a paired design (the same mice in both groups) from an
independent one and warns about mice in one group only.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..exceptions import SfoneWarning


class LowPowerWarning(SfoneWarning):
    """A requested test cannot reach the significance level with this many mice."""


class PairingWarning(SfoneWarning):
    """Some mice are in one group only and are left out of the paired tests."""


def _test_dict(tests: pd.DataFrame, name: str, *, with_n: bool = True) -> dict:
    row = tests.loc[name]
    label = str(row["test"])
    if with_n:
        label += f" (n = {int(row['n_mice'])} mice, {int(row['n_cells'])} neurons)"
    return {"test": label, "statistic": float(row["statistic"]), "p_value": float(row["p_value"]),
            "n_mice": int(row["n_mice"]), "n_cells": int(row["n_cells"])}


def _row(test, statistic, p, *, level, role, n_mice, n_cells, min_p=0.0):
    return {"test": test, "statistic": float(statistic), "p_value": float(p), "level": level,
            "role": role, "n_mice": int(n_mice), "n_cells": int(n_cells), "min_p": float(min_p)}


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

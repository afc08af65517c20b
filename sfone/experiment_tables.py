"""Per-mouse analyses of the experiment tables (endurance training, post-exercise glucose).

Inputs: an endurance table (subject, group, day, distance_m or time_to_exhaustion_s) and a
glucose table (subject, group, time_min, glucose_mg_dl), one row per mouse and day or sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["training_gain", "glucose_iauc"]


def training_gain(table: pd.DataFrame, *, value: str = "distance_m") -> pd.DataFrame:
    """Per-mouse change of ``value`` from its first to its last training day.

    Parameters
    ----------
    table : pandas.DataFrame
        Training table: ``subject``, ``group``, ``day`` and ``value``.
    value : str, default "distance_m"
        Column whose change is computed.

    Returns
    -------
    pandas.DataFrame
        One row per mouse: ``subject``, ``group`` and ``distance_gain_m`` (for ``distance_m``,
        in m) or ``<value>_gain``.
    """
    ordered = table.sort_values(["subject", "day"])
    first = ordered.groupby("subject", sort=True).first()
    last = ordered.groupby("subject", sort=True).last()
    name = "distance_gain_m" if value == "distance_m" else f"{value}_gain"
    return pd.DataFrame({"subject": first.index, "group": first["group"].to_numpy(),
                         name: (last[value] - first[value]).to_numpy(dtype=float)})


def glucose_iauc(table: pd.DataFrame) -> pd.DataFrame:
    """Incremental area under the glucose curve above each mouse's first sample (mg/dL x min).

    Trapezoid rule over ``time_min``.

    Parameters
    ----------
    table : pandas.DataFrame
        Glucose tolerance table: ``subject``, ``group``, ``time_min`` (min), ``glucose_mg_dl``.

    Returns
    -------
    pandas.DataFrame
        One row per mouse: ``subject``, ``group``, ``glucose_iauc`` (mg/dL x min).
    """
    rows = []
    for subject, part in table.sort_values(["subject", "time_min"]).groupby("subject"):
        t = part["time_min"].to_numpy(dtype=float)
        rise = part["glucose_mg_dl"].to_numpy(dtype=float) - part["glucose_mg_dl"].iloc[0]
        rows.append({"subject": subject, "group": part["group"].iloc[0],
                     "glucose_iauc": float(np.trapezoid(rise, t))})
    return pd.DataFrame(rows)

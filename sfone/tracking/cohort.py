"""Transitions of tracked cells in a cohort: track each mouse's two sessions, tabulate classes.

Used by ``sfone reproduce`` (figure 11, drawn by
:func:`sfone.figures.figure_tracked_transitions`) when the cohort's sessions carry footprints of
one field of view per mouse.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._logging import logger
from ..exceptions import QualityWarning
from .transitions import CLASSES, transition_table, transition_tests

__all__ = ["track_cohort"]


def _labels_of(classes, subject: str, session: str) -> pd.Series:
    keep = (np.asarray(classes["subject"].values) == subject) & (
        np.asarray(classes["day"].values) == session)
    return pd.Series(np.asarray(classes["label"].values)[keep].astype(str),
                     index=np.asarray(classes["roi_in_session"].values)[keep].astype(int))


def track_cohort(sessions, classes, **track_options) -> dict | None:
    """Track the two sessions of every mouse and count day-a x day-b class transitions.

    Parameters
    ----------
    sessions : list of sfone.cohort.Session
        Manifest rows; a mouse with exactly two sessions (in manifest order: first = day a)
        whose files have footprints is tracked.
    classes : xarray.Dataset
        Labels of every ROI with coords ``subject``, ``day`` (the session name) and
        ``roi_in_session`` (as ``sfone reproduce`` builds them). Labels must cover every
        ROI that is tracked (``cells_only=False`` is used, since every ROI is labelled).
    **track_options
        Keyword options of :func:`sfone.track` (``cells_only`` is always False).

    Returns
    -------
    dict or None
        ``tables`` (subject -> transition table), ``tests`` (subject -> transition_tests),
        ``pooled`` / ``pooled_tests`` (summed over mice: cells of different mice are not
        independent replicates, so the per-mouse tests are the primary ones), ``tracks``;
        None when no mouse could be tracked (the reason is logged).
    """
    from ..footprints import has_footprints
    from ..io._session_reading import read_session
    from .track import track

    by_subject: dict[str, list] = {}
    for session in sessions:
        by_subject.setdefault(session.subject, []).append(session)
    tables, tests, tracks = {}, {}, {}
    for subject, rows in by_subject.items():
        if len(rows) != 2:
            logger.info("tracking: %s has %d sessions (needs 2); skipped", subject, len(rows))
            continue
        datasets = [read_session(row.path, row, where=f"{row.subject}/{row.session}")
                    for row in rows]
        if not all(has_footprints(ds) for ds in datasets):
            logger.info("tracking: %s: sessions without footprints; skipped", subject)
            continue
        try:
            with warnings.catch_warnings():
                # a same-cell model that does not separate: the days are not one field
                warnings.simplefilter("error", QualityWarning)
                result = track(datasets, names=[row.session for row in rows],
                               cells_only=False, **track_options)
        except (ValueError, QualityWarning) as exc:  # e.g. no nearby ROI pairs at all
            logger.warning("tracking: %s not tracked (no transition table): %s", subject, exc)
            continue
        labels = [_labels_of(classes, subject, row.session) for row in rows]
        tables[subject] = transition_table(result, *labels, classes=CLASSES)
        tests[subject] = transition_tests(tables[subject])
        tracks[subject] = result
    if not tables:
        return None
    pooled = sum(tables.values())
    return {"tables": tables, "tests": tests, "tracks": tracks, "pooled": pooled,
            "pooled_tests": transition_tests(pooled)}

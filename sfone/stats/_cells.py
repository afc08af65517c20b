"""The labels and the mouse of every cell, from arrays, labels Datasets or lists of them.

Mice are paired by subject id, never by position in a list: a list of per-mouse results whose
subjects are missing or repeated is refused.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..schema import POST_RUN_LABELS

LABELS = POST_RUN_LABELS


def _subject_of(item):
    """The ``subject`` attr of a labels Dataset (None when absent or not a Dataset)."""
    if isinstance(item, xr.Dataset):
        value = item.attrs.get("subject")
        return None if value is None or str(value) == "" else str(value)
    return None


def _labels_of(item, variable: str = "label") -> np.ndarray:
    if isinstance(item, xr.Dataset):
        if variable not in item:
            raise ValueError(f"a labels Dataset needs a {variable!r} variable; got "
                             f"{sorted(map(str, item.data_vars))}")
        values = np.asarray(item[variable].values)
        return values.astype(str) if variable == "label" else values.astype(float)
    if variable != "label":
        raise ValueError(f"the {variable!r} of each neuron needs labels Datasets, got an array")
    return np.asarray(item, str)


def _cell_subjects(item, mice, name) -> np.ndarray | None:
    """Subject of every cell of one Dataset or array: ``mice``, a ``subject`` coord, or the attr."""
    labels = _labels_of(item)
    coord = None
    if isinstance(item, xr.Dataset) and "subject" in item.variables and item["subject"].ndim == 1:
        coord = np.asarray(item["subject"].values, str)
    attr = _subject_of(item)
    if mice is not None:
        ids = np.asarray(mice).astype(str)
        ids = np.repeat(ids, labels.size) if ids.ndim == 0 else ids
        if ids.size != labels.size:
            raise ValueError(f"{name}: {ids.size} subject ids for {labels.size} labelled cells")
        given = coord if coord is not None else (None if attr is None else np.repeat(attr, labels.size))
        if given is not None and not np.array_equal(given, ids):
            raise ValueError(f"{name}: the subject ids passed disagree with the result's own "
                             f"'subject' ({sorted(set(given))} vs {sorted(set(ids))})")
        return ids
    if coord is not None:
        blank = np.isin(coord, ["", "nan", "None"])
        if blank.any():
            raise ValueError(f"{name}: {int(blank.sum())} cells have no subject id in the "
                             "'subject' coordinate")
        return coord
    return None if attr is None else np.repeat(attr, labels.size)


def _flatten(group, mice, name, variable: str = "label"):
    """(labels, subject of each cell or None) from an array, a labels Dataset or a list of those.

    A list holds one result per mouse; each one's subject comes from ``mice`` (one id per element)
    or from the result (attr or coordinate ``subject``). A list whose subjects are missing or
    repeated is refused: pairing mice by list position would be a guess.
    """
    if isinstance(group, list | tuple) and group and not isinstance(group[0], str):
        if mice is not None and len(mice) != len(group):
            raise ValueError(f"{name}: {len(mice)} subject ids for {len(group)} results; pass one "
                             "id per result")
        labels, ids = [], []
        for i, item in enumerate(group):
            cells = _cell_subjects(item, None if mice is None else mice[i], f"{name}[{i}]")
            if cells is None:
                raise ValueError(f"{name}[{i}] has no subject (no 'subject' attr or coordinate); "
                                 f"set result.attrs['subject'] or pass mice_a/mice_b with one id "
                                 f"per result. Mice are paired by subject, never by position")
            labels.append(_labels_of(item, variable))
            ids.append(cells)
        owners = [sorted(map(str, set(c))) for c in ids]
        seen = {}
        for i, subjects in enumerate(owners):
            for subject in subjects:
                if subject in seen:
                    raise ValueError(f"{name}: subject {subject!r} appears in results {seen[subject]} "
                                     f"and {i} (sessions {_session_of(group[seen[subject]])!r}, "
                                     f"{_session_of(group[i])!r}); combine one mouse's results "
                                     "into one before comparing, or fix the subject ids")
                seen[subject] = i
        return np.concatenate(labels), np.concatenate(ids)
    return _labels_of(group, variable), _cell_subjects(group, mice, name)


def _session_of(item):
    return item.attrs.get("session") if isinstance(item, xr.Dataset) else None


def _check_labels(labels, name):
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"{name} has labels {unknown}; expected only {list(LABELS)}")
    if labels.size == 0:
        raise ValueError(f"{name} has no labelled cells")

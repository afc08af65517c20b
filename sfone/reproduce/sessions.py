"""The sessions of a study's recordings: read, run (here or on a dask cluster) and combine.

Shared by the imaging and photometry stages of :mod:`sfone.reproduce.analyses`:
:func:`read_recording` reads one session with its reading options (errors name the study
entry), :func:`combine_sessions` reduces sessions of different acquisition systems to the
per-ROI coordinates they share (a warning names what is dropped), and the helpers below resolve
an entry's paths, its run epochs and the peri-run windows of the main protocol.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._logging import logger
from ..exceptions import SfoneError

__all__ = ["read_recording", "combine_sessions", "SESSION_COORDS"]

#: per-ROI coordinates every session gets from its study entry
SESSION_COORDS = ("subject", "day", "group", "roi_in_session")


def read_recording(entry, where: str):
    """One session's recording, read with its reading options (:mod:`sfone.io._session_reading`).

    Parameters
    ----------
    entry : study session
        An imaging, photometry or stress-test session of the study (``path`` absolute).
    where : str
        The entry in the study (``"imaging.sessions[2] (m2/day1)"``), for messages.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    sfone.exceptions.SfoneError
        When the file cannot be read with these options: the message starts with ``where``,
        and a hint to pass a reader keyword names the session field instead.
    """
    import re

    from ..io._session_reading import READ_KEYWORDS, read_session

    try:
        return read_session(entry.path, entry, where=where)
    except (SfoneError, TypeError) as exc:
        fields = {keyword: field for field, keyword in READ_KEYWORDS.items()}
        text = re.sub(r"pass (\w+)=", lambda m: f"set the session field {fields.get(m[1], m[1])}: "
                      if m[1] in fields else m[0], str(exc))
        raise SfoneError(f"{where}: {text}") from None


def combine_sessions(parts, where, *, what: str = "sessions") -> list:
    """``parts`` (one per session, over ``roi``) reduced to the per-ROI coordinates they share.

    Sessions of one study may come from different acquisition systems (suite2p's ``plane`` and
    ``iscell_prob``, Inscopix's ``cell_name`` and ``status``, centroids only where the file has
    footprints): the coordinates over ``roi`` that not every session has are dropped, with a
    :class:`~sfone.exceptions.DataRepairWarning` naming the sessions and the coordinates.

    Parameters
    ----------
    parts : list of list of xarray.Dataset or xarray.DataArray
        Per session, the objects to concatenate (e.g. its labels and its traces), each with a
        ``roi`` dimension.
    where : list of str
        The sessions' names, for the warning.
    what : str, default "sessions"
        What the sessions are (``"imaging sessions"``), for the warning.

    Returns
    -------
    list of list
        ``parts`` without the coordinates that are not shared.
    """
    from .._logging import warn
    from ..exceptions import DataRepairWarning

    def per_roi(obj):
        return {str(n) for n, c in obj.coords.items() if c.dims == ("roi",) and n != "roi"}

    names = [set.union(*(per_roi(o) for o in objs)) for objs in parts]
    shared = set.intersection(*names) if names else set()
    dropped = {w: sorted(n - shared) for w, n in zip(where, names, strict=True) if n - shared}
    if dropped:
        kept = sorted(shared - set(SESSION_COORDS))
        warn(f"{what} come from different file formats: their per-ROI coordinates differ, so "
             f"only the shared ones ({', '.join(kept) or 'none'}) are kept; dropped: "
             + "; ".join(f"{w}: {', '.join(n)}" for w, n in dropped.items()), DataRepairWarning)
    return [[o.drop_vars([n for n in per_roi(o) if n not in shared]) for o in objs]
            for objs in parts]


def session_epochs(entry, recording):
    from ..events import as_epochs, epochs_from_speed, epochs_from_ttl
    from ..io import read

    if entry.runs is not None:
        return as_epochs(entry.runs, recording=recording)
    name = "ttl" if entry.ttl is not None else "speed"
    source = getattr(entry, name)
    ds = read(source.path)
    if source.variable not in ds.variables:
        raise SfoneError(f"{entry.label}: {name} file {source.path} has no variable "
                         f"{source.variable!r}; it has {', '.join(map(str, ds.data_vars))}")
    trace = ds[source.variable]
    time_s = trace[trace.dims[-1]].values
    if name == "ttl":
        epochs = epochs_from_ttl(time_s, trace.values, threshold=source.threshold,
                                 min_duration_s=source.min_duration_s, source=source.path)
    else:
        epochs = epochs_from_speed(time_s, trace.values, threshold=source.threshold or 1.0,
                                   min_duration_s=source.min_duration_s, source=source.path)
    return as_epochs(epochs, recording=recording)


def resolved(study, entry):
    update = {"path": study.resolve(entry.path), "runs": study.resolve(entry.runs)}
    for name in ("ttl", "speed"):
        source = getattr(entry, name)
        if source is not None:
            update[name] = source.model_copy(update={"path": study.resolve(source.path)})
    return entry.model_copy(update=update)


def protocol_ref(study, name):
    candidate = study.resolve(name)
    return candidate if candidate.exists() else name


def _run_duration_s(study, entry, protocol, where) -> float:
    if protocol.run_s is not None:
        return float(protocol.run_s[1] - protocol.run_s[0])
    epochs = session_epochs(entry, read_recording(entry, where))
    return float(np.median(epochs["end"].values - epochs["start"].values))


def windows(study, entries, protocols, where):
    """The run (s), the baseline and the peri-run window (s from run end) of the main protocol."""
    from ..protocols import load_protocol

    main = load_protocol(protocols[0])
    run_s = _run_duration_s(study, entries[0], main, where[0])
    baseline_lag = (main.baseline_s[0] - run_s, main.baseline_s[1] - run_s)
    window = (min(baseline_lag[0], -run_s), float(main.post_run_s[1]))
    return main, run_s, baseline_lag, window


def run_sessions(function, entries, protocols, window, where, *, scheduler, workers, what):
    if scheduler:
        from ..batch import map_on_cluster

        return map_on_cluster(function, entries, protocols, [window] * len(entries), where,
                              scheduler=scheduler, workers=workers, desc=what)
    outputs = []
    for i, (entry, protocol, name) in enumerate(zip(entries, protocols, where, strict=True)):
        logger.info("reproduce: %s %d/%d (%s)", what, i + 1, len(entries), name)
        outputs.append(function(entry, protocol, window, name))
    return outputs


def with_session_coords(entries, outputs, where, what):
    """Labels and traces of every session, with subject/day/group coordinates over ``roi``,
    concatenated over ``roi`` (numbered 0..n-1) on the per-ROI coordinates they share."""
    parts = []
    for entry, (lab, tr) in zip(entries, outputs, strict=True):
        n = lab.sizes["roi"]
        extra = {"subject": ("roi", [entry.subject] * n), "day": ("roi", [entry.day] * n),
                 "group": ("roi", [entry.group or ""] * n),
                 "roi_in_session": ("roi", lab["roi"].values)}
        parts.append([lab.assign_coords(extra).drop_vars("roi"),
                      tr.assign_coords(extra).drop_vars("roi")])
    parts = combine_sessions(parts, where, what=what)
    # sessions differ in their runs (trial) and run times: padded with NaN (join="outer"),
    # run times kept per ROI (coords="different")
    concat = {"dim": "roi", "combine_attrs": "drop_conflicts", "coords": "different",
              "data_vars": "all", "compat": "equals", "join": "outer"}
    classes = xr.concat([p[0] for p in parts], **concat)
    classes = classes.assign_coords(roi=np.arange(classes.sizes["roi"]))
    trace = xr.concat([p[1] for p in parts], **concat)
    return classes, trace.assign_coords(roi=classes["roi"].values)

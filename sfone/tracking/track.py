"""``sfone.track``: the same ROIs across sessions of one mouse (registration + matching)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._logging import logger, progress
from .._validate import _check_option
from ..footprints import (
    footprint_centroids,
    footprint_image,
    footprint_matrix,
    fov_shape,
    has_footprints,
    mean_image,
    select_rois,
)
from .match import SameCellModel, candidate_pairs, match_pairs, warp_footprints
from .register import RigidTransform, prepare_image, register_images, registration_problem

__all__ = ["track", "Tracks", "session_name"]


def session_name(path) -> str:
    """A session's name from its path: the folder (above ``suite2p/``/``planeN/``) or file stem.

    Parameters
    ----------
    path : str or os.PathLike
        A session folder (possibly its ``suite2p``, ``planeN`` or ``combined`` sub-folder) or file.

    Returns
    -------
    str
    """
    path = Path(path)
    if path.is_dir():
        while path.name == "suite2p" or path.name.startswith("plane") or path.name == "combined":
            path = path.parent
        return path.name
    return path.stem


@dataclass
class Tracks:
    """Result of :func:`track`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tracked cell: ``track``, one column per session with that session's ROI
        (its ``roi`` coordinate value) or ``<NA>``, and ``p_same`` (the smallest P(same) of the
        track's links; ``NaN`` for a cell seen in one session only).
    transforms : pandas.DataFrame
        Per session: the rigid transform to the first (reference) session's pixels
        (``angle_deg``, ``shift_y``, ``shift_x``, ``center_y``, ``center_x`` in pixels), the
        registered images' ``correlation`` and the ``image`` used ("mean" or "footprints").
    pairs : pandas.DataFrame
        Every candidate pair (``session``, ``track``, ``roi``, ``distance`` in pixels,
        ``correlation``, ``p_same``, ``matched``).
    models : dict
        Session name -> fitted :class:`~sfone.tracking.match.SameCellModel` parameters.
    sessions : list of str
        Session names in order; the first is the reference.
    """

    table: pd.DataFrame
    transforms: pd.DataFrame
    pairs: pd.DataFrame
    models: dict = field(default_factory=dict)
    sessions: list = field(default_factory=list)

    def matched(self, a: str, b: str) -> pd.DataFrame:
        """Tracks seen in sessions ``a`` and ``b``.

        Parameters
        ----------
        a, b : str
            Session names (columns of :attr:`table`).

        Returns
        -------
        pandas.DataFrame
            Columns ``track``, ``a``, ``b`` (each session's ROI) and ``p_same``, one row per
            track present in both sessions.
        """
        both = self.table.dropna(subset=[a, b])
        return both[["track", a, b, "p_same"]].reset_index(drop=True)

    def write(self, out, *, transforms_path=None) -> tuple[Path, Path]:
        """Write ``table`` to ``out`` (CSV) and the transforms and models to a JSON file.

        Parameters
        ----------
        out : str or os.PathLike
            CSV of :attr:`table` (written atomically).
        transforms_path : str or os.PathLike, optional
            JSON of the transforms (pixels, degrees) and models; default
            ``<out stem>_transforms.json`` beside ``out``.

        Returns
        -------
        tuple of pathlib.Path
            ``(out, transforms_path)``.
        """
        from .._atomic import atomic_path, write_csv

        out = Path(out)
        transforms_path = Path(transforms_path or out.with_name(out.stem + "_transforms.json"))
        write_csv(self.table, out)
        payload = {"reference": self.sessions[0] if self.sessions else None,
                   "transform": "reference (row, col) = R(angle) @ (q - center) + center + shift",
                   "sessions": {row.session: {k: (v.item() if hasattr(v, "item") else v)
                                              for k, v in row._asdict().items() if k != "Index"}
                                for row in self.transforms.itertuples()},
                   "models": self.models}
        with atomic_path(transforms_path) as tmp:
            Path(tmp).write_text(json.dumps(payload, indent=2, default=float) + "\n",
                                 encoding="utf-8")
        return out, transforms_path


@dataclass
class _Session:
    name: str
    ds: xr.Dataset
    roi: np.ndarray      # roi coordinate values of the kept ROIs
    matrix: object       # csr (n, pixels) in the session's own frame
    centroids: np.ndarray
    shape: tuple


def _open(session, name, *, cells_only: bool, plane) -> _Session:
    from ..io import read

    ds = read(session) if isinstance(session, str | Path) else session
    if not isinstance(ds, xr.Dataset) or ds.attrs.get("modality") != "imaging":
        raise ValueError(f"session {name!r}: expected an imaging Dataset or path, got "
                         f"{type(ds).__name__} ({ds.attrs.get('modality') if hasattr(ds, 'attrs') else ''})")
    if not has_footprints(ds):
        raise ValueError(f"session {name!r} ({ds.attrs.get('source_file', '?')}): no ROI "
                         "footprints (mask_* variables); tracking needs the masks (suite2p "
                         "stat.npy, CaImAn A, .isxd cell images or NWB pixel masks)")
    keep = np.ones(ds.sizes["roi"], bool)
    if "plane" in ds.coords and np.unique(ds["plane"].values).size > 1:
        if plane is None:
            raise ValueError(f"session {name!r} has ROIs of planes "
                             f"{sorted(np.unique(ds['plane'].values).tolist())}; track one plane "
                             "at a time (plane=)")
        keep &= ds["plane"].values == plane
    if cells_only:
        keep &= ds["iscell"].values.astype(bool)
    ds = select_rois(ds.compute() if hasattr(ds, "compute") else ds, keep)
    if ds.sizes["roi"] == 0:
        raise ValueError(f"session {name!r}: no ROIs left to track (cells_only={cells_only}, "
                         f"plane={plane})")
    return _Session(name, ds, np.asarray(ds["roi"].values), footprint_matrix(ds),
                    footprint_centroids(ds), fov_shape(ds))


def _image(session: _Session, kind: str, highpass_sigma: float) -> np.ndarray:
    if kind == "mean":
        return prepare_image(mean_image(session.ds), highpass_sigma=highpass_sigma)
    from scipy import ndimage

    return prepare_image(ndimage.gaussian_filter(footprint_image(session.ds), 1.0),
                         highpass_sigma=None)


def _check_registration(session: _Session, reference: _Session, transform: RigidTransform,
                        kind: str) -> tuple[float, bool]:
    """(overlap, supported); a QualityWarning naming both sessions when the registration does not
    support tracking (their matches and p_same would be chance overlaps)."""
    from ..io._checks import quality_issue

    overlap, problem = registration_problem(transform, kind, session.shape, reference.shape)
    if problem:
        quality_issue(f"session {session.name!r} registered to {reference.name!r} (rotation "
                      f"{transform.angle_deg:+.2f} deg, shift ({transform.shift_y:+.1f}, "
                      f"{transform.shift_x:+.1f}) px): {problem}. The registration does not "
                      "support tracking: the sessions may not show the same field, and the "
                      "matches and p_same of this session are chance overlaps",
                      path=session.ds.attrs.get("source_file", session.name))
    return overlap, problem is None


def _diameter(sessions: list[_Session]) -> float:
    npix = np.concatenate([np.diff(s.matrix.indptr) for s in sessions])
    return float(2 * np.sqrt(np.median(npix) / np.pi))


def track(sessions, *, names=None, cells_only: bool = True, plane=None, image: str = "auto",
          max_rotation: float = 10.0, max_distance: float | None = None,
          p_threshold: float = 0.5, highpass_sigma: float = 10.0) -> Tracks:
    """Track ROIs across two or more sessions of one field of view.

    Every session is registered to the first (rigid: rotation up to ``max_rotation`` degrees
    plus translation; :mod:`sfone.tracking.register`), its footprints are carried onto the
    first session's pixels, and its ROIs are matched one-to-one to the tracks so far with a
    same-cell model fitted to the pairs' centroid distances and footprint correlations
    (:mod:`sfone.tracking.match`). Unmatched ROIs start new tracks (new cells); tracks without
    a match in a session are empty there (lost cells).

    Parameters
    ----------
    sessions : list of paths or imaging Datasets
        In order; the first is the reference. Each needs footprints (``mask_*``).
    names : list of str, optional
        Session names (default: folder or file name, or the Dataset's ``session`` attr).
    cells_only : bool
        Track only ROIs with ``iscell`` True (default).
    plane : int, optional
        The plane to track in multi-plane recordings.
    image : {"auto", "mean", "footprints"}
        What registration aligns: the mean images ("auto" when every session has one) or the
        projections of the footprints.
    max_rotation : float
        Largest rotation searched, degrees.
    max_distance : float, optional
        Pairs farther apart (pixels, after registration) are never the same cell (default: two
        median ROI diameters).
    p_threshold : float
        Smallest P(same) of a match.
    highpass_sigma : float
        Gaussian high-pass of mean images before registration, pixels.

    Returns
    -------
    Tracks
        The track table, per-session transforms, candidate pairs and fitted models.

    Raises
    ------
    ValueError
        With fewer than two sessions, names that are not distinct (or not one per session),
        or an unknown ``image``.
    """
    sessions = list(sessions)
    if len(sessions) < 2:
        raise ValueError(f"track needs at least two sessions, got {len(sessions)}")
    if names is None:
        names = [session_name(s) if isinstance(s, str | Path)
                 else str(s.attrs.get("session") or Path(str(s.attrs.get("source_file", i))).stem)
                 for i, s in enumerate(sessions)]
    names = [str(n) for n in names]
    if len(names) != len(sessions) or len(set(names)) != len(names):
        raise ValueError(f"session names {names} must be {len(sessions)} distinct names "
                         "(pass names= / --names)")
    opened = [_open(s, n, cells_only=cells_only, plane=plane)
              for s, n in zip(progress(sessions, desc="reading sessions", unit="session"), names,
                              strict=True)]
    _check_option("image", image, ("auto", "mean", "footprints"))
    kind = image
    if image == "auto":
        kind = "mean" if all("mean_image" in s.ds for s in opened) else "footprints"
    max_distance = float(max_distance or 2 * _diameter(opened))
    reference = opened[0]
    ref_image = _image(reference, kind, highpass_sigma)
    centre = ((reference.shape[0] - 1) / 2, (reference.shape[1] - 1) / 2)
    transforms = {reference.name: RigidTransform(0.0, 0.0, 0.0, *centre, correlation=1.0)}
    support = {reference.name: (1.0, True)}
    # tracks: the latest footprint (reference frame) and centroid of each track
    members = [{reference.name: roi} for roi in reference.roi]
    link_p = [np.inf] * len(members)
    track_matrix, track_centroids = reference.matrix, reference.centroids
    pair_tables, models = [], {}
    for session in progress(opened[1:], desc="registering and matching", unit="session"):
        transform = register_images(ref_image, _image(session, kind, highpass_sigma),
                                    max_rotation=max_rotation)
        transforms[session.name] = transform
        support[session.name] = _check_registration(session, reference, transform, kind)
        logger.info("%s -> %s: rotation %.2f deg, shift (%.2f, %.2f) px, r = %.3f",
                    session.name, reference.name, transform.angle_deg, transform.shift_y,
                    transform.shift_x, transform.correlation)
        warped = warp_footprints(session.matrix, session.shape, transform, reference.shape)
        centroids = transform.apply(session.centroids)
        pairs = candidate_pairs(track_centroids, track_matrix, centroids, warped,
                                max_distance=max_distance)
        model = SameCellModel(max_distance=max_distance).fit(pairs["distance"],
                                                             pairs["correlation"])
        models[session.name] = model.params()
        p_same = model.predict_proba(pairs["distance"], pairs["correlation"])
        chosen = match_pairs(pairs, p_same, p_threshold=p_threshold)
        matched = np.zeros(p_same.size, bool)
        matched[chosen] = True
        pair_tables.append(pd.DataFrame({
            "session": session.name, "track": pairs["i"], "roi": session.roi[pairs["j"]],
            "distance": pairs["distance"], "correlation": pairs["correlation"],
            "p_same": p_same, "matched": matched}))
        track_matrix, track_centroids = track_matrix.tolil(), track_centroids.copy()
        new_of = np.ones(len(session.roi), bool)
        for k in chosen:
            t, j = int(pairs["i"][k]), int(pairs["j"][k])
            members[t][session.name] = session.roi[j]
            link_p[t] = min(link_p[t], float(p_same[k]))
            track_matrix[t] = warped[j]
            track_centroids[t] = centroids[j]
            new_of[j] = False
        new = np.flatnonzero(new_of)
        members += [{session.name: session.roi[j]} for j in new]
        link_p += [np.inf] * new.size
        from scipy import sparse

        track_matrix = sparse.vstack([track_matrix.tocsr(), warped[new]], format="csr")
        track_centroids = np.vstack([track_centroids, centroids[new]])
    table = pd.DataFrame({"track": np.arange(len(members))})
    for session in opened:
        table[session.name] = pd.array([m.get(session.name) for m in members], dtype="Int64")
    table["p_same"] = [p if np.isfinite(p) else np.nan for p in link_p]
    rows = [{"session": n, "image": kind, **t.as_dict(), "overlap": support[n][0],
             "registration_ok": support[n][1]} for n, t in transforms.items()]
    return Tracks(table=table, transforms=pd.DataFrame(rows),
                  pairs=pd.concat(pair_tables, ignore_index=True), models=models,
                  sessions=[s.name for s in opened])

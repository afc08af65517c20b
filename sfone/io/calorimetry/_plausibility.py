"""Physiological range, body-mass and sampling-interval checks run by every calorimetry loader.

Readings already flagged by the loaders' QC (``qc_flag``: implausible RER, animal removed) are
excluded: they carry their own warning. Everything else outside a plausible range is kept and
reported in ONE :class:`~sfone.exceptions.QualityWarning` per file naming the subjects and the
readings (0-based index along ``time``); strict mode (``sfone.set_options(strict=True)``) makes
it an error.

Body masses are checked on their own (:func:`check_body_mass`): the per-kg VO2 of CLAMS and
treadmill exports is turned into mL/h with the mass, so a mass typed in kg (0.030 for 30 g) makes
VO2 1000x too low while VO2 per gram still looks normal; the per-gram range cannot catch it.
"""

from __future__ import annotations

import numpy as np

from ...exceptions import FormatError
from .._checks import describe_outside, quality_issue, uneven_intervals

__all__ = ["check_physiology", "check_reading_intervals", "check_body_mass", "RER_HOME_CAGE",
           "RER_EXERCISE", "VO2_PER_GRAM", "EE_PER_GRAM", "MOUSE_BODY_MASS_G",
           "RODENT_BODY_MASS_G"]

#: RER of a resting/home-cage animal: fat oxidation (0.7) to carbohydrate + lipogenesis (~1.2)
RER_HOME_CAGE = (0.6, 1.3)
#: RER during exhaustive exercise rises above 1 (bicarbonate buffering of lactate)
RER_EXERCISE = (0.6, 1.5)
#: VO2 per gram of body mass, mL/h/g: a resting human ~0.2, a mouse at rest ~2-4, at VO2max ~12
VO2_PER_GRAM = (0.1, 20.0)
#: EE per gram of body mass, kcal/h/g (Weir: ~4.9 kcal per L O2, so VO2_PER_GRAM x ~0.005)
EE_PER_GRAM = (0.0005, 0.1)
EXERCISE_FORMATS = {"treadmill"}
#: body mass (g) of a mouse in a metabolic cage or on a treadmill: weaned juveniles (~10 g at
#: 3-4 weeks) to diet-induced-obese or Lep(ob) adults (~60-70 g). Growth curves of the Jackson
#: Laboratory (Mouse Phenome Database, project Jaxpheno5: 10 strains weighed weekly at 3-16 weeks)
#: span about 10-40 g; the upper end is from obese models (inference; verify for your strain).
#: Outside it: QualityWarning (FormatError in strict mode).
MOUSE_BODY_MASS_G = (10.0, 80.0)
#: no laboratory rodent in a metabolic cage weighs less than 1 g or more than 1 kg (an adult rat
#: is 250-800 g): outside this the number is in the wrong unit (kg or mg typed as g) and every
#: per-kg conversion would be off by 1000x, so the file is refused
RODENT_BODY_MASS_G = (1.0, 1000.0)


def _subject_problems(arrays: dict, unflagged: np.ndarray, mass: float, rer_range,
                      subject: str) -> list[str]:
    """Range problems of one subject's unflagged readings; negative gas readings are reported
    once (not again per gram or through RER)."""
    def values(name, divisor=1.0, keep=unflagged):
        return np.where(keep, np.asarray(arrays[name], dtype=float) / divisor, np.nan)

    problems = [describe_outside(values(name), 0.0, np.inf, what=f"subject {subject!r} {label}",
                                 units="mL/h") for name, label in (("vo2", "VO2"), ("vco2", "VCO2"))
                if name in arrays]
    positive = unflagged & (np.asarray(arrays["vo2"]) > 0)
    if "vco2" in arrays:
        positive &= np.asarray(arrays["vco2"]) > 0
    if "rer" in arrays:
        problems.append(describe_outside(values("rer", keep=positive), *rer_range,
                                         what=f"subject {subject!r} RER", units="1"))
    if np.isfinite(mass) and mass > 0:
        problems.append(describe_outside(values("vo2", mass, positive), *VO2_PER_GRAM,
                                         what=f"subject {subject!r} VO2 per gram of body mass",
                                         units="mL/h/g"))
        if "ee" in arrays:
            problems.append(describe_outside(values("ee", mass, positive), *EE_PER_GRAM,
                                             what=f"subject {subject!r} EE per gram of body "
                                             "mass", units="kcal/h/g"))
    return [p for p in problems if p]


def check_body_mass(body_mass, subjects: list[str], *, path) -> None:
    """Refuse body masses no rodent has, warn about masses outside a mouse's range.

    Parameters
    ----------
    body_mass : array-like of float
        Per-subject body mass (g); NaN (not given) is not checked.
    subjects : list of str
        Subject ids, in the order of ``body_mass``.
    path : str or os.PathLike
        The file read (named in the message).

    Raises
    ------
    FormatError
        If a mass is <= 0 or outside :data:`RODENT_BODY_MASS_G` (a unit error: 0.030 is 30 g
        typed in kg), naming the subject and the value.
    """
    mass = np.broadcast_to(np.asarray(body_mass, dtype=float), (len(subjects),))
    low, high = RODENT_BODY_MASS_G
    wrong = [(s, m) for s, m in zip(subjects, mass, strict=True)
             if np.isfinite(m) and not low <= m <= high]
    if wrong:
        shown = ", ".join(f"subject {s!r} {m:g} g" for s, m in wrong[:5])
        first = wrong[0][1]
        hint = f" (typed in kg? {first:g} kg = {first * 1000:g} g)" if 0 < first < low else ""
        raise FormatError(f"body mass {shown}: no rodent weighs this; expected grams, "
                          f"{low:g}-{high:g} g (a mouse {MOUSE_BODY_MASS_G[0]:g}-"
                          f"{MOUSE_BODY_MASS_G[1]:g} g){hint}. VO2 per kg and every per-gram "
                          "value would be wrong: correct the mass in the file", path=path)
    low, high = MOUSE_BODY_MASS_G
    odd = [(s, m) for s, m in zip(subjects, mass, strict=True)
           if np.isfinite(m) and not low <= m <= high]
    if odd:
        shown = ", ".join(f"subject {s!r} {m:g} g" for s, m in odd[:5])
        more = f" and {len(odd) - 5} more" if len(odd) > 5 else ""
        quality_issue(f"body mass {shown}{more} is outside a mouse's plausible {low:g}-{high:g} g "
                      "(kept; VO2 per kg uses it): check the mass and its unit", path=path)


def check_physiology(arrays: dict, flags: np.ndarray, subjects: list[str], body_mass,
                     *, source_format: str, path) -> None:
    """Warn about unflagged readings outside the plausible ranges (values kept).

    Parameters
    ----------
    arrays : dict
        ``vo2``, ``vco2`` (mL/h), ``ee`` (kcal/h), ``rer`` as ``(subject, time)`` arrays.
    flags : ndarray
        ``qc_flag`` of the same shape; readings with any flag set are not checked again.
    body_mass : array-like
        Per-subject body mass (g); NaN skips the per-gram checks of that subject.
    """
    if "vo2" not in arrays:
        return
    rer_range = RER_EXERCISE if source_format in EXERCISE_FORMATS else RER_HOME_CAGE
    mass = np.broadcast_to(np.asarray(body_mass, dtype=float), (len(subjects),))
    unflagged = np.asarray(flags) == 0
    problems = []
    for i, subject in enumerate(subjects):
        problems += _subject_problems({k: np.asarray(v)[i] for k, v in arrays.items()},
                                      unflagged[i], mass[i], rer_range, subject)
    if problems:
        quality_issue("implausible readings not flagged by qc_flag (rows are reading indices "
                      "from 0; kept): " + "; ".join(problems), path=path)


def check_reading_intervals(stamps: np.ndarray, subjects: list[str], *, path) -> None:
    """Warn about uneven intervals between each subject's readings (``stamps`` datetime64)."""
    problems = []
    for subject, row in zip(subjects, np.asarray(stamps), strict=True):
        measured = row[~np.isnat(row)]
        if measured.size < 3:
            continue
        seconds = (measured - measured[0]) / np.timedelta64(1, "ns") / 1e9
        problems.append(uneven_intervals(seconds, what=f"subject {subject!r}"))
    problems = [p for p in problems if p]
    if problems:
        quality_issue("; ".join(problems), path=path)

"""Experiment protocols: pydantic models loaded from YAML with :func:`load_protocol`.

Kinds (the ``kind`` key of the YAML file):

``treadmill_training``
    Daily treadmill sessions: day, speed (m/min), duration (min), incline (deg).
``stress_test``
    The graded exercise test: stages (speed, incline, duration) then an optional ramp, and the
    exhaustion rule.
``optogenetics``
    Post-run light delivery: inhibit (15 min) or stimulate (60 min) after each run.
``classification``
    Windows (seconds) and the decision rule for labelling post-run responses.

The protocols sfone ships (``classification``, ``stress_test``, ``treadmill_training``,
``optogenetics_inhibit``, ``optogenetics_stimulate``) are package data in ``sfone/protocol_files``
(the repository's top-level ``protocols/`` is the same folder); :func:`load_protocol` takes either
a path or one of these names. Errors raise :class:`~sfone.exceptions.ProtocolError` naming the
file and the field path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ._guard import load_yaml
from .exceptions import ProtocolError

__all__ = ["TrainingProtocol", "StressTestProtocol", "OptogeneticsProtocol",
           "ClassificationProtocol", "load_protocol", "packaged_protocols", "protocol_path",
           "Protocol", "protocol_schedule"]

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainingDay(_Model):
    day: Annotated[int, Field(ge=1)]
    speed_m_min: PositiveFloat
    duration_min: PositiveFloat
    incline_deg: Annotated[float, Field(ge=-30, le=45)] = 0.0


class TrainingProtocol(_Model):
    """Treadmill training: one entry per training day (``kind: treadmill_training``).

    Attributes
    ----------
    kind : {"treadmill_training"}
        The protocol kind (the YAML file's ``kind`` key).
    name : str
        Free-text name, default ``"treadmill training"``.
    days : list of TrainingDay
        At least one day, day numbers unique; each with ``day`` (>= 1), ``speed_m_min``
        (m/min, > 0), ``duration_min`` (min, > 0) and ``incline_deg`` (deg, -30 to 45,
        default 0).
    imaging_days : list of int
        Day numbers with imaging; each must be one of ``days`` (default none).
    """

    kind: Literal["treadmill_training"]
    name: str = "treadmill training"
    days: list[TrainingDay] = Field(min_length=1)
    imaging_days: list[int] = []

    @model_validator(mode="after")
    def _days_unique(self):
        numbers = [d.day for d in self.days]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"training days repeat: {numbers}")
        missing = sorted(set(self.imaging_days) - set(numbers))
        if missing:
            raise ValueError(f"imaging_days {missing} are not training days")
        return self


class Stage(_Model):
    speed_m_min: NonNegativeFloat
    incline_deg: Annotated[float, Field(ge=-30, le=45)] = 0.0
    duration_s: PositiveFloat


class Ramp(_Model):
    """After the fixed stages: add ``increment_m_min`` every ``step_s`` until exhaustion."""

    increment_m_min: PositiveFloat
    step_s: PositiveFloat
    incline_deg: Annotated[float, Field(ge=-30, le=45)] = 0.0
    max_speed_m_min: PositiveFloat | None = None


class ExhaustionRule(_Model):
    """Exhaustion: continuous shock-grid contact for ``shock_grid_s`` or ``max_shocks`` shocks."""

    shock_grid_s: PositiveFloat = 5.0
    max_shocks: Annotated[int, Field(ge=1)] | None = None


class StressTestProtocol(_Model):
    """Graded treadmill stress test with indirect calorimetry (``kind: stress_test``).

    Attributes
    ----------
    kind : {"stress_test"}
        The protocol kind (the YAML file's ``kind`` key).
    name : str
        Free-text name, default ``"graded stress test"``.
    stages : list of Stage
        At least one fixed stage, in order; each with ``speed_m_min`` (m/min, >= 0),
        ``incline_deg`` (deg, -30 to 45, default 0) and ``duration_s`` (s, > 0).
    ramp : Ramp, optional
        After the stages: add ``increment_m_min`` (m/min) every ``step_s`` (s) at
        ``incline_deg`` until exhaustion, up to ``max_speed_m_min`` (m/min) if given.
    exhaustion : ExhaustionRule
        Exhaustion is continuous shock-grid contact for ``shock_grid_s`` (s, default 5) or,
        if given, ``max_shocks`` separate contacts.
    vo2max_window_s : float
        Window in s of the rolling mean of VO2 whose maximum is VO2max (> 0, default 60).
    rer_crossover : float
        RER that marks the ``crossover_*`` point (> 0, default 1.0).
    """

    kind: Literal["stress_test"]
    name: str = "graded stress test"
    stages: list[Stage] = Field(min_length=1)
    ramp: Ramp | None = None
    exhaustion: ExhaustionRule = ExhaustionRule()
    vo2max_window_s: PositiveFloat = 60.0
    rer_crossover: PositiveFloat = 1.0


def protocol_schedule(protocol, elapsed_s) -> dict[str, np.ndarray]:
    """Speed (m/min), incline (deg) and stage index at each elapsed time (s) of a protocol.

    Stages run back to back; after them the ramp adds ``increment_m_min`` every ``step_s``
    (stage indices continue), capped at ``max_speed_m_min``. Without a ramp the last stage holds.

    Parameters
    ----------
    protocol : sfone.protocols.StressTestProtocol
        Stress-test protocol (stages, ramp, exhaustion rule).
    elapsed_s : array_like of float
        Time since the test start (s).

    Returns
    -------
    dict of str to numpy.ndarray
        ``speed`` (m/min), ``incline`` (deg) and ``stage`` (int), shaped like ``elapsed_s``.
    """
    t = np.asarray(elapsed_s, dtype=float)
    bounds = np.cumsum([0.0] + [s.duration_s for s in protocol.stages])
    speeds = np.array([s.speed_m_min for s in protocol.stages])
    inclines = np.array([s.incline_deg for s in protocol.stages])
    stage = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, len(speeds) - 1)
    speed, incline = speeds[stage].astype(float), inclines[stage].astype(float)
    after = t >= bounds[-1]
    if protocol.ramp is not None and after.any():
        ramp = protocol.ramp
        step = np.floor((t[after] - bounds[-1]) / ramp.step_s)
        ramp_speed = speeds[-1] + ramp.increment_m_min * (step + 1)
        if ramp.max_speed_m_min is not None:
            ramp_speed = np.minimum(ramp_speed, ramp.max_speed_m_min)
        speed[after], incline[after] = ramp_speed, ramp.incline_deg
        stage = stage.copy()
        stage[after] = len(speeds) + step.astype(int)
    return {"speed": speed, "incline": incline, "stage": stage.astype(int)}


class OptogeneticsProtocol(_Model):
    """Post-run light delivery after each training run (``kind: optogenetics``).

    Attributes
    ----------
    kind : {"optogenetics"}
        The protocol kind (the YAML file's ``kind`` key).
    name : str
        Free-text name, default ``"post-run optogenetics"``.
    mode : {"inhibit", "stimulate"}
        Light inhibits or stimulates.
    start_after_run_s : float
        Delay from run end to light on, in s (>= 0, default 0).
    duration_min : float
        Light delivery duration in min (> 0).
    wavelength_nm : float
        Light wavelength in nm (> 0).
    frequency_hz : float, optional
        Pulse frequency in Hz (> 0); required for ``"stimulate"``.
    pulse_width_ms : float, optional
        Pulse width in ms (> 0).
    power_mw : float, optional
        Light power in mW (> 0).
    """

    kind: Literal["optogenetics"]
    name: str = "post-run optogenetics"
    mode: Literal["inhibit", "stimulate"]
    start_after_run_s: NonNegativeFloat = 0.0
    duration_min: PositiveFloat
    wavelength_nm: PositiveFloat
    frequency_hz: PositiveFloat | None = None
    pulse_width_ms: PositiveFloat | None = None
    power_mw: PositiveFloat | None = None

    @model_validator(mode="after")
    def _pulses(self):
        if self.mode == "stimulate" and self.frequency_hz is None:
            raise ValueError("stimulation needs frequency_hz")
        return self


class ClassificationProtocol(_Model):
    """Windows (s) and decision rule for post-run labels (``kind: classification``).

    The fields are the keywords of :func:`sfone.classify.label_responses` of the same names,
    which describes them in full; the defaults below are the model's (the shipped
    ``classification`` protocol sets ``run_s`` (0, 600) and ``bin_s`` 30).

    Attributes
    ----------
    kind : {"classification"}
        The protocol kind (the YAML file's ``kind`` key).
    name : str
        Free-text name, default ``"post-run classification"``.
    baseline_s : (float, float)
        ``(start, end)`` in s relative to run start, ``start < end <= 0``.
    run_s : (float, float), optional
        During-run window, ``(start, end)`` in s relative to run start (default none).
    post_run_s : (float, float)
        ``(start, end)`` in s relative to run end, ``start < end``.
    method : {"glm", "test", "threshold", "cluster"}
        Decision method (:data:`sfone.classify.METHODS`), default ``"glm"``.
    null : {"autocorrelation", "shift"}
        Null of the ``test`` method (:data:`sfone.classify.NULLS`), default
        ``"autocorrelation"``.
    trend_degree : int
        ``glm``: Legendre degree of an extra slow trend, 0-6, default 0 (none: slow drift is
        modelled as correlated noise and bleaching divided out; a trend competes with a
        sustained post-run step, docs/classification.md).
    transient_tau_s : float
        ``glm``: time constant of the transient post-run term in s (> 0, default 60).
    statistic : {"mean", "median"}
        ``threshold``: summary of the post-run window, default ``"mean"``.
    threshold : float
        ``threshold``: theta in baseline z units (> 0, default 1.64).
    alpha : float
        Significance level, in (0, 1), default 0.05.
    fdr : bool
        Benjamini-Hochberg across ROIs, default True.
    n_shuffles : int
        ``test`` with ``null="shift"``: number of circular shifts (>= 100, default 1000).
    min_shift_s : float
        ``test``: shortest circular shift and longest autocovariance lag in s (>= 0,
        default 60).
    min_runs_for_wilcoxon : int
        ``test``: from this many runs on, a Wilcoxon test across runs (>= 2, default 6).
    bin_s : float, optional
        ``glm`` bin length in s (> 0; default none, which the glm takes as 30).
    min_baseline_s : float
        ``glm``: shortest pre-run baseline accepted, s (>= 0, default 300; shorter baselines
        labelled 3-6.5 % of null ROIs).
    random_state : int, optional
        Seed of the circular shifts and of the ``cluster`` mixture model, default 0.
    """

    kind: Literal["classification"]
    name: str = "post-run classification"
    baseline_s: tuple[float, float]
    run_s: tuple[float, float] | None = None
    post_run_s: tuple[float, float]
    method: Literal["glm", "test", "threshold", "cluster"] = "glm"  # = classify.METHODS
    null: Literal["autocorrelation", "shift"] = "autocorrelation"  # = classify.NULLS (test)
    trend_degree: Annotated[int, Field(ge=0, le=6)] = 0
    transient_tau_s: PositiveFloat = 60.0
    statistic: Literal["mean", "median"] = "mean"
    threshold: PositiveFloat = 1.64
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    fdr: bool = True
    n_shuffles: Annotated[int, Field(ge=100)] = 1000
    min_shift_s: NonNegativeFloat = 60.0
    min_runs_for_wilcoxon: Annotated[int, Field(ge=2)] = 6
    bin_s: PositiveFloat | None = None
    min_baseline_s: NonNegativeFloat = 300.0
    random_state: int | None = 0

    @model_validator(mode="after")
    def _windows(self):
        for field_name in ("baseline_s", "run_s", "post_run_s"):
            window = getattr(self, field_name)
            if window is not None and not window[0] < window[1]:
                raise ValueError(f"{field_name} must be (start, end) with start < end, got {window}")
        if self.baseline_s[1] > 0:
            raise ValueError(f"baseline_s must end at or before run start (0 s), got {self.baseline_s}")
        return self


Protocol = Annotated[TrainingProtocol | StressTestProtocol | OptogeneticsProtocol
                     | ClassificationProtocol, Field(discriminator="kind")]
_ADAPTER = TypeAdapter(Protocol)


def _field_path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"treadmill_training", "stress_test", "optogenetics", "classification"}:
            continue  # the discriminator tag pydantic puts in the location
        else:
            text += f".{part}" if text else str(part)
    return text or "<top level>"


def parse_protocol(data: dict, *, source="<dict>"):
    """Validate a protocol given as a dict (as loaded from YAML)."""
    if not isinstance(data, dict):
        raise ProtocolError(f"{source}: expected a mapping with a 'kind' key, got "
                            f"{type(data).__name__}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            found = err.get("input")
            found_text = "" if isinstance(found, dict) else f" (found {found!r})"
            lines.append(f"{_field_path(err['loc'])}: {err['msg']}{found_text}")
        raise ProtocolError(f"{source}: invalid protocol:\n  - " + "\n  - ".join(lines)) from None


def packaged_protocols() -> dict[str, Path]:
    """The protocols shipped with sfone.

    Returns
    -------
    dict of str to pathlib.Path
        ``{name: path}`` of every YAML file in ``sfone/protocol_files``, name = file stem,
        sorted by file name.
    """
    folder = resources.files("sfone") / "protocol_files"
    return {Path(entry.name).stem: Path(str(entry)) for entry in sorted(
        folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".yaml")}


def protocol_path(path_or_name) -> Path:
    """The YAML file for a path, or for the name of a shipped protocol.

    Parameters
    ----------
    path_or_name : str or os.PathLike
        Path of a YAML file, or a key of :func:`packaged_protocols` (e.g. ``"stress_test"``);
        an existing path wins over a shipped name.

    Returns
    -------
    pathlib.Path
        The file to read.

    Raises
    ------
    FileNotFoundError
        When it is neither an existing path nor a shipped name (the message lists them).
    """
    path = Path(path_or_name)
    if path.exists():
        return path
    shipped = packaged_protocols()
    if isinstance(path_or_name, str) and path_or_name in shipped:
        return shipped[path_or_name]
    raise FileNotFoundError(
        f"No such protocol file or shipped protocol: {str(path_or_name)!r} (shipped protocols: "
        f"{', '.join(shipped)}; or give the path of a YAML file)")


def load_protocol(path_or_name):
    """Load and validate a protocol YAML file.

    Parameters
    ----------
    path_or_name : str or os.PathLike
        Path of a YAML file, or the name of a shipped protocol (see
        :func:`packaged_protocols`; resolved by :func:`protocol_path`).

    Returns
    -------
    TrainingProtocol, StressTestProtocol, OptogeneticsProtocol or ClassificationProtocol
        The frozen pydantic model for the file's ``kind``.

    Raises
    ------
    FileNotFoundError
        When the file or shipped name does not exist.
    sfone.exceptions.ProtocolError
        For invalid YAML or an invalid protocol, naming the file and every field path.
    """
    path = protocol_path(path_or_name)
    data = load_yaml(path, error=ProtocolError, what="protocol file")
    return parse_protocol(data, source=path)

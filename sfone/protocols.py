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

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from .exceptions import ProtocolError

__all__ = ["TrainingProtocol", "StressTestProtocol", "OptogeneticsProtocol",
           "ClassificationProtocol", "load_protocol", "packaged_protocols", "protocol_path",
           "Protocol"]

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
    """Treadmill training: one entry per training day."""

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
    """Graded treadmill stress test with indirect calorimetry."""

    kind: Literal["stress_test"]
    name: str = "graded stress test"
    stages: list[Stage] = Field(min_length=1)
    ramp: Ramp | None = None
    exhaustion: ExhaustionRule = ExhaustionRule()
    vo2max_window_s: PositiveFloat = 60.0
    rer_crossover: PositiveFloat = 1.0


class OptogeneticsProtocol(_Model):
    """Post-run light delivery after each training run."""

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
    """Windows (s) and decision rule for post-run labels.

    ``baseline_s`` is relative to run start (negative: before the run); ``run_s`` to run start;
    ``post_run_s`` to run end.
    """

    kind: Literal["classification"]
    name: str = "post-run classification"
    baseline_s: tuple[float, float]
    run_s: tuple[float, float] | None = None
    post_run_s: tuple[float, float]
    method: Literal["glm", "test", "threshold", "cluster"] = "glm"  # = classify.METHODS
    null: Literal["autocorrelation", "shift"] = "autocorrelation"  # = classify.NULLS (test)
    trend_degree: Annotated[int, Field(ge=0, le=6)] = 1
    transient_tau_s: PositiveFloat = 60.0
    statistic: Literal["mean", "median"] = "mean"
    threshold: PositiveFloat = 1.64
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    fdr: bool = True
    n_shuffles: Annotated[int, Field(ge=100)] = 1000
    min_shift_s: NonNegativeFloat = 60.0
    min_runs_for_wilcoxon: Annotated[int, Field(ge=2)] = 6
    bin_s: PositiveFloat | None = None
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
    """The protocols shipped with sfone: ``{name: path}`` (name = file stem)."""
    folder = resources.files("sfone") / "protocol_files"
    return {Path(entry.name).stem: Path(str(entry)) for entry in sorted(
        folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".yaml")}


def protocol_path(path_or_name) -> Path:
    """The YAML file for a path, or for the name of a shipped protocol (``"stress_test"``)."""
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
    """Load and validate a protocol YAML file, given by path or by the name of a shipped protocol
    (see :func:`packaged_protocols`); returns the pydantic model for its ``kind``."""
    path = protocol_path(path_or_name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{path}: not valid YAML: {exc}") from exc
    return parse_protocol(data, source=path)

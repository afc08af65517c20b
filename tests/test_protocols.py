"""Protocol YAML files: shipped defaults load; errors give the field path."""

from pathlib import Path

import pytest

from sfone import load_protocol
from sfone.exceptions import ProtocolError
from sfone.protocols import (
    ClassificationProtocol,
    OptogeneticsProtocol,
    StressTestProtocol,
    TrainingProtocol,
)

PROTOCOLS = Path(__file__).resolve().parents[1] / "protocols"


def test_shipped_protocols_load_with_paper_like_defaults():
    cls = load_protocol(PROTOCOLS / "classification.yaml")
    assert isinstance(cls, ClassificationProtocol)
    assert cls.threshold == 1.64 and cls.post_run_s == (0.0, 3600.0)
    inhibit = load_protocol(PROTOCOLS / "optogenetics_inhibit.yaml")
    stimulate = load_protocol(PROTOCOLS / "optogenetics_stimulate.yaml")
    assert isinstance(inhibit, OptogeneticsProtocol)
    assert (inhibit.mode, inhibit.duration_min) == ("inhibit", 15)
    assert (stimulate.mode, stimulate.duration_min) == ("stimulate", 60)
    stress = load_protocol(PROTOCOLS / "stress_test.yaml")
    assert isinstance(stress, StressTestProtocol)
    assert stress.exhaustion.shock_grid_s == 5 and stress.stages[1].speed_m_min == 6
    training = load_protocol(PROTOCOLS / "treadmill_training.yaml")
    assert isinstance(training, TrainingProtocol) and training.imaging_days == [1, 8]


def _write(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, expected", [
    ("kind: stress_test\nstages:\n  - {speed_m_min: 6, duration_s: 60}\n"
     "  - {speed_m_min: -3, duration_s: 60}\n",
     "stages[1].speed_m_min: Input should be greater than or equal to 0 (found -3)"),
    ("kind: classification\nbaseline_s: [-600, 0]\npost_run_s: [100, 50]\n",
     "post_run_s must be (start, end) with start < end"),
    ("kind: classification\nbaseline_s: [-600, 0]\npost_run_s: [0, 60]\nthreshhold: 2\n",
     "threshhold: Extra inputs are not permitted"),
    ("kind: optogenetics\nmode: stimulate\nduration_min: 60\nwavelength_nm: 473\n",
     "stimulation needs frequency_hz"),
    ("kind: treadmill\n", "kind"),
    ("- just\n- a list\n", "expected a mapping"),
    ("kind: [unclosed\n", "not valid YAML"),
])
def test_invalid_protocols_name_file_and_field(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_protocol_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_protocol(tmp_path / "nope.yaml")


def test_top_level_protocols_folder_is_the_packaged_one():
    """One source of truth: ``protocols/`` (the design card's folder) is the package data."""
    from sfone.protocols import packaged_protocols

    shipped = packaged_protocols()
    assert PROTOCOLS.resolve() == next(iter(shipped.values())).parent.resolve()
    assert sorted(p.stem for p in PROTOCOLS.glob("*.yaml")) == sorted(shipped)
    for name, path in shipped.items():
        assert (PROTOCOLS / f"{name}.yaml").read_bytes() == path.read_bytes()


def test_protocols_load_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert isinstance(load_protocol("stress_test"), StressTestProtocol)
    assert isinstance(load_protocol("classification"), ClassificationProtocol)
    with pytest.raises(FileNotFoundError, match="shipped protocols: classification"):
        load_protocol("no_such_protocol")


def test_the_wheel_ships_the_protocols(tmp_path):
    """`pip install sfone` brings the protocol files (package data), not only the repository."""
    import subprocess
    import sys
    import zipfile

    root = PROTOCOLS.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(tmp_path), str(root)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("sfone-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"sfone/protocol_files/{p.name}" for p in PROTOCOLS.glob("*.yaml")}
    assert len(shipped) >= 5 and shipped <= names

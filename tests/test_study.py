"""Study files: pydantic errors with the field path, and missing or mismatched entries rejected
before any computation, naming the entry; the output folder is always one complete run."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sfone.cli import main
from sfone.reproduce import StudyError, check_study, figures_for, load_study

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _sample() -> dict:
    return yaml.safe_load((SAMPLES / "study.yaml").read_text())


def _write(tmp_path, data) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _absolute(data: dict) -> dict:
    """The sample study with absolute paths, so it can be written anywhere."""
    def fix(value, key=""):
        if isinstance(value, dict):
            return {k: fix(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v, key) for v in value]
        if key in {"path", "runs", "session", "bdnf_counts", "endurance", "glucose", "files",
                   "protocol"} and isinstance(value, str) and (SAMPLES / value).exists():
            return str(SAMPLES / value)
        return value
    return fix(data)


def test_the_sample_study_is_valid_and_makes_every_figure():
    study = check_study(load_study(SAMPLES / "study.yaml"))
    assert figures_for(study) == list(range(1, 12))  # 11 is drawn only where a mouse can be tracked
    assert study.days == ("day1", "day8")
    assert len(study.imaging.sessions) == 10 and len(study.stress_test.sessions) == 12


def test_structure_errors_give_the_field_path(tmp_path):
    data = _sample()
    del data["imaging"]["sessions"][3]["day"]
    data["stress_test"]["sessions"][1]["group"] = ""
    data["imaging"]["sessions"][5]["colour"] = "red"
    with pytest.raises(StudyError) as info:
        load_study(_write(tmp_path, data))
    message = str(info.value)
    assert "imaging.sessions[3].day: Field required" in message
    assert "stress_test.sessions[1].group" in message
    assert "imaging.sessions[5].colour: Extra inputs are not permitted" in message


def test_a_session_needs_exactly_one_run_source(tmp_path):
    data = _sample()
    del data["imaging"]["sessions"][0]["runs"]
    data["imaging"]["sessions"][1]["ttl"] = {"path": "x.csv", "variable": "TTL"}
    with pytest.raises(StudyError) as info:
        load_study(_write(tmp_path, data))
    assert "imaging.sessions[0]: Value error, needs a run source" in str(info.value)
    assert "imaging.sessions[1]: Value error, give one run source, got runs and ttl" in str(
        info.value)


def test_missing_and_mismatched_entries_are_all_named(tmp_path):
    data = _absolute(_sample())
    data["imaging"]["sessions"][2]["path"] = str(tmp_path / "gone_suite2p")
    data["imaging"]["sessions"][7]["day"] = "day1"  # mouse3 day1 twice
    data["stress_test"]["sessions"][4]["group"] = "sham"
    data["tables"]["endurance"] = str(SAMPLES / "tables" / "bdnf_counts.csv")
    with pytest.raises(StudyError) as info:
        check_study(load_study(_write(tmp_path, data)))
    message = str(info.value)
    assert "imaging.sessions[2] (mouse3/day1): recording" in message and "gone_suite2p" in message
    assert ("imaging.sessions[7] (mouse3/day1): subject 'mouse3' day 'day1' is already listed at "
            "imaging.sessions[2]") in message
    assert "stress_test.sessions[4] (control5): group 'sham' is not in stress_test.groups" in message
    assert "tables.endurance" in message and "needs column(s) group, day, distance_m" in message
    assert "4 problem(s) before any computation" in message


def test_cli_rejects_a_bad_study_before_computing(tmp_path, monkeypatch):
    import sfone.reproduce.pipeline

    def fail(*args, **kwargs):
        raise AssertionError("computation started")

    monkeypatch.setattr(sfone.reproduce.pipeline, "STAGES",
                        {k: fail for k in sfone.reproduce.pipeline.STAGES})
    data = _absolute(_sample())
    data["tables"]["glucose"] = str(tmp_path / "glucose.csv")
    result = CliRunner().invoke(main, ["reproduce", "--study", str(_write(tmp_path, data)),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: data_samples (simulated): 1 problem(s) before any "
                                    "computation")
    assert "tables.glucose: table" in result.output and "glucose.csv" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def _tables_study(tmp_path) -> Path:
    data = _absolute(_sample())
    data = {"name": "tables only", "tables": {"bdnf_counts": data["tables"]["bdnf_counts"]}}
    return _write(tmp_path, data)


def test_interrupted_run_leaves_the_previous_complete_output(tmp_path, monkeypatch):
    import sfone.reproduce.figures
    from sfone.reproduce import reproduce

    study, out = _tables_study(tmp_path), tmp_path / "out"
    first = reproduce(study, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first.report.exists() and (out / "provenance.json").exists()

    def interrupted(data, stats, figure_id):
        raise KeyboardInterrupt

    spec = sfone.reproduce.figures.FIGURE_SPECS[4]
    monkeypatch.setattr(sfone.reproduce.figures, "FIGURE_SPECS",
                        (spec.__class__(spec.number, spec.stem, spec.stage, spec.title,
                                        interrupted),))
    with pytest.raises(KeyboardInterrupt):
        reproduce(study, out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "study.yaml"]  # no partial dir


def test_reproduce_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    from sfone.reproduce import reproduce

    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"precious")
    with pytest.raises(Exception, match="is not an earlier `sfone reproduce` output"):
        reproduce(_tables_study(tmp_path), out)
    assert (out / "chapter1.docx").read_bytes() == b"precious"

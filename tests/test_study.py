"""Study files: pydantic errors with the field path, and missing or mismatched entries rejected
before any computation, naming the entry; the output folder is always one complete run."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sfone.cli import main
from sfone.reproduce import StudyError, check_study, figures_for, load_study, parse_study

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
    assert figures_for(study) == list(range(1, 14))  # 11 is drawn only where a mouse can be tracked
    assert study.days == ("day1", "day8")
    assert len(study.imaging.sessions) == 10 and len(study.stress_test.sessions) == 12
    assert len(study.photometry.sessions) == 6 and study.photometry.levels == ("control",
                                                                               "trained")


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


# --- reading options, duplicates, photometry (issue 29) ---------------------------------------

def _imaging_only(data: dict) -> dict:
    return {"name": "imaging only", "imaging": data["imaging"]}


def test_the_same_recording_twice_is_refused_unless_marked(tmp_path, monkeypatch):
    import sfone.reproduce.pipeline
    from sfone.reproduce import reproduce
    from sfone.reproduce.provenance import duplicate_recordings, study_inputs

    def fail(*args, **kwargs):
        raise AssertionError("computation started")

    monkeypatch.setattr(sfone.reproduce.pipeline, "STAGES",
                        {k: fail for k in sfone.reproduce.pipeline.STAGES})
    data = _imaging_only(_absolute(_sample()))
    sessions = data["imaging"]["sessions"]
    sessions[1]["path"] = sessions[0]["path"]  # mouse2 day1 is mouse1 day1's folder
    with pytest.raises(StudyError, match=r"1 recording\(s\) listed twice") as err:
        reproduce(load_study(_write(tmp_path, data)), tmp_path / "out")
    message = str(err.value)
    assert "imaging.sessions[1] (mouse2/day1)" in message
    assert "same content (sha256) as imaging.sessions[0]" in message
    assert "duplicate_ok: true" in message and not (tmp_path / "out").exists()
    sessions[1]["duplicate_ok"] = True
    study = load_study(_write(tmp_path, data))
    assert duplicate_recordings(study, study_inputs(study)) == []
    # a copy of a recording under another name is the same recording (sha256, not the path);
    # runs files may repeat (the same schedule for several mice)
    import shutil

    sessions[1].pop("duplicate_ok")
    sessions[1]["path"] = str(shutil.copytree(sessions[0]["path"], tmp_path / "renamed"))
    sessions[3]["runs"] = sessions[2]["runs"]
    study = load_study(_write(tmp_path, data))
    problems = duplicate_recordings(study, study_inputs(study))
    assert len(problems) == 1 and problems[0].startswith("imaging.sessions[1] (mouse2/day1): "
                                                         f"'{tmp_path / 'renamed'}'")


def test_a_reading_option_the_reader_does_not_take_is_named_before_computing(tmp_path):
    data = _imaging_only(_absolute(_sample()))
    data["imaging"]["sessions"][0]["path"] = str(SAMPLES / "imaging_inscopix_session.csv")
    data["imaging"]["sessions"][0]["fs"] = 20.0
    data["imaging"]["sessions"][1]["format"] = "no-such-format"
    with pytest.raises(StudyError) as err:
        check_study(load_study(_write(tmp_path, data)))
    message = str(err.value)
    assert ("imaging.sessions[0] (mouse1/day1): fs given, but imaging_inscopix_session.csv is "
            "read as format 'inscopix'") in message
    assert "imaging.sessions[1] (mouse2/day1): unknown format 'no-such-format'" in message


def test_reading_options_have_one_meaning_in_a_study_and_a_manifest(tmp_path):
    from sfone.cohort import load_manifest
    from sfone.io._session_reading import read_keywords
    from sfone.reproduce.study import ImagingSession

    entry = ImagingSession(path="x", subject="m1", day="d1", runs="r.csv", fs=10, plane=0,
                           cells_only=True, neuropil_coefficient=0.8, leds=[415, 470])
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,subject,session,fs,plane,cells_only,neuropil_coefficient,leds\n"
                        "x,m1,d1,10,0,true,0.8,415;470\n")
    row = load_manifest(manifest)[0]
    assert read_keywords(entry) == read_keywords(row) == (
        {"fs": 10.0, "leds": (415, 470)},
        {"neuropil_coefficient": 0.8, "plane": 0, "cells_only": True})
    manifest.write_text("path,subject,session,fs\nx,m1,d1,-3\n")
    # the manifest parses through parse_reading_options (the one table of reading options)
    with pytest.raises(Exception, match=r"manifest.csv: row 2: reading option 'fs' must be a "
                                         r"finite number > 0; got '-3'$"):
        load_manifest(manifest)
    with pytest.raises(StudyError, match=r"imaging.sessions\[0\].fs: Input should be greater"):
        parse_study({"imaging": {"sessions": [{"path": "x", "subject": "m", "day": "d",
                                               "runs": "r.csv", "fs": 0}]}})


def test_a_missing_frame_rate_names_the_session_field(tmp_path):
    from shared_fixtures import fixture_path

    from sfone.exceptions import SfoneError
    from sfone.reproduce import reproduce

    data = _imaging_only(_absolute(_sample()))
    data["imaging"]["sessions"][0]["path"] = str(
        fixture_path("imaging", "suite2p_no_ops_pynapple", "suite2p"))
    with pytest.raises(SfoneError) as err:
        reproduce(load_study(_write(tmp_path, data)), tmp_path / "out")
    message = str(err.value)
    assert message.startswith("imaging.sessions[0] (mouse1/day1): ")
    assert "no ops.npy" in message and "set the session field fs:" in message
    assert "pass fs=" not in message


def test_post_read_options_and_the_default_neuropil_coefficient():
    import numpy as np
    import xarray as xr

    from sfone.exceptions import FormatError, QualityWarning
    from sfone.io._session_reading import apply_post_read

    ds = xr.Dataset({"F": (("roi", "time"), np.ones((3, 4))),
                     "Fneu": (("roi", "time"), np.ones((3, 4)))},
                    coords={"roi": [0, 1, 2], "plane": ("roi", [0, 0, 1]),
                            "iscell": ("roi", [True, False, True])},
                    attrs={"source_file": "/data/m1/suite2p"})
    with pytest.warns(QualityWarning, match=r"/data/m1/suite2p: no neuropil coefficient in the "
                                            r"file \(here\); using suite2p's default 0.7"):
        out = apply_post_read(ds, where="here")
    assert out.attrs["neuropil_coefficient"] == 0.7
    out = apply_post_read(ds, neuropil_coefficient=0.5, plane=0, cells_only=True)
    assert out.attrs["neuropil_coefficient"] == 0.5 and out["roi"].values.tolist() == [0]
    with pytest.raises(FormatError, match=r"plane 2 given; the file has plane\(s\) 0, 1"):
        apply_post_read(ds.assign_attrs(neuropil_coefficient=0.7), plane=2)
    with pytest.raises(FormatError, match="no neuropil traces"):
        apply_post_read(ds.drop_vars("Fneu"), neuropil_coefficient=0.7)


def test_a_session_keeps_the_cells_by_default_and_says_so_when_none_is_one(tmp_path):
    from sfone.exceptions import FormatError
    from sfone.io._session_reading import read_session

    # an IDPS export without the status row: every cell "unknown", none accepted
    export = tmp_path / "cells.csv"
    rows = [f"{0.1 * k:.1f}, {k}.0, {2 * k}.0, {3 * k}.0" for k in range(50)]
    export.write_text("Time, C0, C1, C2\n" + "\n".join(rows) + "\n")
    with pytest.raises(FormatError, match=r"cells.csv: the file marks none of its 3 ROIs as a "
                                          r"cell \(iscell\) \(m1/d1\); .*reading option "
                                          r"'cells_only' false keeps every ROI"):
        read_session(export, {}, where="m1/d1")
    assert read_session(export, {"cells_only": False}).sizes["roi"] == 3
    with pytest.raises(FormatError, match=r"no ROI left \(m1/d1\): none of the file's 3 ROIs "
                                          r"is marked as a cell; reading option 'cells_only'"):
        read_session(export, {"cells_only": True}, where="m1/d1")
    # as the study prints it
    from sfone.cli import main
    from sfone.cli._hints import rewrite

    with pytest.raises(FormatError) as err:
        read_session(export, {}, where="m1/d1")
    assert rewrite(str(err.value), main.commands["reproduce"]).endswith(
        "as sfone classify does: `cells_only: false` keeps every ROI")


def test_a_photometry_only_study_is_an_input_and_needs_runs(tmp_path):
    ppd = str(SAMPLES / "photometry_pyphotometry.ppd")
    runs = tmp_path / "runs.csv"
    runs.write_text("start_s,end_s\n10,20\n")
    session = {"path": ppd, "subject": "m1", "day": "d1", "signal": "analog_1",
               "control": "analog_2", "runs": str(runs)}
    study = check_study(load_study(_write(tmp_path, {"photometry": {"sessions": [session]}})))
    assert figures_for(study) == [12, 13]
    with pytest.raises(StudyError, match="needs a run source"):
        parse_study({"photometry": {"sessions": [{**session, "runs": None}]}})
    with pytest.raises(StudyError, match="method 'irls' fits a control channel"):
        parse_study({"photometry": {"sessions": [{**session, "control": None}]}})


def test_an_internal_key_error_exits_3(tmp_path, monkeypatch):
    import sfone.reproduce.pipeline

    def broken(*args, **kwargs):
        raise KeyError("role")

    monkeypatch.setattr(sfone.reproduce.pipeline, "STAGES",
                        {k: broken for k in sfone.reproduce.pipeline.STAGES})
    result = CliRunner().invoke(main, ["reproduce", "--study", str(_tables_study(tmp_path)),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "Internal error (KeyError): 'role'" in result.output
    assert "--debug" in result.output and not (tmp_path / "out").exists()

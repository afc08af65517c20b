"""Every sample format and every real imaging/photometry fixture sfone reads, converted to NWB with
the lab metadata YAML of docs/nwb.md (plus what each session adds), gives 0 NWB Inspector messages
with the DANDI configuration, at every importance level; and reads back."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np
import pytest
from shared_fixtures import REPO_ROOT, fixture_path

import sfone
from sfone.exceptions import DataRepairWarning
from sfone.schema import make_events

pytest.importorskip("pynwb")
pytest.importorskip("ndx_fiber_photometry")
nwbinspector = pytest.importorskip("nwbinspector")
yaml = pytest.importorskip("yaml")

START = "2026-03-02T09:30:00+01:00"  # for files that store no session start
RED = {"emission_wavelength_nm": 590.0, "indicator": "tdTomato"}
IMG, PHOT = ("imaging",), ("photometry",)

#: (id, where, path parts, read options, session metadata); where: "samples" or "fixtures"
SOURCES = [
    ("doric_v6", "samples", ("photometry_doric_v6.doric",), {}, {}),
    ("doric_v1", "samples", ("photometry_doric_v1.doric",), {},
     {"fibers": {"*AOut-1*": {"excitation_wavelength_nm": 465.0},
                 "*AOut-2*": {"excitation_wavelength_nm": 405.0}}}),
    ("ppd", "samples", ("photometry_pyphotometry.ppd",), {},
     {"fibers": {"analog_1": {"excitation_wavelength_nm": 465.0},
                 "analog_2": {"excitation_wavelength_nm": 405.0}}}),
    ("npm", "samples", ("photometry_npm.csv",), {}, {}),  # the LEDs come from the file
    ("generic_csv", "samples", ("photometry_generic.csv",), {},
     {"fibers": {"signal": {"excitation_wavelength_nm": 470.0},
                 "control": {"excitation_wavelength_nm": 405.0}}}),
    ("suite2p", "samples", ("imaging_suite2p_session", "suite2p"), {}, {}),
    ("caiman", "samples", ("imaging_caiman_session.hdf5",), {}, {}),
    ("inscopix_csv", "samples", ("imaging_inscopix_session.csv",), {}, {}),
    ("s2p_2plane", "fixtures", IMG + ("suite2p_synthetic_v1.1.0_2plane", "suite2p"), {}, {}),
    ("s2p_own_nwb", "fixtures", IMG + ("suite2p_synthetic_v1.1.0_2plane", "suite2p", "ophys.nwb"),
     {}, {}),
    ("s2p_fissa", "fixtures", IMG + ("suite2p_fissa_example_v0.10", "suite2p"), {}, {}),
    ("s2p_ideas", "fixtures", IMG + ("suite2p_inscopix_ideas_sample",), {}, {}),
    # no ops.npy: the file stores no rate, any rate will do for the file's structure
    ("s2p_no_ops", "fixtures", IMG + ("suite2p_no_ops_pynapple", "suite2p"), {"fs": 10.0}, {}),
    ("idps_csv", "fixtures", IMG + ("inscopix_idps_celltraces_canalysis",
                                    "Animal01_day02_traces.csv"), {}, {}),
    ("idps_emulated", "fixtures", IMG + ("inscopix_isx_exports_ideas_nca",
                                         "EMULATED_cellset_traces_idps_format.csv"), {}, {}),
    ("inscopix_no_status", "fixtures", IMG + ("inscopix_csv_no_status_fpa", "Inscopix.csv"), {},
     {}),
    ("isxd", "fixtures", IMG + ("inscopix_isx_exports_ideas_nca",
                                "cellset_accepted_undecided_and_rejected_cells.isxd"), {}, {}),
    ("caiman_msr1", "fixtures", IMG + ("caiman_cnmfe_inscopix_ideas",
                                       "sample_cellset_msr_1.hdf5"), {}, {}),
    ("caiman_msr2", "fixtures", IMG + ("caiman_cnmfe_inscopix_ideas",
                                       "sample_cellset_msr_2.hdf5"), {}, {}),
    ("neuroconv_fissa", "fixtures", IMG + ("neuroconv_nwb", "s2p_fissa.nwb"), {}, {}),
    ("neuroconv_plane0", "fixtures", IMG + ("neuroconv_nwb", "s2p_v110_plane0.nwb"), {}, {}),
    ("neuroconv_caiman", "fixtures", IMG + ("neuroconv_nwb", "caiman_msr1.nwb"), {}, {}),
    ("ppd_m17", "fixtures", PHOT + ("pyphotometry", "m17-R-2018-12-12-090409.ppd"), {},
     {"fibers": {"analog_1": {"excitation_wavelength_nm": 470.0},
                 "analog_2": {"excitation_wavelength_nm": 560.0, **RED}}}),
    ("ppd_m53", "fixtures", PHOT + ("pyphotometry", "m53_NAc_L-2019-11-24-093939.ppd"), {},
     {"fibers": {"*": {"location": "ACB"},
                 "analog_1": {"excitation_wavelength_nm": 470.0, "indicator": "dLight1.1"},
                 "analog_2": {"excitation_wavelength_nm": 560.0, **RED}}}),
    ("npm_fp3002", "fixtures", PHOT + ("neurophotometrics", "ibl_fp3002", "raw_photometry.csv"),
     {}, {}),
    ("npm_phat", "fixtures", PHOT + ("neurophotometrics", "phat", "Sample2_NPM_1fiber.csv"), {},
     {"fibers": {"Region*R_*": RED}}),
    ("npm_ibl_v1", "fixtures", PHOT + ("neurophotometrics", "ibl_versions",
                                       "version_1__neurophotometrics_fpData.raw.pqt"), {},
     {"fibers": {"Region*R*": RED}}),
    ("npm_digital_v1", "fixtures", PHOT + (
        "neurophotometrics", "ibl_versions",
        "version_1__neurophotometrics_fpData.digitalInputs.pqt"), {}, {}),
    ("npm_digital_v2", "fixtures", PHOT + (
        "neurophotometrics", "ibl_versions",
        "version_2__neurophotometrics_fpData.digitalInputs.pqt"), {}, {}),
    ("npm_digital_v5", "fixtures", PHOT + (
        "neurophotometrics", "ibl_versions",
        "version_5__neurophotometrics_fpData.digitalInputs.pqt"), {}, {}),
    ("martianova_csv", "fixtures", PHOT + ("csv", "martianova", "example.csv"), {},
     {"fibers": {"*470nm": {"excitation_wavelength_nm": 470.0},
                 "*410nm": {"excitation_wavelength_nm": 410.0}}}),
    ("neuroconv_doric", "fixtures", PHOT + ("neuroconv_nwb", "doric_v6_fp.nwb"), {}, {}),
]
#: the one message a file cannot avoid: ndx-fiber-photometry has one table row per channel, so a
#: single-channel recording has a one-row FiberPhotometryTable (NeuroConv's own file too)
UNAVOIDABLE = {"neuroconv_doric": [("check_single_row", "fiber_photometry_table")]}


def lab_metadata() -> dict:
    """The lab file documented in docs/nwb.md (its first yaml block)."""
    text = (REPO_ROOT / "docs" / "nwb.md").read_text(encoding="utf-8")
    return yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[0])


def _path(where: str, parts: tuple):
    return REPO_ROOT.joinpath("data_samples", *parts) if where == "samples" else \
        fixture_path(*parts)


def _one_run(ds):
    from sfone.nwb import _recording_span

    first, last = _recording_span(ds)
    return make_events([first + (last - first) / 3], [first + (last - first) / 2],
                       label=["run1"])


def _messages(path) -> list:
    from nwbinspector import inspect_nwbfile, load_config

    return list(inspect_nwbfile(nwbfile_path=str(path), config=load_config("dandi")))


@pytest.mark.parametrize("name, where, parts, options, session", SOURCES,
                         ids=[s[0] for s in SOURCES])
def test_full_metadata_gives_no_inspector_message(tmp_path, name, where, parts, options,
                                                  session):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the readers repair is tested with the readers
        ds = sfone.read(_path(where, parts), **options)
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(lab_metadata()), encoding="utf-8")
    session = dict(session)
    if not ds.attrs.get("session_start"):
        session["session_start_time"] = START
    if not ds.attrs.get("subject"):
        session["Subject"] = {"subject_id": f"{name}-mouse"}
    start = str(ds.attrs.get("session_start") or "")
    naive = bool(start) and not re.search(r"([+-]\d\d:\d\d|Z)$", start)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = sfone.to_nwb(ds, tmp_path / f"{name}.nwb", metadata=[lab, session],
                            events=_one_run(ds))
    zone = [str(w.message) for w in caught if issubclass(w.category, DataRepairWarning)]
    # a start without a zone (Doric v6, pyPhotometry) took the lab's zone, and said so
    assert len(zone) == int(naive), zone
    if naive:
        assert f"assumed Europe/Berlin (from {lab})" in zone[0]
    messages = _messages(path)
    counts = Counter(m.importance.name for m in messages)
    found = [(m.check_function_name, m.object_name) for m in messages]
    assert found == UNAVOIDABLE.get(name, []), (dict(counts), [
        (m.importance.name, m.check_function_name, m.object_name, m.message) for m in messages])
    back = sfone.read(path)
    assert back.attrs["modality"] == ds.attrs["modality"]
    assert set(back.data_vars) == set(ds.data_vars)
    if ds.attrs["modality"] == "imaging":
        np.testing.assert_array_equal(back["F"].values, ds["F"].values)
        np.testing.assert_array_equal(back["roi"].values, ds["roi"].values)


def test_without_metadata_the_inspector_names_what_is_missing(tmp_path):
    """The "before": a Doric file with a start and nothing else."""
    ds = sfone.read(REPO_ROOT / "data_samples" / "photometry_doric_v6.doric")
    path = sfone.to_nwb(ds, tmp_path / "d.nwb", session_start_time=START)
    found = {m.check_function_name: m.object_name for m in _messages(path)}
    assert found == {"check_experimenter_exists": "root", "check_institution": "root",
                     "check_experiment_description": "root", "check_keywords": "root",
                     "check_subject_exists": "root", "check_col_not_nan":
                     "fiber_photometry_table"}

"""Two studies written as a lab would, from real instrument files, reproduced end to end (issue 29).

Study A (imaging + a glucose table): six sessions of three mice from four acquisition systems:
an Inscopix ``.isxd`` cell set and an Inscopix CSV export without the status row (mouse m1),
a suite2p folder without ``ops.npy`` (``fs``, ``cells_only``; no neuropil coefficient) and an
IDPS cell-trace CSV (m2), a suite2p folder (``plane``) and the NeuroConv NWB file written from
it (its neuropil coefficient set in the study, m3). Mouse m1 has no activated neuron on either
day with these windows (the labels come from the classifier: the test checks that the run copes
with them whatever they are). Study B (photometry + metabolic cages + a glucose table, no
imaging): two pyPhotometry ``.ppd`` files (red tdTomato control: ``method: signal-only``), a
Neurophotometrics CSV and a camera CSV, and the CalR standard file of 16 mice with its session.
No real Sable One-Click export is among the shared fixtures, so none is used.

The fixtures are read in place (``tests/shared_fixtures.py``); the runs files, the protocol and
the glucose tables are written here, within each recording's duration.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats
from shared_fixtures import fixture_path

from sfone.cli import main

PROTOCOL = """kind: classification
name: lab protocol (1 min baseline, 30 s run, 90 s post-run)
baseline_s: [-60.0, 0.0]
run_s: [0.0, 30.0]
post_run_s: [0.0, 90.0]
method: threshold
random_state: 0
"""


def _runs(root, name, starts, duration_s=30.0):
    path = root / f"{name}_runs.csv"
    pd.DataFrame({"start_s": starts, "end_s": [s + duration_s for s in starts]}).to_csv(
        path, index=False)
    return path.name


def _glucose(root, groups=("control", "inhibit"), n=4, seed=11):
    rng = np.random.default_rng(seed)
    rows = []
    for g, group in enumerate(groups):
        for k in range(n):
            base = rng.normal(130, 8)
            for t in (0, 15, 30, 45, 60, 90, 120):
                rise = (45 - 30 * g) * np.exp(-((t - 30) / 30) ** 2) if t else 0.0
                rows.append({"subject": f"{group}_{k + 1}", "group": group, "time_min": t,
                             "glucose_mg_dl": round(base + rise + rng.normal(0, 6), 1)})
    pd.DataFrame(rows).to_csv(root / "glucose.csv", index=False)
    return "glucose.csv"


def _imaging(*parts):
    return str(fixture_path("imaging", *parts))


def _photometry(*parts):
    return str(fixture_path("photometry", *parts))


def _run(study_path, out):
    """``sfone reproduce`` as a user runs it: warnings are printed, not errors (the test suite
    makes sfone warnings errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        return CliRunner().invoke(main, ["reproduce", "--study", str(study_path), "--out",
                                         str(out)])


def _captions(report: str) -> dict:
    import html

    found = re.findall(r"<figcaption><strong>(Figure \d+)\.[^<]*</strong>(.*?)</figcaption>",
                       report, re.S)
    return {title: html.unescape(re.sub("<[^>]+>", "", text)).strip() for title, text in found}


@pytest.fixture(scope="module")
def imaging_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab_imaging")
    (root / "protocol.yaml").write_text(PROTOCOL)
    sessions = [
        {"path": _imaging("inscopix_isx_exports_ideas_nca",
                          "cellset_accepted_undecided_and_rejected_cells.isxd"),
         "subject": "m1", "day": "day1", "runs": _runs(root, "m1_day1", [80.0])},  # 0-204.6 s
        # no status row: no cell is accepted, so the session says to keep every ROI (a study
        # session keeps the cells by default, as sfone classify does)
        {"path": _imaging("inscopix_csv_no_status_fpa", "Inscopix.csv"), "cells_only": False,
         "subject": "m1", "day": "day8", "runs": _runs(root, "m1_day8", [75.0])},  # 0-200 s
        {"path": _imaging("suite2p_no_ops_pynapple", "suite2p"), "fs": 10.0, "cells_only": True,
         "subject": "m2", "day": "day1", "runs": _runs(root, "m2_day1", [70.0])},  # 0-199.9 s
        {"path": _imaging("inscopix_idps_celltraces_canalysis", "Animal01_day02_traces.csv"),
         "subject": "m2", "day": "day8",
         "runs": _runs(root, "m2_day8", [300.0, 900.0, 1500.0])},  # 0-1841.6 s
        {"path": _imaging("suite2p_fissa_example_v0.10", "suite2p"), "plane": 0,
         "subject": "m3", "day": "day1", "runs": _runs(root, "m3_day1", [200.0, 500.0])},
        {"path": _imaging("neuroconv_nwb", "s2p_fissa.nwb"), "neuropil_coefficient": 0.7,
         "subject": "m3", "day": "day8", "runs": _runs(root, "m3_day8", [210.0, 520.0])},
    ]
    for s in sessions:
        s["group"] = "trained"
    study = {"name": "lab imaging study", "imaging": {"protocol": "protocol.yaml",
                                                      "compare": ["day1", "day8"],
                                                      "sessions": sessions},
             "tables": {"glucose": _glucose(root)}}
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    out = root / "out"
    return study, _run(path, out), out


@pytest.fixture(scope="module")
def photometry_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab_photometry")
    (root / "protocol.yaml").write_text(PROTOCOL)
    ppd = {"signal": "analog_1", "control": "analog_2", "method": "signal-only", "day": "d1"}
    sessions = [
        {"path": _photometry("pyphotometry", "m17-R-2018-12-12-090409.ppd"), **ppd,
         "subject": "m17", "group": "control",
         "runs": _runs(root, "m17", [600.0, 1800.0, 3000.0])},  # 0-3647.6 s
        {"path": _photometry("pyphotometry", "m53_NAc_L-2019-11-24-093939.ppd"), **ppd,
         "subject": "m53", "group": "control",
         "runs": _runs(root, "m53", [600.0, 2400.0, 4800.0])},  # 0-5425 s
        {"path": _photometry("neurophotometrics", "phat", "Sample2_NPM_1fiber.csv"),
         "signal": "Region1G_470", "control": "Region1G_415", "subject": "npm1", "day": "d1",
         "group": "trained", "runs": _runs(root, "npm1", [120.0])},  # 0.07-365 s
        {"path": _photometry("csv", "martianova", "example.csv"), "signal": "MeanInt_470nm",
         "control": "MeanInt_410nm", "subject": "cam1", "day": "d1", "group": "trained",
         "runs": _runs(root, "cam1", [100.0])},  # 0.05-359.95 s
    ]
    calorimetry = {"files": [str(fixture_path("calorimetry",
                                              "calr_standard_mmpc_ucdavis_week12.csv"))],
                   "session": str(fixture_path("calorimetry",
                                               "calr_session_mmpc_ucdavis_week12.csv"))}
    study = {"name": "lab photometry study",
             "photometry": {"protocol": "protocol.yaml", "compare": ["control", "trained"],
                            "sessions": sessions},
             "calorimetry": calorimetry, "tables": {"glucose": _glucose(root, seed=12)}}
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    out = root / "out"
    return study, _run(path, out), out


# --- study A: imaging from four acquisition systems ------------------------------------------

def test_imaging_study_runs_to_the_end(imaging_study):
    _, result, out = imaging_study
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "labels.csv").is_file()


def test_mixed_formats_keep_the_shared_coordinates_and_name_what_is_dropped(imaging_study):
    _, result, out = imaging_study
    line = next(x for x in result.output.splitlines() if "different file formats" in x)
    # the Inscopix CSV has cell names and statuses, suite2p planes, centroids where footprints are
    assert "imaging.sessions[1] (m1/day8): cell_name, status" in line
    assert re.search(r"imaging\.sessions\[2\] \(m2/day1\): [^;]*plane", line)
    labels = pd.read_csv(out / "labels.csv")
    assert "cell_name" not in labels.columns and "plane" not in labels.columns
    assert {"iscell", "subject", "day", "label", "effect"} <= set(labels.columns)


def test_reading_options_of_the_study_are_applied(imaging_study):
    _, result, out = imaging_study
    labels = pd.read_csv(out / "labels.csv")
    per_session = labels.groupby(["subject", "day"]).size()
    iscell = np.load(fixture_path("imaging", "suite2p_no_ops_pynapple", "suite2p", "plane0",
                                  "iscell.npy"), allow_pickle=False)
    assert per_session["m2", "day1"] == int(iscell[:, 0].astype(bool).sum())  # cells_only
    # a session without cells_only keeps the cells, as sfone classify does (one meaning): the
    # suite2p folder (plane 0) and the NWB file written from it keep the same cells
    fissa = fixture_path("imaging", "suite2p_fissa_example_v0.10", "suite2p", "plane0")
    cells = np.load(fissa / "iscell.npy", allow_pickle=False)[:, 0].astype(bool)
    assert 0 < cells.sum() < np.load(fissa / "F.npy").shape[0]
    assert per_session["m3", "day1"] == int(cells.sum()) == per_session["m3", "day8"]
    # cells_only: false keeps every ROI of the Inscopix export that accepts none
    header = (fixture_path("imaging", "inscopix_csv_no_status_fpa", "Inscopix.csv")
              .read_text().splitlines()[0].split(","))
    assert per_session["m1", "day8"] == len(header) - 1
    # the suite2p folder without ops.npy has no coefficient: 0.7 with a warning naming it
    warning = next(x for x in result.output.splitlines() if "no neuropil coefficient" in x)
    assert "suite2p_no_ops_pynapple" in warning and "imaging.sessions[2]" in warning
    assert "neuropil_coefficient" in warning and "0.7" in warning
    # the NWB file has none either, but the study sets it: no warning for it
    assert not any("s2p_fissa.nwb" in x and "neuropil" in x for x in result.output.splitlines())


def test_mice_without_activated_neurons_get_fractions_of_zero_and_stated_reasons(imaging_study):
    _, result, out = imaging_study
    labels = pd.read_csv(out / "labels.csv")
    activated = (labels.assign(a=labels["label"] == "activated")
                 .groupby(["subject", "day"])["a"].sum())
    assert (activated == 0).any(), "the windows were chosen so that some mouse has none"
    assert "have no activated neurons" in result.output  # the warning, then a normal run
    stats_csv = pd.read_csv(out / "stats.csv")
    tests = stats_csv[stats_csv["test"].notna() & (stats_csv["test"] != "")]
    assert len(tests) >= 4
    for row in tests.itertuples():
        assert np.isfinite(row.p_value) or "not computed (" in row.test, row
    # the headline test, recomputed from labels.csv when it is a number
    fractions = labels.groupby(["subject", "day"])["label"].apply(
        lambda x: float((x == "activated").mean())).unstack()
    head = tests[tests["quantity"] == "fraction_activated_mouse_level"].iloc[0]
    difference = fractions["day8"] - fractions["day1"]
    if difference.nunique() > 1:
        expected = stats.ttest_rel(fractions["day8"], fractions["day1"])
        assert head.p_value == pytest.approx(expected.pvalue)
    else:  # every mouse changed by the same amount: no t statistic
        assert np.isnan(head.p_value) and "no variation" in head.test


def test_report_numbers_the_figures_made_and_maps_them(imaging_study):
    _, _, out = imaging_study
    provenance = json.loads((out / "provenance.json").read_text())
    figures = provenance["figures"]
    assert [f["number"] for f in figures] == list(range(1, len(figures) + 1))
    made = [f["reproduction_figure"] for f in figures]
    assert made[:4] == [1, 2, 3, 4] and 9 in made and made == sorted(made)
    captions = _captions((out / "report.html").read_text())
    glucose = f"Figure {made.index(9) + 1}"
    assert glucose == "Figure 5"
    assert "Blood glucose" in captions[glucose]
    assert "(Figure 9 of the paper reproduction; files figures/fig9_post_exercise_glucose" \
        in captions[glucose]
    assert "paper reproduction" not in captions["Figure 1"]  # its number is the same


def test_provenance_hashes_the_fixtures(imaging_study):
    _, _, out = imaging_study
    inputs = json.loads((out / "provenance.json").read_text())["inputs"]
    csv = fixture_path("imaging", "inscopix_csv_no_status_fpa", "Inscopix.csv")
    row = next(r for r in inputs if r["entry"] == "imaging.sessions[1]")
    assert row["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert sum(r["entry"] == "imaging.sessions[2]" for r in inputs) == 5  # F, Fneu, iscell, ...


# --- study B: photometry, metabolic cages, glucose --------------------------------------------

def test_photometry_study_runs_to_the_end_and_draws_the_photometry_panels(photometry_study):
    _, result, out = photometry_study
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "provenance.json").read_text())["figures"]
    assert [(f["number"], f["reproduction_figure"]) for f in figures] == [
        (1, 9), (2, 10), (3, 12), (4, 13)]
    for stem in ("fig12_photometry_traces", "fig13_photometry_responses"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 10_000


def test_photometry_responses_are_the_classifiers_on_the_dff(photometry_study):
    from sfone.classify import label_responses
    from sfone.photometry import compute_dff, dff_dataset
    from sfone.protocols import load_protocol
    from sfone.reproduce.study import load_study

    study, _, out = photometry_study
    entry = study["photometry"]["sessions"][3]  # the camera CSV
    import sfone

    ds = sfone.read(entry["path"])
    dff = dff_dataset(ds, compute_dff(ds, signal=entry["signal"], control=entry["control"]))
    runs = out.parent / entry["runs"]
    protocol = load_protocol(load_study(out.parent / "study.yaml").resolve("protocol.yaml"))
    expected = label_responses(dff, str(runs), protocol=protocol, variable="dff")
    table = pd.read_csv(out / "stats.csv")
    effect = table[(table["figure"] == "fig13") & (table["quantity"] == "postrun_effect")
                   & (table["group"] == "trained/cam1")]
    assert effect["value"].iloc[0] == pytest.approx(float(expected["effect"].values[0]))


def test_photometry_mouse_level_test_recomputed_from_the_per_mouse_rows(photometry_study):
    _, _, out = photometry_study
    table = pd.read_csv(out / "stats.csv")
    rows = table[(table["figure"] == "fig13") & (table["quantity"] == "postrun_effect")]
    per_mouse = rows[rows["group"].str.contains("/")]
    a = per_mouse[per_mouse["group"].str.startswith("control/")]["value"]
    b = per_mouse[per_mouse["group"].str.startswith("trained/")]["value"]
    assert len(a) == 2 and len(b) == 2
    test = rows[rows["group"] == "control_vs_trained"].iloc[0]
    assert test["p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert "n = 4 mice, 4 recordings" in test["test"]
    captions = _captions((out / "report.html").read_text())
    assert "control: n = 2 mice, 2 recordings" in captions["Figure 3"]
    assert "SEM across mice" in captions["Figure 3"]


def test_real_calorimetry_of_the_photometry_study(photometry_study):
    _, _, out = photometry_study
    captions = _captions((out / "report.html").read_text())
    assert "LFD: n = 8 mice" in captions["Figure 2"] and "HFD: n = 8 mice" in captions["Figure 2"]

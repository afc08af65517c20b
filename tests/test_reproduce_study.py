"""`sfone reproduce --study` on a second study that is not data_samples: other mice, day names,
groups, file names and run sources (one session's runs from a TTL line), built here from sfone's
simulators; run through a dask scheduler (the batch machinery) with a separate worker process."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from browser import render
from click.testing import CliRunner

from sfone.cli import main

DAYS = ("week0", "week4")
MICE = ("A-01", "A-02", "B-07")
CLASSIFICATION = """kind: classification
name: second study (5 min baseline, 10 min post-run)
baseline_s: [-300.0, 0.0]
run_s: [0.0, 240.0]
post_run_s: [0.0, 600.0]
method: test
random_state: 0
"""


def _ttl_csv(epochs, duration_s: float, path: Path) -> Path:
    time = np.arange(0.0, duration_s, 0.5)
    ttl = np.zeros_like(time)
    for start, end in zip(epochs["start"].values, epochs["end"].values, strict=True):
        ttl[(time >= start) & (time < end)] = 5.0
    pd.DataFrame({"Time(s)": time, "signal": 1.0 + 0.01 * np.sin(time), "control": 1.0,
                  "TTL": ttl}).to_csv(path, index=False, lineterminator="\n")
    return path


def write_second_study(root: Path) -> Path:
    from sfone.io.events.runs_csv import write_runs_csv
    from sfone.io.imaging._writers import write_suite2p
    from sfone.protocols import load_protocol
    from sfone.simulate.calorimetry import simulate_stress_test, write_treadmill_csv
    from sfone.simulate.experiment_tables import make_bdnf_counts, make_endurance_training
    from sfone.simulate.neurons import make_cohort

    rec = root / "recordings"
    rec.mkdir(parents=True)
    sessions, truth = [], []
    cohort = make_cohort(3, days=(0, 4), activated=(0.25, 0.6), inhibited=(0.2, 0.1),
                         cells_per_mouse={0: [14, 14, 14], 4: [14, 14, 14]}, fs=2.0,
                         baseline_s=300.0, run_s=240.0, post_s=600.0, random_state=11)
    for k, session in enumerate(cohort):
        mouse = MICE[int(session["mouse"][5:]) - 1]
        day = DAYS[0] if session["day"] == 0 else DAYS[1]
        name = f"{mouse}_{day}"
        write_suite2p(session["dataset"], rec / name)
        entry = {"path": f"recordings/{name}", "subject": mouse, "day": day, "group": "runner"}
        if k == 0:  # runs from a TTL line of a behaviour CSV
            duration = float(session["dataset"]["time"].values[-1]) + 1.0
            _ttl_csv(session["epochs"], duration, rec / f"{name}_behaviour.csv")
            entry["ttl"] = {"path": f"recordings/{name}_behaviour.csv", "variable": "TTL",
                            "min_duration_s": 30.0}
        else:
            write_runs_csv(session["epochs"], rec / f"{name}_treadmill.csv")
            entry["runs"] = f"recordings/{name}_treadmill.csv"
        sessions.append(entry)
        truth.append(pd.DataFrame({"subject": mouse, "day": day,
                                   "roi": session["dataset"]["roi"].values,
                                   "true_label": session["dataset"]["true_label"].values}))
    pd.concat(truth).to_csv(root / "truth.csv", index=False)
    (root / "labels_protocol.yaml").write_text(CLASSIFICATION)
    protocol = load_protocol("stress_test")
    stress = []
    means = {"wt": {"vo2max_ml_kg_h": 7000.0, "crossover_speed_m_min": 21.0,
                    "exhaustion_speed_m_min": 30.0},
             "ko": {"vo2max_ml_kg_h": 6900.0, "crossover_speed_m_min": 16.0,
                    "exhaustion_speed_m_min": 24.0}}
    for group, mean in means.items():
        for k in range(4):
            test = simulate_stress_test(protocol, groups={group: mean}, n_per_group=1,
                                        random_state=100 + 10 * k + len(stress))
            path = write_treadmill_csv(test, root / f"tm_{group}_{k}.csv", subject=0)
            stress.append({"path": path.name, "subject": f"{group}{k}", "group": group})
    make_bdnf_counts(random_state=8).to_csv(root / "counts.csv", index=False)
    make_endurance_training(n_mice_per_group=4, n_days=6, random_state=9).to_csv(
        root / "endurance.csv", index=False)
    study = {"name": "second study", "imaging": {"protocol": "labels_protocol.yaml",
                                                 "sessions": sessions},
             "stress_test": {"groups": ["wt", "ko"], "sessions": stress},
             "tables": {"bdnf_counts": "counts.csv", "endurance": "endurance.csv"}}
    path = root / "second.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def second(tmp_path_factory, scheduler):
    root = tmp_path_factory.mktemp("second_study")
    study = write_second_study(root)
    out = root / "out"
    result = CliRunner().invoke(main, ["reproduce", "--study", str(study), "--out", str(out),
                                       "--scheduler", scheduler.scheduler_address])
    assert result.exit_code == 0, result.output
    return root, out, result.output, scheduler


def test_imaging_sessions_ran_on_the_scheduler(second):
    *_, cluster = second
    prefix = cluster.scheduler.task_prefixes["imaging_session_outputs"]
    assert prefix.state_counts["memory"] == 6  # one finished task per imaging session


def test_figures_follow_from_what_the_study_lists(second):
    _, out, *_ = second
    stems = sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert stems == ["fig1_class_proportions", "fig2_perirun_heatmaps", "fig3_class_traces",
                     "fig4_fraction_activated_per_mouse", "fig5_bdnf_sf1", "fig6_stress_test",
                     "fig7_stress_endpoints", "fig8_endurance_training"]  # no glucose, no cages
    stats = pd.read_csv(out / "stats.csv", keep_default_na=False, na_values=[""])
    assert set(stats.figure) == {f"fig{i}" for i in range(1, 9)}


def test_labels_use_the_study_names_and_match_the_simulated_truth(second):
    root, out, *_ = second
    labels = pd.read_csv(out / "labels.csv")
    assert set(labels.subject) == set(MICE) and set(labels.day) == set(DAYS)
    truth = pd.read_csv(root / "truth.csv")
    merged = labels.merge(truth, left_on=["subject", "day", "roi_in_session"],
                          right_on=["subject", "day", "roi"])
    assert len(merged) == len(labels) == len(truth) == 84
    assert (merged.label == merged.true_label).mean() >= 0.85
    stats = pd.read_csv(out / "stats.csv", keep_default_na=False, na_values=[""])
    for day in DAYS:
        row = stats[(stats.figure == "fig1") & (stats.quantity == "fraction_activated")
                    & (stats.group == day)].iloc[0]
        mine = labels[labels.day == day]
        assert row.value == pytest.approx((mine.label == "activated").mean(), abs=1e-9)
        assert row.n == len(mine) == 42


def test_stress_groups_are_the_studys(second):
    _, out, *_ = second
    stats = pd.read_csv(out / "stats.csv", keep_default_na=False, na_values=[""])
    fig7 = stats[stats.figure == "fig7"]
    assert {"wt", "ko"} <= set(fig7.group)
    assert "wt_vs_ko" in set(fig7.group)


def test_provenance_lists_every_input_with_its_sha256(second):
    root, out, *_ = second
    provenance = json.loads((out / "provenance.json").read_text())
    files = {row["file"]: row["sha256"] for row in provenance["inputs"]}
    assert "recordings/A-01_week0_behaviour.csv" in files
    assert "labels_protocol.yaml" in files and "endurance.csv" in files
    suite2p = [f for f in files if f.startswith("recordings/B-07_week4/")]
    assert any(f.endswith("F.npy") for f in suite2p)
    for name, digest in files.items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest
    assert provenance["parameters"]["run segment (s from run end)"] == [-240.0, 0.0]
    assert provenance["versions"]["sfone"]


def test_second_report_renders_in_chromium(second):
    _, out, *_ = second
    seen = render(out / "report.html")
    assert seen["requests"] == [] and seen["overflow"] == []
    assert len(seen["images"]) == 8
    assert all(i["complete"] and i["natural"] > 0 for i in seen["images"])
    text = (out / "report.html").read_text()
    assert "week0: n = 42 neurons from 3 mice" in text

"""The study sample set: simulated raw files for reproducing the paper's comparisons.

``write_samples`` writes, under ``data_samples/``:

``imaging_cohort/``
    Day-1 and day-8 imaging sessions of 5 mice in suite2p 1.x output format, one runs CSV per
    session, ``classification.yaml`` (windows fitting these 25-min sessions) and ``manifest.csv``.
    True post-run activated fractions: 35/110 = 31.8 % on day 1 and 58/109 = 53.2 % on day 8
    (Kindel et al. 2026). The true label of every ROI is in ``cohort_truth.csv``, which the
    pipeline never reads (it is for checking).
``stress_test_cohort/``
    One treadmill calorimetry CSV per mouse, 6 control and 6 SF1-silenced mice, and
    ``manifest.csv``. Truth (per mouse in ``stress_truth.csv``): similar VO2max; silenced mice
    cross RER 1.0 at a lower speed and reach exhaustion sooner and at a lower speed.
``photometry_cohort/``
    One pyPhotometry ``.ppd`` recording per mouse (signal ``analog_1``, isosbestic control
    ``analog_2``, 10 Hz, 25 min with the imaging cohort's run at 300-600 s), its runs CSV and
    ``manifest.csv``, 3 control and 3 trained mice. Truth (per mouse in ``photometry_truth.csv``): over the 15 min
    after the run the trained mice's transients come 2.5-4x as often (as the imaging cohort's
    activated cells), the controls' at the base rate of 0.1 Hz.
``study.yaml``
    The study file that names all of the above for ``sfone reproduce --study`` (see
    :mod:`sfone.reproduce.study`); the sample set is one instance of the general path.
``tables/``
    Bdnf cell counts, endurance across training days, post-exercise glucose (CSV), and the CalR
    session file (groups control/treated, masses, lights 07:00-19:00) of
    ``calorimetry_promethion_macro.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_path, write_csv

__all__ = ["write_samples", "COHORT_CELLS", "STRESS_GROUPS"]

# cells per mouse on each day: 110 cells on day 1 (35 activated = 31.8 %), 109 on day 8
# (58 activated = 53.2 %), the percentages of Kindel et al. 2026.
COHORT_CELLS = {1: [22, 22, 22, 22, 22], 8: [22, 22, 22, 22, 21]}
COHORT_FS_HZ = 2.0
COHORT_WINDOWS = {"baseline_s": 300.0, "run_s": 300.0, "post_s": 900.0}
STRESS_MICE_PER_GROUP = 6
# group means; each mouse gets its own VO2max, crossover and exhaustion speed around them
STRESS_GROUPS = {
    "control": {"vo2max_ml_kg_h": 7200.0, "crossover_speed_m_min": 21.0,
                "exhaustion_speed_m_min": 30.0},
    "silenced": {"vo2max_ml_kg_h": 7150.0, "crossover_speed_m_min": 16.5,
                 "exhaustion_speed_m_min": 25.0},
}
#: range of each photometry mouse's transient-rate gain over the 15 min after the run
PHOTOMETRY_GROUPS = {"control": (1.0, 1.0), "trained": (2.5, 4.0)}
PHOTOMETRY_MICE_PER_GROUP = 3
PHOTOMETRY_FS_HZ = 10.0
CLASSIFICATION_YAML = """\
# Windows for the simulated 25-min sessions: 5 min baseline before the run, 5 min run,
# 15 min post-run (the 0-15 min sub-window of protocols/classification.yaml). Other settings are
# the sfone defaults (see protocols/classification.yaml for which are conventions).
kind: classification
name: sample cohort (5 min baseline, 15 min post-run)
baseline_s: [-300.0, 0.0]
run_s: [0.0, 300.0]
post_run_s: [0.0, 900.0]
method: test
random_state: 0
"""


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(table, path, float_format="%.6g")


def _imaging_cohort(out: Path) -> list[Path]:
    from ..io.events.runs_csv import write_runs_csv
    from .imaging import write_suite2p
    from .neurons import make_cohort

    sessions = make_cohort(5, cells_per_mouse=COHORT_CELLS, fs=COHORT_FS_HZ,
                           random_state=2026, **COHORT_WINDOWS)
    rows, truth, written = [], [], []
    for session in sessions:
        name = f"{session['mouse']}_day{session['day']}"
        ds = session["dataset"]
        folder = write_suite2p(ds, out / name)
        runs = write_runs_csv(session["epochs"], out / f"{name}_runs.csv")
        rows.append({"path": name, "subject": session["mouse"], "session": f"day{session['day']}",
                     "day": session["day"], "group": "trained", "runs": runs.name,
                     "classification_protocol": "classification.yaml"})
        truth.append(pd.DataFrame({"subject": session["mouse"], "day": session["day"],
                                   "roi": ds["roi"].values,
                                   "true_label": ds["true_label"].values}))
        written += [folder, runs]
    protocol = out / "classification.yaml"
    protocol.write_text(CLASSIFICATION_YAML)
    written.append(protocol)
    written.append(_write_csv(pd.DataFrame(rows), out / "manifest.csv"))
    written.append(_write_csv(pd.concat(truth, ignore_index=True), out / "cohort_truth.csv"))
    return written


def _stress_cohort(out: Path, protocol_path: Path) -> list[Path]:
    from ..protocols import load_protocol
    from .calorimetry import simulate_stress_test, write_treadmill_csv

    protocol = load_protocol(protocol_path)
    rng = np.random.default_rng(12)
    out.mkdir(parents=True, exist_ok=True)
    rows, written, truth = [], [], []
    for group, mean in STRESS_GROUPS.items():
        for k in range(1, STRESS_MICE_PER_GROUP + 1):
            mouse = {"vo2max_ml_kg_h": float(np.round(rng.normal(mean["vo2max_ml_kg_h"], 250))),
                     "crossover_speed_m_min": float(
                         np.round(rng.normal(mean["crossover_speed_m_min"], 1.0), 1)),
                     "exhaustion_speed_m_min": float(
                         mean["exhaustion_speed_m_min"] + rng.integers(-2, 3))}
            test = simulate_stress_test(protocol, groups={group: mouse}, n_per_group=1,
                                        random_state=int(rng.integers(2**31)))
            subject = f"{group}{k}"
            test = test.assign_coords(subject=[subject])
            path = write_treadmill_csv(test, out / f"{subject}.csv", subject=0)
            rows.append({"path": path.name, "subject": subject, "session": "stress_test",
                         "group": group})
            truth.append({"subject": subject, "group": group, **mouse})
            written.append(path)
    written.append(_write_csv(pd.DataFrame(truth), out / "stress_truth.csv"))
    written.append(_write_csv(pd.DataFrame(rows), out / "manifest.csv"))
    return written


def _post_run_transients(rng, gain: float, window_s: tuple[float, float]):
    """dF/F of the extra transients of an activated mouse: ``gain - 1`` times the simulator's
    base rate over ``window_s`` (s), shaped as the simulator's transients."""
    from .photometry import BASE_TRANSIENT_RATE_HZ, transient_kernel

    lo, hi = window_s
    n = rng.poisson((gain - 1.0) * BASE_TRANSIENT_RATE_HZ * (hi - lo))
    onsets = np.sort(rng.uniform(lo, hi, n))
    amplitudes = rng.uniform(0.05, 0.3, n)

    def response(t):
        return transient_kernel(np.asarray(t, dtype=float), onsets, amplitudes)

    return response


def _photometry_cohort(out: Path) -> list[Path]:
    from ..io.events.runs_csv import write_runs_csv
    from .photometry import simulate_photometry, write_ppd

    baseline, run, post = (COHORT_WINDOWS[k] for k in ("baseline_s", "run_s", "post_s"))
    start, end = baseline, baseline + run
    rng = np.random.default_rng(29)
    out.mkdir(parents=True, exist_ok=True)
    rows, written, k = [], [], 0
    for group, (low, high) in PHOTOMETRY_GROUPS.items():
        for _ in range(PHOTOMETRY_MICE_PER_GROUP):
            k += 1
            subject = f"fp{k}"
            gain = float(np.round(rng.uniform(low, high), 2))
            response = _post_run_transients(rng, gain, (end, end + post))
            sim = simulate_photometry(duration_s=baseline + run + post, fs=PHOTOMETRY_FS_HZ,
                                      stagger=0.5, response=response,
                                      random_state=int(rng.integers(2**31)))
            written.append(write_ppd(sim, out / f"{subject}.ppd", subject=subject))
            written.append(write_runs_csv(([start], [end]), out / f"{subject}_runs.csv"))
            rows.append({"path": f"{subject}.ppd", "subject": subject, "session": "day1",
                         "group": group, "runs": f"{subject}_runs.csv",
                         "post_run_event_rate_gain": gain})
    table = pd.DataFrame(rows)
    written.append(_write_csv(table[["subject", "group", "post_run_event_rate_gain"]],
                              out / "photometry_truth.csv"))
    written.append(_write_csv(table[["path", "subject", "session", "group", "runs"]],
                              out / "manifest.csv"))
    return written


def _calr_session(out: Path) -> Path:
    """CalR session file for ``calorimetry_promethion_macro.csv`` (groups, masses, lights)."""
    from ..io.calorimetry.calr import CalRSession, write_calr_session
    from .calorimetry import simulate_metabolic_cages

    cages = simulate_metabolic_cages(random_state=7)  # the simulation behind that export
    ids = [f"cage_{i + 1}" for i in range(cages.sizes["subject"])]
    groups: dict[str, list[str]] = {}
    for cage, group in zip(ids, cages["group"].values, strict=True):
        groups.setdefault(str(group), []).append(cage)
    subjects = pd.DataFrame({"total_mass": cages["body_mass"].values}, index=pd.Index(ids))
    session = CalRSession(groups=groups, light=(7, 19), subjects=subjects)
    out.mkdir(parents=True, exist_ok=True)
    return write_calr_session(session, out / "calr_session_promethion.csv")


def _tables(out: Path) -> list[Path]:
    from .experiment_tables import (
        make_bdnf_counts,
        make_endurance_training,
        make_post_exercise_glucose,
    )

    return [_calr_session(out),
            _write_csv(make_bdnf_counts(random_state=3), out / "bdnf_counts.csv"),
            _write_csv(make_endurance_training(random_state=4), out / "endurance_training.csv"),
            _write_csv(make_post_exercise_glucose(random_state=5), out / "post_exercise_glucose.csv")]


STUDY_HEADER = """\
# The sample study for `sfone reproduce --study data_samples/study.yaml` (`make demo`).
# Paths are relative to this file; see sfone/reproduce/study.py for every field.
"""


def study_yaml(imaging_rows, stress_rows, photometry_rows=(), *,
               imaging_folder="imaging_cohort", stress_folder="stress_test_cohort",
               photometry_folder="photometry_cohort", tables_folder="tables",
               calorimetry_file="calorimetry_promethion_macro.csv",
               name="data_samples (simulated)") -> str:
    """The text of a study file naming simulated imaging, photometry and stress-test sessions
    and tables (no photometry section without ``photometry_rows``)."""
    import yaml

    study = {
        "name": name,
        "description": "Simulated day-1/day-8 imaging cohort, "
                       + ("photometry cohort, " if photometry_rows else "")
                       + "stress-test cohort, experiment tables and metabolic cages "
                         "(sfone.simulate.study).",
        "imaging": {"protocol": f"{imaging_folder}/classification.yaml",
                    "compare": ["day1", "day8"],
                    "sessions": [{"path": f"{imaging_folder}/{r['path']}", "subject": r["subject"],
                                  "day": r["session"], "group": r["group"],
                                  "runs": f"{imaging_folder}/{r['runs']}"}
                                 for r in imaging_rows]},
    }
    if photometry_rows:
        study["photometry"] = {
            "protocol": f"{imaging_folder}/classification.yaml",  # the same 25-min sessions
            "compare": list(PHOTOMETRY_GROUPS),
            "sessions": [{"path": f"{photometry_folder}/{r['path']}",
                          "subject": r["subject"], "day": r["session"], "group": r["group"],
                          "signal": "analog_1", "control": "analog_2",
                          "runs": f"{photometry_folder}/{r['runs']}"}
                         for r in photometry_rows]}
    study |= {
        "stress_test": {"protocol": "stress_test", "groups": list(STRESS_GROUPS),
                        "sessions": [{"path": f"{stress_folder}/{r['path']}",
                                      "subject": r["subject"], "group": r["group"]}
                                     for r in stress_rows]},
        "calorimetry": {"files": [calorimetry_file],
                        "session": f"{tables_folder}/calr_session_promethion.csv"},
        "tables": {"bdnf_counts": f"{tables_folder}/bdnf_counts.csv",
                   "endurance": f"{tables_folder}/endurance_training.csv",
                   "glucose": f"{tables_folder}/post_exercise_glucose.csv"},
    }
    return STUDY_HEADER + yaml.safe_dump(study, sort_keys=False, default_flow_style=None,
                                         width=100)


def write_samples(out_dir: Path) -> list[Path]:
    """Write the study sample set (see the module docstring) into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder written into.

    Returns
    -------
    list of pathlib.Path
        The imaging and stress-test cohort files, the tables and ``study.yaml``.
    """
    out_dir = Path(out_dir)
    from ..protocols import protocol_path
    protocol = protocol_path("stress_test")
    written = (_imaging_cohort(out_dir / "imaging_cohort")
               + _photometry_cohort(out_dir / "photometry_cohort")
               + _stress_cohort(out_dir / "stress_test_cohort", protocol)
               + _tables(out_dir / "tables"))
    imaging = pd.read_csv(out_dir / "imaging_cohort" / "manifest.csv", dtype=str)
    photometry = pd.read_csv(out_dir / "photometry_cohort" / "manifest.csv", dtype=str)
    stress = pd.read_csv(out_dir / "stress_test_cohort" / "manifest.csv", dtype=str)
    study = out_dir / "study.yaml"
    with atomic_path(study) as tmp:
        tmp.write_text(study_yaml(imaging.to_dict("records"), stress.to_dict("records"),
                                  photometry.to_dict("records")), encoding="utf-8")
    return written + [study]

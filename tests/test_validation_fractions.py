"""validation/fractions.py (issue 27) on a small configuration: short sessions of 60 ROIs, two
pools, two cohort kinds. The full run (300 ROIs, 24 seeds, 2,000 cohorts) is ``make validate``
and its tables are in docs/validation.md."""

from __future__ import annotations

import json

import numpy as np
import pytest

from validation import fractions as fr
from validation.generator import Design

POOLS = (("clean", "base"), ("all", "base"))
COHORTS = {name: fr.COHORTS[name] for name in ("b, day 1 all", "c, clean both")}
CONFIG = fr.Config(seeds=4, n_rois=60, design=Design("short", 300.0, 1, 300.0, 0.0, 600.0,
                                                     "sustained"),
                   n_cohorts=30, mice=2, mode="test")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fr, "CACHE", cache)
        calls = []
        original = fr.run_session
        patch.setattr(fr, "run_session", lambda *a: calls.append(a) or original(*a))
        result = fr.run(CONFIG, n_jobs=1, pools=POOLS, cohorts=COHORTS)
        first = len(calls)
        again = fr.run(CONFIG, n_jobs=1, pools=POOLS, cohorts=COHORTS)
    return result, again, first, len(calls), cache


def test_every_session_is_cached_and_read_back(run):
    result, again, first, total, cache = run
    assert first == len(POOLS) * CONFIG.seeds
    assert total == first  # the second run generated nothing
    assert len(list(cache.glob("*.json"))) == first
    assert again["summary"] == result["summary"]


def test_summary_is_the_sessions_bias_rmse_and_coverage(run):
    result, _, _, _, cache = run
    rows = [json.loads(p.read_text()) for p in sorted(cache.glob("*-clean-base-*.json"))]
    assert len(rows) == CONFIG.seeds
    truth = np.array([r["true_activated"] for r in rows])
    assert np.allclose(truth, 0.3)  # 18 of 60 ROIs
    est = np.array([r["fraction_activated_estimate"] for r in rows])
    low = np.array([r["fraction_activated_ci_low"] for r in rows])
    high = np.array([r["fraction_activated_ci_high"] for r in rows])
    row = result["summary"]["clean base"]["activated"]
    assert row["n"] == CONFIG.seeds
    assert row["bias"] == pytest.approx(np.mean(est - truth))
    assert row["rmse"] == pytest.approx(np.sqrt(np.mean((est - truth) ** 2)))
    assert row["coverage"] == pytest.approx(np.mean((low <= truth) & (truth <= high)))
    lab = np.array([r["fraction_activated_labelled"] for r in rows])
    assert row["labelled_bias"] == pytest.approx(np.mean(lab - truth))
    # clean short sessions: the labels find most responders and the estimate is near the truth
    assert row["realised_power"] > 0.8
    assert abs(row["bias"]) < 0.1


def test_cohorts_report_both_tests_and_the_check(run):
    result = run[0]
    assert set(result["cohorts"]) == set(COHORTS)
    for row in result["cohorts"].values():
        assert row["n_cohorts"] == CONFIG.n_cohorts
        for key in ("reject_estimate", "reject_labelled", "warn_rate"):
            assert 0.0 <= row[key] <= 1.0
        lo, hi = row["reject_estimate_ci"]
        assert lo <= row["reject_estimate"] <= hi
    # day 1 with every nuisance labels fewer of the same responders than clean day 8
    noisy = result["cohorts"]["b, day 1 all"]
    assert noisy["labelled_difference"] > 0.05
    assert noisy["expected_artefact"] > 0
    assert abs(result["cohorts"]["c, clean both"]["expected_artefact"]) < 0.05


def test_a_cohort_needs_enough_sessions_per_pool(run):
    pools = {pool: [] for pool in POOLS}
    with pytest.raises(ValueError, match="needs more sessions per pool"):
        fr.cohort_rates(pools, CONFIG, cohorts=COHORTS)


def test_the_section_replaces_itself_in_the_doc(run, tmp_path):
    result = run[0]
    doc = tmp_path / "validation.md"
    doc.write_text("# Validation\n\nearlier text\n")
    fr.write_section(doc, result)
    fr.write_section(doc, result)
    text = doc.read_text()
    assert text.startswith("# Validation\n\nearlier text\n")
    assert text.count(fr.START) == text.count(fr.END) == 1
    assert "| clean base | activated | 0.30 |" in text
    assert "| c, clean both |" in text and "type-I" in text

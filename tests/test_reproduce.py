"""`sfone reproduce` on data_samples: every stats.csv number checked by an independent
recomputation from the outputs or the raw tables, and against the simulation's truth."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats as sps

from sfone.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
COLUMNS = ["figure", "quantity", "group", "value", "n", "ci_low", "ci_high", "test",
           "statistic", "p_value"]
#: the figures the demo makes: every one but 11 (its imaging days are different fields of view,
#: so no neuron is tracked); numbered 1..12 in the report
DEMO_FIGURES = [*range(1, 11), 12, 13]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    result = CliRunner().invoke(main, ["reproduce", "--study", str(SAMPLES / "study.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stats = pd.read_csv(out / "stats.csv", keep_default_na=False, na_values=[""])
    return out, stats, pd.read_csv(out / "labels.csv")


def _row(stats, figure, quantity, group):
    match = stats[(stats.figure == figure) & (stats.quantity == quantity) & (stats.group == group)]
    assert len(match) == 1, (figure, quantity, group)
    return match.iloc[0]


def test_stats_csv_has_the_issue_columns(outputs):
    _, stats, _ = outputs
    assert list(stats.columns) == COLUMNS
    assert set(stats.figure) == {f"fig{i}" for i in DEMO_FIGURES}


def test_fraction_activated_rows_equal_label_counts_and_truth(outputs):
    _, stats, labels = outputs
    truth = pd.read_csv(SAMPLES / "imaging_cohort" / "cohort_truth.csv")
    for day, paper in (("day1", 0.318), ("day8", 0.532)):
        mine = labels[labels.day == day]
        row = _row(stats, "fig1", "fraction_activated", day)
        assert row.value == pytest.approx((mine.label == "activated").mean(), abs=1e-9)
        assert row.n == len(mine)
        true_fraction = (truth[truth.day == int(day[3:])].true_label == "activated").mean()
        assert true_fraction == pytest.approx(paper, abs=0.0005)  # 35/110, 58/109
        assert abs(row.value - true_fraction) <= 0.05


def test_labels_match_the_simulated_truth(outputs):
    _, _, labels = outputs
    truth = pd.read_csv(SAMPLES / "imaging_cohort" / "cohort_truth.csv")
    truth["day"] = "day" + truth["day"].astype(str)
    merged = labels.merge(truth, left_on=["subject", "day", "roi_in_session"],
                          right_on=["subject", "day", "roi"])
    assert len(merged) == len(labels) == len(truth)
    assert (merged.label == merged.true_label).mean() >= 0.9


def test_day1_vs_day8_tests_recomputed_with_scipy(outputs):
    _, stats, labels = outputs
    table = pd.crosstab(labels.day, labels.label)
    chi2 = sps.chi2_contingency(table.to_numpy())
    row = _row(stats, "fig1", "class_proportions", "day1_vs_day8")
    assert row.statistic == pytest.approx(chi2.statistic, rel=1e-9)
    assert row.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    activated = (labels.label == "activated").groupby(labels.day).agg(["sum", "count"])
    two_by_two = np.column_stack([activated["sum"], activated["count"] - activated["sum"]])
    fisher = sps.fisher_exact(two_by_two)
    row = _row(stats, "fig1", "fisher_activated_vs_not", "day1_vs_day8")
    assert row.p_value == pytest.approx(fisher.pvalue, rel=1e-9)


def test_per_mouse_paired_test_recomputed(outputs):
    _, stats, labels = outputs
    per_mouse = (labels.label == "activated").groupby([labels.subject, labels.day]).mean()
    wide = per_mouse.unstack("day")
    paired = sps.ttest_rel(wide["day1"], wide["day8"])
    tests = stats[(stats.figure == "fig4") & stats.test.notna() & (stats.test != "")]
    assert set(tests.quantity) == {"fraction_activated_per_mouse", "sensitivity_warning",
                                   "fraction_activated_estimate_per_mouse"}
    test = tests[tests.quantity == "fraction_activated_per_mouse"]
    assert len(test) == 1
    assert abs(test.iloc[0].statistic) == pytest.approx(abs(paired.statistic), rel=1e-9)
    assert test.iloc[0].p_value == pytest.approx(paired.pvalue, rel=1e-9)


def _central_count_estimate(part):
    """The activated fraction estimated from a session's p-values and effects, recomputed
    from labels.csv as docs/classification.md states it (central count, c = 0.5)."""
    tested = part[part.p_value.notna()]
    z = np.sign(tested.effect) * -sps.norm.ppf(tested.p_value / 2)
    tail = 1 - sps.norm.cdf(0.5)
    pi0 = min(1.0, (np.abs(z) < 0.5).mean() / (1 - 2 * tail))
    return float(np.clip((z > 0.5).mean() - pi0 * tail, 0, 1))


def test_figures_1_and_4_carry_the_estimated_fractions_beside_the_labelled(outputs):
    out, stats, labels = outputs
    estimates = {}
    for (subject, day), part in labels.groupby(["subject", "day"]):
        estimates[(subject, day)] = _central_count_estimate(part)
        row = _row(stats, "fig4", "fraction_activated_estimate", f"{subject}/{day}")
        assert row.value == pytest.approx(estimates[(subject, day)], abs=1e-12)
        assert row.ci_low <= row.value <= row.ci_high
        labelled = _row(stats, "fig4", "fraction_activated", f"{subject}/{day}")
        assert labelled.value == pytest.approx((part.label == "activated").mean())
    wide = pd.Series(estimates).unstack()
    paired = sps.ttest_rel(wide["day8"], wide["day1"])
    for figure, quantity in (("fig4", "fraction_activated_estimate_per_mouse"),
                             ("fig1", "fraction_activated_estimate_mouse_level")):
        assert _row(stats, figure, quantity, "day1_vs_day8").p_value == pytest.approx(
            paired.pvalue, rel=1e-9)
    for day in ("day1", "day8"):
        n = labels[labels.day == day].groupby("subject").size()
        pooled = sum(estimates[(s, day)] * k for s, k in n.items()) / n.sum()
        assert _row(stats, "fig1", "fraction_activated_estimate", day).value == pytest.approx(
            pooled)
        assert _row(stats, "fig1", "fraction_activated", day).n == n.sum()
    # the sample study labels with the `test` method: no power, so no sensitivity check
    check = _row(stats, "fig1", "sensitivity_warning", "day1_vs_day8")
    assert np.isnan(check.value) and "not computed" in check.test
    report = (out / "report.html").read_text()
    assert "estimated (diamonds)" in report and 'class="warning"' not in report


def test_bdnf_fractions_recomputed_from_the_count_table(outputs):
    _, stats, _ = outputs
    counts = pd.read_csv(SAMPLES / "tables" / "bdnf_counts.csv")
    counts["fraction"] = counts.n_bdnf_sf1 / counts.n_sf1
    for (region, condition), part in counts.groupby(["region", "condition"]):
        row = _row(stats, "fig5", "fraction_bdnf_sf1", f"{region}/{condition}")
        assert row.value == pytest.approx(part.fraction.mean(), rel=1e-9)
        assert row.n == len(part)


def test_stress_endpoints_recover_the_simulated_exhaustion_speeds(outputs):
    _, stats, _ = outputs
    truth = pd.read_csv(SAMPLES / "stress_test_cohort" / "stress_truth.csv")
    for group, part in truth.groupby("group"):
        row = _row(stats, "fig7", "max_speed_m_min", group)
        assert row.value == pytest.approx(part.exhaustion_speed_m_min.mean(), rel=1e-9)  # 10 digits in CSV
    row = _row(stats, "fig7", "max_speed_m_min", "control_vs_silenced")
    expected = sps.mannwhitneyu(truth[truth.group == "control"].exhaustion_speed_m_min,
                                truth[truth.group == "silenced"].exhaustion_speed_m_min)
    assert row.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_every_figure_in_three_formats_and_a_self_contained_report(outputs):
    out, _, _ = outputs
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) == len(DEMO_FIGURES)
    for png in pngs:
        assert png.with_suffix(".svg").exists() and png.with_suffix(".pdf").exists()
        from PIL import Image

        assert round(Image.open(png).info["dpi"][0]) == 300
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(DEMO_FIGURES)
    # the only links to files: each imaging session's evidence page, inside the output folder
    assert not re.search(r'src="(?!data:)|href="(?!#|evidence/[\w.-]+/index\.html")', html)
    assert "0.1.0" in html or "sfone" in html


def test_report_links_each_imaging_sessions_evidence_page(outputs):
    out, _, labels = outputs
    html = (out / "report.html").read_text()
    links = re.findall(r'href="(evidence/[^"]+)">([^<]+)</a>', html)
    sessions = labels[["subject", "day"]].drop_duplicates()
    assert sorted(name for _, name in links) == sorted(
        f"{r.subject}/{r.day}" for r in sessions.itertuples())
    for href, name in links:
        page = (out / href).read_text()
        subject, day = name.split("/")
        n = int(((labels.subject == subject) & (labels.day == day)).sum())
        assert page.count('<tr id="roi-') == n
        assert len(list((out / href).parent.joinpath("figures").glob("*.png"))) == n


def test_training_and_glucose_interactions_recomputed_from_the_tables(outputs):
    import statsmodels.formula.api as smf

    _, stats, _ = outputs
    checks = [("fig8", "distance_m_group_x_day", "endurance_training.csv",
               "distance_m ~ C(group) * day", "C(group):day"),
              ("fig9", "glucose_group_x_time", "post_exercise_glucose.csv",
               "glucose_mg_dl ~ C(group) * C(time_min)", "C(group):C(time_min)")]
    for figure, quantity, name, formula, term in checks:
        table = pd.read_csv(SAMPLES / "tables" / name)
        fit = smf.mixedlm(formula, table, groups=table["subject"]).fit()
        expected = fit.wald_test_terms(scalar=True).table.loc[term]
        row = _row(stats, figure, quantity, "all")
        assert row.statistic == pytest.approx(expected["statistic"], rel=1e-6)
        assert row.p_value == pytest.approx(expected["pvalue"], rel=1e-6)
    gains = pd.read_csv(SAMPLES / "tables" / "endurance_training.csv")
    first = gains.sort_values("day").groupby("subject").first()
    last = gains.sort_values("day").groupby("subject").last()
    per_mouse = pd.DataFrame({"group": first.group, "gain": last.distance_m - first.distance_m})
    anova = sps.f_oneway(*[g.gain for _, g in per_mouse.groupby("group")])
    tests = stats[(stats.figure == "fig8") & (stats.test == "one-way ANOVA")]
    assert len(tests) == 1 and tests.iloc[0].p_value == pytest.approx(anova.pvalue, rel=1e-6)


def test_report_renders_in_headless_chromium(outputs):
    from browser import render

    out, _, _ = outputs
    seen = render(out / "report.html")  # 1400 px wide, as the reviewer saw it
    assert seen["requests"] == []
    assert seen["overflow"] == [] and seen["scroll_width"] <= seen["client_width"]
    assert len(seen["images"]) == len(DEMO_FIGURES)
    for image in seen["images"]:
        assert image["complete"] and image["natural"] > 0, image["alt"]
        assert image["shown"] == pytest.approx(float(image["width"]), abs=1)  # not stretched
        # one scale for every figure: 300 dpi shown at 1.5 x 96 px/inch
        assert image["shown"] == pytest.approx(image["natural"] * 144 / 300, abs=1.5)


def test_report_captions_state_n_the_test_and_the_error_bars(outputs):
    import html as html_lib

    out, stats, labels = outputs
    raw = (out / "report.html").read_text()
    captions = [(number, html_lib.unescape(body)) for number, body in re.findall(
        r"<figcaption><strong>(Figure \d+)\.[^<]*</strong>([^<]*)</figcaption>", raw)]
    text = html_lib.unescape(raw)
    assert [c[0] for c in captions] == [f"Figure {i}" for i in range(1, len(DEMO_FIGURES) + 1)]
    caption = dict(captions)
    n_day1 = int((labels.day == "day1").sum())
    assert f"Day 1: n = {n_day1} neurons from 5 mice" in caption["Figure 1"]
    assert "pre-run baseline" in caption["Figure 2"] and "is the run itself" in caption["Figure 2"]
    assert "SEM across neurons" in caption["Figure 3"]
    assert "Holm-corrected over the 3 regions" in caption["Figure 5"]
    assert "fewer than all mice remain" in caption["Figure 6"]
    for number in (6, 7, 8, 9, 10):
        assert "SEM" in caption[f"Figure {number}"] or "SE of" in caption[f"Figure {number}"]
    assert "Holm-corrected over 3 pairs" in caption["Figure 8"]
    assert "Holm-corrected over 7 time points" in caption["Figure 9"]
    assert "lights on 07:00-19:00" in caption["Figure 10"]
    # the photometry cohort: 3 control and 3 trained mice, one recording each
    for number in (11, 12):
        assert ("control: n = 3 mice, 3 recordings; trained: n = 3 mice, 3 recordings"
                in caption[f"Figure {number}"])
    assert "SEM across mice" in caption["Figure 11"]
    assert "Welch t, per-mouse mean post-run effect (n = 6 mice" in caption["Figure 12"]
    for section in ("Contents", "Statistics", "Provenance", "Package versions", "Parameters"):
        assert section in text
    assert "light schedule" in text and "stress-test protocol" in text


def test_fig5_is_holm_corrected_over_regions(outputs):
    from statsmodels.stats.multitest import multipletests

    _, stats, _ = outputs
    counts = pd.read_csv(SAMPLES / "tables" / "bdnf_counts.csv")
    counts["fraction"] = counts.n_bdnf_sf1 / counts.n_sf1
    regions = list(pd.unique(counts.region))
    raw = [sps.ttest_ind(counts[(counts.region == r) & (counts.condition == "one_run")].fraction,
                         counts[(counts.region == r) & (counts.condition == "sedentary")].fraction,
                         equal_var=False).pvalue for r in regions]
    adjusted = multipletests(raw, method="holm")[1]
    for region, p in zip(regions, adjusted, strict=True):
        row = _row(stats, "fig5", "fraction_bdnf_sf1", f"{region}/sedentary_vs_one_run")
        assert row.p_value == pytest.approx(p, rel=1e-9)
        assert "Holm over 3 regions" in row.test


def test_fig8_and_fig9_pairwise_comparisons_recomputed(outputs):
    from statsmodels.stats.multitest import multipletests

    _, stats, _ = outputs
    table = pd.read_csv(SAMPLES / "tables" / "endurance_training.csv").sort_values("day")
    first, last = table.groupby("subject").first(), table.groupby("subject").last()
    gain = pd.DataFrame({"group": first.group, "gain": last.distance_m - first.distance_m})
    groups = ["control", "inhibit_15min", "stimulate_60min"]
    pairs = [(a, b) for i, a in enumerate(groups) for b in groups[i + 1:]]
    raw = [sps.ttest_ind(gain[gain.group == a].gain, gain[gain.group == b].gain,
                         equal_var=False).pvalue for a, b in pairs]
    for (a, b), p in zip(pairs, multipletests(raw, method="holm")[1], strict=True):
        assert _row(stats, "fig8", "distance_gain_m", f"{a}_vs_{b}").p_value == pytest.approx(
            p, rel=1e-9)
    glucose = pd.read_csv(SAMPLES / "tables" / "post_exercise_glucose.csv")
    times = sorted(glucose.time_min.unique())
    raw = [sps.ttest_ind(glucose[(glucose.time_min == t) & (glucose.group == "control")]
                         .glucose_mg_dl,
                         glucose[(glucose.time_min == t) & (glucose.group == "inhibit")]
                         .glucose_mg_dl, equal_var=False).pvalue for t in times]
    for t, p in zip(times, multipletests(raw, method="holm")[1], strict=True):
        row = _row(stats, "fig9", "glucose_mg_dl", f"{t:g}min/control_vs_inhibit")
        assert row.p_value == pytest.approx(p, rel=1e-9)


def test_fig6_points_have_enough_mice_and_say_how_many(outputs):
    _, stats, _ = outputs
    points = stats[(stats.figure == "fig6") & (stats.quantity == "vo2_ml_kg_min")]
    assert len(points) > 10 and points.n.min() >= 3  # speeds with fewer mice are not drawn
    assert (points.n < 6).any()  # the honest n at the high speeds

"""Figures 1 and 4 of `sfone reproduce`, stats.csv and the report show the estimated fractions
next to the labelled ones, and the sensitivity warning where it applies (issue 27)."""

import dataclasses
import html
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from test_reproduce_labels import _imaging_result

from sfone.exceptions import QualityWarning
from sfone.reproduce import StatsTable
from sfone.reproduce.analyses import ImagingResult
from sfone.reproduce.figures import spec_for
from sfone.reproduce.report import write_report_html

MICE = ("m1", "m2", "m3", "m4")
N = 40  # ROIs per session


def _cohort(labelled, estimates, powers, *, untested=0) -> ImagingResult:
    """A two-day cohort: per day, each mouse's labelled activated fraction, estimate and
    power_x2; ``untested`` ROIs of every session are labelled 'insufficient data'."""
    sessions, rows = [], []
    for day in ("d1", "d2"):
        for i, mouse in enumerate(MICE):
            n_act, n_inh = round(labelled[day][i] * N), 4
            sessions.append((mouse, day, ["activated"] * n_act + ["inhibited"] * n_inh
                             + ["unchanged"] * (N - n_act - n_inh)
                             + ["insufficient data"] * untested))
            est = estimates[day][i]
            rows.append({"subject": mouse, "day": day, "n_rois": N + untested, "n_tested": N,
                         "n_activated": n_act, "fraction": n_act / N,
                         "fraction_activated_labelled": n_act / N,
                         "fraction_activated_estimate": est,
                         "fraction_activated_ci_low": max(0.0, est - 0.12),
                         "fraction_activated_ci_high": min(1.0, est + 0.14),
                         "fraction_inhibited_labelled": n_inh / N,
                         "fraction_inhibited_estimate": 0.12, "fraction_inhibited_ci_low": 0.02,
                         "fraction_inhibited_ci_high": 0.25, "detectable_gain_80": 1.6,
                         "power_x2": powers[day][i]})
    # the labels and traces of test_reproduce_labels, with this cohort's per-session table
    return dataclasses.replace(_imaging_result(sessions), fractions=pd.DataFrame(rows))


EQUAL_POWER = dict(labelled={"d1": [0.3, 0.275, 0.325, 0.3], "d2": [0.5, 0.45, 0.55, 0.525]},
                   estimates={"d1": [0.31, 0.27, 0.33, 0.30], "d2": [0.52, 0.44, 0.57, 0.50]},
                   powers={"d1": [0.9, 0.92, 0.91, 0.9], "d2": [0.9, 0.89, 0.92, 0.91]})
# the same 30 % both days, but day 1 sees half its responders
DAY8_CLEANER = dict(labelled={"d1": [0.15, 0.125, 0.175, 0.15], "d2": [0.3, 0.275, 0.3, 0.325]},
                    estimates={"d1": [0.31, 0.28, 0.30, 0.29], "d2": [0.30, 0.29, 0.31, 0.30]},
                    powers={"d1": [0.5, 0.45, 0.5, 0.48], "d2": [0.95, 0.93, 0.94, 0.94]})


def _build(data, number, stats):
    spec = spec_for(number)
    output = spec.build(data, stats, spec.figure_id)
    plt.close(output.figure)
    return output


def _rows(frame, figure, quantity):
    return frame[(frame.figure == figure) & (frame.quantity == quantity)].set_index("group")


@pytest.fixture
def equal_power():
    data = _cohort(**EQUAL_POWER)
    stats = StatsTable()
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)  # the check must not fire here
        outputs = {n: _build(data, n, stats) for n in (1, 4)}
    return data, outputs, stats.to_frame()


def test_figure_1_shows_and_records_the_estimates_beside_the_labelled_fractions(equal_power):
    data, outputs, frame = equal_power
    table = data.fractions
    est = _rows(frame, "fig1", "fraction_activated_estimate")
    lab = _rows(frame, "fig1", "fraction_activated")
    for day in ("d1", "d2"):
        part = table[table.day == day]
        weights = part.n_tested / part.n_tested.sum()
        assert est.loc[day, "value"] == pytest.approx(
            (weights * part.fraction_activated_estimate).sum())
        assert est.loc[day, "ci_low"] < est.loc[day, "value"] < est.loc[day, "ci_high"]
        assert est.loc[day, "n"] == part.n_tested.sum()
        assert lab.loc[day, "value"] == pytest.approx(part.n_activated.sum() / part.n_tested.sum())
    assert set(_rows(frame, "fig1", "fraction_inhibited_estimate").index) == {"d1", "d2"}
    test = _rows(frame, "fig1", "fraction_activated_estimate_mouse_level").iloc[0]
    wide = table.pivot(index="subject", columns="day", values="fraction_activated_estimate")
    expected = sps.ttest_rel(wide["d2"], wide["d1"])
    assert test.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert "estimated" in test.test
    caption = outputs[1].caption
    assert "(b) Labelled (bars) and estimated (diamonds)" in caption
    assert ("Test on the estimates (mice as the unit): paired t, per-mouse estimated activated "
            "fractions (n = 4 mice, 320 neurons)") in caption


def test_figure_1_draws_the_pooled_estimates_as_markers_on_panel_b():
    data = _cohort(**EQUAL_POWER)
    spec = spec_for(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output = spec.build(data, StatsTable(), spec.figure_id)
    panels = [ax for ax in output.figure.axes if ax.axison]
    assert len(panels) == 2
    markers = [line for line in panels[1].lines if line.get_gid() == "estimate"]
    assert len(markers) == 2  # activated, inhibited
    table = data.fractions
    expected = [np.average(table[table.day == d].fraction_activated_estimate,
                           weights=table[table.day == d].n_tested) for d in ("d1", "d2")]
    np.testing.assert_allclose(markers[0].get_ydata(), expected)
    plt.close(output.figure)


def test_figure_4_records_every_mouse_s_labelled_and_estimated_fraction(equal_power):
    data, outputs, frame = equal_power
    lab = _rows(frame, "fig4", "fraction_activated")
    est = _rows(frame, "fig4", "fraction_activated_estimate")
    for row in data.fractions.itertuples():
        name = f"{row.subject}/{row.day}"
        assert lab.loc[name, "value"] == pytest.approx(row.fraction)
        assert est.loc[name, "value"] == pytest.approx(row.fraction_activated_estimate)
        assert est.loc[name, "ci_low"] == pytest.approx(row.fraction_activated_ci_low)
        assert est.loc[name, "n"] == row.n_tested
    means = _rows(frame, "fig4", "fraction_activated_estimate_per_mouse_mean")
    assert means.loc["d2", "value"] == pytest.approx(np.mean(EQUAL_POWER["estimates"]["d2"]))
    assert means.loc["d2", "n"] == len(MICE)
    test = _rows(frame, "fig4", "fraction_activated_estimate_per_mouse").iloc[0]
    assert test.p_value == pytest.approx(sps.ttest_rel(EQUAL_POWER["estimates"]["d2"],
                                                       EQUAL_POWER["estimates"]["d1"]).pvalue)
    assert "(b) The same mice's estimated fractions" in outputs[4].caption


def test_no_sensitivity_warning_when_the_days_are_equally_sensitive(equal_power):
    _, outputs, frame = equal_power
    for n in (1, 4):
        assert outputs[n].warnings == ()
        assert "does not fire" in outputs[n].caption
        row = _rows(frame, f"fig{n}", "sensitivity_warning").iloc[0]
        assert row.value == 0.0 and "does not fire" in row.test
        power = _rows(frame, f"fig{n}", "power_x2_mean")
        assert power.loc["d1", "value"] == pytest.approx(np.mean(EQUAL_POWER["powers"]["d1"]))


def test_sensitivity_warning_beside_figures_1_and_4_in_stats_csv_and_the_report(tmp_path):
    data = _cohort(**DAY8_CLEANER)
    stats = StatsTable()
    with pytest.warns(QualityWarning, match="differ in sensitivity"):
        outputs = {n: _build(data, n, stats) for n in (1, 4)}
    frame = stats.to_frame()
    pooled = np.mean(DAY8_CLEANER["estimates"]["d1"] + DAY8_CLEANER["estimates"]["d2"])
    expected = pooled * (np.mean(DAY8_CLEANER["powers"]["d2"])
                         - np.mean(DAY8_CLEANER["powers"]["d1"]))
    for n in (1, 4):
        (message,) = outputs[n].warnings
        assert "d1 vs d2" in message and "0.48 on d1, 0.94 on d2" in message
        assert "the sensitivity check fires" in outputs[n].caption
        row = _rows(frame, f"fig{n}", "sensitivity_warning").iloc[0]
        assert row.value == 1.0 and "FIRES" in row.test
        artefact = _rows(frame, f"fig{n}", "sensitivity_expected_artefact").iloc[0]
        assert artefact.value == pytest.approx(expected)
    png = tmp_path / "f.png"
    fig = plt.figure(figsize=(1, 1))
    fig.savefig(png)
    plt.close(fig)
    page = write_report_html(tmp_path / "out", [("Figure 1. Classes", png, "cap", "fig1",
                                                 outputs[1].warnings)], {}, {}, "0.1").read_text()
    box = page.split('<p class="warning" role="note">', 1)[1].split("</p>", 1)[0]
    assert html.unescape(box) == outputs[1].warnings[0]
    assert page.index('class="warning"') < page.index("<img")  # above the figure


def test_rois_with_insufficient_data_count_in_no_fraction():
    data = _cohort(**EQUAL_POWER, untested=3)
    stats = StatsTable()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output = _build(data, 1, stats)
    frame = stats.to_frame()
    lab = _rows(frame, "fig1", "fraction_activated")
    for day in ("d1", "d2"):
        part = data.fractions[data.fractions.day == day]
        assert lab.loc[day, "n"] == part.n_tested.sum() == len(MICE) * N
        assert lab.loc[day, "value"] == pytest.approx(part.n_activated.sum() / part.n_tested.sum())
    untested = _rows(frame, "fig1", "n_rois_insufficient_data")
    assert untested.loc["d1", "value"] == 3 * len(MICE)
    assert f"{3 * len(MICE)} more ROIs not tested (insufficient data)" in output.caption

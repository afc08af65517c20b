"""stats.csv (columns, values, validation) and the self-contained report.html."""

import base64
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sfone.figures import save_figure
from sfone.report import STATS_COLUMNS, StatsTable, write_report_html


def _table():
    stats = StatsTable()
    stats.add("fig1", "fraction_activated", "day1", 28 / 88, n=88, ci_low=0.23, ci_high=0.42)
    stats.add("fig1", "fraction_activated", "day8", 50 / 94, n=94)
    stats.add_test("fig1", "class_proportions", "day1_vs_day8",
                   {"test": "Chi-square test", "statistic": 8.1, "p_value": 0.0171})
    return stats


def test_stats_csv_has_exact_columns_and_round_trips(tmp_path):
    path = _table().write(tmp_path / "stats.csv")
    frame = pd.read_csv(path)
    assert tuple(frame.columns) == STATS_COLUMNS == (
        "figure", "quantity", "group", "value", "n", "ci_low", "ci_high", "test", "statistic",
        "p_value")
    assert frame["value"].iloc[0] == pytest.approx(28 / 88, rel=1e-9)
    assert frame["n"].tolist()[:2] == [88, 94] and np.isnan(frame["n"].iloc[2])
    assert frame.loc[2, ["test", "statistic", "p_value"]].tolist() == [
        "Chi-square test", 8.1, 0.0171]
    assert np.isnan(frame.loc[1, "ci_low"]) and np.isnan(frame.loc[2, "value"])
    assert not list(tmp_path.glob(".*part"))


def test_fractions_must_be_0_1_and_p_values_valid():
    stats = StatsTable()
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\].*31.8"):
        stats.add("fig1", "fraction_activated", "day1", 31.8, n=88)
    with pytest.raises(ValueError, match="p_value"):
        stats.add("fig1", "x", "all", None, p_value=1.5)
    with pytest.raises(ValueError, match="value must be a number"):
        stats.add("fig1", "x", "all", "high")
    assert len(stats) == 0


def test_extend_keeps_order():
    a, b = _table(), StatsTable()
    b.add("fig4", "mean", "day1", 0.3, n=5)
    a.extend(b)
    assert a.to_frame()["figure"].tolist() == ["fig1", "fig1", "fig1", "fig4"]


def test_report_html_is_self_contained(tmp_path):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "fig1", formats=("png",))[0]
    plt.close(fig)
    page = write_report_html(tmp_path / "out", {"Figure 1 <class proportions>": png},
                             {"stats.csv": _table().to_frame()},
                             {"classification": {"threshold_z": 1.64}}, "0.1.0")
    text = page.read_text(encoding="utf-8")
    assert page.name == "report.html"
    sources = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in text and "<script" not in text
    encoded = sources[0].split(",", 1)[1]
    assert base64.b64decode(encoded) == png.read_bytes()
    assert "Figure 1 &lt;class proportions&gt;" in text
    assert "Chi-square test" in text and "0.3182" in text
    assert "threshold_z" in text and "1.64" in text
    assert "sfone version <code>0.1.0</code>" in text

"""stats.csv (columns, values, validation) and the self-contained report.html."""

import base64
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sfone.figures import save_figure
from sfone.reproduce import STATS_COLUMNS, StatsTable, write_report_html


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


def _png(tmp_path, size=(2.0, 1.0), dpi=300):
    fig, ax = plt.subplots(figsize=size)
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "fig1", formats=("png",), dpi=dpi)[0]
    plt.close(fig)
    return png


def test_report_html_is_self_contained(tmp_path):
    png = _png(tmp_path)
    page = write_report_html(tmp_path / "out", {"Figure 1 <class proportions>": png},
                             {"stats.csv": _table().to_frame()},
                             {"classification": {"threshold_z": 1.64}}, "0.1.0")
    text = page.read_text(encoding="utf-8")
    assert page.name == "report.html"
    sources = re.findall(r'src\s*=\s*"([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    links = re.findall(r'href\s*=\s*"([^"]*)"', text)
    assert links and all(link.startswith("#") for link in links)  # table of contents only
    ids = set(re.findall(r'id="([^"]*)"', text))
    assert {link[1:] for link in links} <= ids
    assert "<link" not in text and "<script" not in text
    encoded = sources[0].split(",", 1)[1]
    assert base64.b64decode(encoded) == png.read_bytes()
    assert "Figure 1 &lt;class proportions&gt;" in text
    assert "Chi-square test" in text and "0.3182" in text
    assert "threshold_z" in text and "1.64" in text
    assert "sfone version <code>0.1.0</code>" in text


def test_contents_list_figures_by_their_own_numbers_without_list_numbers(tmp_path):
    # "Figure 8. Endurance training" ran into the "10." of the next column: the figure entries
    # were an ordered list (numbers beside "Figure N.") split into CSS columns, whose markers
    # sit in the column gap; now an unnumbered list whose entries do not break
    png = _png(tmp_path)
    figures = [(f"Figure {n}. Title {n}", png, "", f"fig{n}") for n in range(1, 12)]
    text = write_report_html(tmp_path / "out", figures, {}, {}, "0.1.0").read_text()
    nav = re.search(r"<nav>(.*)</nav>", text, re.S).group(1)
    entries = re.search(r'<ul class="toc-figures">(.*?)</ul>', nav, re.S).group(1)
    assert re.findall(r'<li><a href="#(fig\d+)">([^<]*)</a></li>', entries) == [
        (f"fig{n}", f"Figure {n}. Title {n}") for n in range(1, 12)]
    css = re.search(r"<style>(.*)</style>", text, re.S).group(1)
    rule = re.search(r"nav ul\.toc-figures\{([^}]*)\}", css).group(1)
    assert "list-style:none" in rule
    assert re.search(r"nav ul\.toc-figures li\{[^}]*break-inside:avoid", css)
    assert not re.search(r"nav ol\{[^}]*columns", css)  # the numbered list is one column


def test_figures_are_shown_at_their_print_size(tmp_path):
    from PIL import Image

    png = _png(tmp_path, size=(2.0, 1.0), dpi=300)
    image = Image.open(png)
    (width, height), dpi = image.size, image.info["dpi"][0]
    assert round(dpi) == 300 and 450 < width < 750  # ~2 inch at 300 dpi (tight bounding box)
    text = write_report_html(tmp_path, [("Figure 1", png, "A caption.", "fig1")], {}, {},
                             "0.1.0").read_text()
    css = (round(width / dpi * 144), round(height / dpi * 144))  # 1.5 x print size, 96 px/inch
    assert f'<img alt="Figure 1" width="{css[0]}" height="{css[1]}"' in text
    assert "<figcaption><strong>Figure 1</strong> A caption.</figcaption>" in text
    assert 'id="fig1"' in text


def test_stats_grouped_by_figure_with_readable_numbers(tmp_path):
    stats = _table()
    stats.add_test("fig2", "effect", "day1_vs_day8",
                   {"test": "Welch t-test", "statistic": 12.3456, "p_value": 2.679e-86})
    stats.add("fig2", "mean_z", "day1", 0.000012345, n=None)
    text = write_report_html(tmp_path, [("Figure 1. A", _png(tmp_path), "", "fig1")],
                             {"stats": stats.to_frame()}, {}, "0.1.0").read_text()
    assert '<h3 id="stats-fig1">Figure 1. A</h3>' in text
    assert '<h3 id="stats-fig2">fig2</h3>' in text
    assert text.index('id="stats-fig1"') < text.index('id="stats-fig2"')
    assert "2.679e-86" not in text and "&lt; 1e-10" in text  # p shown as format_p does
    assert "&lt;NA&gt;" not in text and "<NA>" not in text
    assert "12.35" in text and "1.234e-05" in text
    assert "0.23 to 0.42" in text  # the CI as one readable cell


def test_provenance_lists_inputs_versions_and_escapes_input_text(tmp_path):
    provenance = {"study": "lab <b>study</b>", "created_utc": "2026-12-01 10:00:00 UTC",
                  "runtime_s": 12.5, "versions": {"sfone": "0.1.0", "numpy": "2.0"},
                  "inputs": [{"entry": "imaging.sessions[0]", "file": "m<1>/F.npy",
                              "bytes": 10, "sha256": "ab" * 32}]}
    stats = StatsTable()
    stats.add("fig1", "fraction_activated", "<script>x</script>", 0.5, n=2)
    text = write_report_html(tmp_path, [], {"stats": stats.to_frame()},
                             {"light": [7, 19]}, "0.1.0", provenance=provenance).read_text()
    assert "<script" not in text and "&lt;script&gt;x&lt;/script&gt;" in text
    assert "lab &lt;b&gt;study&lt;/b&gt;" in text and "m&lt;1&gt;/F.npy" in text
    assert "ab" * 32 in text and "2026-12-01 10:00:00 UTC" in text
    assert "<td>numpy</td><td>2.0</td>" in text

"""report.html in a real headless Chromium: figures load at their print size, nothing is wider
than the page, and the page makes no request (the harness itself is checked to catch both)."""

import matplotlib.pyplot as plt
import pytest
from browser import chromium_path, render

from sfone.figures import save_figure
from sfone.reproduce import StatsTable, write_report_html


@pytest.fixture(scope="module")
def chromium():
    return chromium_path()


def test_the_harness_sees_external_requests_and_overflow(tmp_path, chromium):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://192.0.2.1/x.png">'
                    '<div style="width:3000px">wide</div></body></html>')
    seen = render(page)
    assert seen["requests"] == ["http://192.0.2.1/x.png"]
    assert any(item.startswith("DIV") for item in seen["overflow"])
    assert seen["images"][0]["natural"] == 0  # blocked, so not loaded


def test_report_with_long_and_hostile_names_renders_within_the_page(tmp_path, chromium):
    pngs = []
    for i, size in enumerate([(3.3, 2.3), (6.85, 2.4)]):
        fig, ax = plt.subplots(figsize=size)
        ax.plot([0, 1], [0, 1])
        pngs.append(save_figure(fig, tmp_path / f"fig{i}", formats=("png",))[0])
        plt.close(fig)
    stats = StatsTable()
    long_name = "mouse_" + "x" * 300
    stats.add("fig1", "fraction_activated", long_name, 0.5, n=10)
    stats.add_test("fig1", "class_proportions", "<img src=http://192.0.2.1/y.png>",
                   {"test": "chi-square", "statistic": 3.0, "p_value": 1e-90})
    provenance = {"study": "s", "inputs": [{"entry": "imaging.sessions[0]",
                                            "file": "/data/" + "d" * 400 + ".npy",
                                            "bytes": 1, "sha256": "f" * 64}]}
    report = write_report_html(tmp_path / "out",
                               [(f"Figure {i + 1}", p, "Caption " + "word " * 80, f"fig{i + 1}")
                                for i, p in enumerate(pngs)],
                               {"stats": stats.to_frame()}, {"long": "y" * 500}, "0.1.0",
                               provenance=provenance)
    seen = render(report)
    assert seen["requests"] == []
    assert seen["overflow"] == [] and seen["scroll_width"] <= seen["client_width"]
    assert len(seen["images"]) == 2
    for image in seen["images"]:
        assert image["complete"] and image["natural"] > 0
        assert image["shown"] == pytest.approx(float(image["width"]), abs=1)  # not stretched
    assert seen["images"][0]["shown"] < seen["images"][1]["shown"] < 1000

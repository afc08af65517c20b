"""The evidence page (issue 27) in a real headless Chromium, offline: it makes no request outside
its folder, nothing is wider than the window, the thumbnails load, sorting and the label filter
work, and a thumbnail opens its full-size figure."""

import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from browser import _IMAGES_JS, _OVERFLOW_JS, FLAGS, chromium_path

from sfone.classify import label_responses
from sfone.figures import evidence_page
from sfone.figures.evidence_page import write_evidence_page
from sfone.perievent import trace_array
from sfone.simulate.neurons import make_imaging_session

N_ROIS = 14


@pytest.fixture(scope="module")
def chromium():
    return chromium_path()


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    ds, epochs = make_imaging_session(N_ROIS, fs=5.0, run_s=300.0, post_s=1800.0,
                                      fractions=(0.4, 0.3, 0.3), random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = label_responses(ds, epochs)
    names = [f"roi{i}" for i in range(N_ROIS)]
    names[1] = "<b>bold</b><script>document.title='pwned'</script>"
    names[2] = "plane0_" + "x" * 300  # one very long name: must wrap, not widen the page
    names = np.array(names, dtype=object)
    result = result.assign_coords(roi=names).assign_attrs(subject="m" * 200)
    trace = trace_array(ds).assign_coords(roi=names)
    page = write_evidence_page(result, tmp_path_factory.mktemp("page") / "evidence",
                               trace=trace)
    labels = set(result["label"].values)
    assert {"activated", "unchanged"} <= labels, labels  # the filter has something to do
    return page, result


@contextmanager
def _browser(page_path: Path, *, width=1400, height=3000):
    from playwright.sync_api import sync_playwright

    folder_url = page_path.parent.resolve().as_uri() + "/"
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          offline=True)
            page = context.new_page()

            def route(r):
                if r.request.url.startswith(folder_url):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            yield page, outside
        finally:
            browser.close()


def _column(page, index):
    return page.evaluate(f"""() => [...document.querySelectorAll('#rois tbody tr')]
        .filter(r => !r.hidden).map(r => r.cells[{index}].getAttribute('data-value'))""")


@pytest.mark.parametrize("width", [1400, 820])
def test_page_loads_offline_with_its_thumbnails_and_no_overflow(page_file, chromium, width):
    page_path, result = page_file
    with _browser(page_path, width=width) as (page, outside):
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        images = page.evaluate(_IMAGES_JS)
        overflow = page.evaluate(_OVERFLOW_JS)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        client = page.evaluate("document.documentElement.clientWidth")
        title = page.title()
        bold = page.evaluate("document.querySelectorAll('#rois b').length")
    assert outside == []
    assert overflow == [] and scroll <= client
    assert len(images) == N_ROIS
    thumb_px = round(evidence_page.THUMB_SIZE_IN[0] * evidence_page.THUMB_DPI)
    for image in images:
        assert image["complete"] and image["natural"] == thumb_px
        assert 100 < image["shown"] <= thumb_px
    assert "pwned" not in title and bold == 0  # the hostile name stayed text


def test_sorting_by_each_number_column_and_back(page_file, chromium):
    page_path, result = page_file
    effects = np.asarray(result["effect"].values, float)
    with _browser(page_path) as (page, _):
        page.click("th:has-text('effect') button")
        ascending = [float(v) for v in _column(page, 3)]
        sort_state = page.get_attribute("th:has-text('effect')", "aria-sort")
        page.click("th:has-text('effect') button")
        descending = [float(v) for v in _column(page, 3)]
        page.click("th:has-text('q') button")
        qs = [float(v) for v in _column(page, 5)]
        page.click("th:has-text('ROI') button")
        rois = _column(page, 1)
    assert ascending == pytest.approx(sorted(effects)) and sort_state == "ascending"
    assert descending == pytest.approx(sorted(effects, reverse=True))
    assert qs == pytest.approx(sorted(result["q_value"].values))
    assert rois[0] == "<b>bold</b><script>document.title='pwned'</script>"  # '<' sorts first
    assert rois[1:4] == ["plane0_" + "x" * 300, "roi0", "roi3"]  # natural order: 3 before 10


def test_label_filter_shows_only_that_label(page_file, chromium):
    page_path, result = page_file
    labels = np.asarray(result["label"].values, str)
    with _browser(page_path) as (page, _):
        shown = {}
        for label in ("activated", "unchanged", "inhibited"):
            page.select_option("#label-filter", label)
            shown[label] = (_column(page, 2), page.inner_text("#shown"))
        page.select_option("#label-filter", "")
        everything = _column(page, 2)
    for label, (cells, text) in shown.items():
        n = int((labels == label).sum())
        assert cells == [label] * n
        assert text == f"{n} of {N_ROIS} ROIs shown"
    assert sorted(everything) == sorted(labels)


def test_a_thumbnail_opens_the_full_size_figure(page_file, chromium):
    page_path, _ = page_file
    with _browser(page_path) as (page, outside):
        page.click("tr#roi-3 td.thumb a")
        page.wait_for_load_state("load")
        url = page.url
        natural = page.evaluate("document.images[0].naturalWidth")
    assert url.endswith("/figures/00003.png")
    assert natural == int(evidence_page.FULL_SIZE_IN[0] * evidence_page.FULL_DPI)
    assert outside == []

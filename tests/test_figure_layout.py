"""Every figure of ``sfone reproduce`` as a journal reviewer reads it, checked on the drawn figure.

One module-scoped run per study draws every figure of :data:`sfone.reproduce.FIGURE_SPECS` from
the analysis stages of ``data_samples/study.yaml`` (the demo study; every spec must draw from it)
and of the second study of ``test_reproduce_study.py`` (other mice, days, groups and sizes: the
figures it lists), and records each text matplotlib actually draws (titles, axis and tick labels,
legend texts, annotations) with its window extent. The checks are general, so a new spec gets
them without a line here:

* no two texts overlap (1 px tolerance), no text leaves the figure canvas, no text is smaller
  than the style's minimum (6 pt at print size);
* no text covers a data marker or error-bar cap, and no legend covers a marker or a line;
* every data panel says n (in the panel, its legend or a figure legend), the caption says n, and
  every count a panel or the caption states ("n = 12", "5 mice", "110 ROIs") is a count
  recorded for that figure in stats.csv (a row's ``n``, or the value of an ``n_*`` row).

The demo's imaging days are different fields of view, so its tracked-cells figure (11) draws
nothing there; for that spec the tracking result is a small table of the demo's own labels.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.text as mtext
import numpy as np
import pandas as pd
import pytest

from sfone.figures._style import MIN_FONT_PT
from sfone.reproduce import FIGURE_SPECS, STAGES, StatsTable, load_study
from sfone.reproduce.study import check_study, figures_for

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
TOLERANCE_PX = 1.0
#: counts as figures and captions state them: "n = 12", "5 mice", "110 ROIs", "95 neurons"
COUNT = re.compile(r"\bn\s*=\s*(\d+)|\b(\d+)\s+(?:mice|mouse|neurons|ROIs|cells)\b")


@dataclass
class Drawn:
    """One drawn figure: its texts with their window extents (px), per panel."""
    figure: object
    caption: str
    stats: pd.DataFrame
    texts: list = field(default_factory=list)  # (Text, Bbox)
    panels: dict = field(default_factory=dict)  # data Axes -> [(Text, Bbox)]
    loose: list = field(default_factory=list)  # texts of no axes (figure legends, suptitles)


@contextlib.contextmanager
def _recording_texts():
    """Record every Text that draws itself (with a non-empty string) and its extent."""
    drawn = []
    original = mtext.Text.draw

    def draw(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self, self.get_window_extent(renderer)))

    mtext.Text.draw = draw
    try:
        yield drawn
    finally:
        mtext.Text.draw = original


def _is_data_panel(ax) -> bool:
    return ax.get_visible() and ax.get_label() != "<colorbar>" and ax.axison


def _draw(spec, output, stats) -> Drawn:
    fig = output.figure
    with _recording_texts() as texts:
        fig.canvas.draw()
    result = Drawn(fig, output.caption, stats.to_frame(), texts)
    owned = set()
    for ax in fig.axes:
        mine = {id(t) for t in ax.findobj(mtext.Text)}
        owned |= mine
        if _is_data_panel(ax):
            result.panels[ax] = [(t, b) for t, b in texts if id(t) in mine]
    result.loose = [(t, b) for t, b in texts if id(t) not in owned]
    return result


def _tracked_cells(sessions, classes, **_):
    """Figure 11's input without the tracking: per mouse, ROI k of day a is ROI k of day b."""
    from sfone.tracking.transitions import CLASSES, transition_tests

    days = list(dict.fromkeys(np.asarray(classes["day"].values, dtype=str)))
    tables = {}
    for subject in dict.fromkeys(np.asarray(classes["subject"].values, dtype=str)):
        labels = []
        for day in days[:2]:
            keep = (np.asarray(classes["subject"].values) == subject) & (
                np.asarray(classes["day"].values) == day)
            labels.append(np.asarray(classes["label"].values, dtype=str)[keep])
        k = min(map(len, labels))
        table = pd.crosstab(pd.Series(labels[0][:k]), pd.Series(labels[1][:k]))
        tables[subject] = table.reindex(index=CLASSES, columns=CLASSES, fill_value=0)
    pooled = sum(tables.values())
    return {"tables": tables, "tests": {s: transition_tests(t) for s, t in tables.items()},
            "tracks": {}, "pooled": pooled, "pooled_tests": transition_tests(pooled)}


def _study_path(name: str, tmp_path_factory) -> Path:
    if name == "demo":
        return SAMPLES / "study.yaml"
    from test_reproduce_study import write_second_study

    return write_second_study(tmp_path_factory.mktemp("second_study"))


@pytest.fixture(scope="module", params=["demo", "second"])
def drawn(request, tmp_path_factory):
    """Every spec's figure, drawn once per study: number -> Drawn, or the reason it was not
    drawn (a failure for the demo study, a skip for a figure the second study does not list)."""
    study = load_study(_study_path(request.param, tmp_path_factory))
    check_study(study, source=study.name)
    wanted = figures_for(study)
    stages = dict.fromkeys(s.stage for s in FIGURE_SPECS if s.number in wanted)
    data = {stage: STAGES[stage](study, scheduler=None, workers=None) for stage in stages}
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sfone.tracking.cohort.track_cohort", _tracked_cells)
        for spec in FIGURE_SPECS:
            if request.param != "demo" and spec.number not in wanted:
                out[spec.number] = pytest.skip.Exception(
                    f"the {request.param} study lists no input for figure {spec.number}")
                continue
            if spec.stage not in data:
                out[spec.number] = (f"figure {spec.number}: data_samples/study.yaml has no "
                                    f"{spec.stage!r} input; add one so its layout is checked")
                continue
            stats = StatsTable()
            output = spec.build(data[spec.stage], stats, spec.figure_id)
            if output is None:
                out[spec.number] = (f"figure {spec.number} drew nothing from the demo study; "
                                    "give this test an input for it")
                continue
            out[spec.number] = _draw(spec, output, stats)
    yield out
    for item in out.values():
        if isinstance(item, Drawn):
            plt.close(item.figure)


def _figure(drawn, number) -> Drawn:
    item = drawn[number]
    if isinstance(item, pytest.skip.Exception):
        raise item
    if not isinstance(item, Drawn):
        pytest.fail(item)
    return item


def _overlap(a, b) -> tuple[float, float]:
    return min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)


def _name(text) -> str:
    return repr(text.get_text()[:50])


NUMBERS = [spec.number for spec in FIGURE_SPECS]


@pytest.mark.parametrize("number", NUMBERS)
def test_no_text_overlaps_another_or_leaves_the_canvas(drawn, number):
    fig = _figure(drawn, number)
    width, height = fig.figure.bbox.width, fig.figure.bbox.height
    problems = []
    for text, box in fig.texts:
        if (box.x0 < -TOLERANCE_PX or box.y0 < -TOLERANCE_PX or box.x1 > width + TOLERANCE_PX
                or box.y1 > height + TOLERANCE_PX):
            problems.append(f"{_name(text)} leaves the canvas: {np.round(box.extents, 1)} "
                            f"in {width:.0f} x {height:.0f} px")
        if text.get_fontsize() < MIN_FONT_PT - 1e-9:
            problems.append(f"{_name(text)} is {text.get_fontsize():g} pt (< {MIN_FONT_PT:g})")
    for i, (text_a, a) in enumerate(fig.texts):
        for text_b, b in fig.texts[i + 1:]:
            w, h = _overlap(a, b)
            if w > TOLERANCE_PX and h > TOLERANCE_PX:
                problems.append(f"{_name(text_a)} overlaps {_name(text_b)} by {w:.1f} x "
                                f"{h:.1f} px")
    assert not problems, f"figure {number}:\n" + "\n".join(problems)


def _marker_boxes(ax) -> list:
    """Window boxes (x0, y0, x1, y1, what) of every marker and scatter point drawn in ``ax``."""
    scale = ax.figure.dpi / 72.0
    view = ax.bbox
    boxes = []
    for line in ax.lines:
        marker = line.get_marker()
        if not line.get_visible() or marker in (None, "None", "none", "", " "):
            continue
        half = max(line.get_markersize(), line.get_markeredgewidth()) * scale / 2
        for x, y in line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float)):
            if np.isfinite(x) and np.isfinite(y) and view.contains(x, y):
                boxes.append((x - half, y - half, x + half, y + half,
                              f"marker of {line.get_gid() or line.get_label()}"))
    for collection in ax.collections:
        sizes = getattr(collection, "get_sizes", lambda: np.array([]))()
        offsets = collection.get_offsets()
        if not collection.get_visible() or len(sizes) == 0 or len(offsets) == 0:
            continue
        points = collection.get_offset_transform().transform(np.asarray(offsets, dtype=float))
        for k, (x, y) in enumerate(points):
            half = np.sqrt(sizes[k % len(sizes)]) * scale / 2
            if np.isfinite(x) and np.isfinite(y) and view.contains(x, y):
                boxes.append((x - half, y - half, x + half, y + half,
                              f"point of {collection.get_gid()}"))
    return boxes


def _line_points(ax, step_px: float = 2.0) -> list:
    """Points every ``step_px`` along every line drawn in ``ax`` (window px), with its name."""
    out = []
    for line in ax.lines:
        if not line.get_visible() or line.get_linestyle() in ("None", "none", "", " "):
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
            if not np.all(np.isfinite([x0, y0, x1, y1])):
                continue
            n = max(2, int(np.hypot(x1 - x0, y1 - y0) / step_px) + 1)
            for t in np.linspace(0, 1, n):
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                if ax.bbox.contains(x, y):
                    out.append((x, y, line.get_gid() or line.get_label()))
    return out


@pytest.mark.parametrize("number", NUMBERS)
def test_no_text_covers_a_marker_and_no_legend_covers_data(drawn, number):
    fig = _figure(drawn, number)
    problems = []
    legends = [lg for lg in [ax.get_legend() for ax in fig.figure.axes] + fig.figure.legends
               if lg is not None and lg.get_visible()]
    for ax in fig.panels:
        boxes = _marker_boxes(ax)
        for text, box in fig.texts:
            for x0, y0, x1, y1, what in boxes:
                w = min(box.x1, x1) - max(box.x0, x0)
                h = min(box.y1, y1) - max(box.y0, y0)
                if w > TOLERANCE_PX and h > TOLERANCE_PX:
                    problems.append(f"{_name(text)} covers a {what} ({w:.1f} x {h:.1f} px)")
        points = _line_points(ax)
        for legend in legends:
            frame = legend.get_window_extent().padded(-TOLERANCE_PX)
            covered = {name for x, y, name in points if frame.contains(x, y)}
            covered |= {what for x0, y0, x1, y1, what in boxes
                        if frame.overlaps(type(frame).from_extents(x0, y0, x1, y1))}
            if covered:
                problems.append(f"a legend ({_name(legend.get_texts()[0])}, ...) covers "
                                f"{sorted(map(str, covered))}")
    assert not problems, f"figure {number}:\n" + "\n".join(sorted(set(problems)))


def _counts(text: str) -> set[int]:
    return {int(a or b) for a, b in COUNT.findall(text)}


@pytest.mark.parametrize("number", NUMBERS)
def test_every_panel_and_the_caption_say_n_as_stats_records_it(drawn, number):
    fig = _figure(drawn, number)
    shared = " ".join(t.get_text() for t, _ in fig.loose)
    assert fig.panels, f"figure {number} has no data panel"
    stated = set()
    for k, texts in enumerate(fig.panels.values()):
        words = " ".join(t.get_text() for t, _ in texts) + " " + shared
        found = _counts(words)
        assert found, (f"figure {number}, panel {k + 1}: no n in the panel or its legend "
                       f"(its texts: {[t.get_text() for t, _ in texts][:12]})")
        stated |= found
    in_caption = _counts(fig.caption)
    assert re.search(r"\bn = \d+", fig.caption), f"figure {number}: the caption gives no n"
    stats = fig.stats
    recorded = set(stats["n"].dropna().astype(int))
    n_rows = stats[stats["quantity"].str.startswith("n_")]
    recorded |= set(n_rows["value"].dropna().astype(int))
    missing = sorted((stated | in_caption) - recorded)
    assert not missing, (f"figure {number} states the counts {missing} (panels: "
                         f"{sorted(stated)}, caption: {sorted(in_caption)}) that its stats.csv "
                         f"rows do not record (recorded n: {sorted(recorded)})")

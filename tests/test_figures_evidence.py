"""Per-ROI evidence (issue 27): the figure draws the trace, runs, windows, binned means, the fit
and its nuisance-only part with label/effect/p/q; the page lists every ROI with escaped names and
relative links to files that exist; the folder is written atomically; `classify --plots`."""

import json
import re
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from figure_inputs import close_figures  # noqa: F401  (autouse fixture)
from PIL import Image

from sfone.classify import label_responses
from sfone.cli import main
from sfone.exceptions import SfoneError
from sfone.figures import evidence_page
from sfone.figures._style import CLASS_COLORS, format_p
from sfone.figures.evidence import (
    EVIDENCE_VARIABLES,
    EvidencePanel,
    _Session,
    plot_roi_evidence,
    prepare_evidence,
)
from sfone.figures.evidence_page import write_evidence_page
from sfone.io import write_dataset
from sfone.io.events.runs_csv import write_runs_csv
from sfone.perievent import trace_array
from sfone.simulate.neurons import make_imaging_session

N_ROIS = 40


@pytest.fixture(scope="module")
def session():
    # responses that last the whole post-run window, so the page has both labels to draw (the
    # simulator's default for two runs lasts half of it: the default glm, which fits no
    # transient with fewer than 3 runs, then labels none of these 40 ROIs)
    ds, epochs = make_imaging_session(N_ROIS, fs=4.0, n_runs=2, run_s=300.0, post_s=1200.0,
                                      effect_s=1200.0, random_state=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = label_responses(ds, epochs)
    return ds, epochs, result, trace_array(ds)


def _gid(ax, name, kind="lines"):
    return [a for a in getattr(ax, kind) if a.get_gid() == f"evidence:{name}"]


def _first(result, label):
    return result["roi"].values[np.flatnonzero(result["label"].values == label)[0]]


def test_figure_draws_the_model_evidence_of_the_roi(session):
    ds, epochs, result, trace = session
    roi = _first(result, "activated")
    i = int(np.flatnonzero(result["roi"].values == roi)[0])
    ax = plot_roi_evidence(result, roi, trace=trace)
    minutes = result["bin_time"].values / 60.0
    for name in EVIDENCE_VARIABLES:
        (line,) = _gid(ax, name)
        np.testing.assert_allclose(line.get_xdata(), minutes)
        np.testing.assert_allclose(line.get_ydata(), result[name].values[i])
    (fitted,) = _gid(ax, "fitted")
    assert fitted.get_color() == CLASS_COLORS["activated"]
    # the response is where the model and its nuisance part differ: only after the run
    post = result["bin_segment"].values == "post"
    gap = np.abs(result["fitted"].values[i] - result["fitted_nuisance"].values[i])
    assert gap[post].max() > 0 and np.allclose(gap[~post], 0, atol=1e-5)
    # run epochs shaded; baseline and post-run windows marked, at their times
    runs = _gid(ax, "run", "patches")
    assert len(runs) == epochs.sizes["epoch"] == len(result.attrs["run_windows_s"])
    for patch, (start, end) in zip(runs, result.attrs["run_windows_s"], strict=True):
        assert patch.get_x() == pytest.approx(start / 60)
        assert patch.get_x() + patch.get_width() == pytest.approx(end / 60)
    (baseline,) = _gid(ax, "baseline", "patches")
    assert baseline.get_x() == pytest.approx(result.attrs["baseline_window_s"][0] / 60)
    assert baseline.get_x() + baseline.get_width() == pytest.approx(
        result.attrs["baseline_window_s"][1] / 60)
    posts = _gid(ax, "post_run", "patches")
    assert len(posts) == 2
    np.testing.assert_allclose([[p.get_x() * 60, (p.get_x() + p.get_width()) * 60]
                                for p in posts], result.attrs["post_run_windows_s"])
    # the frame-level trace, decimated to its min/max envelope: same extremes as the frames
    (band,) = _gid(ax, "trace", "patches")
    frames = trace.sel(roi=roi).values
    y = band.get_xy()[:, 1]
    assert y.size < frames.size / 4
    assert y.max() == pytest.approx(frames.max()) and y.min() == pytest.approx(frames.min())
    x = band.get_xy()[:, 0] * 60
    assert x.min() < 10 and x.max() > ds["time"].values[-1] - 10  # the whole recording
    # label, effect, p and q
    title = ax.title if ax.title.get_gid() == "evidence:title" else None
    texts = {t.get_gid(): t.get_text() for t in ax.texts + [ax.title, ax._left_title,
                                                            ax._right_title] if t.get_gid()}
    assert title is None  # the centre title stays empty
    assert texts["evidence:title"] == f"ROI {roi}: Activated"
    stats = texts["evidence:stats"]
    assert f"{float(result['effect'].values[i]):+.2f} z" in stats
    assert format_p(result["p_value"].values[i]) in stats
    assert "q" + format_p(result["q_value"].values[i])[1:] in stats
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"bin means", "fitted model", "model without post-run terms", "run",
            "baseline window", "post-run window"} <= set(legend)


def test_without_the_fit_the_figure_shows_trace_and_windows_from_the_runs(session):
    ds, epochs, _, trace = session
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = label_responses(ds, epochs, method="test", post_run_s=(0, 1800))
    assert not any(v in result for v in EVIDENCE_VARIABLES)
    roi = result["roi"].values[3]
    ax = plot_roi_evidence(result, roi, trace=trace, runs=epochs)
    assert all(line.get_xdata().size == 0 for name in EVIDENCE_VARIABLES
               for line in _gid(ax, name))
    assert "fitted model" not in [t.get_text() for t in ax.get_legend().get_texts()]
    starts, ends = epochs["start"].values, epochs["end"].values
    last = float(ds["time"].values[-1])
    # the test method's windows: baseline before each run, from no earlier than the previous
    # run's end; post-run window after each end, to the next start or the recording's end
    expected_base = [[max(starts[0] - 600, 0.0), starts[0]],
                     [max(starts[1] - 600, ends[0]), starts[1]]]
    expected_post = [[ends[0], min(ends[0] + 1800, starts[1])],
                     [ends[1], min(ends[1] + 1800, last)]]
    for kind, expected in (("baseline", expected_base), ("post_run", expected_post)):
        patches = _gid(ax, kind, "patches")
        np.testing.assert_allclose([[p.get_x() * 60, (p.get_x() + p.get_width()) * 60]
                                    for p in patches], expected)
    assert len(_gid(ax, "run", "patches")) == 2
    assert _gid(ax, "trace", "patches")[0].get_xy().shape[0] > 100


def test_unknown_roi_and_a_trace_without_the_rois_are_refused(session):
    _, _, result, trace = session
    with pytest.raises(KeyError, match="ROI 999 is not in the result"):
        plot_roi_evidence(result, 999)
    with pytest.raises(ValueError, match="the trace lacks ROIs"):
        prepare_evidence(result, trace.isel(roi=slice(0, 5)))


def test_a_reused_panel_shows_what_a_fresh_figure_shows(session):
    _, _, result, trace = session
    ev = prepare_evidence(result, trace)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    panel = EvidencePanel(ax, _Session.from_dataset(ev))
    panel.show(0)
    j = int(np.flatnonzero(result["label"].values == "inhibited")[0])
    panel.show(j)
    fresh = plot_roi_evidence(ev, result["roi"].values[j])
    for name in EVIDENCE_VARIABLES:
        np.testing.assert_array_equal(_gid(ax, name)[0].get_ydata(),
                                      _gid(fresh, name)[0].get_ydata())
    np.testing.assert_array_equal(_gid(ax, "trace", "patches")[0].get_xy(),
                                  _gid(fresh, "trace", "patches")[0].get_xy())
    assert ax._left_title.get_text() == fresh._left_title.get_text()
    assert ax._right_title.get_text() == fresh._right_title.get_text()
    assert ax.get_ylim() == fresh.get_ylim()
    assert _gid(ax, "fitted")[0].get_color() == CLASS_COLORS["inhibited"]
    assert panel._legend_fitted.get_color() == CLASS_COLORS["inhibited"]


def test_blitted_pngs_match_a_full_redraw(session, tmp_path):
    """The page draws the static parts once; each PNG must equal a figure drawn whole."""
    _, _, result, trace = session
    ev = prepare_evidence(result, trace)
    sess = _Session.from_dataset(ev)
    from sfone.figures._style import figure_style

    j = 7
    with figure_style():
        blitter = evidence_page._Blitter(sess, evidence_page.FULL_SIZE_IN,
                                         evidence_page._FULL_MARGINS, evidence_page.FULL_DPI,
                                         compact=False, time_unit="min")
        blitter.save(3, tmp_path / "first.png")
        blitter.save(j, tmp_path / "blit.png")
        for artist in blitter.dynamic:  # the same figure, drawn whole
            artist.set_animated(False)
        blitter.fig.canvas.draw()
        whole = np.asarray(blitter.fig.canvas.buffer_rgba())[..., :3].astype(int)
    blit = np.asarray(Image.open(tmp_path / "blit.png").convert("RGB")).astype(int)
    first = np.asarray(Image.open(tmp_path / "first.png").convert("RGB")).astype(int)
    assert blit.shape == whole.shape
    differ = np.abs(blit - whole).max(axis=2) > 40
    assert differ.mean() < 0.001  # the 64-colour palette, antialiased edges
    assert (np.abs(first - whole).max(axis=2) > 40).mean() > 0.01  # another ROI differs


def _hostile(result, trace):
    names = np.array([f"<script>alert({i})</script>&\"x{i}\"" for i in range(N_ROIS)],
                     dtype=object)
    return (result.assign_coords(roi=names).assign_attrs(source_file="<img src=x>.nc"),
            trace.assign_coords(roi=names))


def test_page_lists_every_roi_with_escaped_names_and_relative_links(session, tmp_path):
    _, _, result, trace = session
    result, trace = _hostile(result, trace)
    page = write_evidence_page(result, tmp_path / "page", trace=trace)
    text = page.read_text(encoding="utf-8")
    assert page == tmp_path / "page" / "index.html"
    assert text.count('<tr id="roi-') == N_ROIS
    assert "<script>alert" not in text and "<img src=x>" not in text
    assert text.count("&lt;script&gt;alert(3)&lt;/script&gt;&amp;&quot;x3&quot;") >= 2
    assert "&lt;img src=x&gt;.nc" in text
    assert text.count("<script>") == 1  # the page's own sorting/filter script
    refs = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert len(refs) == 2 * N_ROIS
    for ref in refs:
        assert re.fullmatch(r"(thumbs|figures)/\d{5}\.png", ref)
        assert (page.parent / ref).is_file()
    assert "<link" not in text and "http" not in text
    # one row per ROI in result order, with its label, q and iscell
    rows = re.findall(r'<tr id="roi-(\d+)" data-position="\d+" data-label="(\w+)">', text)
    assert [int(i) for i, _ in rows] == list(range(N_ROIS))
    assert [label for _, label in rows] == list(result["label"].values)
    assert "<button type=\"button\">iscell</button>" in text
    thumb = Image.open(page.parent / "thumbs" / "00000.png")
    full = Image.open(page.parent / "figures" / "00000.png")
    assert thumb.size == (340, 150) and full.size[0] > 2.5 * thumb.size[0]
    assert round(full.info["dpi"][0]) == evidence_page.FULL_DPI
    marker = json.loads((page.parent / "evidence.json").read_text())
    assert marker["n_rois"] == N_ROIS and marker["method"] == "glm"


def test_page_without_iscell_and_in_parallel_gives_the_same_files(session, tmp_path):
    _, _, result, trace = session
    result = result.drop_vars("iscell")
    one = write_evidence_page(result, tmp_path / "one", trace=trace)
    two = write_evidence_page(result, tmp_path / "two", trace=trace, jobs=2)
    assert "iscell" not in one.read_text()
    assert one.read_text() == two.read_text()
    for sub in ("thumbs", "figures"):
        for name in ("00000.png", f"{N_ROIS - 1:05d}.png"):
            assert (one.parent / sub / name).read_bytes() == (two.parent / sub / name).read_bytes()


def test_a_failure_leaves_no_half_written_folder(session, tmp_path, monkeypatch):
    _, _, result, trace = session
    folder = tmp_path / "page"
    write_evidence_page(result.isel(roi=slice(0, 3)), folder, trace=trace)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))

    def broken(session, folder, names, **kwargs):
        (folder / "thumbs" / names[0]).write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(evidence_page, "render_figures", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_evidence_page(result, folder, trace=trace)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # the old page
    with pytest.raises(RuntimeError):
        write_evidence_page(result, tmp_path / "new", trace=trace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page"]  # no temp folder left


def test_an_unrelated_folder_is_never_replaced(session, tmp_path):
    _, _, result, trace = session
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    with pytest.raises(SfoneError, match="not an earlier evidence page"):
        write_evidence_page(result, folder, trace=trace)
    assert (folder / "thesis.docx").read_text() == "years of work"


@pytest.fixture(scope="module")
def files(tmp_path_factory, session):
    ds, epochs, _, _ = session
    folder = tmp_path_factory.mktemp("evidence_cli")
    write_dataset(ds.isel(roi=slice(0, 12)), folder / "session.nc")
    write_runs_csv(epochs, folder / "runs.csv")
    return folder


def _classify(files, out, plots, *extra):
    return CliRunner().invoke(main, ["classify", str(files / "session.nc"), "--runs",
                                     str(files / "runs.csv"), "--post-run-window", "0", "1200",
                                     "--all-rois", "--out", str(out),
                                     "--plots", str(plots), *extra])


def test_classify_plots_writes_the_page_of_the_labelled_rois(files, tmp_path):
    import pandas as pd

    result = _classify(files, tmp_path / "labels.csv", tmp_path / "evidence")
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(tmp_path / "labels.csv", comment="#")
    text = (tmp_path / "evidence" / "index.html").read_text()
    assert text.count('<tr id="roi-') == len(labels) == 12
    assert re.findall(r'data-label="(\w+)"', text) == list(labels["label"])
    assert "session.nc" in text
    assert len(list((tmp_path / "evidence" / "figures").glob("*.png"))) == 12
    assert "evidence of 12 ROIs" in result.output


def test_classify_plots_refuses_an_unrelated_folder_before_any_work(files, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep")
    result = _classify(files, tmp_path / "labels.csv", tmp_path / "busy")
    assert result.exit_code == 1
    assert "not an earlier evidence page" in result.output
    assert not (tmp_path / "labels.csv").exists()
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_classify_plots_failure_leaves_no_folder(files, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(evidence_page, "render_figures", broken)
    result = _classify(files, tmp_path / "labels.csv", tmp_path / "evidence")
    # the atomic writer names the folder and the reason (sfone/_atomic.py)
    assert result.exit_code == 1, result.output
    assert (f"{tmp_path / 'evidence'}: cannot write it: disk full (No space left on device)"
            in result.output)
    assert not (tmp_path / "evidence").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".evidence")]


def test_photometry_channels_on_their_own_clocks_are_drawn_without_the_fit(tmp_path):
    """Channels on several clocks carry no (roi, bin) variables: each is drawn from its own
    clock's trace, with the windows, and the page lists both."""
    import xarray as xr

    from sfone.classify._labels import trace_groups

    rng = np.random.default_rng(3)
    variables, coords = {}, {}
    for name, fs, step in (("G470", 20.0, 2.0), ("I415", 13.0, 0.0)):
        time = np.arange(0, 2400, 1 / fs) + 0.01
        values = rng.standard_normal(time.size) + step * (time >= 900)
        variables[name] = (f"time_{name}", values, {"units": "1", "long_name": f"dF/F of {name}"})
        coords[f"time_{name}"] = (f"time_{name}", time, {"units": "s"})
    ds = xr.Dataset(variables, coords=coords)
    result = label_responses(ds, [[600.0, 900.0]], post_run_s=(0, 1400))
    assert "binned" not in result
    groups = trace_groups(ds)
    ax = plot_roi_evidence(result, "I415", trace=groups)
    (band,) = _gid(ax, "trace", "patches")
    clock = ds["time_I415"].values
    y = band.get_xy()[:, 1]
    assert y.max() == pytest.approx(ds["I415"].values.max())
    assert band.get_xy()[:, 0].max() * 60 <= clock[-1] + 1e-9
    assert all(line.get_xdata().size == 0 for name in EVIDENCE_VARIABLES
               for line in _gid(ax, name))
    assert len(_gid(ax, "run", "patches")) == 1 and len(_gid(ax, "post_run", "patches")) == 1
    assert ax._left_title.get_text() == "ROI I415: No change"
    page = write_evidence_page(result, tmp_path / "page", trace=groups)
    assert re.findall(r'data-label="(\w+)"', page.read_text()) == ["activated", "unchanged"]

"""The HTML report escapes every text taken from files: subject names from a hostile manifest
reach report.html only as text, through the public ``sfone reproduce`` entry point."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfone.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
# no '/' (the manifest refuses it in names): an opening <script> tag suffices to run code
HOSTILE_SUBJECT = "=1+cmd|x<script>alert(1)<img src=x onerror=alert(1)>"
ACTIVE_HTML = re.compile(r"<script|<img src=x", re.IGNORECASE)  # raw tags; escaped is text
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?inf", re.IGNORECASE)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    if not (SAMPLES / "study.yaml").is_file():
        pytest.skip("data_samples/ is missing (sfone samples data_samples)")
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data<b>x"  # a folder name with markup, too
    shutil.copytree(SAMPLES, data)
    study = data / "study.yaml"
    text = study.read_text()
    assert "subject: mouse1," in text
    study.write_text(text.replace("subject: mouse1,", f'subject: "{HOSTILE_SUBJECT}",'))
    before = _files(root)
    out = root / "out"
    result = CliRunner().invoke(main, ["reproduce", "--study", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return root, out, _files(root) - before


def test_report_shows_hostile_subject_only_as_text(hostile_run):
    _, out, _ = hostile_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not ACTIVE_HTML.search(page)
    assert "=1+cmd|x&lt;script&gt;alert(1)&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>x" not in page


def test_reproduce_writes_only_inside_out(hostile_run):
    _, out, created = hostile_run
    assert created and all(out in p.parents for p in created), sorted(created)


def test_report_writer_escapes_titles_columns_cells_and_parameters(tmp_path):
    """The same through the report writer alone, for text reproduce does not take from files
    today (table titles, column names, parameters)."""
    pd = pytest.importorskip("pandas")
    from sfone.reproduce import write_report_html

    bad = "<script>alert(1)</script>"
    table = pd.DataFrame({bad: [bad, "x"], "subject": ["<img src=x onerror=alert(1)>", "m2"]})
    page = write_report_html(tmp_path, {}, {bad: table}, {bad: bad, "file": bad}, bad, title=bad)
    text = page.read_text(encoding="utf-8")
    assert not ACTIVE_HTML.search(text)
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5


def test_csv_outputs_hold_the_hostile_subject_only_as_inert_text(hostile_run):
    """labels.csv carries the subject from study.yaml behind a leading ' (not a formula);
    stats.csv has no live formula cell and its numbers (negative ones too) stay numbers."""
    import csv

    import pandas as pd

    _, out, _ = hostile_run
    for name in ("labels.csv", "stats.csv"):
        with open(out / name, newline="", encoding="utf-8") as fh:
            cells = [cell for row in csv.reader(fh) for cell in row]
        live = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))
                and not NUMBER.fullmatch(c)]
        assert live == [], name
    labels = pd.read_csv(out / "labels.csv")
    assert "'" + HOSTILE_SUBJECT in set(labels["subject"])
    assert HOSTILE_SUBJECT not in set(labels["subject"])
    assert labels["effect"].dtype == float and (labels["effect"] < 0).any()  # inhibited ROIs
    stats = pd.read_csv(out / "stats.csv")
    assert stats["value"].dtype == float and stats["statistic"].dtype == float
    assert (stats["value"] < 0).any() or (stats["statistic"] < 0).any()

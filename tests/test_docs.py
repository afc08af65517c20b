"""The Python snippets of docs/tutorial.md and the README quick start run as written."""

import os
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name in ("data_samples", "protocols"):
        os.symlink(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("doc", ["docs/tutorial.md", "README.md"])
def test_python_snippets_run(doc, workdir, capsys):
    blocks = _blocks(ROOT / doc)
    assert blocks, f"{doc} has no python blocks"
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data warnings are part of the shown output
        for index, code in enumerate(blocks):
            try:
                exec(compile(code, f"{doc}[block {index + 1}]", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"{doc} block {index + 1} failed: {exc!r}\n{code}")
    if doc == "docs/tutorial.md":
        assert (workdir / "class_proportions.png").stat().st_size > 10_000
        day8 = namespace["comparison"].proportions.query(
            "label == 'activated' and group == 'day8'")["proportion"].iloc[0]
        assert abs(day8 - 0.532) <= 0.05

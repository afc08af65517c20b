"""Rewrite the formats table in README.md from the registry (``make readme``)."""

from pathlib import Path

from sfone.cli.core import formats_markdown
from sfone.io import list_formats

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
head, rest = text.split("<!-- formats:start -->\n")
_, tail = rest.split("<!-- formats:end -->")
readme.write_text(f"{head}<!-- formats:start -->\n{formats_markdown(list_formats())}\n"
                  f"<!-- formats:end -->{tail}")

"""Rewrite the formats table in README.md from the registry (``make readme``)."""

from pathlib import Path

import sfone
from sfone.cli.core import formats_markdown

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
head, rest = text.split("<!-- formats:start -->\n")
_, tail = rest.split("<!-- formats:end -->")
readme.write_text(f"{head}<!-- formats:start -->\n{formats_markdown(sfone.formats())}\n"
                  f"<!-- formats:end -->{tail}")

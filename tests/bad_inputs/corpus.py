"""Generate the bad-input corpus from the sample files (and the shared fixtures when present).

Nothing third-party is copied into the repository: the corpus is written to a temporary folder at
test time (or to a folder you name: ``python -m tests.bad_inputs.corpus OUT_DIR``).

Mutations of each file: empty, truncated at several offsets, flipped bytes, header only, re-encoded
(UTF-16), decimal commas, NaN/Inf-filled numeric column, random bytes; and, for every known suffix,
random bytes under that suffix. Folder formats (suite2p output) are mutated file by file.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass(frozen=True)
class BadInput:
    path: Path
    source: str
    mutation: str


def _is_text(path: Path) -> bool:
    head = path.read_bytes()[:4096]
    return b"\x00" not in head


def _file_mutations(data: bytes, is_text: bool, rng: np.random.Generator) -> dict[str, bytes]:
    n = len(data)
    out = {"empty": b"", "random_bytes": rng.bytes(max(64, min(n, 4096)))}
    for frac in (0.1, 0.5, 0.9):
        out[f"truncated_{int(frac * 100)}pct"] = data[: int(n * frac)]
    flipped = bytearray(data)
    if n:
        for index in rng.choice(n, size=min(16, n), replace=False):
            flipped[index] ^= 0xFF
    out["flipped_bytes"] = bytes(flipped)
    if is_text:
        text = data.decode("utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        out["header_only"] = "".join(lines[:1]).encode()
        out["utf16"] = text.encode("utf-16")
        out["decimal_comma"] = text.replace(".", ",").encode()
        if len(lines) > 2:
            body = [line.replace(line.split(",")[-1].strip(), "nan", 1) if "," in line else line
                    for line in lines[1:]]
            out["nan_column"] = (lines[0] + "".join(body)).encode()
            out["inf_values"] = text.replace("1", "inf", 5).encode()
    return out


def _emit(out_dir: Path, rel: str, payload: bytes) -> Path:
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def build_corpus(sources: list[Path], out_dir: Path, *, seed: int = 0,
                 suffixes: tuple[str, ...] = ()) -> list[BadInput]:
    """Write mutated copies of ``sources`` (files or folders) into ``out_dir``."""
    rng = np.random.default_rng(seed)
    corpus: list[BadInput] = []
    for index, source in enumerate(sources):
        tag = f"{index:02d}"
        if source.is_dir():
            for member in sorted(p for p in source.rglob("*") if p.is_file()):
                rel = member.relative_to(source)
                for name, payload in _file_mutations(member.read_bytes(), _is_text(member),
                                                     rng).items():
                    if name not in {"empty", "truncated_50pct", "random_bytes"}:
                        continue
                    target = out_dir / f"{tag}_{name}_{rel.as_posix().replace('/', '_')}" / source.name
                    shutil.copytree(source, target)
                    (target / rel).write_bytes(payload)
                    corpus.append(BadInput(target, source.name, f"{name} of {rel}"))
            continue
        for name, payload in _file_mutations(source.read_bytes(), _is_text(source), rng).items():
            path = _emit(out_dir, f"{tag}_{name}/{source.name}", payload)
            corpus.append(BadInput(path, source.name, name))
    for suffix in suffixes:
        path = _emit(out_dir, f"random{suffix.replace('.', '_')}/random{suffix}", rng.bytes(2048))
        corpus.append(BadInput(path, f"*{suffix}", "random bytes under a known suffix"))
    return corpus


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    samples = sorted(p for p in (root / "data_samples").iterdir() if p.name != "README.md")
    items = build_corpus(samples, Path(sys.argv[1]))
    print(f"wrote {len(items)} bad inputs to {sys.argv[1]}")

"""Generate the bad-input corpus from the sample files (and the shared fixtures when present).

Nothing third-party is copied into the repository: the corpus is written to a temporary folder at
test time (or to a folder you name: ``python -m tests.bad_inputs.corpus OUT_DIR``).

Mutations of each file: empty, truncated at several offsets, flipped bytes, header only, re-encoded
(UTF-16, Latin-1), decimal commas (everywhere, and on every other line: mixed separators),
NaN/Inf-filled numeric column, swapped and renamed columns, absurd values (negated, 1e300),
random bytes; and, for every known suffix, random bytes under that suffix. Structured edits of
binary formats: a ``.ppd`` header with sampling rate 0, a different rate, a negative rate or an
absurd header length; HDF5 files (``.doric``) with datasets of mismatched lengths, a constant
(fs 0) or reversed time vector and negative values. Folder formats (suite2p output) are mutated
file by file.
"""

from __future__ import annotations

import json
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


def _map_column(lines: list[str], column: int, edit) -> list[str]:
    """Apply ``edit`` to the given column of every comma-separated data line."""
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.rstrip("\r\n").split(",")
        if len(cells) > column:
            cells[column] = edit(cells[column])
        out.append(",".join(cells) + line[len(line.rstrip("\r\n")):])
    return out


def _negate(cell: str) -> str:
    return cell[1:] if cell.startswith("-") else f"-{cell}" if cell.strip() else cell


def _text_mutations(text: str) -> dict[str, bytes]:
    """Column, locale and value edits of a comma-separated text file with a header line."""
    lines = text.splitlines(keepends=True)
    if len(lines) < 3 or "," not in lines[0]:
        return {}
    names = lines[0].rstrip("\r\n").split(",")
    swapped = [names[1], names[0], *names[2:]]
    renamed = [f"{name.strip()} (renamed)" for name in names]
    ending = lines[0][len(lines[0].rstrip("\r\n")):]
    mixed = [line.replace(".", ",") if i % 2 else line for i, line in enumerate(lines[1:])]
    last = len(names) - 1
    return {
        "swapped_columns": (",".join(swapped) + ending + "".join(lines[1:])).encode(),
        "renamed_columns": (",".join(renamed) + ending + "".join(lines[1:])).encode(),
        "mixed_decimal": (lines[0] + "".join(mixed)).encode(),
        "latin1": ("\u00e9" + text.replace("s", "\u00b5s", 3)).encode("latin-1", "replace"),
        "negative_values": "".join(_map_column(lines, last, _negate)).encode(),
        "absurd_values": "".join(_map_column(lines, last, lambda c: "1e300" if c.strip()
                                             else c)).encode(),
        "first_column_negative": "".join(_map_column(lines, 0, _negate)).encode(),
    }


def _ppd_mutations(data: bytes) -> dict[str, bytes]:
    """Header edits of a pyPhotometry ``.ppd`` (2-byte length + JSON header + words)."""
    n = int.from_bytes(data[:2], "little")
    try:
        header = json.loads(data[2:2 + n])
    except ValueError:
        return {}
    out = {"ppd_header_length_absurd": b"\xff\xff" + data[2:]}
    for name, rate in (("ppd_rate_zero", 0), ("ppd_rate_negative", -130),
                       ("ppd_rate_other", 2 * header.get("sampling_rate", 1)),
                       ("ppd_rate_text", "fast")):
        raw = json.dumps({**header, "sampling_rate": rate}).encode()
        out[name] = len(raw).to_bytes(2, "little") + raw + data[2 + n:]
    return out


def _hdf5_mutations(source: Path, out_dir: Path, tag: str) -> list[tuple[Path, str]]:
    """Copies of an HDF5 file with one dataset edited (lengths, time vectors, values)."""
    import h5py

    with h5py.File(source, "r") as fh:
        vectors = []
        fh.visititems(lambda name, obj: vectors.append(name) if isinstance(obj, h5py.Dataset)
                      and obj.ndim == 1 and obj.dtype.kind == "f" and obj.size > 2 else None)
    times = [v for v in vectors if "time" in v.lower()]
    values = [v for v in vectors if v not in times]
    edits = []
    if values:
        edits += [("hdf5_mismatched_length", values[0], lambda a: a[: a.size // 2]),
                  ("hdf5_negative_values", values[0], lambda a: -np.abs(a) - 1.0)]
    if times:
        edits += [("hdf5_time_constant_fs0", times[0], lambda a: np.zeros_like(a)),
                  ("hdf5_time_reversed", times[0], lambda a: a[::-1].copy()),
                  ("hdf5_time_short", times[0], lambda a: a[:-3])]
    written = []
    for name, target, edit in edits:
        path = out_dir / f"{tag}_{name}" / source.name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        with h5py.File(path, "r+") as fh:
            edited = edit(fh[target][()])
            del fh[target]
            fh[target] = edited
        written.append((path, f"{name} ({target})"))
    return written


def _structured(source: Path, data: bytes, is_text: bool, out_dir: Path,
                tag: str) -> list[tuple[Path, str]]:
    """Format-aware mutations of one file, written under ``out_dir``."""
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return _hdf5_mutations(source, out_dir, tag)
    if source.suffix.lower() == ".ppd":
        payloads = _ppd_mutations(data)
    elif is_text:
        payloads = _text_mutations(data.decode("utf-8", errors="replace"))
    else:
        payloads = {}
    return [(_emit(out_dir, f"{tag}_{name}/{source.name}", payload), name)
            for name, payload in payloads.items()]


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
        data, is_text = source.read_bytes(), _is_text(source)
        for name, payload in _file_mutations(data, is_text, rng).items():
            path = _emit(out_dir, f"{tag}_{name}/{source.name}", payload)
            corpus.append(BadInput(path, source.name, name))
        for path, name in _structured(source, data, is_text, out_dir, tag):
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

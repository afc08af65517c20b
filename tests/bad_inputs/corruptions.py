"""Corrupted variants of one valid sample, chosen by the path its bytes take into sfone.

:func:`corruptions` writes, under ``out_dir``, variants of a sample file or folder and returns
``[(path, description)]``:

* text (CSV, TSV, text exports): a number replaced by ``abc`` (one cell, then a whole line),
  integers negated (counts, indices), integers too large for 64 bits, the file cut mid-line;
* HDF5 (CaImAn, Doric, NWB, netCDF): each of the first datasets replaced by text, by negative
  integers, by a different number of dimensions, or emptied;
* ``.npy`` members of folders (suite2p): wrong dtype (text, complex), negative values, a
  different number of dimensions, an ``.npz`` archive under the ``.npy`` name, cut in half;
  pickled dicts (``ops.npy``) with text and negative numbers in their entries;
* zarr stores: an array's dtype, shape and chunk shape edited in its metadata;
* other binary files (``.ppd``, ``.isxd``): a number of the embedded JSON header replaced by
  ``abc``, the file cut in half.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
INTEGER = re.compile(rb"(?<![\w.\-])\d+(?![\w.])")
MAX_DATASETS = 12  # HDF5 datasets edited per file (the first, in visiting order)


def _is_text(path: Path) -> bool:
    return b"\x00" not in path.read_bytes()[:4096]


def _middle(lines: list[bytes]) -> int:
    """Index of a data line near the middle that holds a number."""
    order = sorted(range(len(lines)), key=lambda i: abs(i - len(lines) // 2))
    return next((i for i in order if NUMBER.search(lines[i])), len(lines) // 2)


def text_corruptions(data: bytes) -> dict[str, bytes]:
    lines = data.splitlines(keepends=True)
    if len(lines) < 3:
        return {}
    i = _middle(lines)
    out = {}

    def edited(line_edit) -> bytes:
        return b"".join(lines[:i] + [line_edit(lines[i])] + lines[i + 1:])

    out["number_to_abc"] = edited(lambda line: NUMBER.sub(b"abc", line, count=1))
    out["line_to_abc"] = edited(lambda line: NUMBER.sub(b"abc", line))
    body = lines[len(lines) // 3:]
    head = lines[:len(lines) // 3]
    out["negative_integers"] = b"".join(head + [INTEGER.sub(rb"-\g<0>", line) for line in body])
    out["integers_overflow"] = b"".join(head + [INTEGER.sub(b"99999999999999999999999", line)
                                                for line in body])
    cut = len(data) // 2
    out["cut_mid_line"] = data[:cut] if data[cut - 1:cut] != b"\n" else data[:cut + 1]
    return out


def _datasets(path: Path) -> list[str]:
    import h5py

    names = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "iufb" and obj.size:
            names.append(name)

    with h5py.File(path, "r") as fh:
        fh.visititems(visit)
    return names[:MAX_DATASETS]


def _hdf5_edits(value: np.ndarray) -> dict[str, np.ndarray]:
    return {"to_text": np.full(value.shape or (1,), b"abc"),
            "negative_integers": -np.ones(value.shape, dtype=np.int64) * 7,
            "other_ndim": value.reshape(-1) if value.ndim > 1 else value.reshape(1, -1, 1),
            "empty": np.zeros((0,) * max(1, value.ndim), dtype=value.dtype)}


def hdf5_corruptions(source: Path, out_dir: Path) -> list[tuple[Path, str]]:
    import h5py

    written = []
    for index, name in enumerate(_datasets(source)):
        with h5py.File(source, "r") as fh:
            value = fh[name][()]
        for kind, replacement in _hdf5_edits(np.asarray(value)).items():
            path = out_dir / f"h5_{index}_{kind}" / source.name
            path.parent.mkdir(parents=True)
            shutil.copyfile(source, path)
            with h5py.File(path, "r+") as fh:
                attrs = dict(fh[name].attrs)
                del fh[name]
                fh[name] = replacement
                fh[name].attrs.update(attrs)
            written.append((path, f"{name}: {kind}"))
    return written


def npy_corruptions(path: Path) -> dict[str, object]:
    """name -> callable(target) writing a corrupted version of the ``.npy`` at ``target``."""
    header = path.read_bytes()[:256]
    if b"'O'" in header or b"|O" in header:
        value = np.load(path, allow_pickle=True)
        if value.shape == () and isinstance(value.item(), dict):
            return _dict_corruptions(value.item())
        return {"cut_in_half": _cut(path)}
    value = np.load(path)

    def save(array):
        return lambda target: np.save(target, array)

    def npz(target: Path):
        np.savez(target.with_suffix(".tmp.npz"), value)
        target.with_suffix(".tmp.npz").replace(target)

    return {"as_text": save(np.full(value.shape, "abc")),
            "as_complex": save(value.astype(complex)),
            "negative": save(-np.abs(value.astype(float)) - 1
                             if value.dtype.kind == "f" else -np.abs(value.astype(np.int64)) - 1),
            "other_ndim": save(value.reshape(-1) if value.ndim > 1 else value.reshape(1, -1, 1)),
            "npz_renamed": npz, "cut_in_half": _cut(path)}


def _cut(path: Path):
    data = path.read_bytes()
    return lambda target: target.write_bytes(data[:len(data) // 2])


def _dict_corruptions(value: dict) -> dict[str, object]:
    def save(edit):
        def write(target):
            changed = dict(value)
            edit(changed)
            np.save(target, np.array(changed, dtype=object), allow_pickle=True)
        return write

    numbers = [k for k, v in value.items() if isinstance(v, int | float | np.number)
               and not isinstance(v, bool)]

    def each(new):
        return lambda d: d.update({k: new for k in numbers})

    return {"numbers_to_abc": save(each("abc")), "numbers_negative": save(each(-3)),
            "numbers_to_list": save(each([1, 2])), "emptied": save(lambda d: d.clear())}


def folder_corruptions(source: Path, out_dir: Path) -> list[tuple[Path, str]]:
    written = []
    members = sorted(p for p in source.rglob("*") if p.is_file())
    for index, member in enumerate(members):
        rel = member.relative_to(source)
        if member.suffix == ".npy":
            edits = npy_corruptions(member)
        elif _is_text(member):
            edits = {k: (lambda data: lambda target: target.write_bytes(data))(v)
                     for k, v in text_corruptions(member.read_bytes()).items()}
        else:
            continue
        for kind, write in edits.items():
            target = out_dir / f"dir_{index}_{kind}" / source.name
            shutil.copytree(source, target)
            write(target / rel)
            written.append((target, f"{rel}: {kind}"))
    return written


def zarr_corruptions(source: Path, out_dir: Path) -> list[tuple[Path, str]]:
    written = []
    metas = sorted(p for p in source.rglob("*") if p.name in (".zarray", "zarr.json")
                   and p.parent != source)[:4]
    edits = {"dtype_to_text": lambda m: m.update({"data_type": "abc"} if "data_type" in m
                                                 else {"dtype": "abc"}),
             "shape_negative": lambda m: m.update({"shape": [-5 for _ in m.get("shape", [])]}),
             "chunks_zero": _zero_chunks}
    for index, meta_path in enumerate(metas):
        rel = meta_path.relative_to(source)
        for kind, edit in edits.items():
            target = out_dir / f"zarr_{index}_{kind}" / source.name
            shutil.copytree(source, target)
            meta = json.loads((target / rel).read_text())
            edit(meta)
            (target / rel).write_text(json.dumps(meta))
            written.append((target, f"{rel}: {kind}"))
    return written


def _zero_chunks(meta: dict) -> None:
    if "chunks" in meta:
        meta["chunks"] = [0 for _ in meta["chunks"]]
    else:
        grid = meta.get("chunk_grid", {}).get("configuration", {})
        grid["chunk_shape"] = [0 for _ in grid.get("chunk_shape", [])]


def binary_corruptions(data: bytes) -> dict[str, bytes]:
    """A number in an embedded JSON header (the first ``"key": number``) replaced by ``abc``
    keeping the length (so framing stays intact), and the file cut in half."""
    out = {"cut_in_half": data[:len(data) // 2]}
    match = re.search(rb'": ?(-?\d+(?:\.\d+)?)', data)
    if match:
        start, end = match.span(1)
        out["header_number_to_abc"] = (data[:start] + b'"abc"'.ljust(end - start)[:end - start]
                                       + data[end:])
    return out


def corruptions(source: Path, out_dir: Path) -> list[tuple[Path, str]]:
    """Write the corrupted variants of ``source`` under ``out_dir`` (see the module docstring)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        if source.suffix == ".zarr":
            return zarr_corruptions(source, out_dir)
        return folder_corruptions(source, out_dir)
    data = source.read_bytes()
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        variants = hdf5_corruptions(source, out_dir)
        payloads = {"cut_in_half": data[:len(data) // 2]}
    else:
        variants = []
        payloads = text_corruptions(data) if _is_text(source) else binary_corruptions(data)
    for kind, payload in payloads.items():
        path = out_dir / kind / source.name
        path.parent.mkdir(parents=True)
        path.write_bytes(payload)
        variants.append((path, kind))
    return variants

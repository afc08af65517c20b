"""One readable sample per registered format, found or written at test time.

Sources, in order: ``data_samples/`` (top-level entries and the files of the cohort folders),
files sfone writes itself (``.nc`` and ``.zarr`` by ``write_dataset``, NWB by ``to_nwb``) and the
shared real fixtures (files under 5 MB, and folders). A format is sampled by the first source
that ``detect_format`` attributes to it and that ``sfone.read`` reads. A new reader declared in
the registry gets a sample (and so every check parametrized over :func:`format_samples`) as soon
as one of these sources holds a file of its format.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from shared_fixtures import shared_fixtures_dir

import sfone
from sfone.io import detect_format

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data_samples"
MAX_FIXTURE_BYTES = 5_000_000


def _sample_entries() -> list[Path]:
    found = []
    for entry in sorted(SAMPLES.iterdir()):
        if entry.name.startswith(".") or entry.name == "README.md":
            continue
        found.append(entry)
        if entry.is_dir() and not (entry / "suite2p").exists():
            found += sorted(entry.iterdir())
    return found


def _fixtures() -> list[Path]:
    found = []
    root = shared_fixtures_dir()
    if root is not None:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() != ".md" \
                    and path.stat().st_size < MAX_FIXTURE_BYTES:
                found.append(path)
            elif path.is_dir():
                found.append(path)
    return found


def _written(out_dir: Path, samples: dict[str, Path]) -> list[Path]:
    """Files sfone writes: netCDF and zarr from the imaging sample, NWB from imaging and
    photometry samples (when pynwb is installed)."""
    written = []
    imaging, photometry = samples.get("caiman"), samples.get("doric")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if imaging is not None:
            ds = sfone.read(imaging)
            written.append(sfone.write_dataset(ds, out_dir / "written.nc"))
            try:
                written.append(sfone.write_dataset(ds, out_dir / "written.zarr"))
            except ImportError:
                pass
        try:
            from sfone.nwb import to_nwb
        except ImportError:
            return written
        for name, source in (("imaging", imaging), ("photometry", photometry)):
            if source is not None:
                try:
                    written.append(to_nwb(sfone.read(source), out_dir / f"written_{name}.nwb",
                                          session_start_time="2024-01-01T00:00:00+00:00"))
                except ImportError:
                    pass
    return written


def _claim(path: Path, samples: dict[str, Path]) -> None:
    try:
        name = detect_format(path).name
    except Exception:  # unrecognised, ambiguous, or a folder of something else
        return
    if name in samples:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sfone.read(path, format=name)
        except Exception:
            return
    samples[name] = path


def format_samples(out_dir: Path) -> dict[str, Path]:
    """``{format name: a file or folder of that format that reads}``."""
    samples: dict[str, Path] = {}
    for path in _sample_entries():
        _claim(path, samples)
    for path in _written(Path(out_dir), samples) + _fixtures():
        _claim(path, samples)
    return samples

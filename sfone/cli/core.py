"""Core commands: ``formats``, ``info``, ``convert``, ``samples``, ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ._grammar import OutPath, deprecation, out_option, reading_options
from ._nwb import NWB_SUFFIX, check_nwb_options, nwb_options, write_nwb


@click.command("formats")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (as in the README).")
def formats_command(markdown: bool) -> None:
    """List the supported formats, their modality, suffixes and the extra each needs."""
    from ..io import list_formats  # the registry's declarations: no reader module is imported

    infos = list_formats()
    if markdown:
        click.echo(formats_markdown(infos))
        return
    header = ("name", "modality", "suffixes", "folder", "extra", "available")
    rows = [(f.name, f.modality, " ".join(f.suffixes), str(f.directory), f.extra or "",
             str(f.available)) for f in infos]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def formats_markdown(infos) -> str:
    """The formats table in Markdown: name, modality, file or folder, extra, description.

    Parameters
    ----------
    infos : iterable of FormatInfo
        Formats, e.g. :func:`sfone.io.list_formats`.

    Returns
    -------
    str
        A Markdown table, one row per format.
    """
    lines = ["| format | modality | file / folder | extra | what it reads |",
             "|---|---|---|---|---|"]
    for info in infos:
        suffixes = " ".join(info.suffixes)
        where = ("folder " + suffixes).strip() if info.directory else suffixes or "any"
        extra = f"`{info.extra}`" if info.extra else "core"
        lines.append(f"| `{info.name}` | {info.modality} | {where} | {extra} | "
                     f"{info.description} |")
    return "\n".join(lines)


def read_session(path: Path, reading: dict):
    """Read ``path`` with the command's reading options (:mod:`sfone.io._reading_options`).

    Parameters
    ----------
    path : pathlib.Path
        File or folder.
    reading : dict
        The ``reading`` argument of a command decorated with ``reading_options``.

    Returns
    -------
    xarray.Dataset
        The Dataset read and selected.
    """
    from ..io._reading_options import read_with_options

    return read_with_options(path, **reading)


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@reading_options(cells_only=None)
def info_command(path: Path, reading: dict) -> None:
    """Show format, modality, sizes, duration, sampling rate and subjects/ROIs of PATH.

    For a file sfone wrote (.nc, .zarr), both that file and the recording it came from.
    """
    from ..io import detect_format
    from ..summary import describe

    given = reading.get("format") or detect_format(path).name
    ds = read_session(path, reading)
    info = describe(ds)
    source_file, source_format = info.pop("file"), info.pop("format")
    rows = {"file": str(path), "format": given}
    if given.startswith("sfone-"):
        rows.update({"source file": source_file, "source format": source_format})
    for key, value in {**rows, **info}.items():
        click.echo(f"{key:<16} {value}")


@click.command("convert")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("old_out", metavar="", required=False, type=OutPath(path_type=Path))
@out_option("Output: .nc (netCDF), .zarr or .nwb, written atomically.", required=False)
@reading_options(cells_only=None)
@nwb_options
def convert_command(path: Path, old_out: Path | None, out: Path | None, reading: dict,
                    metadata, meta, timezone) -> None:
    """Read PATH and write it to --out OUT (.nc netCDF, .zarr or .nwb), atomically.

    Every ROI is kept unless --cells-only or --plane selects some. NWB output takes the lab's
    metadata from --metadata YAML and --meta KEY=VALUE (docs/nwb.md).
    """
    from ..io import write_dataset

    out = _one_out(old_out, out)
    if out.suffix.lower() not in {".nc", ".zarr", NWB_SUFFIX}:
        raise click.BadParameter(f"{out}: expected an output ending in .nc, .zarr or .nwb",
                                 param_hint="--out")
    check_nwb_options(out, metadata=metadata, meta=meta, timezone=timezone)
    ds = read_session(path, reading)
    if out.suffix.lower() == NWB_SUFFIX:
        write_nwb(ds, out, metadata=metadata, meta=meta, timezone=timezone)
    else:
        write_dataset(ds, out)
    click.echo(f"wrote {out}")


def _one_out(positional: Path | None, out: Path | None, *, default: Path | None = None) -> Path:
    """``--out``, or the old positional OUT (with its deprecation line); both is an error."""
    if positional is not None and out is not None:
        raise click.UsageError(f"OUT given twice ({positional} and --out {out}): use --out")
    if positional is not None:
        deprecation(f"OUT as a positional argument ({positional})", f"--out {positional}")
        return positional
    if out is None and default is None:
        raise click.UsageError("Missing option '--out'.")
    return out if out is not None else default


@click.command("samples")
@click.argument("old_out", metavar="", required=False, type=OutPath(path_type=Path))
@out_option("Output folder (default data_samples); its parent must exist.", required=False)
def samples_command(old_out: Path | None, out: Path | None) -> None:
    """(Re)generate the simulated sample files in --out DIR (data_samples), byte for byte."""
    from ..simulate.samples import write_samples

    out_dir = _one_out(old_out, out, default=Path("data_samples"))
    for path in write_samples(out_dir):
        click.echo(f"wrote {path}")


@click.command("demo")
@click.argument("data_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
                default=Path("data_samples"))
def demo_command(data_dir: Path) -> None:
    """Read every sample file in DATA_DIR and print a one-line summary of each."""
    from ..summary import read_all

    rows = read_all(data_dir)
    if not rows:
        raise click.ClickException(f"{data_dir}: no sample files found (run `sfone samples`)")
    width = max(len(r["file"]) for r in rows)
    for row in rows:
        click.echo(f"{row['file']:<{width}}  {row['format']:<16} {row['modality']:<12} "
                   f"{row['summary']}")


@click.command("protocols")
def protocols_command() -> None:
    """List the protocols shipped with sfone (pass a name to --protocol) and their files."""
    from ..protocols import load_protocol, packaged_protocols

    for name, path in packaged_protocols().items():
        protocol = load_protocol(path)
        click.echo(f"{name:<24} {protocol.kind:<20} {path}")


commands = [formats_command, info_command, convert_command, samples_command, demo_command,
            protocols_command]

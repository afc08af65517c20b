"""Core commands: ``formats``, ``info``, ``convert``, ``samples``, ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

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


def reader_options(function):
    """``--fs`` and ``--repair``: the reader keywords that error hints point to.

    Parameters
    ----------
    function : callable
        A click command callback.

    Returns
    -------
    callable
        ``function`` with the two options added.
    """
    repair = click.option("--repair", type=click.Choice(["decimal"]), default=None,
                          help="TSE exports whose decimal separators a spreadsheet destroyed: "
                               "divide the cells that lost them by 1000 (with a warning).")
    fs = click.option("--fs", "fs", type=click.FloatRange(min=0, min_open=True), default=None,
                      help="Frame rate (Hz) when the files do not store it (suite2p).")
    return fs(repair(function))


def _read_options(fs: float | None, repair: str | None) -> dict:
    return {k: v for k, v in {"fs": fs, "repair": repair}.items() if v is not None}


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", default=None, help="Format name (default: detect).")
@reader_options
def info_command(path: Path, fmt: str | None, fs: float | None, repair: str | None) -> None:
    """Show format, modality, sizes, duration, sampling rate and subjects/ROIs of PATH.

    For a file sfone wrote (.nc, .zarr), both that file and the recording it came from.
    """
    from ..io import detect_format, read
    from ..summary import describe

    given = fmt or detect_format(path).name
    ds = read(path, format=fmt, **_read_options(fs, repair))
    info = describe(ds)
    source_file, source_format = info.pop("file"), info.pop("format")
    rows = {"file": str(path), "format": given}
    if given.startswith("sfone-"):
        rows.update({"source file": source_file, "source format": source_format})
    for key, value in {**rows, **info}.items():
        click.echo(f"{key:<16} {value}")


@click.command("convert")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "fmt", default=None, help="Input format name (default: detect).")
@reader_options
@nwb_options
def convert_command(path: Path, out: Path, fmt: str | None, fs: float | None,
                    repair: str | None, metadata, meta, timezone) -> None:
    """Read PATH and write it to OUT (.nc netCDF, .zarr or .nwb), atomically.

    NWB output takes the lab's metadata from --metadata YAML and --meta KEY=VALUE (docs/nwb.md).
    """
    from ..io import read, write_dataset

    if out.suffix.lower() not in {".nc", ".zarr", NWB_SUFFIX}:
        raise click.BadParameter(f"{out}: expected an output ending in .nc, .zarr or .nwb",
                                 param_hint="OUT")
    check_nwb_options(out, metadata=metadata, meta=meta, timezone=timezone)
    ds = read(path, format=fmt, **_read_options(fs, repair))
    if out.suffix.lower() == NWB_SUFFIX:
        write_nwb(ds, out, metadata=metadata, meta=meta, timezone=timezone)
    else:
        write_dataset(ds, out)
    click.echo(f"wrote {out}")


@click.command("samples")
@click.argument("out_dir", type=click.Path(path_type=Path), default=Path("data_samples"))
def samples_command(out_dir: Path) -> None:
    """(Re)generate the simulated sample files in OUT_DIR, byte for byte."""
    from ..simulate.samples import write_samples

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

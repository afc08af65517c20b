"""``sfone photometry``: dF/F of a recording written to netCDF."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("photometry")
def photometry_group() -> None:
    """Fiber-photometry processing."""


@photometry_group.command("dff")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--signal", required=True, help="Signal channel (variable name in the file).")
@click.option("--control", default=None, help="Control channel (needed by irls/ols).")
@click.option("--method", type=click.Choice(["irls", "ols", "signal-only"]), default="irls",
              show_default=True, help="Control fit, or the signal's own bleaching baseline.")
@click.option("--robust", type=click.Choice(["tukey", "huber"]), default="tukey",
              show_default=True, help="IRLS weight function.")
@click.option("--tuning", type=float, default=None,
              help="IRLS tuning constant (default 4.685 tukey, 1.345 huber).")
@click.option("--lowpass", "lowpass_hz", type=float, default=None,
              help="Zero-phase low-pass cutoff in Hz before fitting.")
@click.option("--no-bleach-correction", is_flag=True,
              help="Do not divide channels by their double-exponential bleaching fits.")
@click.option("--baseline-window", nargs=2, type=float, default=None,
              help="Fit the control only on START END (s).")
@click.option("--format", "fmt", default=None, help="Input format name (default: detect).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output netCDF (.nc), written atomically.")
def dff_command(path: Path, signal: str, control: str | None, method: str, robust: str,
                tuning: float | None, lowpass_hz: float | None, no_bleach_correction: bool,
                baseline_window, fmt: str | None, out: Path) -> None:
    """Compute dF/F of SIGNAL in PATH and write variable `dff` to OUT (netCDF)."""
    from ..io import read, write_dataset
    from ..photometry import compute_dff, dff_dataset

    if out.suffix.lower() != ".nc":
        raise click.BadParameter(f"{out}: expected an output ending in .nc", param_hint="--out")
    from ..exceptions import FormatError

    ds = read(path, format=fmt)
    channels = ", ".join(map(str, ds.data_vars))
    missing = [n for n in (signal, control) if n is not None and n not in ds.data_vars]
    if missing:
        raise FormatError(f"no channel {', '.join(missing)} (--signal/--control); channels "
                          f"are {channels}", path=path)
    if control is None and method != "signal-only":
        raise FormatError(f"--method {method} fits a control channel: pass --control NAME "
                          f"(channels are {channels}) or --method signal-only", path=path)
    dff = compute_dff(ds, signal=signal, control=control, method=method, robust=robust,
                      tuning=tuning, lowpass_hz=lowpass_hz,
                      bleach_correction=not no_bleach_correction,
                      baseline_window=tuple(baseline_window) if baseline_window else None)
    write_dataset(dff_dataset(ds, dff), out)
    click.echo(f"wrote {out}")


commands = [photometry_group]

"""``sfone photometry``: dF/F of a recording written to netCDF and/or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from ._grammar import OutPath, out_option, reading_options, window_option


@click.group("photometry")
def photometry_group() -> None:
    """Fiber-photometry processing."""


def digital_channels(ds, exclude=()) -> list[str]:
    """Digital lines of a photometry Dataset: ``kind="digital"`` or dimensionless, not dF/F.

    Parameters
    ----------
    ds : xarray.Dataset
        Photometry Dataset.
    exclude : iterable of str
        Variables never counted (the signal and control).

    Returns
    -------
    list of str
        Names of the 1-D digital variables over a time dimension.
    """
    from ..perievent import analog_channels
    from ..schema import is_time_dim

    analog = set(analog_channels(ds))
    return [name for name, var in ds.data_vars.items()
            if name not in analog and name not in exclude and var.ndim == 1
            and is_time_dim(str(var.dims[0]))
            and (var.attrs.get("kind") == "digital" or var.attrs.get("units") == "1")]


def dff_table(dff, ds, digital: list[str]):
    """time_s, dff and each digital line (its state at each dF/F time) as a table.

    Parameters
    ----------
    dff : xarray.DataArray
        dF/F over one time dimension (s).
    ds : xarray.Dataset
        The recording holding the digital lines.
    digital : list of str
        Digital variables of ``ds``; a line on another clock is sampled at each dF/F time
        (its last state at or before it; empty before its first sample).

    Returns
    -------
    pandas.DataFrame
        One row per dF/F sample.
    """
    import numpy as np
    import pandas as pd

    time = np.asarray(dff[dff.dims[0]].values, dtype=float)
    table = {"time_s": time, "dff": np.asarray(dff.values, dtype=float)}
    for name in digital:
        line = ds[name]
        own = np.asarray(line[line.dims[0]].values, dtype=float)
        values = np.asarray(line.values, dtype=float)
        if own.shape == time.shape and np.array_equal(own, time):
            table[name] = values
            continue
        index = np.searchsorted(own, time, side="right") - 1
        table[name] = np.where(index >= 0, values[np.clip(index, 0, None)], np.nan)
    return pd.DataFrame(table)


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
@window_option("--baseline-window", "Fit the control only on START END (s from the start of "
               "the recording).")
@reading_options(cells_only=None)
@out_option("Output: .nc (netCDF: dff, the raw signal and the digital lines) or .csv (time_s, "
            "dff and the digital lines), written atomically.")
@click.option("--csv", "csv_out", default=None, type=OutPath(path_type=Path),
              help="Also write the CSV table (time_s, dff, digital lines) here.")
def dff_command(path: Path, signal: str, control: str | None, method: str, robust: str,
                tuning: float | None, lowpass_hz: float | None, no_bleach_correction: bool,
                baseline_window, reading: dict, out: Path, csv_out: Path | None) -> None:
    """Compute dF/F of SIGNAL in PATH and write it to OUT (netCDF variable `dff`, or CSV).

    Digital lines (TTL inputs) are kept: in the .nc on their own clock, in the CSV as their
    state at each dF/F sample, as GuPPy and pMAT tables have them.
    """
    import xarray as xr

    from .._atomic import write_csv
    from ..exceptions import FormatError
    from ..io import write_dataset
    from ..photometry import compute_dff, dff_dataset
    from .core import read_session

    if out.suffix.lower() not in {".nc", ".csv"}:
        raise click.BadParameter(f"{out}: expected an output ending in .nc or .csv",
                                 param_hint="--out")
    if csv_out is not None and csv_out.suffix.lower() != ".csv":
        raise click.BadParameter(f"{csv_out}: expected a name ending in .csv",
                                 param_hint="--csv")
    ds = read_session(path, reading)
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
    digital = digital_channels(ds, exclude=(signal, control))
    written = []
    if out.suffix.lower() == ".nc":
        result = dff_dataset(ds, dff)
        result = xr.merge([result, ds[digital]], combine_attrs="override") if digital else result
        write_dataset(result, out)
        written.append(str(out))
    for target in [t for t in (out, csv_out) if t is not None and t.suffix.lower() == ".csv"]:
        write_csv(dff_table(dff, ds, digital), target)
        written.append(str(target))
    lines = f" with digital line(s) {', '.join(digital)}" if digital else ""
    click.echo(f"wrote {' and '.join(written)}{lines}")


commands = [photometry_group]

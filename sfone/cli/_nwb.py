"""NWB output of ``sfone convert PATH OUT.nwb``: the metadata options and the write.

``--metadata lab.yaml`` (repeatable, later files win), ``--meta KEY=VALUE`` for single fields
in the YAML's spelling (``Subject.sex=M``, ``NWBFile.keywords=[VMH, SF1]``,
``fibers.*_470.excitation_wavelength_nm=470``; values are read as YAML scalars or lists) and
``--timezone`` for session starts stored without a zone. Keys: docs/nwb.md.
"""

from __future__ import annotations

from pathlib import Path

import click

NWB_SUFFIX = ".nwb"


def nwb_options(function):
    """Add ``--metadata``, ``--meta`` and ``--timezone`` to a click command.

    Parameters
    ----------
    function : callable
        A click command callback.

    Returns
    -------
    callable
        ``function`` with the three options added (parameters ``metadata``, ``meta``,
        ``timezone``).
    """
    metadata = click.option(
        "--metadata", "metadata", multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="NWB output: lab/session metadata YAML (NeuroConv's NWBFile/Subject/Ophys "
             "sections, timezone, fibers; see docs/nwb.md). Repeatable, later files win.")
    meta = click.option(
        "--meta", "meta", multiple=True, metavar="KEY=VALUE",
        help="NWB output: one metadata field, e.g. Subject.subject_id=m07 or "
             "NWBFile.session_description='day 8'; wins over --metadata. Repeatable.")
    zone = click.option(
        "--timezone", "timezone", default=None, metavar="ZONE",
        help="NWB output: time zone of a session start the file stores without one (Doric "
             "v6, pyPhotometry), e.g. Europe/Berlin or +01:00.")
    return metadata(meta(zone(function)))


def parse_meta(pairs) -> dict:
    """``KEY=VALUE`` pairs as a nested metadata mapping (see the module docstring).

    Parameters
    ----------
    pairs : iterable of str
        The ``--meta`` values.

    Returns
    -------
    dict
        Mapping in the metadata YAML's layout.
    """
    import yaml

    out: dict = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE, e.g. Subject.sex=M",
                                     param_hint="--meta")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        key = key.strip()
        if key.startswith("fibers."):
            channel, dot, field = key[len("fibers."):].rpartition(".")
            if not dot or not channel:
                raise click.BadParameter(f"{pair!r}: expected fibers.<channel or pattern>."
                                         "<field>=VALUE", param_hint="--meta")
            parts = ["fibers", channel, field]
        else:
            parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise click.BadParameter(f"{pair!r}: {part} is set twice", param_hint="--meta")
        node[parts[-1]] = value
    return out


def write_nwb(ds, out: Path, *, metadata, meta, timezone) -> Path:
    """Write ``ds`` to ``out`` with :func:`sfone.to_nwb` and the CLI's metadata options.

    Parameters
    ----------
    ds : xarray.Dataset
        Imaging or photometry Dataset.
    out : Path
        Output ``.nwb`` file.
    metadata : sequence of Path
        ``--metadata`` files.
    meta : sequence of str
        ``--meta`` pairs.
    timezone : str or None
        ``--timezone``.

    Returns
    -------
    Path
        The written file.
    """
    from ..nwb import to_nwb

    sources = [*metadata, *([parse_meta(meta)] if meta else [])]
    return to_nwb(ds, out, metadata=sources or None, timezone=timezone)


def check_nwb_options(out: Path, *, metadata, meta, timezone) -> None:
    """Refuse the NWB metadata options for an output that is not ``.nwb``, and malformed
    ``--meta`` pairs.

    Parameters
    ----------
    out : Path
        Output path.
    metadata, meta, timezone
        The option values.
    """
    given = [name for name, value in (("--metadata", metadata), ("--meta", meta),
                                      ("--timezone", timezone)) if value]
    if given and out.suffix.lower() != NWB_SUFFIX:
        raise click.BadParameter(f"{', '.join(given)} apply to NWB output only; {out} does not "
                                 f"end in {NWB_SUFFIX}", param_hint="OUT")
    parse_meta(meta)  # a malformed pair is a usage error before any file is read

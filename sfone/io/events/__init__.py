"""Events loaders: one module per format, declared here for the registry.

Each :class:`~sfone.io.FormatInfo` names its reader and sniffer as ``"module:function"``; the
module is imported only when a file is detected or read, so listing formats stays cheap.
"""

from .._registry import FormatInfo

FORMATS = [
    FormatInfo(
        name="boris",
        modality="events",
        reader="sfone.io.events.boris:read_boris",
        sniff="sfone.io.events.boris:_sniff",
        suffixes=(".csv", ".tsv"),
        description="BORIS events (START/STOP/POINT) or aggregated-events export, CSV or TSV "
        "-> epochs in s",
    ),
    FormatInfo(
        name="pmat-events",
        modality="events",
        reader="sfone.io.events.pmat:read_pmat_events",
        sniff="sfone.io.events.pmat:_sniff",
        suffixes=(".csv",),
        description="pMAT behaviour CSV (Event,Onset,Offset in s)",
    ),
    FormatInfo(
        name="runs-csv",
        modality="events",
        reader="sfone.io.events.runs_csv:read_runs_csv",
        sniff="sfone.io.events.runs_csv:_sniff",
        suffixes=(".csv",),
        description="run epochs: CSV with start_s,end_s in seconds",
    ),
    FormatInfo(
        name="bruker-voltage",
        modality="events",
        reader="sfone.io.events.bruker_voltage:read_bruker_voltage",
        sniff="sfone.io.events.bruker_voltage:_sniff",
        suffixes=(".csv",),
        description="Bruker PrairieView VoltageRecording CSV (Time(ms), inputs in V): inputs "
        "over time, TTL high periods as epochs",
    ),
    FormatInfo(
        name="pycontrol",
        modality="events",
        reader="sfone.io.events.pycontrol:read_pycontrol",
        sniff="sfone.io.events.pycontrol:_sniff",
        suffixes=(".tsv",),
        description="pyControl session log .tsv (states -> epochs, events -> instants)",
    ),
]

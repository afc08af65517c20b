"""Photometry loaders: one module per format, declared here for the registry.

Each :class:`~sfone.io.FormatInfo` names its reader and sniffer as ``"module:function"``; the
module is imported only when a file is detected or read, so listing formats stays cheap.
"""

from .._registry import FormatInfo

FORMATS = [
    FormatInfo(
        name="photometry-csv",
        modality="photometry",
        reader="sfone.io.photometry.csv:read_photometry_csv",
        sniff="sfone.io.photometry.csv:_sniff",
        suffixes=(".csv", ".txt"),
        generic=True,
        description="generic photometry CSV: time column(s) + channel columns",
    ),
    FormatInfo(
        name="doric",
        modality="photometry",
        reader="sfone.io.photometry.doric:read_doric",
        sniff="sfone.io.photometry.doric:_sniff",
        suffixes=(".doric",),
        description="Doric .doric HDF5 (legacy Traces/Console and v6 DataAcquisition)",
    ),
    FormatInfo(
        name="npm",
        modality="photometry",
        reader="sfone.io.photometry.npm:read_npm",
        sniff="sfone.io.photometry.npm:_sniff",
        suffixes=(".csv", ".pqt", ".parquet"),
        description="Neurophotometrics FP3001/FP3002 CSV (and IBL Parquet), incl. digital inputs",
    ),
    FormatInfo(
        name="ppd",
        modality="photometry",
        reader="sfone.io.photometry.ppd:read_ppd",
        sniff="sfone.io.photometry.ppd:_sniff",
        suffixes=(".ppd",),
        description="pyPhotometry .ppd (all header generations, incl. float version 0.2)",
    ),
    FormatInfo(
        name="tdt",
        modality="photometry",
        reader="sfone.io.photometry.tdt:read_tdt",
        sniff="sfone.io.photometry.tdt:_sniff",
        directory=True,
        extra="tdt",
        requires=("tdt",),
        description="TDT block folder (.tsq/.tev) via the tdt package; signals=False: epocs only",
        hints={".tsq": "pass the block FOLDER, not the .tsq file"},
    ),
    FormatInfo(
        name="npm-headerless",
        modality="photometry",
        reader="sfone.io.photometry.npm_headerless:read_npm_headerless",
        sniff="sfone.io.photometry.npm_headerless:_sniff_headerless",
        suffixes=(".csv", ".txt"),
        description="Neurophotometrics Bonsai file without a header: clock (ms or s), frame "
        "counter, one column per fiber; needs leds=(415, 470, ...)",
        options="sfone.io.photometry.npm_headerless:OPTIONS",
    ),
    FormatInfo(
        name="nwb-photometry",
        modality="photometry",
        reader="sfone.io.photometry.nwb:read_nwb_photometry",
        sniff="sfone.io.photometry.nwb:_sniff",
        suffixes=(".nwb",),
        extra="nwb",
        requires=("pynwb", "ndx_fiber_photometry"),
        description="NWB fiber photometry (ndx-fiber-photometry); sfone and NeuroConv files",
    ),
]

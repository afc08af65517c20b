"""Imaging loaders: one module per format, declared here for the registry.

Each :class:`~sfone.io.FormatInfo` names its reader and sniffer as ``"module:function"``; the
module is imported only when a file is detected or read, so listing formats stays cheap.
"""

from .._registry import FormatInfo

FORMATS = [
    FormatInfo(
        name="caiman",
        modality="imaging",
        reader="sfone.io.imaging.caiman:read_caiman",
        sniff="sfone.io.imaging.caiman:_sniff",
        suffixes=(".hdf5", ".h5"),
        description="CaImAn / CNMF-E results (.hdf5 from cnm.save)",
        lazy=True,
    ),
    FormatInfo(
        name="inscopix",
        modality="imaging",
        reader="sfone.io.imaging.inscopix:read_inscopix",
        sniff="sfone.io.imaging.inscopix:_sniff_traces",
        suffixes=(".csv",),
        description="Inscopix IDPS cell-set traces CSV",
    ),
    FormatInfo(
        name="inscopix-isxd-events",
        modality="events",
        reader="sfone.io.imaging.inscopix:read_inscopix_isxd_events",
        sniff="sfone.io.imaging.inscopix:_sniff_isxd_events",
        suffixes=(".isxd",),
        description="Inscopix .isxd event set (read without isx)",
    ),
    FormatInfo(
        name="gpio-table",
        modality="events",
        reader="sfone.io.imaging.inscopix:read_gpio_table",
        sniff="sfone.io.imaging.inscopix:_sniff_gpio_table",
        suffixes=(".csv",),
        description="wide 0/1 GPIO table (Time(s),Line1,Line2,...) derived from IDPS GPIO",
    ),
    FormatInfo(
        name="nwb",
        modality="imaging",
        reader="sfone.io.imaging.nwb:read_nwb",
        sniff="sfone.io.imaging.nwb:_sniff",
        suffixes=(".nwb",),
        extra="nwb",
        requires=("pynwb",),
        description="NWB ophys (RoiResponseSeries, "
        "PlaneSegmentation); sfone, NeuroConv and suite2p files",
        lazy=True,
    ),
    FormatInfo(
        name="suite2p",
        modality="imaging",
        reader="sfone.io.imaging.suite2p:read_suite2p",
        sniff="sfone.io.imaging.suite2p:_sniff",
        suffixes=(),
        directory=True,
        description="suite2p output folder (<=0.14 ops.npy or 1.x db/settings)",
        hints={".npy": "pass the suite2p/ or planeN/ folder, not a single .npy file"},
        lazy=True,
    ),
    FormatInfo(
        name="inscopix-isxd",
        modality="imaging",
        reader="sfone.io.imaging.inscopix:read_inscopix_isxd",
        sniff="sfone.io.imaging.inscopix:_sniff_isxd",
        suffixes=(".isxd",),
        lazy=True,
        description="Inscopix .isxd cell set (read without isx)",
        hints={
            ".isxd": "only .isxd cell sets and event sets are read; export movies and GPIO "
            "to CSV with Inscopix's isx package"
        },
    ),
    FormatInfo(
        name="inscopix-events",
        modality="events",
        reader="sfone.io.imaging.inscopix:read_inscopix_events",
        sniff="sfone.io.imaging.inscopix:_sniff_events",
        suffixes=(".csv",),
        description="Inscopix GPIO / event-set long CSV (Time (s), Name, Value)",
    ),
]

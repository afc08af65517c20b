"""Calorimetry loaders: one module per format, declared here for the registry.

Each :class:`~sfone.io.FormatInfo` names its reader and sniffer as ``"module:function"``; the
module is imported only when a file is detected or read, so listing formats stays cheap.
"""

from .._registry import FormatInfo

FORMATS = [
    FormatInfo(
        name="calr",
        modality="calorimetry",
        reader="sfone.io.calorimetry.calr:read_calr",
        sniff="sfone.io.calorimetry.calr:_sniff",
        suffixes=(".csv",),
        description="CalR standard file (long: subject.id, Date.Time, vo2, vco2, ee ...)",
    ),
    FormatInfo(
        name="clams",
        modality="calorimetry",
        reader="sfone.io.calorimetry.clams:read_clams",
        sniff="sfone.io.calorimetry.clams:_sniff",
        suffixes=(".csv",),
        description="Columbus Oxymax/CLAMS per-cage CSV export (both header styles)",
        multi_file=True,
    ),
    FormatInfo(
        name="promethion",
        modality="calorimetry",
        reader="sfone.io.calorimetry.promethion:read_promethion",
        sniff="sfone.io.calorimetry.promethion:_sniff",
        suffixes=(".csv",),
        description="Sable Promethion CalR-macro wide export (mL/min)",
    ),
    FormatInfo(
        name="treadmill",
        modality="calorimetry",
        reader="sfone.io.calorimetry.treadmill:read_treadmill",
        sniff="sfone.io.calorimetry.treadmill:_sniff",
        suffixes=(".csv",),
        description="treadmill calorimetry CSV (time, speed, incline, VO2, VCO2, shock)",
    ),
    FormatInfo(
        name="tse",
        modality="calorimetry",
        reader="sfone.io.calorimetry.tse:read_tse",
        sniff="sfone.io.calorimetry.tse:_sniff",
        suffixes=(".csv",),
        description="TSE PhenoMaster/LabMaster CSV export (row-wise)",
    ),
    FormatInfo(
        name="clams-merged",
        modality="calorimetry",
        reader="sfone.io.calorimetry.clams:read_clams_merged",
        sniff="sfone.io.calorimetry.clams:_sniff_merged",
        suffixes=(".csv",),
        description="CLAMS per-cage files merged into one long table",
    ),
    FormatInfo(
        name="promethion-oneclick",
        modality="calorimetry",
        reader="sfone.io.calorimetry.promethion_oneclick:read_promethion_oneclick",
        sniff="sfone.io.calorimetry.promethion_oneclick:_sniff",
        suffixes=(".csv",),
        description="Sable Promethion One-Click-Macro long summary (StartDate, Animal, Avg_VO2 "
        "mL/min ...)",
    ),
]

"""Indirect calorimetry analysis: derived quantities, CalR-exact period summaries, ANCOVA and
treadmill stress-test endpoints."""

from ..io.calorimetry.derived import (
    EE_EQUATIONS,
    FUEL_EQUATIONS,
    add_derived,
    energy_expenditure,
    fuel_oxidation,
    mask_flagged,
    respiratory_exchange_ratio,
)

__all__ = ["EE_EQUATIONS", "FUEL_EQUATIONS", "add_derived", "energy_expenditure",
           "fuel_oxidation", "mask_flagged", "respiratory_exchange_ratio"]
from ..io.calorimetry.timebins import experiment_time, is_light, to_long  # noqa: E402
from .combine import combine_subjects, read_many  # noqa: E402
from .periods import PERIODS, SUMMARY_COLUMNS, hourly_table, summarize_periods  # noqa: E402

__all__ += ["combine_subjects", "read_many", "PERIODS", "SUMMARY_COLUMNS", "summarize_periods", "hourly_table",
            "experiment_time", "is_light", "to_long"]
from .ancova import AncovaResult, ancova, ancova_periods  # noqa: E402
from .stress import (  # noqa: E402
    brooks_mercier_rer,
    compare_groups,
    endpoint_tests,
    protocol_schedule,
    stage_summary,
    stress_test_endpoints,
)

__all__ += ["AncovaResult", "ancova", "ancova_periods", "compare_groups", "endpoint_tests",
            "brooks_mercier_rer", "protocol_schedule", "stage_summary", "stress_test_endpoints"]

"""Indirect calorimetry analysis: derived quantities, CalR-exact period summaries, ANCOVA and
treadmill stress-test endpoints."""

from .derived import (
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

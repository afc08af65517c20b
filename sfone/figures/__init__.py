"""Publication figures: ``plot_*`` panels (return Axes) and the composite figures 1-11.

Every composite ``figure_*`` function returns a Figure and, given a
:class:`sfone.reproduce.StatsTable` as ``stats=``, records every number it shows. Statistical tests
are never computed here: pass precomputed results ``{"test", "statistic", "p_value"}``.
Save with :func:`save_figure` (PNG/SVG/PDF, atomic).
"""

from ..experiment_tables import glucose_iauc, training_gain  # re-exported
from ._style import (
    CLASS_COLORS,
    CLASS_ORDER,
    OKABE_ITO,
    figsize,
    figure_style,
    format_p,
    save_figure,
)
from .classes import (
    class_counts,
    figure_class_proportions,
    figure_fraction_activated_paired,
    plot_class_proportions,
    plot_fraction_activated_paired,
)
from .evidence import plot_roi_evidence, prepare_evidence
from .evidence_page import write_evidence_page
from .groups import plot_group_points, plot_group_timecourse
from .histology import bdnf_fractions, figure_bdnf, plot_bdnf_fraction
from .metabolic import (
    dark_intervals,
    figure_metabolic,
    plot_ancova,
    plot_metabolic_timecourse,
    subject_means,
)
from .perirun import (
    figure_class_traces,
    figure_perirun_heatmaps,
    plot_class_traces,
    plot_perirun_heatmap,
    sort_by_class,
)
from .stress import (
    figure_stress_endpoints,
    figure_stress_test,
    plot_stress_curve,
    plot_stress_endpoint,
    speed_profile,
)
from .tracked import figure_tracked_transitions
from .training import figure_endurance, figure_glucose, plot_endurance_days, plot_glucose

__all__ = [
    "OKABE_ITO", "CLASS_COLORS", "CLASS_ORDER", "figsize", "figure_style", "format_p",
    "save_figure", "class_counts", "plot_class_proportions", "plot_fraction_activated_paired",
    "figure_class_proportions", "figure_fraction_activated_paired", "plot_perirun_heatmap",
    "plot_class_traces", "sort_by_class", "figure_perirun_heatmaps", "figure_class_traces",
    "bdnf_fractions", "plot_bdnf_fraction", "figure_bdnf", "speed_profile", "plot_stress_curve",
    "plot_stress_endpoint", "figure_stress_test", "figure_stress_endpoints",
    "plot_endurance_days", "training_gain", "plot_glucose", "glucose_iauc", "figure_endurance",
    "figure_glucose", "dark_intervals", "subject_means", "plot_metabolic_timecourse",
    "plot_ancova", "figure_metabolic", "plot_group_points", "plot_group_timecourse",
    "figure_tracked_transitions",
    "plot_roi_evidence", "prepare_evidence", "write_evidence_page",
]

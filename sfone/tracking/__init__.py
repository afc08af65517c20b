"""The same ROIs across sessions: field-of-view registration, probabilistic matching, and the
day-1 x day-8 class transitions of tracked cells.

:func:`track` is the entry point (also ``sfone.track`` and ``sfone track``).
"""

from .match import SameCellModel
from .register import RigidTransform, register_images
from .track import Tracks, track
from .transitions import plot_transitions, transition_table, transition_tests

__all__ = ["track", "Tracks", "RigidTransform", "register_images", "SameCellModel",
           "transition_table", "transition_tests", "plot_transitions"]

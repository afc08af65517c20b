"""Third-party extensions declared as package entry points (loaders, batch tasks)."""

from __future__ import annotations

from importlib.metadata import entry_points

from ._logging import warn
from .exceptions import SfoneWarning

__all__ = ["load_entry_points"]


def load_entry_points(group: str, what: str) -> list[tuple[object, object]]:
    """``(entry point, loaded object)`` for every entry point of ``group``; one that fails to
    import is a :class:`SfoneWarning` naming it (``what``: "loader", "batch-task"), not a crash."""
    loaded = []
    for ep in entry_points(group=group):
        try:
            loaded.append((ep, ep.load()))
        except Exception as exc:
            warn(f"sfone {what} plugin {ep.name!r} ({ep.value}) failed to import: {exc!r}",
                 SfoneWarning)
    return loaded

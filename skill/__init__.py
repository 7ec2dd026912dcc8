"""nemo-skill: a dependable runtime for NemoVideo chat skills.

Imports are lazy: ``import skill`` costs almost nothing, so the CLI starts fast.
"""

from __future__ import annotations

TYPE_CHECKING = False

from ._version import __version__

__all__ = ["__version__", "SkillRuntime", "load_manifest", "classify", "Route", "Manifest"]

if TYPE_CHECKING:  # pragma: no cover
    from .manifest import Manifest, load_manifest
    from .router import Route, classify
    from .runtime import SkillRuntime

_LAZY = {
    "SkillRuntime": ("runtime", "SkillRuntime"),
    "load_manifest": ("manifest", "load_manifest"),
    "Manifest": ("manifest", "Manifest"),
    "classify": ("router", "classify"),
    "Route": ("router", "Route"),
}


def __getattr__(name: str) -> object:
    try:
        mod, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'skill' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), attr)
    globals()[name] = value
    return value

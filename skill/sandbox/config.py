"""Configuration of the sandbox backend."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["SandboxConfig"]


@dataclass
class SandboxConfig:
    """Knobs of the in-memory NemoVideo sandbox.

    ``time_scale`` multiplies every simulated duration (render time, generation time,
    keep-alive interval); tests use about 0.02. Fault parameters given in seconds are
    real seconds and are never scaled. ``edit_seconds`` is how long the agent works on a
    timeline edit before answering (simulated, scaled; 0 = at once, the default).
    """

    time_scale: float = 1.0
    keepalive_interval: float = 15.0
    initial_credits: int = 100
    cost_generate: int = 30
    cost_edit: int = 5
    cost_metadata: int = 5
    render_seconds_per_draft_second: float = 0.5
    min_render_seconds: float = 0.3
    generation_seconds: float = 20.0
    long_generation_seconds: float = 60.0
    edit_seconds: float = 0.0
    max_upload_bytes: int = 500 * 1024 * 1024
    event_shape: str = "adk"  # "adk" | "simplified"
    status_shape: str = "mixed"  # "data" | "top" | "mixed"
    token_ttl_seconds: int = 7 * 24 * 3600
    token_retry_after_cap: int = 3600
    data_dir: str | None = None
    max_render_height: int = 1080

    def scaled(self, seconds: float) -> float:
        """``seconds`` of simulated time in wall-clock seconds."""
        return max(0.0, seconds * self.time_scale)

    @property
    def keepalive_seconds(self) -> float:
        return max(0.005, self.keepalive_interval * self.time_scale)

    @classmethod
    def build(cls, config: "SandboxConfig | None" = None, **overrides: Any) -> "SandboxConfig":
        base = config if config is not None else cls()
        if not overrides:
            return replace(base)
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SandboxConfig field(s): {', '.join(sorted(unknown))}")
        cfg = replace(base, **overrides)
        if cfg.event_shape not in ("adk", "simplified"):
            raise ValueError("event_shape must be 'adk' or 'simplified'")
        if cfg.status_shape not in ("data", "top", "mixed"):
            raise ValueError("status_shape must be 'data', 'top' or 'mixed'")
        return cfg

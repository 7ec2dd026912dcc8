"""Where things live and what the environment says (INTERFACE.md "Environment").

Reads nothing but the documented variables and the ``<config>/nemovideo/client_id``
file; never anything else from the user's home.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_WEB_URL",
    "config_dir",
    "state_dir",
    "Settings",
    "detect_platform",
    "load_client_id",
    "new_client_id",
]

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"

_PLATFORMS = ("clawhub", "cursor", "claude", "unknown")


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg)
    return Path.home() / ".config"


def state_dir() -> Path:
    """``<config>/nemovideo``: shared with other NemoVideo skills (same client_id file)."""
    return config_dir() / "nemovideo"


def _ensure_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass


def new_client_id(directory: Path | None = None) -> str:
    """A fresh UUID4, written (0600) to ``<dir>/client_id`` for every later run."""
    directory = directory or state_dir()
    cid = str(uuid.uuid4())
    _ensure_dir(directory)
    from .state import atomic_write_text

    atomic_write_text(directory / "client_id", cid + "\n")
    return cid


def load_client_id(directory: Path | None = None) -> str:
    """``NEMO_CLIENT_ID``, else the ``client_id`` file, else a new UUID4 written there."""
    env = os.environ.get("NEMO_CLIENT_ID", "").strip()
    if env:
        return env
    directory = directory or state_dir()
    path = directory / "client_id"
    try:
        cid = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        cid = ""
    if cid and len(cid) <= 64 and cid.isprintable():
        return cid
    return new_client_id(directory)


def detect_platform(manifest_path: str | os.PathLike | None) -> str:
    """PROTOCOL.md: env ``SKILL_PLATFORM`` (or legacy ``SKILL_SOURCE``) wins; else the
    manifest's install path; else ``unknown``."""
    for var in ("SKILL_PLATFORM", "SKILL_SOURCE"):
        val = os.environ.get(var, "").strip().lower()
        if val:
            return val
    if manifest_path:
        parts = {p.lower() for p in Path(manifest_path).parts}
        if ".clawhub" in parts or ".openclaw" in parts:
            return "clawhub"
        if ".cursor" in parts:
            return "cursor"
        if ".claude" in parts:
            return "claude"
    return "unknown"


@dataclass(frozen=True)
class Settings:
    """The environment as the runtime sees it (explicit arguments win over env)."""

    api_url: str
    web_url: str
    token: str | None
    debug: bool

    @classmethod
    def from_env(cls, api_url: str | None = None, web_url: str | None = None) -> "Settings":
        api = (api_url or os.environ.get("NEMO_API_URL") or DEFAULT_API_URL).rstrip("/")
        web = (web_url or os.environ.get("NEMO_WEB_URL") or DEFAULT_WEB_URL).rstrip("/")
        token = os.environ.get("NEMO_TOKEN", "").strip() or None
        return cls(api_url=api, web_url=web, token=token, debug=os.environ.get("NEMO_DEBUG") == "1")

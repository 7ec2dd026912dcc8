"""In-memory state of the sandbox: accounts, tokens, credits, sessions, files, stats."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .config import SandboxConfig
from .faults import FaultRegistry

__all__ = ["TokenInfo", "User", "Session", "StoredFile", "Stats", "SandboxBackend", "iso_utc"]


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TokenInfo:
    token: str
    user_id: str
    client_id: str | None
    expires_at: float
    revoked: bool = False

    def valid(self, now: float | None = None) -> bool:
        return not self.revoked and (now or time.time()) < self.expires_at


@dataclass
class User:
    user_id: str
    available: int
    frozen: int = 0

    @property
    def total(self) -> int:
        return self.available + self.frozen


@dataclass
class Session:
    session_id: str
    task_id: str
    task_name: str
    language: str
    user_id: str
    draft: dict[str, Any] | None = None
    video_infos: list[dict[str, Any]] = field(default_factory=list)
    generated_media: list[dict[str, Any]] = field(default_factory=list)
    canvas: dict[str, Any] = field(default_factory=lambda: {"width": 1920, "height": 1080, "aspect": "16:9"})
    history: list[dict[str, Any]] = field(default_factory=list)
    revision: int = 0
    created_at: float = field(default_factory=time.time)

    def state(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "video_infos": list(self.video_infos),
            "generated_media": list(self.generated_media),
            "canvas_config": dict(self.canvas),
        }


@dataclass
class StoredFile:
    name: str
    path: str
    content_type: str

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)


@dataclass
class Stats:
    requests: Counter = field(default_factory=Counter)
    token_mints: int = 0
    chat_runs: int = 0
    renders_created: int = 0
    uploads: int = 0
    status_polls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "token_mints": self.token_mints,
            "chat_runs": self.chat_runs,
            "renders_created": self.renders_created,
            "uploads": self.uploads,
            "status_polls": self.status_polls,
        }


class SandboxBackend:
    """All mutable sandbox state. Used from the server's event loop only."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._own_dir = config.data_dir is None
        self.data_dir = config.data_dir or tempfile.mkdtemp(prefix="nemo-sandbox-")
        self.files_dir = os.path.join(self.data_dir, "files")
        os.makedirs(self.files_dir, exist_ok=True)
        self.faults = FaultRegistry()
        self.stats = Stats()
        self.tokens: dict[str, TokenInfo] = {}
        self.client_tokens: dict[str, str] = {}
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.files: dict[str, StoredFile] = {}
        self.renders: dict[str, Any] = {}  # render id -> renders.RenderJob
        self.runs: set[Any] = set()  # live chat runs (asyncio tasks)

    # -- lifecycle ---------------------------------------------------------------------
    def reset(self) -> None:
        for job in list(self.renders.values()):
            job.cancel()
        for task in list(self.runs):
            task.cancel()
        self.runs.clear()
        self.renders.clear()
        self.faults.clear()
        self.stats = Stats()
        self.tokens.clear()
        self.client_tokens.clear()
        self.users.clear()
        self.sessions.clear()
        for stored in self.files.values():
            try:
                os.remove(stored.path)
            except OSError:
                pass
        self.files.clear()

    def close(self) -> None:
        self.reset()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- accounts ----------------------------------------------------------------------
    @staticmethod
    def user_id_for(client_id: str) -> str:
        return "anon_" + hashlib.sha256(client_id.encode("utf-8")).hexdigest()[:16]

    def mint_token(self, client_id: str) -> tuple[TokenInfo | None, int]:
        """A new token, or (None, retry_after_seconds) while one is still valid."""
        now = time.time()
        existing = self.tokens.get(self.client_tokens.get(client_id, ""))
        if existing is not None and existing.valid(now):
            wait = int(existing.expires_at - now) + 1
            return None, max(1, min(wait, self.config.token_retry_after_cap))
        user_id = self.user_id_for(client_id)
        self.users.setdefault(user_id, User(user_id, self.config.initial_credits))
        info = TokenInfo(
            token="nmv_usr_" + secrets.token_urlsafe(24),
            user_id=user_id,
            client_id=client_id,
            expires_at=now + self.config.token_ttl_seconds,
        )
        self.tokens[info.token] = info
        self.client_tokens[client_id] = info.token
        self.stats.token_mints += 1
        return info, 0

    def authenticate(self, authorization: str | None) -> User | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        info = self.tokens.get(token.strip())
        if info is None or not info.valid():
            return None
        return self.users.setdefault(info.user_id, User(info.user_id, self.config.initial_credits))

    def expire_tokens(self) -> None:
        for info in self.tokens.values():
            info.revoked = True

    def set_credits(self, available: int, token: str | None = None, user_id: str | None = None) -> list[str]:
        targets: list[str] = []
        if token and token in self.tokens:
            targets.append(self.tokens[token].user_id)
        if user_id:
            targets.append(user_id)
        if not token and not user_id:
            targets = list(self.users)
        for uid in targets:
            user = self.users.setdefault(uid, User(uid, available))
            user.available = int(available)
        return targets

    # -- sessions ----------------------------------------------------------------------
    def create_session(self, user: User, task_name: str, language: str) -> Session:
        sid = str(secrets.randbelow(9 * 10**18) + 10**18)
        session = Session(
            session_id=sid,
            task_id="task_" + secrets.token_hex(8),
            task_name=task_name or "project",
            language=language or "en",
            user_id=user.user_id,
        )
        self.sessions[sid] = session
        return session

    def get_session(self, sid: str, user: User | None = None) -> Session | None:
        session = self.sessions.get(str(sid))
        if session is None or (user is not None and session.user_id != user.user_id):
            return None
        return session

    def drop_sessions(self) -> None:
        self.sessions.clear()

    # -- files -------------------------------------------------------------------------
    def new_file_path(self, prefix: str, ext: str) -> tuple[str, str]:
        name = f"{prefix}_{secrets.token_hex(8)}{ext.lower()}"
        os.makedirs(self.files_dir, exist_ok=True)
        return name, os.path.join(self.files_dir, name)

    def register_file(self, name: str, path: str, content_type: str) -> StoredFile:
        stored = StoredFile(name=name, path=path, content_type=content_type)
        self.files[name] = stored
        return stored

"""The on-disk state: tokens, sessions and pending render jobs.

One JSON file, ``<config>/nemovideo/skill-state.json``, holding one *profile* per
(API URL, skill name) so the sandbox and production, or two skills, never share a token
or a session. Every read-modify-write happens under an inter-process lock
(``skill-state.lock``, ``flock``/``msvcrt``), every write is atomic (temp file in the same
folder, fsync, ``os.replace``), files are 0600 and the folder 0700. A corrupt file is
moved aside once (``skill-state.json.corrupt-<time>``) and the store starts clean: it
never crashes a command.
"""

from __future__ import annotations

import json
import os
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = [
    "Profile",
    "PendingRender",
    "StateStore",
    "atomic_write_text",
    "file_lock",
    "STATE_FILE",
    "LOCK_FILE",
]

STATE_FILE = "skill-state.json"
BACKUP_FILE = "skill-state.json.bak"
LOCK_FILE = "skill-state.lock"
STATE_VERSION = 1
LOCK_TIMEOUT = 30.0


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` atomically (temp file, fsync, rename); 0600 unless told."""
    path = Path(path)
    directory = path.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = directory / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # explicit: the umask must not loosen (or tighten) it
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _replace(src: Path, dst: Path) -> None:
    """``os.replace``, retried briefly on Windows sharing violations."""
    for attempt in range(10):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))


@contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` across processes (not bound to a thread)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            try:
                yield
            finally:
                os.lseek(fd, 0, 0)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            delay = 0.002
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"state lock busy: {path}") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass
class PendingRender:
    """A render job that was submitted (or is about to be) and not yet downloaded."""

    id: str
    session_id: str
    created_at: float
    out_dir: str | None = None
    submitted: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> "PendingRender | None":
        try:
            return cls(
                id=str(d["id"]),
                session_id=str(d.get("session_id") or ""),
                created_at=float(d.get("created_at") or 0),
                out_dir=d.get("out_dir") if isinstance(d.get("out_dir"), str) else None,
                submitted=bool(d.get("submitted")),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Profile:
    """What the runtime remembers for one (API URL, skill name)."""

    token: str | None = None
    token_expires_at: float | None = None
    user_id: str | None = None
    session_id: str | None = None
    task_id: str | None = None
    language: str | None = None
    pending_renders: list[PendingRender] = field(default_factory=list)

    def token_valid(self, now: float | None = None, skew: float = 300.0) -> bool:
        if not self.token:
            return False
        if self.token_expires_at is None:
            return True
        return (now or time.time()) + skew < self.token_expires_at

    @classmethod
    def from_dict(cls, d: Any) -> "Profile":
        if not isinstance(d, dict):
            return cls()
        def s(key: str) -> str | None:
            v = d.get(key)
            return v if isinstance(v, str) and v else None
        exp = d.get("token_expires_at")
        renders = [PendingRender.from_dict(r) for r in d.get("pending_renders") or [] if isinstance(r, dict)]
        return cls(
            token=s("token"),
            token_expires_at=float(exp) if isinstance(exp, (int, float)) else None,
            user_id=s("user_id"),
            session_id=s("session_id"),
            task_id=s("task_id"),
            language=s("language"),
            pending_renders=[r for r in renders if r is not None],
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        return d


class StateStore:
    """Profiles in one locked, atomic JSON file."""

    def __init__(self, directory: Path | None = None) -> None:
        from .config import state_dir

        self.directory = Path(directory) if directory else state_dir()
        self.path = self.directory / STATE_FILE
        self.lock_path = self.directory / LOCK_FILE
        #: set when a corrupt file was moved aside (the runtime warns once)
        self.recovered_backup: Path | None = None

    @staticmethod
    def key(api_url: str, skill_name: str) -> str:
        return f"{api_url.rstrip('/')}|{skill_name}"

    # -- raw document --------------------------------------------------------------
    def _read_doc(self, *, locked: bool = False) -> dict:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"version": STATE_VERSION, "profiles": {}}
        except OSError:
            raw = None
        if raw is not None:
            try:
                doc = json.loads(raw.decode("utf-8"))
                if isinstance(doc, dict) and isinstance(doc.get("profiles"), dict):
                    return doc
            except (ValueError, UnicodeDecodeError):
                pass
        if not locked:  # repair under the lock, re-reading first (another process may have)
            with file_lock(self.lock_path):
                return self._read_doc(locked=True)
        return self._recover(raw)

    def _recover(self, raw: bytes | None) -> dict:
        """(Under the lock.) Move the damaged file aside and put back the previous good
        version (``.bak``, kept one write behind), else start clean."""
        backup = self.directory / f"{STATE_FILE}.corrupt-{int(time.time())}-{os.getpid()}"
        try:
            os.replace(self.path, backup)
            os.chmod(backup, 0o600)
            self.recovered_backup = backup
            logging.getLogger("skill.state").info("state file unreadable; moved to %s", backup.name)
        except OSError:
            pass
        try:
            text = (self.directory / BACKUP_FILE).read_bytes().decode("utf-8")
            doc = json.loads(text)
            if isinstance(doc, dict) and isinstance(doc.get("profiles"), dict):
                atomic_write_text(self.path, text)
                return doc
        except (OSError, ValueError, UnicodeDecodeError):
            pass
        return {"version": STATE_VERSION, "profiles": {}}

    def _write_doc(self, doc: dict) -> None:
        # keep the version being replaced as .bak (a hard link: no copy) so a file damaged
        # from outside never costs the token; the lock makes this race-free
        bak_tmp = self.directory / f".{BACKUP_FILE}.{os.getpid()}.tmp"
        try:
            os.link(self.path, bak_tmp)
            os.replace(bak_tmp, self.directory / BACKUP_FILE)
        except OSError:
            try:
                os.unlink(bak_tmp)
            except OSError:
                pass
        text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True)
        atomic_write_text(self.path, text)
        if not (self.directory / BACKUP_FILE).exists():  # the very first write: a real copy
            atomic_write_text(self.directory / BACKUP_FILE, text)

    # -- profiles ------------------------------------------------------------------
    def load(self, key: str) -> Profile:
        """A snapshot of one profile (no lock: writes are atomic, so reads see a whole file)."""
        return Profile.from_dict(self._read_doc().get("profiles", {}).get(key))

    def update(self, key: str, fn: Callable[[Profile], Any]) -> Profile:
        """Read-modify-write one profile under the lock; ``fn`` mutates it in place."""
        with file_lock(self.lock_path):
            doc = self._read_doc(locked=True)
            prof = Profile.from_dict(doc["profiles"].get(key))
            fn(prof)
            doc["profiles"][key] = prof.to_dict()
            doc["version"] = STATE_VERSION
            self._write_doc(doc)
            return prof

    @contextmanager
    def locked(self, key: str) -> Iterator[Profile]:
        """Hold the lock across a longer critical section (token renewal): yields a fresh
        profile read under the lock and writes it back on exit."""
        with file_lock(self.lock_path):
            doc = self._read_doc(locked=True)
            prof = Profile.from_dict(doc["profiles"].get(key))
            yield prof
            doc["profiles"][key] = prof.to_dict()
            self._write_doc(doc)

"""Shared fixtures: one sandbox server for the session, reset before each test."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterator

import httpx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from skill.sandbox import SandboxServer  # noqa: E402

pytest_plugins = ["tests.secret_guard"]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(time_scale=0.02)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The shared server, reset to a clean state (accounts, sessions, faults, stats)."""
    httpx.post(sandbox_server.url + "/_sandbox/reset", timeout=10).raise_for_status()
    return sandbox_server


@pytest.fixture
def sandbox_url(sandbox: SandboxServer) -> str:
    return sandbox.url


@pytest.fixture
def fault(sandbox: SandboxServer) -> Callable[..., dict[str, Any]]:
    """``fault(name, count=1, path=None, **params)`` arms a fault on the sandbox."""

    def arm(name: str, count: int = 1, path: str | None = None, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"fault": name, "count": count, "params": params}
        if path is not None:
            body["path"] = path
        response = httpx.post(sandbox.url + "/_sandbox/faults", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    return arm

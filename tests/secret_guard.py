"""pytest plugin: fail any test whose output leaks a bearer token.

Load with ``-p tests.secret_guard`` (or ``pytest_plugins = ["tests.secret_guard"]`` in
``tests/conftest.py``). For every test it

* records every log record of the ``skill`` loggers at DEBUG level (with tracebacks, so
  exception messages are covered), whatever the configured log level;
* after each phase, scans that phase's captured stdout, stderr and log sections, plus the
  recorded records, for ``nmv_usr_`` (the prefix of every NemoVideo token) and for the
  exact tokens in use: those the sandbox minted during the test (read from the
  ``sandbox``/``sandbox_server`` fixture's backend) and ``$NEMO_TOKEN``;
* turns a passing phase into a failure naming where the token appeared (never the token).

A test that deliberately prints a fake token can opt out with
``@pytest.mark.allow_token_output``.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Iterator

import pytest

from skill.sandbox.testing import TOKEN_PREFIX  # noqa: E402 (one definition of the token shape)
_KEY = pytest.StashKey[list]()


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(self.format(record))
        except Exception:  # noqa: BLE001 - a broken record is not our business here
            pass


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_token_output: the test may print a token on purpose")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    rec = _Recorder()
    logger = logging.getLogger("skill")
    old_level = logger.level
    logger.addHandler(rec)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(rec)
        logger.setLevel(old_level)
        item.stash[_KEY] = rec.texts


def _known_tokens(item: pytest.Item) -> set[str]:
    tokens: set[str] = set()
    env = os.environ.get("NEMO_TOKEN", "").strip()
    if env:
        tokens.add(env)
    funcargs = getattr(item, "funcargs", {}) or {}
    for name in ("sandbox", "sandbox_server"):
        srv = funcargs.get(name)
        backend = getattr(srv, "backend", None)
        toks = getattr(backend, "tokens", None)
        if isinstance(toks, dict):
            tokens.update(t for t in list(toks) if isinstance(t, str) and len(t) >= 8)
    return tokens


def _where(report: pytest.TestReport, extra: list[str], tokens: set[str]) -> list[str]:
    found = []

    def bad(text: str) -> bool:
        return TOKEN_PREFIX in text or any(t in text for t in tokens)

    for title, content in report.sections:
        if bad(content):
            found.append(title)
    if any(bad(t) for t in extra):
        found.append("skill log records (DEBUG)")
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if item.get_closest_marker("allow_token_output") is not None:
        return
    extra: list[str] = item.stash.get(_KEY, []) if call.when == "call" else []
    where = _where(report, extra, _known_tokens(item))
    if not where:
        return
    msg = f"secret_guard: a bearer token appeared in the {call.when} phase output: {', '.join(where)}"
    if report.passed:
        report.outcome = "failed"
        report.longrepr = msg
    elif report.failed:
        report.sections.append(("secret_guard", msg))

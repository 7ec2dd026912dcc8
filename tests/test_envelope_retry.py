"""Envelopes, typed errors, Retry-After and back-off: pure functions, table-driven."""

from __future__ import annotations

import email.utils
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.api import _constants as C
from skill.api._envelope import error_from_body, parse_envelope
from skill.api._errors import (
    APIError,
    FileTooLargeError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    PlanRestrictedError,
    RateLimitError,
    ServerError,
    SessionNotFoundError,
    TokenInvalidError,
    UnsupportedFileError,
)
from skill.api._models import RenderJob
from skill.api._retry import backoff_delay, next_poll_delay, parse_retry_after


def j(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    "status,body,exc",
    [
        (200, j({"code": 1001, "message": "expired"}), TokenInvalidError),
        (401, j({"code": 1001, "message": "expired"}), TokenInvalidError),
        (401, b"", TokenInvalidError),
        (200, j({"code": 1002, "message": "no session"}), SessionNotFoundError),
        (404, j({"detail": "Session not found: 42"}), SessionNotFoundError),
        (200, j({"code": 2001, "message": "no credits"}), InsufficientCreditsError),
        (403, j({"code": 2001}), InsufficientCreditsError),
        (200, j({"code": 4001}), UnsupportedFileError),
        (413, j({"code": 4002}), FileTooLargeError),
        (413, b"<html>too large</html>", FileTooLargeError),
        (400, j({"code": 400, "message": "missing X-Client-Id"}), MissingClientIdError),
        (400, b"", MissingClientIdError),
        (402, j({"success": False, "error": "free plan export blocked"}), PlanRestrictedError),
        (402, b"", PlanRestrictedError),
        (429, j({"code": 429}), RateLimitError),
        (429, b"", RateLimitError),
        (500, b"<html>oops</html>", ServerError),
        (503, b"", ServerError),
        (200, j({"success": False, "error": "bad draft"}), ServerError),
        (200, b"<html>proxy login page</html>", ServerError),
        (404, j({"success": False, "error": "render not found"}), ServerError),
        (200, j({"code": 9999, "message": "new error"}), ServerError),
    ],
)
def test_error_mapping(status, body, exc):
    err = error_from_body(status, {}, body, "GET /x")
    assert isinstance(err, exc)
    assert err.status == status
    assert err.request == "GET /x"


@pytest.mark.parametrize(
    "body,expected",
    [
        (j({"code": 0, "message": "ok", "data": {"a": 1}}), {"a": 1}),
        (j({"success": True, "data": {"id": "r"}}), {"id": "r"}),
        (j({"code": 0, "data": None}), {}),
        (b"", {}),
        (j({"plain": True}), {"plain": True}),
        (j({"code": "0", "data": {"s": "x"}}), {"s": "x"}),
    ],
)
def test_success_unwrap(body, expected):
    assert parse_envelope(200, {}, body) == expected


def test_retry_after_header_on_error():
    err = error_from_body(429, {"retry-after": "7"}, b"", None)
    assert isinstance(err, RateLimitError) and err.retry_after == 7


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date():
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 5, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(5, abs=1)


def test_backoff_is_capped_and_jittered():
    assert backoff_delay(0, rnd=0) == C.INITIAL_RETRY_DELAY
    assert backoff_delay(10, rnd=0) == C.MAX_RETRY_DELAY
    assert backoff_delay(10, rnd=1) == C.MAX_RETRY_DELAY * 0.75


def test_poll_delay_fast_start_backoff_cap_and_hints():
    d = None
    seen = []
    for _ in range(12):
        d = next_poll_delay(d)
        seen.append(d)
    assert seen[0] == C.POLL_INITIAL and max(seen) == C.POLL_MAX and seen == sorted(seen)
    assert next_poll_delay(1.0, retry_after=9) >= 9
    # with progress, each poll halves the distance to the estimated finish...
    assert next_poll_delay(15.0, elapsed=50, progress=50) == pytest.approx(C.POLL_MAX if 25 > C.POLL_MAX else 25)
    assert next_poll_delay(15.0, elapsed=90, progress=90) == pytest.approx(5.0)
    # ...and near the end it polls every 4% of the expected total, not sparser
    assert next_poll_delay(15.0, elapsed=99, progress=99) == pytest.approx(C.POLL_NEAR_END * 100, rel=0.02)


def test_render_job_shapes():
    a = RenderJob.from_body({"success": True, "data": {"id": "r1", "status": "completed", "progress": 100,
                                                       "outputUrl": "http://x/a.mp4"}})
    b = RenderJob.from_body({"id": "r1", "status": "completed", "output": {"url": "http://x/b.mp4"}})
    c = RenderJob.from_body({"success": True, "status": "processing", "data": {"progress": "40"}})
    d = RenderJob.from_body({"status": "failed", "error": "codec"})
    assert a.done and a.output_url == "http://x/a.mp4"
    assert b.done and b.output_url == "http://x/b.mp4"
    assert not c.done and c.progress == 40 and c.status == "processing"
    assert d.failed and d.error == "codec"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([200, 201, 400, 401, 402, 403, 404, 413, 429, 500, 502, 503]),
       body=json_values | st.dictionaries(st.sampled_from(["code", "success", "data", "detail", "message", "error"]),
                                          json_values, max_size=4))
def test_envelope_fuzz_raises_only_documented_errors(status, body):
    raw = json.dumps(body).encode()
    try:
        parse_envelope(status, {}, raw, "GET /f")
    except NemoError as exc:
        assert isinstance(exc, APIError)
    RenderJob.from_body(body)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_envelope_fuzz_bytes(raw):
    try:
        parse_envelope(200, {}, raw)
    except NemoError:
        pass

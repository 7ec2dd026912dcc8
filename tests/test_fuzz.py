"""Property-based fuzzing (hypothesis) of every parser that reads untrusted input: the SSE
decoder, the envelope parser, the event payload parser, the manifest loader, the router
and the timeline. None may raise anything but the documented error types (subclasses of
``skill.api.NemoError``); chunking the stream differently never changes the events.

``NEMO_SLOW=1`` runs ten times as many examples."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skill.api import NemoError
from skill.api._envelope import error_from_body, parse_envelope
from skill.api._events import parse_payload
from skill.api._sse import decode_frames, iter_events_from_text
from skill.manifest import ManifestError, parse_manifest
from skill.router import classify
from skill.timeline import describe_draft_change, diff, summarize

SLOW = os.environ.get("NEMO_SLOW") == "1"
FUZZ = settings(max_examples=1000 if SLOW else 100, deadline=None, derandomize=not SLOW,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# JSON of any shape, with the keys the parsers look at over-represented.
KEYS = st.sampled_from([
    "code", "message", "data", "success", "error", "detail", "msg", "type", "content", "parts", "text",
    "thought", "partial", "functionCall", "function_call", "functionResponse", "name", "args", "id",
    "response", "errorCode", "errorMessage", "error_code", "longRunningToolIds", "long_running_tool_ids",
    "role", "author", "invocationId", "t", "tt", "sg", "d", "m", "s", "st", "start", "v", "vol", "volume",
    "title", "width", "height", "status", "progress", "output", "outputUrl", "url",
]) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**64)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
JSON = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(KEYS, kids, max_size=6),
                    max_leaves=30)


def _canon(events: list[Any]) -> list[str]:
    return [repr(e) for e in events]


# -- SSE ----------------------------------------------------------------------------------

SSE_PIECES = st.lists(st.one_of(
    st.text(max_size=40),
    st.sampled_from(["data: ", "data:", ": ping", "event: x", "id: 1", "retry: 5", "\n", "\r", "\r\n", "\n\n",
                     "\u2028", "\u0085", "你好", "🎬", '{"type":"text","content":"hi"}',
                     '{"content":{"parts":[{"text":"a"}]},"partial":true}', '{"error":"x"}',
                     '{"content":{"parts":[{"functionCall":{"name":"edit","args":{}}}]}}', "{", "}", '"']),
    JSON.map(lambda o: "data: " + json.dumps(o) + "\n\n"),
), max_size=25).map("".join)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    out, prev = [], 0
    for p in points:
        out.append(text[prev:p])
        prev = p
    out.append(text[prev:])
    return out


@FUZZ
@given(text=SSE_PIECES, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_sse_chunking_never_changes_events(text, cuts):
    whole = decode_frames([text])
    assert _canon(decode_frames(_split(text, cuts))) == _canon(whole)
    assert _canon(decode_frames(list(text))) == _canon(whole)  # one character at a time


@FUZZ
@given(raw=st.binary(max_size=400), cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=8))
def test_sse_arbitrary_bytes_decoded(raw, cuts):
    text = raw.decode("utf-8", errors="replace")
    events = decode_frames([text])
    assert _canon(decode_frames(_split(text, cuts))) == _canon(events)


async def _stream(chunks: list[str]) -> list[Any]:
    async def gen():
        for c in chunks:
            yield c

    out = []
    try:
        async for ev in iter_events_from_text(gen(), max_line_chars=10_000):
            out.append(ev)
    except NemoError:
        out.append("<refused>")
    return out


@FUZZ
@given(text=SSE_PIECES, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_sse_streaming_matches_batch_decoder(text, cuts):
    streamed = asyncio.run(_stream(_split(text, cuts)))
    assert _canon(streamed) == _canon(decode_frames([text]))


def test_sse_streaming_refuses_an_endless_line():
    got = asyncio.run(_stream(["data: " + "x" * 6000, "y" * 6000]))
    assert got == ["<refused>"]


# -- envelopes and payloads ---------------------------------------------------------------

@FUZZ
@given(obj=JSON, status=st.sampled_from([200, 201, 204, 400, 401, 402, 403, 404, 408, 413, 415, 422, 429, 500,
                                         502, 503, 504]),
       retry_after=st.none() | st.text(max_size=12) | st.integers(-5, 10**6).map(str))
def test_envelope_parser_only_raises_nemo_errors(obj, status, retry_after):
    headers = {} if retry_after is None else {"retry-after": retry_after}
    body = json.dumps(obj).encode()
    try:
        parse_envelope(status, headers, body, "GET /x")
    except NemoError as exc:
        assert str(exc) and repr(exc)
    err = error_from_body(status, headers, body)
    assert err is None or isinstance(err, NemoError)
    if status >= 400:
        assert err is not None  # an error status is never taken for a success


@FUZZ
@given(raw=st.binary(max_size=200), status=st.integers(100, 599))
def test_envelope_parser_on_raw_bytes(raw, status):
    try:
        parse_envelope(status, {}, raw, "GET /x", unwrap=bool(status % 2))
    except NemoError:
        pass


@FUZZ
@given(obj=JSON)
def test_event_payload_parser_never_raises(obj):
    events = parse_payload(obj)
    assert isinstance(events, list) and events


# -- router, manifest, timeline -----------------------------------------------------------

@FUZZ
@given(text=st.text(max_size=300), files=st.lists(st.text(max_size=30), max_size=3))
def test_router_classify_total(text, files):
    r = classify(text, tuple(files))
    assert r.intent in {"export", "credits", "state", "upload", "chat"}


YAMLISH = st.one_of(
    st.text(max_size=300),
    st.tuples(st.text(max_size=120), st.text(max_size=60)).map(lambda t: f"---\n{t[0]}\n---\n{t[1]}"),
    st.dictionaries(st.sampled_from(["name", "version", "description", "metadata", "displayName", "homepage",
                                     "examples"]) | st.text(max_size=6), JSON, max_size=6)
    .map(lambda d: "---\n" + json.dumps(d) + "\n---\nbody\n"),
    st.sampled_from(["---\nname: [\n---\n", "---\n: :\n---", "---\nname: x\n", "---\n!!python/object:os.system x\n---",
                     "---\nname: &a [*a]\n---\n", "---\n" + "a: " * 50 + "\n---", "\ufeff---\nname: x\n---\n"]),
)


@FUZZ
@given(text=YAMLISH)
def test_manifest_loader_raises_only_manifest_error(text):
    try:
        m = parse_manifest(text)
    except ManifestError as exc:
        assert str(exc)
    else:
        assert m.name


DRAFTS = st.one_of(
    JSON,
    st.fixed_dictionaries({"t": st.lists(st.dictionaries(KEYS, JSON, max_size=5) | JSON, max_size=4)},
                          optional={"d": JSON, "m": JSON}),
    st.fixed_dictionaries({"t": st.lists(st.fixed_dictionaries(
        {"tt": st.sampled_from([0, 1, 7, 3, "0", None, -1]),
         "sg": st.lists(st.dictionaries(KEYS, SCALARS, max_size=6) | SCALARS, max_size=4)}), max_size=4)}),
)


@FUZZ
@given(a=DRAFTS, b=DRAFTS, lang=st.sampled_from(["en", "zh", "xx", ""]))
def test_timeline_functions_are_total(a, b, lang):
    assert isinstance(summarize(a, lang), str)
    out = diff(a, b, lang)
    assert isinstance(out, list) and all(isinstance(x, str) for x in out)
    ch = describe_draft_change(a, b, lang)
    assert ch is None or isinstance(ch, str)
    assert describe_draft_change(a, a, lang) is None  # no change is never reported as one


PART = st.fixed_dictionaries({}, optional={
    "text": JSON, "thought": JSON, "functionCall": JSON | st.fixed_dictionaries({}, optional={
        "id": JSON, "name": JSON, "args": JSON}),
    "functionResponse": JSON | st.fixed_dictionaries({}, optional={"id": JSON, "name": JSON, "response": JSON})})
ADK_EVENT = st.fixed_dictionaries(
    {"content": st.fixed_dictionaries({"parts": st.lists(PART | JSON, min_size=1, max_size=3)},
                                      optional={"role": JSON})},
    optional={"partial": JSON, "author": JSON, "invocationId": JSON, "longRunningToolIds": JSON,
              "long_running_tool_ids": JSON, "errorCode": JSON, "errorMessage": JSON})


@FUZZ
@given(obj=ADK_EVENT)
@example(obj={"content": {"parts": [{"text": "hi"}]}, "longRunningToolIds": [["x"]]})
def test_event_payload_adk_shapes_never_raise(obj):
    assert parse_payload(obj)
    frame = "data: " + json.dumps(obj) + "\n\n"
    decode_frames([frame])  # the same payload arriving on the stream

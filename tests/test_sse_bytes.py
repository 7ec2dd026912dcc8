"""Byte-level SSE: chunking, line endings, UTF-8 split across chunks, comments, multi-line
data, missing final blank line, malformed and oversized frames, non-SSE error replies."""

from __future__ import annotations

import json

import httpx
import pytest

from skill.api import (
    Attribution,
    ErrorEvent,
    KeepAliveEvent,
    NemoClient,
    PlanRestrictedError,
    ServerError,
    SessionNotFoundError,
    StreamInterruptedError,
    TextEvent,
    ThoughtEvent,
    ToolCallEvent,
    ToolResultEvent,
    TokenInvalidError,
)
from skill.api._sse import decode_frames

ATTR = Attribution("test-skill", "1.0.0", "unknown")


def adk_text(text: str, partial: bool = False) -> dict:
    return {"content": {"role": "model", "parts": [{"text": text}]}, "partial": partial, "author": "nemo_agent",
            "invocationId": "e-1", "id": "abcdefgh", "timestamp": 1.0,
            "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}}}


def frame(obj: object, nl: str = "\n") -> bytes:
    return f"data: {json.dumps(obj, ensure_ascii=False)}{nl}{nl}".encode()


def stream_client(chunks: list[bytes], status: int = 200, ctype: str = "text/event-stream",
                  seen: list | None = None) -> NemoClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == "/run_sse":
            return httpx.Response(status, headers={"content-type": ctype}, stream=_Chunks(chunks))
        return httpx.Response(404)

    return NemoClient(api_url="http://test", attribution=ATTR, token="tok-123",
                      transport=httpx.MockTransport(handler))


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for c in self.chunks:
            yield c


async def collect(client: NemoClient) -> list:
    out = []
    async with client.chat("123", "hi") as events:
        async for ev in events:
            out.append(ev)
    await client.aclose()
    return out


def one_byte_chunks(data: bytes) -> list[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


async def test_one_byte_at_a_time_crlf_and_unicode_separators():
    text = "a\u2028b — 你好 🎬"
    data = frame(adk_text(text), "\r\n") + b'data: {"type":"text","content":"two"}\r\r'
    events = await collect(stream_client(one_byte_chunks(data)))
    texts = [e.text for e in events if isinstance(e, TextEvent)]
    assert texts == [text, "two"]


async def test_cr_lf_split_across_chunks_does_not_end_event_early():
    data = b'data: {"type":"text",\r\ndata: "content":"joined"}\r\n\r\n'
    i = data.index(b"\r\n") + 1  # split between CR and LF
    events = await collect(stream_client([data[:i], data[i:]]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["joined"]


async def test_utf8_multibyte_split_across_chunks():
    data = frame(adk_text("点击导出 🎬"))
    pos = data.index("🎬".encode()) + 2
    events = await collect(stream_client([data[:pos], data[pos:]]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["点击导出 🎬"]


async def test_comments_and_empty_data_are_keepalives():
    data = b": ping\n\ndata:\n\n" + frame({"type": "heartbeat"}) + frame(adk_text("done"))
    events = await collect(stream_client([data]))
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("KeepAliveEvent") == 3
    assert isinstance(events[-1], TextEvent) and events[-1].text == "done"


async def test_multiline_data_is_joined_with_newline():
    obj = adk_text("x")
    raw = json.dumps(obj, indent=1).split("\n")
    data = "".join(f"data: {ln}\n" for ln in raw).encode() + b"\n"
    events = await collect(stream_client([data]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["x"]


async def test_missing_final_blank_line_is_flushed():
    data = frame(adk_text("first")) + b'data: {"type":"text","content":"last"}'
    events = await collect(stream_client([data]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["first", "last"]


async def test_malformed_frames_are_skipped():
    data = b"data: {not json\n\n" + b'data: {"unterminated": "str\n\n' + frame(adk_text("ok"))
    events = await collect(stream_client([data]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["ok"]


async def test_event_and_id_lines_are_ignored():
    data = b"event: message\nid: 7\nretry: 10\n" + frame(adk_text("ok"))
    events = await collect(stream_client([data]))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["ok"]


async def test_adk_parts_tool_calls_thoughts_and_errors():
    call = {"content": {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "edit_multitrack",
                                                                      "args": {"a": 1}}}]},
            "longRunningToolIds": ["c1"]}
    result = {"content": {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "edit_multitrack",
                                                                           "response": {"ok": True}}}]}}
    thought = {"content": {"role": "model", "parts": [{"text": "planning", "thought": True}]}}
    err = {"errorCode": "MAX_TOKENS", "errorMessage": "too long"}
    data = frame(call) + frame(result) + frame(thought) + frame(err) + frame({"error": "boom"})
    events = await collect(stream_client([data]))
    assert isinstance(events[0], ToolCallEvent) and events[0].name == "edit_multitrack" and events[0].long_running
    assert isinstance(events[1], ToolResultEvent)
    assert isinstance(events[2], ThoughtEvent)
    assert isinstance(events[3], ErrorEvent) and events[3].code == "MAX_TOKENS"
    assert isinstance(events[4], ErrorEvent) and events[4].message == "boom"


async def test_simplified_shape():
    data = (frame({"type": "tool_call", "name": "generate_video_with_seedance", "args": {}})
            + frame({"type": "tool_result", "name": "generate_video_with_seedance", "result": {}})
            + frame({"type": "text", "content": "hello"}))
    events = await collect(stream_client([data]))
    assert [type(e) for e in events] == [ToolCallEvent, ToolResultEvent, TextEvent]


async def test_partial_flag_is_carried():
    data = frame(adk_text("Hel", True)) + frame(adk_text("lo", True)) + frame(adk_text("Hello"))
    events = await collect(stream_client([data]))
    assert [(e.text, e.partial) for e in events] == [("Hel", True), ("lo", True), ("Hello", False)]


async def test_oversized_line_is_refused_without_buffering_forever(monkeypatch):
    import skill.api._sse as sse

    big = b"data: " + b"x" * (3 * 1024 * 1024)
    client = stream_client([big[i:i + 65536] for i in range(0, len(big), 65536)])
    with pytest.raises(StreamInterruptedError):
        out = []
        async with client.chat("1", "hi") as events:
            async for ev in sse.iter_events_from_text(_texts([big.decode()]), max_line_chars=1024 * 1024):
                out.append(ev)
    await client.aclose()


async def _texts(items):
    for i in range(0, len(items[0]), 65536):
        yield items[0][i:i + 65536]


@pytest.mark.parametrize(
    "status,ctype,body,exc",
    [
        (404, "application/json", b'{"detail":"Session not found: 123"}', SessionNotFoundError),
        (401, "application/json", b'{"code":1001,"message":"token expired"}', TokenInvalidError),
        (413, "text/html", b"<html><body>413 Request Entity Too Large</body></html>", None),
        (502, "text/html", b"<html>bad gateway</html>", ServerError),
        (200, "application/json", b'{"code":0,"data":{}}', ServerError),
        (402, "application/json", b'{"success":false,"error":"free plan"}', PlanRestrictedError),
    ],
)
async def test_non_sse_replies_become_typed_errors(status, ctype, body, exc):
    from skill.api import FileTooLargeError

    client = NemoClient(api_url="http://test", attribution=ATTR, token="tok-123",
                        transport=httpx.MockTransport(lambda r: httpx.Response(status, headers={"content-type": ctype},
                                                                               content=body)))
    expected = exc or FileTooLargeError
    with pytest.raises(expected) as info:
        async with client.chat("123", "hi") as events:
            async for _ in events:
                pass
    assert "tok-123" not in str(info.value) and "tok-123" not in repr(info.value)
    await client.aclose()


async def test_content_type_with_charset_and_params_is_accepted():
    data = frame(adk_text("ok"))
    events = await collect(stream_client([data], ctype="text/event-stream; charset=utf-8"))
    assert [e.text for e in events if isinstance(e, TextEvent)] == ["ok"]


async def test_broken_body_is_stream_interrupted():
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield frame(adk_text("part"))
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    client = NemoClient(api_url="http://test", attribution=ATTR, token="t",
                        transport=httpx.MockTransport(lambda r: httpx.Response(
                            200, headers={"content-type": "text/event-stream"}, stream=Broken())))
    got = []
    with pytest.raises(StreamInterruptedError):
        async with client.chat("1", "hi") as events:
            async for ev in events:
                got.append(ev)
    assert [e.text for e in got if isinstance(e, TextEvent)] == ["part"]
    await client.aclose()


async def test_request_body_and_headers_follow_the_contract():
    seen: list[httpx.Request] = []
    await collect(stream_client([frame(adk_text("ok"))], seen=seen))
    req = seen[0]
    body = json.loads(req.content)
    assert body == {"app_name": "nemo_agent", "user_id": "me", "session_id": "123",
                    "new_message": {"role": "user", "parts": [{"text": "hi"}]}}
    assert req.headers["accept"] == "text/event-stream"
    assert req.headers["authorization"] == "Bearer tok-123"
    assert req.headers["x-skill-source"] == "test-skill"
    assert req.headers["x-skill-version"] == "1.0.0"
    assert req.headers["x-skill-platform"] == "unknown"
    assert req.headers["accept-encoding"] == "identity"


def test_decode_frames_is_pure_and_total():
    out = decode_frames(["data: {\"type\":\"text\",\"content\":\"a\"}\n", "\n", ": c\n\n", "garbage\n\n"])
    assert [type(e) for e in out] == [TextEvent, KeepAliveEvent]

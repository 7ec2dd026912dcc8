"""The sandbox backend over real loopback HTTP: contract, scripted agent, renders, faults."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from skill.sandbox import SandboxServer

ATTR = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9.1", "X-Skill-Platform": "unknown"}


# -- helpers ------------------------------------------------------------------------------

def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: str) -> dict[str, Any]:
    out = subprocess.run([ffmpeg(), "-hide_banner", "-i", path], capture_output=True, text=True).stderr
    m = re.search(r"Duration:\s*(\d+):(\d+):([\d.]+)", out)
    size = re.search(r"Video:\s*(\w+).*?\b(\d{2,5})x(\d{2,5})\b", out)
    assert m and size, out
    return {"duration": int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]), "codec": size[1],
            "width": int(size[2]), "height": int(size[3]), "audio": "Audio:" in out}


def parse_sse(raw: str) -> list[Any]:
    """Tolerant parser: payloads (dicts), "" for empty data, None for comment-only frames."""
    events: list[Any] = []
    for block in re.split(r"\n\n", raw.replace("\r\n", "\n")):
        if not block.strip():
            continue
        data = [ln[5:].lstrip(" ") if ln.startswith("data:") else None for ln in block.split("\n")]
        lines = [d for d in data if d is not None]
        if not lines:
            events.append(None)
            continue
        joined = "\n".join(lines)
        if not joined.strip():
            events.append("")
            continue
        try:
            events.append(json.loads(joined))
        except ValueError:
            events.append({"_invalid": joined})
    return events


def texts(events: list[Any], partial: bool = False) -> list[str]:
    out = []
    for ev in events:
        if not isinstance(ev, dict):
            continue
        if ev.get("type") == "text":
            out.append(ev["content"])
        for part in (ev.get("content") or {}).get("parts", []) if isinstance(ev.get("content"), dict) else []:
            if "text" in part and not part.get("thought") and bool(ev.get("partial")) == partial:
                out.append(part["text"])
    return out


def tool_calls(events: list[Any]) -> list[str]:
    names = []
    for ev in events:
        if isinstance(ev, dict) and isinstance(ev.get("content"), dict):
            names += [p["functionCall"]["name"] for p in ev["content"]["parts"] if "functionCall" in p]
    return names


class Client:
    """A minimal client for the sandbox (token, session, chat, state...)."""

    def __init__(self, url: str, client_id: str = "client-1") -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        r = self.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
        assert r.status_code == 200, r.text
        self.token_data = r.json()["data"]
        self.headers = {"Authorization": "Bearer " + self.token_data["token"], **ATTR}
        self.sid = self.new_session()

    def new_session(self, language: str = "en") -> str:
        r = self.http.post("/api/tasks/me/with-session/nemo_agent", headers=self.headers,
                           json={"task_name": "project", "language": language})
        return r.json()["data"]["session_id"]

    def chat_raw(self, text: str, streaming: bool | None = None) -> httpx.Response:
        body: dict[str, Any] = {"app_name": "nemo_agent", "user_id": "me", "session_id": self.sid,
                                "new_message": {"role": "user", "parts": [{"text": text}]}}
        if streaming is not None:
            body["streaming"] = streaming
        return self.http.post("/run_sse", headers={**self.headers, "Accept": "text/event-stream"}, json=body)

    def chat(self, text: str, streaming: bool | None = None) -> tuple[str, list[Any]]:
        r = self.chat_raw(text, streaming)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/event-stream")
        return r.text, parse_sse(r.text)

    def state(self) -> dict[str, Any]:
        r = self.http.get(f"/api/state/nemo_agent/me/{self.sid}/latest", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()["data"]["state"]

    def credits(self) -> dict[str, int]:
        return self.http.get("/api/credits/balance/simple", headers=self.headers).json()["data"]

    def upload(self, path: str, name: str | None = None) -> httpx.Response:
        with open(path, "rb") as fh:
            return self.http.post(f"/api/upload-video/nemo_agent/me/{self.sid}", headers=self.headers,
                                  files=[("files", (name or os.path.basename(path), fh, "video/mp4"))])

    def render(self, render_id: str, draft: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/api/render/proxy/lambda", headers=headers or self.headers,
                              json={"id": render_id, "sessionId": self.sid, "draft": draft,
                                    "output": {"format": "mp4", "quality": "high"}})

    def poll(self, render_id: str) -> dict[str, Any]:
        r = self.http.get(f"/api/render/proxy/lambda/{render_id}", headers=self.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        data = body.get("data") if isinstance(body.get("data"), dict) else body
        url = (body.get("output") or {}).get("url") or data.get("outputUrl")
        return {"status": body.get("status") or data["status"], "progress": data.get("progress"), "url": url,
                "error": data.get("error") or body.get("error"), "retry_after": r.headers.get("retry-after")}

    def wait_render(self, render_id: str, timeout: float = 20) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.poll(render_id)
            if st["status"] in ("completed", "failed"):
                return st
            time.sleep(0.1)
        raise AssertionError("render did not finish")


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("media") / "city_timelapse.mp4")
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25:duration=2", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", path], check=True, stdin=subprocess.DEVNULL)
    return path


@pytest.fixture
def client(sandbox_url: str) -> Client:
    return Client(sandbox_url)


# -- auth, sessions, credits ---------------------------------------------------------------

def test_token_rules(sandbox_url: str, fault: Any) -> None:
    c = Client(sandbox_url, "cid-a")
    d = c.token_data
    assert d["token"].startswith("nmv_usr_") and re.fullmatch(r"anon_[0-9a-f]{16}", d["user_id"])
    assert d["credits"] == 100 and d["expires_at"].endswith("Z")
    again = httpx.post(sandbox_url + "/api/auth/anonymous-token", headers={"X-Client-Id": "cid-a"})
    assert again.status_code == 429 and again.json()["code"] == 429 and int(again.headers["Retry-After"]) > 0
    missing = httpx.post(sandbox_url + "/api/auth/anonymous-token")
    assert missing.status_code == 400 and missing.json()["code"] == 400
    fault("missing_client_id")
    assert httpx.post(sandbox_url + "/api/auth/anonymous-token",
                      headers={"X-Client-Id": "cid-b"}).status_code == 400
    # expire_token: old token -> 1001; a new one may be minted, same user id
    fault("expire_token")
    r = c.http.get("/api/credits/balance/simple", headers=c.headers)
    assert r.status_code == 401 and r.json()["code"] == 1001
    c2 = Client(sandbox_url, "cid-a")
    assert c2.token_data["user_id"] == d["user_id"] and c2.token_data["token"] != d["token"]
    assert httpx.get(sandbox_url + "/api/credits/balance/simple").json()["code"] == 1001


def test_session_credits_state(client: Client) -> None:
    assert re.fullmatch(r"\d{15,20}", client.sid)
    assert client.credits() == {"available": 100, "frozen": 0, "total": 100}
    st = client.state()
    assert not st["draft"] and st["video_infos"] == [] and st["canvas_config"]["width"] == 1920
    r = client.http.get("/api/state/nemo_agent/me/123/latest", headers=client.headers)
    assert r.status_code == 404 and r.json()["code"] == 1002


def test_out_of_credits_and_set_balance(client: Client, sandbox_url: str) -> None:
    httpx.post(sandbox_url + "/_sandbox/credits", json={"token": client.token_data["token"], "available": 10})
    r = client.chat_raw("generate a 10-second promo video")
    assert r.status_code == 403 and r.json()["code"] == 2001
    assert client.credits()["available"] == 10


def test_drop_session(client: Client, fault: Any) -> None:
    fault("drop_session")
    r = client.chat_raw("hello")
    assert r.status_code == 404 and r.json() == {"detail": f"Session not found: {client.sid}"}
    r = client.http.post(f"/api/upload-video/nemo_agent/me/{client.sid}", headers=client.headers,
                         json={"urls": ["https://example.com/a.mp4"], "source_type": "url"})
    assert r.json()["code"] == 1002


# -- uploads -------------------------------------------------------------------------------

def test_upload_multipart_probe_and_cdn(client: Client, clip: str) -> None:
    name = "城市 timelapse é.mp4"
    r = client.upload(clip, name)
    assert r.status_code == 200, r.text
    body = r.json()["data"]
    f = body["files"][0]
    assert body["session_state_applied"] is True
    assert f["filename"] == name and f["file_type"] == "video"
    assert abs(f["duration"] - 2.0) < 0.2 and (f["width"], f["height"]) == (320, 240) and f["fps"] == 25
    assert f["size"] == os.path.getsize(clip) and f["hash"]
    assert client.state()["video_infos"][0]["filename"] == name
    got = httpx.get(f["cdn_url"])
    assert got.status_code == 200 and got.content == open(clip, "rb").read()


def test_upload_urls_and_type_errors(client: Client, clip: str, tmp_path: Any) -> None:
    url = f"/api/upload-video/nemo_agent/me/{client.sid}"
    r = client.http.post(url, headers=client.headers,
                         json={"urls": ["https://cdn.example.com/v/beach%20day.mov"], "source_type": "url"})
    f = r.json()["data"]["files"][0]
    assert f["filename"] == "beach day.mov" and f["duration"] == 10 and f["width"] == 1920
    r = client.http.post(url, headers=client.headers, json={"urls": ["ftp://x/a.mp4"], "source_type": "url"})
    assert r.json()["code"] == 4001
    # a loopback URL pointing at the sandbox's own file is probed for real
    own = client.upload(clip).json()["data"]["files"][0]["cdn_url"]
    r = client.http.post(url, headers=client.headers, json={"urls": [own], "source_type": "url"})
    assert abs(r.json()["data"]["files"][0]["duration"] - 2.0) < 0.2
    bad = tmp_path / "notes.txt"
    bad.write_text("hi")
    r = client.upload(str(bad))
    assert r.status_code == 415 and r.json()["code"] == 4001


def test_upload_too_large_and_zero_file(tmp_path: Any) -> None:
    big = tmp_path / "zeros.mp4"
    with open(big, "wb") as fh:
        fh.truncate(300_000)
    with SandboxServer(time_scale=0.02, max_upload_bytes=100_000) as srv:
        c = Client(srv.url)
        r = c.upload(str(big))
        assert r.status_code == 413 and r.json()["code"] == 4002
    with SandboxServer(time_scale=0.02) as srv:
        c = Client(srv.url)
        f = c.upload(str(big)).json()["data"]["files"][0]
        assert f["duration"] == 0 and f["width"] == 0 and f["size"] == 300_000


def test_reset_upload(client: Client, clip: str, fault: Any) -> None:
    fault("reset_upload")
    with pytest.raises(httpx.TransportError):
        client.upload(clip)
    assert client.upload(clip).status_code == 200


# -- the scripted agent --------------------------------------------------------------------

def test_metadata_reply_uses_real_media(client: Client, clip: str) -> None:
    client.upload(clip)
    raw, events = client.chat("Generate a title, description and tags for YouTube")
    assert "analyze_media" in tool_calls(events)
    text = "\n".join(texts(events))
    assert "2.0" in text and "320x240" in text and "YouTube" in text
    assert "Title:" in text and "Tags:" in text and "Export button" in text
    assert client.credits()["available"] == 95
    st = client.state()
    assert st["draft"]["t"][0]["tt"] == 0 and st["draft"]["d"] == 2000
    _, zh = client.chat("帮我写个标题和简介")
    zh_text = "".join(texts(zh))
    assert "标题" in zh_text and "导出" in zh_text


def test_metadata_without_media_asks_for_video(client: Client) -> None:
    _, events = client.chat("write tags and a description")
    assert "upload" in "".join(texts(events)).lower()
    assert client.credits()["available"] == 100


def test_silent_bgm_edit(client: Client, clip: str) -> None:
    client.upload(clip)
    _, events = client.chat("add some lo-fi background music")
    assert texts(events) == [] and tool_calls(events) == ["edit_multitrack"]
    responses = [p for e in events if isinstance(e, dict) for p in e["content"]["parts"] if "functionResponse" in p]
    assert responses and events[-1]["content"]["role"] == "user"
    draft = client.state()["draft"]
    audio = [t for t in draft["t"] if t["tt"] == 1][0]["sg"][0]
    assert audio["m"]["name"] == "Lo-fi" and audio["v"] == 35 and audio["d"] == draft["d"]
    assert client.credits()["available"] == 95


def test_title_trim_cut_subtitles_edits(client: Client, clip: str) -> None:
    client.upload(clip)
    client.upload(clip)
    _, ev = client.chat("add a title 'Urban Dreams'")
    assert texts(ev) == []
    title = [t for t in client.state()["draft"]["t"] if t["tt"] == 7][0]["sg"][0]
    assert title["m"]["text"] == "Urban Dreams" and title["st"] == 0 and title["d"] == 3000
    client.chat("标题改成城市之梦")
    titles = [s["m"]["text"] for t in client.state()["draft"]["t"] if t["tt"] == 7 for s in t["sg"]]
    assert titles == ["城市之梦"]
    client.chat("trim the first 1 seconds")
    assert client.state()["draft"]["d"] == 3000
    client.chat("cut it down to 2 sec")
    assert client.state()["draft"]["d"] == 2000
    client.chat("add subtitles")
    subs = [t for t in client.state()["draft"]["t"] if t["tt"] == 7 and t["sg"] and "text" in t["sg"][0]]
    assert subs and "start" in subs[0]["sg"][0]
    before = client.state()["draft"]
    client.chat("make the colors warmer")
    assert client.state()["draft"] != before


def test_chat_reply_streaming_partials_and_thought(client: Client) -> None:
    raw, events = client.chat("what can you do?", streaming=True)
    partial = texts(events, partial=True)
    final = texts(events)
    assert len(partial) >= 2 and len(final) == 1 and "".join(partial) == final[0]
    assert "Assets panel" in final[0]
    assert any(p.get("thought") for e in events if isinstance(e, dict) for p in e["content"]["parts"])
    _, zh = client.chat("你好")
    assert "素材面板" in texts(zh)[0]
    _, plain = client.chat("hello")
    assert all(not e.get("partial") for e in plain if isinstance(e, dict))


def test_generation_keepalives_frozen_credits_and_draft(client: Client) -> None:
    seen_frozen: list[int] = []
    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": client.sid,
            "new_message": {"role": "user", "parts": [{"text": "generate a long 30-second vertical promo video"}]}}
    with client.http.stream("POST", "/run_sse", headers=client.headers, json=body) as r:
        chunks = []
        for chunk in r.iter_text():
            chunks.append(chunk)
            if "longRunningToolIds" in chunk and not seen_frozen:
                seen_frozen.append(client.credits()["frozen"])
    raw = "".join(chunks)
    events = parse_sse(raw)
    assert seen_frozen == [30]
    assert ": ping" in raw and None in events and "" in events and {"type": "heartbeat"} in events
    assert tool_calls(events) == ["generate_video_with_seedance"]
    assert "Export" in texts(events)[0]
    st = client.state()
    assert st["draft"]["d"] == 30000 and st["canvas_config"]["height"] == 1920
    assert st["generated_media"] and client.credits() == {"available": 70, "frozen": 0, "total": 70}


def test_simplified_event_shape() -> None:
    with SandboxServer(time_scale=0.02, event_shape="simplified") as srv:
        c = Client(srv.url)
        _, events = c.chat("add background music")
        assert [e["type"] for e in events if isinstance(e, dict)] == ["tool_call", "tool_result"]
        _, events = c.chat("hi")
        assert events[-1]["type"] == "text"


# -- renders -------------------------------------------------------------------------------

def test_render_download_range_and_rules(client: Client, clip: str, tmp_path: Any) -> None:
    client.upload(clip)
    client.chat("add background music")
    draft = client.state()["draft"]
    assert client.render("render_x", draft, headers={"Authorization": client.headers["Authorization"]}).status_code == 402
    assert client.render("render_empty", {"t": [], "d": 0}).json()["success"] is False
    r = client.render("render_1", draft)
    assert r.json() == {"success": True, "data": {"id": "render_1", "status": "pending", "progress": 0}}
    assert client.render("render_1", draft).json()["data"]["id"] == "render_1"
    first = client.poll("render_1")
    assert first["status"] in ("pending", "queued", "processing", "rendering") and first["retry_after"] == "1"
    done = client.wait_render("render_1")
    assert done["status"] == "completed", done
    stats = client.http.get("/_sandbox/stats").json()
    assert stats["renders_created"] == 1 and stats["requests"]["GET /api/render/proxy/lambda/{id}"] >= 2
    out = tmp_path / "out.mp4"
    body = httpx.get(done["url"]).content
    out.write_bytes(body)
    info = probe(str(out))
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (320, 240) and info["audio"]
    assert abs(info["duration"] - draft["d"] / 1000) < 0.5
    part = httpx.get(done["url"], headers={"Range": "bytes=100-"})
    assert part.status_code == 206 and part.content == body[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert part.headers["Accept-Ranges"] == "bytes" and part.headers["ETag"]
    fb = client.http.get("/api/render/proxy/render_1/download", headers=client.headers)
    assert fb.status_code == 200 and fb.content == body
    assert client.http.get("/api/render/proxy/lambda/nope", headers=client.headers).status_code == 404


def test_render_scaled_to_max_height(client: Client) -> None:
    draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000, "m": {"name": "x"}}]}], "d": 1000,
             "m": {"width": 1080, "height": 1920}}
    with SandboxServer(time_scale=0.02, max_render_height=480) as srv:
        c = Client(srv.url)
        c.render("render_v", draft)
        done = c.wait_render("render_v")
        path = os.path.join(srv.backend.data_dir, "v.mp4")
        with open(path, "wb") as fh:
            fh.write(httpx.get(done["url"]).content)
        info = probe(path)
        assert (info["width"], info["height"]) == (270, 480) or (info["width"], info["height"]) == (270 + 0, 480)


# -- faults ----------------------------------------------------------------------------

def test_rate_limit_and_server_error(client: Client, fault: Any) -> None:
    fault("rate_limit", path="/api/credits", retry_after=3)
    r = client.http.get("/api/credits/balance/simple", headers=client.headers)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3" and r.json()["code"] == 429
    fault("server_error", count=2)
    r = client.http.get("/api/credits/balance/simple", headers=client.headers)
    assert r.status_code == 503 and "<html>" in r.text
    assert client.http.post("/run_sse", headers=client.headers, json={}).status_code == 503
    assert client.credits()["available"] == 100
    fault("server_error", status=502, body="empty")
    assert client.http.get("/api/credits/balance/simple", headers=client.headers).status_code == 502


def test_cut_stream_run_continues(client: Client, clip: str, fault: Any) -> None:
    client.upload(clip)
    fault("cut_stream", after=1)
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.http.stream("POST", "/run_sse", headers=client.headers, json={
                "app_name": "nemo_agent", "user_id": "me", "session_id": client.sid,
                "new_message": {"parts": [{"text": "add jazz music"}]}}) as r:
            for chunk in r.iter_text():
                received.append(chunk)
    assert "functionCall" in "".join(received)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        draft = client.state()["draft"]
        if draft and any(t["tt"] == 1 for t in draft["t"]):
            break
        time.sleep(0.05)
    assert any(t["tt"] == 1 for t in client.state()["draft"]["t"])


def test_malformed_frames_and_no_final_newline(client: Client, fault: Any) -> None:
    fault("malformed_frames")
    raw, events = client.chat("what can you do?", streaming=True)
    assert "\r\n" in raw and any(isinstance(e, dict) and "_invalid" in e for e in events)
    assert texts(events) and "".join(texts(events, partial=True)) == texts(events)[0]
    fault("no_final_newline")
    raw, events = client.chat("hello")
    assert raw.startswith("data: ") and not raw.endswith("\n") and texts(events)


def test_oversized_and_stall(client: Client, fault: Any) -> None:
    fault("oversized_frame", bytes=200_000)
    raw, events = client.chat("hello")
    assert max(len(line) for line in raw.split("\n")) >= 199_000 and texts(events)
    fault("stall_stream", seconds=0.4)
    t0 = time.monotonic()
    raw, events = client.chat("hello")
    assert time.monotonic() - t0 >= 0.4 and texts(events)
    assert raw.index("Assets panel") > raw.index(": ping") if ": ping" in raw else True
    fault("stall_stream", seconds=0.3, silent=True)
    t0 = time.monotonic()
    raw, _ = client.chat("hello")
    assert time.monotonic() - t0 >= 0.3 and raw.startswith("data: {")


def test_silent_reply_and_stream_error(client: Client, fault: Any) -> None:
    fault("silent_reply")
    _, events = client.chat("hello there")
    assert texts(events) == [] and client.state()["draft"]
    fault("stream_error", after=0)
    _, events = client.chat("hello")
    assert events == [{"error": "Internal agent error: the model call failed"}]
    fault("stream_error", after=1, adk=True)
    _, events = client.chat("add a title 'X'")
    assert events[-1]["errorCode"] and events[-1]["errorMessage"]


def test_render_faults(client: Client, clip: str, fault: Any) -> None:
    client.upload(clip)
    client.chat("write a title and tags")
    draft = client.state()["draft"]
    fault("fail_render")
    client.render("render_f", draft)
    failed = client.wait_render("render_f")
    assert failed["status"] == "failed" and failed["error"]
    fault("render_never_finishes")
    client.render("render_n", draft)
    fault("slow_render", seconds=1.0)
    client.render("render_s", draft)
    time.sleep(0.6)
    assert client.poll("render_n")["status"] in ("processing", "rendering")
    assert client.poll("render_s")["status"] in ("processing", "rendering")
    assert client.wait_render("render_s")["status"] == "completed"
    assert client.poll("render_n")["status"] in ("processing", "rendering")


def test_download_faults(client: Client, clip: str, fault: Any) -> None:
    client.upload(clip)
    client.chat("write a title and tags")
    client.render("render_d", client.state()["draft"])
    url = client.wait_render("render_d")["url"]
    full = httpx.get(url).content
    fault("expire_result_url")
    assert httpx.get(url).status_code == 403
    fault("ignore_range")
    r = httpx.get(url, headers={"Range": "bytes=10-"})
    assert r.status_code == 200 and r.content == full
    fault("cut_download", fraction=0.5)
    got = []
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("GET", url) as resp:
            for chunk in resp.iter_bytes():
                got.append(chunk)
    assert 0 < sum(map(len, got)) < len(full)
    fault("cut_download", path="/api/render/proxy/")
    with pytest.raises(httpx.RemoteProtocolError):
        client.http.get("/api/render/proxy/render_d/download", headers=client.headers)
    assert httpx.get(url).content == full


def test_fault_registry_controls(sandbox_url: str, fault: Any) -> None:
    fault("rate_limit", count=-1, path="/api/credits")
    assert httpx.get(sandbox_url + "/api/credits/balance/simple").status_code == 429
    assert httpx.get(sandbox_url + "/api/credits/balance/simple").status_code == 429
    assert httpx.get(sandbox_url + "/_sandbox/faults").json()["pending"]
    httpx.delete(sandbox_url + "/_sandbox/faults")
    assert httpx.get(sandbox_url + "/api/credits/balance/simple").status_code == 401
    assert httpx.post(sandbox_url + "/_sandbox/faults", json={"fault": "bogus"}).status_code == 400


def test_serve_prints_listening_line() -> None:
    code = "from skill.sandbox import serve; serve(port=0)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=root, text=True)
    try:
        line = proc.stdout.readline().strip()
        m = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert m, line
        r = httpx.post(m[1] + "/api/auth/anonymous-token", headers={"X-Client-Id": "z"})
        assert r.json()["code"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert proc.stdout.read() == ""

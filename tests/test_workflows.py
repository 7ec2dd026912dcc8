"""Each seed variant's "Try saying" examples and "Common Workflows" end to end through
SkillRuntime.handle() against the sandbox, in English and Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skill import SkillRuntime
from skill.handlers._context import Limits
from skill.manifest import bundled_variants, resolve_manifest
from skill.replies import Done, ErrorReply, FileReply, Message
from skill.translator import contains_gui_phrase
from tests.helpers import make_clip, probe

VARIANTS = sorted(bundled_variants())

# the quick-edit instruction of each variant, and its Chinese version
QUICK = {
    "generator-meta-ai": ("generate title, description, and tags for my video using AI", "用AI为我的视频生成标题、简介和标签"),
    "video-meta-ai": ("generate titles, descriptions, and tags for my YouTube video", "为我的YouTube视频生成标题、描述和标签"),
    "generation-maker-generator": ("generate a 30-second video from my script about a new sneaker drop",
                                   "根据我的脚本生成一个关于新款球鞋发布的30秒视频"),
    "generator-online": ("generate a 30-second promo video from this text script", "根据这段文字脚本生成一个30秒的宣传视频"),
}
ZH = {
    "export": "导出1080p的MP4",
    "status": "看看时间线",
    "credits": "还剩多少积分",
    "title": "加个标题“城市之梦”",
    "trim": "把前1秒剪掉",
    "music": "加点轻松的背景音乐",
}
EN = {
    "export": "export 1080p MP4",
    "status": "show me the tracks",
    "credits": "how many credits do I have left?",
    "title": "add a title 'Urban Dreams'",
    "trim": "trim the first 1 seconds",
    "music": "add lo-fi background music",
}


def rt_for(variant: str, sandbox_url: str, tmp: Path) -> SkillRuntime:
    return SkillRuntime(resolve_manifest(variant), api_url=sandbox_url, state_dir=tmp / "state",
                        out_dir=tmp / "out", limits=Limits(still_working_every=0.3, recovery_delays=(0.2, 0.2)))


async def say(rt: SkillRuntime, text: str, files=()) -> list:
    out = [r async for r in rt.handle(text, files=list(files))]
    assert isinstance(out[-1], Done), out
    return out


def check_clean(replies: list, lang: str) -> None:
    for r in replies:
        text = getattr(r, "text", "") or ""
        assert "nmv_usr_" not in text
        if isinstance(r, Message):
            assert not contains_gui_phrase(text), text
            assert '{"' not in text and "\x1b" not in text, text
    msgs = [r.text for r in replies if isinstance(r, Message)]
    if lang == "zh" and msgs:
        assert any(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in msgs), msgs


def ok(replies: list) -> bool:
    return isinstance(replies[-1], Done) and replies[-1].ok and not any(isinstance(r, ErrorReply) for r in replies)


def mp4s(replies: list) -> list[Path]:
    return [Path(r.path) for r in replies if isinstance(r, FileReply)]


@pytest.fixture
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "product_demo.mp4", 3.0, "640x360")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_try_saying_examples(variant, lang, sandbox_url, tmp_path, clip, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    m = resolve_manifest(variant)
    assert m.examples, "every variant has Try saying examples"
    async with rt_for(variant, sandbox_url, tmp_path) as rt:
        if lang == "zh":
            rt.lang = "zh"
        first = await say(rt, "", files=[clip])
        assert ok(first)
        for ex in m.examples:
            replies = await say(rt, ex)
            assert ok(replies), (ex, [r.to_dict() for r in replies])
            check_clean(replies, lang)
            assert any(isinstance(r, (Message, FileReply)) for r in replies), ex
            if replies[-1].intent == "export":
                for p in mp4s(replies):
                    assert probe(p)["codec"] == "h264"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_quick_edit_workflow(variant, lang, sandbox_url, tmp_path, clip, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    words = EN if lang == "en" else ZH
    instruction = QUICK[variant][0 if lang == "en" else 1]
    async with rt_for(variant, sandbox_url, tmp_path) as rt:
        first = await say(rt, instruction, files=[clip])
        assert ok(first), [r.to_dict() for r in first]
        check_clean(first, lang)
        assert first[0].text in ("Setting things up…", "正在准备…")  # first contact, quietly
        exp = await say(rt, words["export"])
        assert ok(exp), [r.to_dict() for r in exp]
        check_clean(exp, lang)
        files = mp4s(exp)
        assert len(files) == 1 and files[0].parent == (tmp_path / "out").resolve()
        info = probe(files[0])
        assert info["codec"] == "h264" and info["duration"] > 0.5


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_batch_workflow_each_file_its_own_render(lang, sandbox_url, tmp_path, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    words = EN if lang == "en" else ZH
    a = make_clip(tmp_path / "a.mp4", 2.0, "320x240")
    b = make_clip(tmp_path / "b.mp4", 4.0, "320x240")
    outputs = []
    async with rt_for("generator-meta-ai", sandbox_url, tmp_path) as rt:
        for clip, note in ((a, QUICK["generator-meta-ai"]), (b, QUICK["video-meta-ai"])):
            r1 = await say(rt, note[0 if lang == "en" else 1], files=[clip])
            assert ok(r1), [r.to_dict() for r in r1]
            r2 = await say(rt, words["export"])
            assert ok(r2), [r.to_dict() for r in r2]
            outputs += mp4s(r2)
    assert len(outputs) == 2 and outputs[0] != outputs[1]
    for p in outputs:
        assert probe(p)["codec"] == "h264"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_iterative_workflow_with_silent_edits(lang, sandbox_url, tmp_path, clip, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    words = EN if lang == "en" else ZH
    async with rt_for("generator-online", sandbox_url, tmp_path) as rt:
        assert ok(await say(rt, QUICK["generator-meta-ai"][0 if lang == "en" else 1], files=[clip]))
        st = await say(rt, words["status"])
        assert st[-1].intent == "state" and ok(st)
        for key in ("music", "title", "trim"):
            replies = await say(rt, words[key])
            assert ok(replies), [r.to_dict() for r in replies]
            check_clean(replies, lang)
            msgs = [r.text for r in replies if isinstance(r, Message)]
            assert msgs, f"a silent edit ({key}) must never end in silence"
            # the summary names the specific change
            specific = {"music": ("Lo-fi", "lo-fi", "音乐", "背景"), "title": ("Urban Dreams", "城市之梦"),
                        "trim": ("2", "剪", "trim")}[key]
            assert any(any(s in m for s in specific) for m in msgs), msgs
        st2 = await say(rt, words["status"])
        summary = " ".join(r.text for r in st2 if isinstance(r, Message))
        assert ("Urban Dreams" in summary) or ("城市之梦" in summary)
        cr = await say(rt, words["credits"])
        assert cr[-1].intent == "credits" and ok(cr)
        exp = await say(rt, words["export"])
        assert ok(exp) and len(mp4s(exp)) == 1
        cr2 = await say(rt, words["credits"])
        balance = [r.text for r in cr if isinstance(r, Message)]
        assert balance == [r.text for r in cr2 if isinstance(r, Message)]  # export costs no credits


async def test_json_lines_match_interface(sandbox_url, tmp_path, clip, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    allowed = {
        "message": {"type", "text"}, "progress": {"type", "stage", "percent", "text"},
        "file": {"type", "path", "bytes", "kind"}, "link": {"type", "url", "text"},
        "error": {"type", "code", "text", "hint"}, "done": {"type", "intent", "ok"},
    }
    async with rt_for("generator-meta-ai", sandbox_url, tmp_path) as rt:
        replies = await say(rt, "generate a title, description and tags for my video", files=[clip])
        replies += await say(rt, "export")
    for r in replies:
        d = json.loads(json.dumps(r.to_dict()))
        assert set(d) == allowed[d["type"]]
        if d["type"] == "progress":
            assert d["stage"] in ("upload", "agent", "render", "download")
        if d["type"] == "done":
            assert d["intent"] in ("export", "credits", "state", "upload", "chat")

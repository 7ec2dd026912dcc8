"""The scripted NemoVideo agent: decides from the message text what a run does.

``plan_run`` classifies the message (English and Chinese), prices it, and returns an
async generator of abstract steps (:mod:`.steps`) that also mutates the session's draft.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from . import draft as dr
from .backend import SandboxBackend, Session
from .steps import CallTool, Say, Step, ToolDone, Work

__all__ = ["AgentPlan", "plan_run", "classify", "reply_language"]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_NUM = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十]{1,3})"
_SECS_EN = r"\s*-?\s*(?:s|sec|secs|second|seconds)\b"

_TITLE_EDIT_EN = re.compile(r"\b(add|put|insert|set|change|rename|update|replace)\b[^.?!]{0,30}\btitle\b|\btitle\b\s*(?:to|=|:|says?|reading)\s")
_TITLE_EDIT_ZH = re.compile(r"(加|添加|加上|放|插入|改|换)[个一上]{0,2}.{0,3}标题|标题.{0,3}(改成|改为|换成|设为|设置为|改)")
_METADATA_EN = re.compile(r"\b(titles?|descriptions?|tags?|hashtags?|metadata|seo|keywords)\b")
_METADATA_ZH = re.compile(r"标题|简介|描述|标签|话题|文案")
_GEN_NOUNS = r"(video|clip|promo|teaser|vlog|trailer|commercial|ad|short|film|reel|animation)s?\b"
_GENERATE_EN = re.compile(
    r"\b(generate|create|produce|render)\b(?!\s+(?:the|this|that|it|my)\b)[^.?!]{0,60}\b" + _GEN_NOUNS
    + r"|\b(make|build)\s+(?:me\s+|us\s+)?(?:a|an|one|another|some|new|\d+)\b[^.?!]{0,60}\b" + _GEN_NOUNS
    + r"|\b(promo|teaser|vlog|trailer)\b"
)
_GENERATE_ZH = re.compile(r"(生成|做|制作|创建|创作|来)[^。？！]{0,20}(视频|短片|宣传片|片子|vlog|预告片)")
_BGM = re.compile(r"\b(bgm|background music|music|soundtrack|song|beat)\b|背景音乐|配乐|音乐|bgm", re.I)
_TRIM_START_EN = re.compile(r"\b(?:trim|cut|remove|drop|delete)\b[^.?!]{0,15}\bfirst\s+" + _NUM + _SECS_EN)
_TRIM_START_ZH = re.compile(r"前\s*" + _NUM + r"\s*秒钟?[^。]{0,4}(?:剪掉|删掉|去掉|裁掉|剪|删)|(?:剪掉|删掉|去掉|裁掉)前\s*" + _NUM + r"\s*秒")
_CUT_TO_EN = re.compile(r"\b(?:cut|trim|shorten|make|keep|reduce)\b[^.?!]{0,25}\bto\s+" + _NUM + _SECS_EN)
_CUT_TO_ZH = re.compile(r"(?:剪到|缩短到|剪成|控制在|压缩到|缩到|保留)\s*" + _NUM + r"\s*秒")
_SUBTITLES = re.compile(r"\b(subtitles?|captions?|closed captions)\b|字幕")
_SPEED_UP = re.compile(r"\b(speed up|speed it up|faster|2x|double speed)\b|加速|快进|倍速|快一点")
_SLOW_DOWN = re.compile(r"\b(slow down|slower|slow motion|slow-mo|slowmo)\b|慢放|慢动作|减速|慢一点")
_FADE = re.compile(r"\bfade|淡入|淡出|渐隐|渐显")
_EDIT_EN = re.compile(
    r"\b(add|remove|delete|change|replace|make it|transition|filter|colou?r|crop|zoom|brighter|darker|edit|adjust"
    r"|move|swap|rotate|mute|louder|quieter|volume|trim|cut|shorten|effect|sticker|logo|watermark|overlay"
    r"|warmer|cooler|shorter|longer|brightness|contrast|saturation|stabilize|blur|sharpen)(?:s|es|ed)?\b"
)
_EDIT_ZH = re.compile(r"加|删|改|换|调|转场|滤镜|裁剪|音量|静音|亮度|特效|贴纸|剪")
_GREETING = re.compile(r"^\s*(hi|hello|hey|yo|good (morning|afternoon|evening))\b|你好|您好|嗨|哈喽")
_STYLES = [
    (re.compile(r"lo-?fi", re.I), "Lo-fi", "Lo-fi"),
    (re.compile(r"jazz|爵士", re.I), "Jazz", "爵士"),
    (re.compile(r"piano|钢琴", re.I), "Piano", "钢琴"),
    (re.compile(r"epic|cinematic|史诗|大气", re.I), "Cinematic", "史诗"),
    (re.compile(r"upbeat|happy|energetic|欢快|动感", re.I), "Upbeat", "欢快"),
    (re.compile(r"chill|relax|calm|舒缓|轻松", re.I), "Chill", "舒缓"),
    (re.compile(r"rock|摇滚", re.I), "Rock", "摇滚"),
    (re.compile(r"hip.?hop|rap|嘻哈", re.I), "Hip-hop", "嘻哈"),
    (re.compile(r"classical|古典", re.I), "Classical", "古典"),
    (re.compile(r"ambient|氛围", re.I), "Ambient", "氛围"),
    (re.compile(r"acoustic|guitar|吉他", re.I), "Acoustic", "吉他"),
    (re.compile(r"electronic|edm|电子", re.I), "Electronic", "电子"),
    (re.compile(r"古风|中国风", re.I), "Chinese traditional", "古风"),
]
_PLATFORMS = [
    (re.compile(r"youtube|油管", re.I), "YouTube"),
    (re.compile(r"tiktok", re.I), "TikTok"),
    (re.compile(r"instagram|\bins\b|reels?", re.I), "Instagram"),
    (re.compile(r"抖音|douyin", re.I), "抖音"),
    (re.compile(r"小红书|xiaohongshu", re.I), "小红书"),
    (re.compile(r"b站|bilibili|哔哩", re.I), "Bilibili"),
]
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass
class AgentPlan:
    intent: str  # "metadata" | "edit" | "generate" | "chat"
    action: str  # finer label, e.g. "bgm", "title", "greeting"
    cost: int
    language: str  # "en" | "zh"
    steps: Callable[[], AsyncIterator[Step]]


def reply_language(text: str, session_language: str = "en") -> str:
    if _CJK.search(text):
        return "zh"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return "zh" if (session_language or "").lower().startswith("zh") else "en"


def _num(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        pass
    total, cur = 0, 0
    for ch in token:
        if ch == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = _CN_DIGITS.get(ch, 0)
    return float(total + cur)


def _first_num(match: re.Match[str]) -> float:
    return _num(next(g for g in match.groups() if g))


def classify(text: str) -> tuple[str, str]:
    """(intent, action) for a message."""
    low = text.lower()
    if _TITLE_EDIT_EN.search(low) or _TITLE_EDIT_ZH.search(text):
        if not re.search(r"\b(description|tags?|hashtags?)\b|简介|描述|标签", low):
            return "edit", "title"
    if _METADATA_EN.search(low) or _METADATA_ZH.search(text):
        return "metadata", "metadata"
    if _GENERATE_EN.search(low) or _GENERATE_ZH.search(text):
        return "generate", "generate"
    if _TRIM_START_EN.search(low) or _TRIM_START_ZH.search(text):
        return "edit", "trim_start"
    if _CUT_TO_EN.search(low) or _CUT_TO_ZH.search(text):
        return "edit", "cut_to"
    if _SUBTITLES.search(low):
        return "edit", "subtitles"
    if _BGM.search(low):
        return "edit", "bgm"
    if _SPEED_UP.search(low):
        return "edit", "speed_up"
    if _SLOW_DOWN.search(low):
        return "edit", "slow_down"
    if _FADE.search(low):
        return "edit", "fade"
    if _GREETING.search(low):
        return "chat", "greeting"
    if _EDIT_EN.search(low) or _EDIT_ZH.search(text):
        return "edit", "generic"
    return "chat", "help"


def _call_id() -> str:
    return f"adk-{uuid.uuid4()}"


def _fmt(x: float) -> str:
    return f"{x:.1f}"


# -- metadata ---------------------------------------------------------------------------

def _platform(text: str) -> str | None:
    for rx, name in _PLATFORMS:
        if rx.search(text):
            return name
    return None


def _metadata_text(session: Session, message: str, lang: str) -> str:
    media = session.video_infos
    platform = _platform(message)
    main = next((m for m in media if m.get("file_type") == "video"), media[0])
    name = dr.clip_name(main["filename"])
    title_core = " ".join(w.capitalize() for w in name.split()) if name.isascii() else name
    total = sum(float(m.get("duration") or 0) for m in media)
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", name)] or ["video"]
    tags = ["#" + "".join(words)] + [f"#{w}" for w in words[:3]]
    if platform:
        tags.append("#" + platform.lower().replace(" ", ""))
    vertical = any(int(m.get("height") or 0) > int(m.get("width") or 0) > 0 for m in media)
    tags += ["#shorts" if vertical else "#video", "#nemovideo"]
    tags = list(dict.fromkeys(tags))
    if lang == "zh":
        lines = [
            f"「{m['filename']}」（{_fmt(float(m.get('duration') or 0))} 秒，{m.get('width', 0)}x{m.get('height', 0)}，"
            f"{m.get('fps', 0):g} fps）" for m in media
        ]
        where = f"，适合发布到{platform}" if platform else ""
        return (
            "我分析了你上传的素材：" + "；".join(lines) + f"。为你准备了以下内容{where}：\n\n"
            f"标题：{title_core}｜{_fmt(total)} 秒精彩瞬间\n"
            f"简介：这段 {_fmt(total)} 秒的视频记录了「{name}」，画面 {main.get('width', 0)}x{main.get('height', 0)}，"
            f"节奏紧凑，欢迎点赞收藏！\n"
            f"标签：{' '.join(tags)}\n\n"
            "素材已放到时间线上，可以在时间线中预览。满意后点击导出按钮下载视频。"
        )
    lines = [
        f'"{m["filename"]}" ({_fmt(float(m.get("duration") or 0))} s, {m.get("width", 0)}x{m.get("height", 0)}, '
        f'{m.get("fps", 0):g} fps)' for m in media
    ]
    where = f" for {platform}" if platform else ""
    return (
        "I analyzed your media: " + "; ".join(lines) + f". Here is a ready-to-use set{where}:\n\n"
        f"Title: {title_core} | {_fmt(total)}-Second Highlight{(' | ' + platform) if platform else ''}\n"
        f"Description: A {_fmt(total)}-second video of {name}, shot at {main.get('width', 0)}x{main.get('height', 0)}. "
        f"Watch to the end and subscribe for more!\n"
        f"Tags: {' '.join(tags)}\n\n"
        "I've placed your clip on the timeline so you can preview in the timeline. "
        "When you're happy, click the Export button to download your video."
    )


def _no_media_text(lang: str) -> str:
    if lang == "zh":
        return "这个项目里还没有素材。请先打开素材面板上传一个视频，我再根据它写标题、简介和标签。"
    return ("I don't see any media in this project yet. Open the Assets panel and upload a video, "
            "and I'll write a title, description and tags from it.")


# -- chat -------------------------------------------------------------------------------

def _chat_text(action: str, lang: str) -> str:
    if lang == "zh":
        if action == "greeting":
            return "你好！我是 NemoVideo 助手。打开素材面板上传素材，把片段拖拽到时间线上，然后告诉我你想做什么。完成后点击右上角的导出即可。"
        return "我可以生成视频、编辑时间线（配乐、标题、字幕、剪辑），还能写标题和标签。打开素材面板，把片段拖拽到时间线上就可以开始，做好后点击右上角的导出。"
    if action == "greeting":
        return ("Hi! I'm your NemoVideo assistant. Open the Assets panel to upload clips, drag clips onto the "
                "timeline, and tell me what to create. When it's ready, click Export in the top right corner.")
    return ("I can generate videos, edit your timeline (music, titles, subtitles, trims) and write titles and "
            "tags. Open the Assets panel and drag clips onto the timeline to get started, then click the Export button.")


# -- plan -------------------------------------------------------------------------------

def plan_run(message: str, session: Session, backend: SandboxBackend, base_url: str,
             silent: bool = False, hostile_text: str | None = None) -> AgentPlan:
    cfg = backend.config
    lang = reply_language(message, session.language)
    intent, action = classify(message)
    if intent == "metadata":
        cost = cfg.cost_metadata if session.video_infos else 0
        gen = lambda: _metadata_steps(message, session, lang)  # noqa: E731
    elif intent == "generate":
        cost = cfg.cost_generate
        gen = lambda: _generate_steps(message, session, backend, base_url, lang)  # noqa: E731
    elif intent == "edit":
        cost = cfg.cost_edit
        gen = lambda: _edit_steps(action, message, session, lang)  # noqa: E731
        if cfg.edit_seconds > 0:
            inner, busy = gen, cfg.scaled(cfg.edit_seconds)
            gen = lambda: _after_work(busy, inner())  # noqa: E731
    else:
        cost = 0
        gen = lambda: _chat_steps(action, lang)  # noqa: E731
    steps = gen
    if silent:
        steps = lambda: _silenced(gen(), session, message)  # noqa: E731
    elif hostile_text is not None:
        steps = lambda: _hostile(gen(), hostile_text)  # noqa: E731
    return AgentPlan(intent=intent, action=action, cost=cost, language=lang, steps=steps)


async def _after_work(seconds: float, inner: AsyncIterator[Step]) -> AsyncIterator[Step]:
    """``inner`` after the agent has been busy for ``seconds`` (``edit_seconds``)."""
    yield Work(seconds)
    async for step in inner:
        yield step


async def _silenced(inner: AsyncIterator[Step], session: Session, message: str) -> AsyncIterator[Step]:
    before = session.revision
    async for step in inner:
        if not isinstance(step, Say):
            yield step
    if session.revision == before:
        cid = _call_id()
        yield CallTool(cid, "edit_multitrack", {"operation": "adjust", "instruction": message})
        seg = dr.generic_edit(session, message)
        yield ToolDone(cid, "edit_multitrack", {"status": "success", "changed": seg.get("m", {})})


async def _hostile(inner: AsyncIterator[Step], text: str) -> AsyncIterator[Step]:
    """The run as planned, but every user-visible text is ``text`` (the ``hostile_reply`` fault)."""
    said = False
    async for step in inner:
        if isinstance(step, Say):
            said = True
            yield Say(text)
        else:
            yield step
    if not said:
        yield Say(text)


async def _chat_steps(action: str, lang: str) -> AsyncIterator[Step]:
    thought = "The user is chatting; answer briefly and point to the editor." if action != "greeting" else None
    yield Say(_chat_text(action, lang), thought=thought)


async def _metadata_steps(message: str, session: Session, lang: str) -> AsyncIterator[Step]:
    if not session.video_infos:
        yield Say(_no_media_text(lang))
        return
    cid = _call_id()
    yield CallTool(cid, "analyze_media", {"files": [m["filename"] for m in session.video_infos]})
    dr.place_uploads(session)
    yield ToolDone(cid, "analyze_media", {
        "status": "success",
        "media": [{k: m.get(k) for k in ("filename", "duration", "width", "height", "fps")} for m in session.video_infos],
    })
    yield Say(_metadata_text(session, message, lang),
              thought="Draft a title, description and tags from the media properties.")


def _quoted(message: str) -> str | None:
    m = re.search(r"[\"'“‘「『]([^\"'”’」』]{1,80})[\"'”’」』]", message)
    return m.group(1).strip() if m else None


def _title_text(message: str) -> str:
    quoted = _quoted(message)
    if quoted:
        return quoted
    m = re.search(r"标题(?:改成|改为|换成|设为|设置为|是|为|：|:)?\s*(.+)$", message)
    if m and m.group(1).strip():
        return m.group(1).strip(" 。.!！")
    m = re.search(r"\btitle\b\s*(?:to|=|:|says?|reading|of|called|named)?\s*(.+)$", message, re.I)
    if m and m.group(1).strip():
        return m.group(1).strip(" .!")
    return "My Video"


def _style(message: str, lang: str) -> str:
    for rx, en, zh in _STYLES:
        if rx.search(message):
            return en
    return "Background Music"


async def _edit_steps(action: str, message: str, session: Session, lang: str) -> AsyncIterator[Step]:
    low = message.lower()
    cid = _call_id()
    args: dict[str, Any] = {"operation": action, "instruction": message}
    result: dict[str, Any]
    if action == "bgm":
        args["style"] = _style(message, lang)
        yield CallTool(cid, "edit_multitrack", args)
        seg = dr.add_bgm(session, args["style"], 35)
        result = {"track": "audio", "segment": seg}
    elif action == "title":
        args["text"] = _title_text(message)
        yield CallTool(cid, "edit_multitrack", args)
        result = {"track": "text", "segment": dr.set_title(session, args["text"])}
    elif action == "trim_start":
        m = _TRIM_START_EN.search(low) or _TRIM_START_ZH.search(message)
        secs = _first_num(m) if m else 1.0
        args["seconds"] = secs
        yield CallTool(cid, "edit_multitrack", args)
        draft = dr.cut_range(session, int(secs * 1000), None)
        result = {"duration_ms": draft["d"]}
    elif action == "cut_to":
        m = _CUT_TO_EN.search(low) or _CUT_TO_ZH.search(message)
        secs = _first_num(m) if m else 10.0
        args["seconds"] = secs
        yield CallTool(cid, "edit_multitrack", args)
        draft = dr.cut_range(session, 0, int(secs * 1000))
        result = {"duration_ms": draft["d"]}
    elif action == "subtitles":
        yield CallTool(cid, "edit_multitrack", args)
        names = [dr.clip_name(v["filename"]) for v in session.video_infos] or ["this moment"]
        if lang == "zh":
            lines = [f"欢迎观看：{names[0]}", "精彩马上开始", "感谢观看"]
        else:
            lines = [f"Welcome to {names[0]}", "Here is where it gets good", "Thanks for watching"]
        result = {"track": "subtitles", "segments": dr.add_subtitles(session, lines)}
    elif action in ("speed_up", "slow_down"):
        factor = 2.0 if action == "speed_up" else 0.5
        args["factor"] = factor
        yield CallTool(cid, "edit_multitrack", args)
        result = {"duration_ms": dr.set_speed(session, factor)["d"]}
    elif action == "fade":
        fade_in = bool(re.search(r"fade[- ]?in|淡入|渐显", low)) or not re.search(r"fade[- ]?out|淡出|渐隐", low)
        fade_out = bool(re.search(r"fade[- ]?out|淡出|渐隐", low)) or not re.search(r"fade[- ]?in|淡入|渐显", low)
        yield CallTool(cid, "edit_multitrack", args)
        dr.add_fade(session, fade_in, fade_out)
        result = {"fade_in": fade_in, "fade_out": fade_out}
    else:
        yield CallTool(cid, "edit_multitrack", args)
        result = {"segment": dr.generic_edit(session, message)}
    result["status"] = "success"
    result["draft_revision"] = session.revision
    yield ToolDone(cid, "edit_multitrack", result)


def _gen_seconds(message: str) -> int:
    m = re.search(r"(\d+(?:\.\d+)?)\s*-?\s*(?:s|sec|secs|second|seconds|秒)\b", message, re.I)
    if not m:
        m = re.search(r"(\d+(?:\.\d+)?)\s*(?:秒)", message)
    if not m:
        m = re.search(r"([零一二两三四五六七八九十]{1,3})\s*秒", message)
    if m:
        return max(1, min(600, int(round(_num(m.group(1))))))
    return 10


async def _generate_steps(message: str, session: Session, backend: SandboxBackend, base_url: str,
                          lang: str) -> AsyncIterator[Step]:
    from .media import render_mp4  # lazy

    cfg = backend.config
    secs = _gen_seconds(message)
    vertical = bool(re.search(r"9\s*:\s*16|vertical|portrait|竖屏|竖版", message, re.I))
    width, height = (1080, 1920) if vertical else (1920, 1080)
    long = bool(re.search(r"\blong\b|长", message, re.I))
    cid = _call_id()
    yield CallTool(cid, "generate_video_with_seedance",
                   {"prompt": message, "duration": secs, "aspect_ratio": "9:16" if vertical else "16:9"},
                   long_running=True)
    name, path = backend.new_file_path("gen", ".mp4")
    small_w, small_h = (180, 320) if vertical else (320, 180)
    clip = asyncio.create_task(asyncio.to_thread(render_mp4, path, secs, small_w, small_h, 15.0, False))
    yield Work(cfg.scaled(cfg.long_generation_seconds if long else cfg.generation_seconds))
    url: str | None = None
    try:
        await clip
        backend.register_file(name, path, "video/mp4")
        url = f"{base_url}/_sandbox/files/{name}"
    except Exception:  # noqa: BLE001 - a missing preview clip is not fatal
        url = None
    label = "Generated clip"
    dr.replace_with_generated(session, label, url, secs * 1000, width, height)
    media = {"id": "gen_" + uuid.uuid4().hex[:12], "type": "video", "url": url, "duration": float(secs),
             "width": width, "height": height, "prompt": message, "tool": "generate_video_with_seedance"}
    session.generated_media.append(media)
    yield ToolDone(cid, "generate_video_with_seedance", {"status": "success", "video_url": url, "duration": secs})
    if lang == "zh":
        text = f"你的 {secs} 秒视频已生成！可以在时间线中预览，然后点击导出按钮下载视频。"
    else:
        text = f"Your {secs}-second video is ready! Preview it in the timeline, then click Export to download it."
    yield Say(text)

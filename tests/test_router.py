"""Tests for ``skill.router`` (intent router)."""

from __future__ import annotations

import re

import csv
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.router import INTENTS, Route, classify, damerau_levenshtein, extract_args
from skill import router as _router

HERE = Path(__file__).resolve().parent
SHARED_CASES = Path(__file__).resolve().parents[2] / "shared" / "router-cases.tsv"
EXTRA_CASES = HERE / "router_extra_cases.tsv"


def _load(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            (r["text"], r["intent"].strip(), (r.get("note") or "").strip())
            for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            if r.get("text") is not None and (r.get("intent") or "").strip()
        ]


def _score(rows: list[tuple[str, str, str]]) -> tuple[float, dict[str, float], list[str]]:
    per = Counter()
    hit = Counter()
    misses = []
    for text, expected, note in rows:
        got = classify(text).intent
        per[expected] += 1
        if got == expected:
            hit[expected] += 1
        else:
            misses.append(f"[{expected} -> {got}] {text!r} ({note})")
    acc = sum(hit.values()) / len(rows)
    recall = {i: hit[i] / per[i] for i in per}
    return acc, recall, misses


# --------------------------------------------------------------------------- labelled sets


@pytest.mark.skipif(not SHARED_CASES.is_file(), reason=f"{SHARED_CASES} not present")
def test_shared_cases_accuracy() -> None:
    rows = _load(SHARED_CASES)
    assert len(rows) > 200
    acc, recall, misses = _score(rows)
    report = f"accuracy={acc:.4f} recall={recall}\n" + "\n".join(misses)
    assert acc >= 0.98, report
    for intent, r in recall.items():
        assert r >= 0.95, f"{intent} recall {r:.3f}\n{report}"


def test_extra_cases_accuracy() -> None:
    rows = _load(EXTRA_CASES)
    assert len(rows) >= 60
    assert set(INTENTS) <= {r[1] for r in rows}
    if SHARED_CASES.is_file():  # held out: none of them is a copy of the shared file
        shared = {t.strip().lower() for t, _i, _n in _load(SHARED_CASES)}
        assert not [t for t, _i, _n in rows if t.strip().lower() in shared]
    acc, recall, misses = _score(rows)
    assert acc >= 0.9, f"accuracy={acc:.4f} recall={recall}\n" + "\n".join(misses)


# --------------------------------------------------------------------------- hard-case categories
# New sentences (in neither TSV), one or more per category, English and Chinese.

NEW_CASES = [
    # plain requests
    ("alright, ship it — export the final cut", "export"),
    ("could you download the finished video for me?", "export"),
    ("i'm out of ideas for edits, just render it", "export"),
    ("把成品视频发我邮箱", "export"),
    ("行了，就这样导出吧", "export"),
    # negation scope
    ("please don't render it yet, the intro still needs work", "chat"),
    ("先不要下载，把结尾的黑屏去掉", "chat"),
    ("hold off on the export and show me the tracks", "state"),
    ("不用再剪了，直接渲染", "export"),
    # deferral
    ("I'll download the file tomorrow; for now brighten the second clip", "chat"),
    ("导出的事晚点再说，先把字幕调大", "chat"),
    # before-clauses / sequencing
    ("before exporting, swap the music for something calmer", "chat"),
    ("渲染之前帮我把logo放到右上角", "chat"),
    ("before you render, let me see the timeline", "state"),
    ("mute the last clip and then download it", "chat"),
    # credits: account vs film credits / attribution
    ("add opening credits with my studio name", "chat"),
    ("片尾加上制作人员名单和演职员表", "chat"),
    ("how many credits would a 4K render cost?", "credits"),
    ("导出4K要扣多少积分？", "credits"),
    ("what's my remaining credit balance", "credits"),
    ("I've got loads of credits so go ahead and export", "export"),
    # balance senses
    ("fix the audio balance between music and voice", "chat"),
    ("白平衡不对，帮我修一下", "chat"),
    # status / progress senses
    ("the status bar in my screen recording shows my email, blur it", "chat"),
    ("what's the status of the project?", "state"),
    ("make a video about the progress of the Mars mission", "chat"),
    ("项目做到哪了？给我看看时间线", "state"),
    ("把进度条放到视频顶部", "chat"),
    # render / download other senses
    ("render the captions in white with a black outline", "chat"),
    ("put a 'download now' banner on the last frame", "chat"),
    ("在片尾加一句“点击下载”", "chat"),
    # send me + object
    ("send me some caption ideas for instagram", "chat"),
    ("send me the mp4 when it's ready", "export"),
    ("给我发几个标签建议", "chat"),
    # show + object, how-to
    ("show the subtitles at the bottom", "chat"),
    ("show me how to crop a clip", "chat"),
    ("show me the timeline please", "state"),
    # track senses, capability questions
    ("track the car and blur its plate", "chat"),
    ("how many audio tracks can I add?", "chat"),
    ("能上传多大的文件？", "chat"),
    # what have you done: status question vs complaint
    ("what have you done to my intro?? put it back the way it was", "chat"),
    ("what have you done so far", "state"),
    # media URL vs web page, past / external / deferred upload
    ("here's the b-roll: https://cdn.example.com/b/roll_02.mov", "upload"),
    ("make a recap video from https://example.com/blog/2024-recap", "chat"),
    ("I'll upload the logo later, first shorten the intro", "chat"),
    ("我想传几张照片上去", "upload"),
    ("用刚才上传的照片做个相册视频", "chat"),
    ("how do I upload from my phone?", "chat"),
    # typos
    ("exoprt pls", "export"),
    ("uplaod a clip", "upload"),
    ("credis left?", "credits"),
]


@pytest.mark.parametrize(("text", "intent"), NEW_CASES)
def test_new_hard_cases(text: str, intent: str) -> None:
    assert classify(text).intent == intent


# --------------------------------------------------------------------------- arguments and hints


def test_route_shape() -> None:
    r = classify("Export 1080p MP4")
    assert isinstance(r, Route)
    assert r.intent == "export" and r.text == "Export 1080p MP4"
    assert r.hints == {"resolution": "1080p", "format": "mp4"}
    assert r.paths == () and r.urls == ()
    assert 0.0 <= r.confidence <= 1.0
    with pytest.raises(AttributeError):
        r.intent = "chat"  # type: ignore[misc]
    assert INTENTS == ("export", "credits", "state", "upload", "chat")
    assert set(_router.__all__) >= {"INTENTS", "Route", "classify"}


@pytest.mark.parametrize(
    ("text", "res"),
    [("export in 4K please", "2160p"), ("render at 2160p", "2160p"), ("导出720p的视频", "720p"),
     ("download it in full hd", "1080p")],
)
def test_resolution_hint(text: str, res: str) -> None:
    r = classify(text)
    assert r.intent == "export"
    assert r.hints["resolution"] == res


def test_format_and_fps_hint() -> None:
    r = classify("export as mov at 60fps")
    assert r.intent == "export"
    assert r.hints["format"] == "mov" and r.hints["fps"] == 60


def test_negated_hint() -> None:
    r = classify("don't export yet")
    assert r.intent == "chat" and r.hints.get("negated") == "export"
    r = classify("I'll render it later, add music first")
    assert r.intent == "chat" and r.hints.get("deferred") == "export"


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("/Users/anna/Desktop/interview_take2.mov", ("/Users/anna/Desktop/interview_take2.mov",)),
        ("here: ~/Videos/intro_final.mp4.", ("~/Videos/intro_final.mp4",)),
        ("C:\\Users\\li\\Videos\\vlog_day3.mp4", ("C:\\Users\\li\\Videos\\vlog_day3.mp4",)),
        ("帮我上传这个文件 D:\\素材\\开场.mov，谢谢", ("D:\\素材\\开场.mov",)),
        ("把 /home/wang/视频/旅行.mp4 加到项目里", ("/home/wang/视频/旅行.mp4",)),
        ("素材在这/Users/chen/Desktop/vlog.mp4", ("/Users/chen/Desktop/vlog.mp4",)),
        ("/home/kim/footage/drone shot.mp4", ("/home/kim/footage/drone shot.mp4",)),
        ("two: /a/1.mp4 /a/2.mp4", ("/a/1.mp4", "/a/2.mp4")),
        ("the folder /srv/media/raw/ has it", ("/srv/media/raw/",)),
        ("./clips/a.webm", ("./clips/a.webm",)),
        ("cut it 1/2 and make it 9:16, 24/7 and/or w/o music", ()),
    ],
)
def test_path_extraction(text: str, paths: tuple[str, ...]) -> None:
    r = classify(text)
    assert r.paths == paths
    if paths:
        assert r.intent == "upload"


def test_url_extraction_and_media_detection() -> None:
    r = classify("upload these: https://cdn.example.com/b-roll/1.mp4 https://cdn.example.com/b-roll/2.MOV?sig=x, thanks")
    assert r.intent == "upload"
    assert r.urls == ("https://cdn.example.com/b-roll/1.mp4", "https://cdn.example.com/b-roll/2.MOV?sig=x")
    assert r.paths == ()
    web = classify("generate a video from this article https://blog.example.com/posts/remote-work-tips")
    assert web.intent == "chat" and web.urls == ("https://blog.example.com/posts/remote-work-tips",)
    # the URL's words never count as instructions
    assert classify("https://example.com/export/status/credits").intent == "chat"
    assert classify("https://oss.example.cn/media/产品演示.mp4").intent == "upload"
    assert extract_args("see https://x.example.com/a.png and /tmp/b.wav") == (
        ("/tmp/b.wav",), ("https://x.example.com/a.png",))


def test_attachments() -> None:
    r = classify("", attachments=["/tmp/a.mp4"])
    assert r.intent == "upload" and r.paths == ("/tmp/a.mp4",)
    r = classify("here you go 👍", attachments=("/tmp/a.mp4", "/tmp/b.png"))
    assert r.intent == "upload" and r.paths == ("/tmp/a.mp4", "/tmp/b.png")
    assert classify("how many credits do I have?", attachments=["/tmp/a.mp4"]).intent == "credits"
    assert classify("trim the first 3 seconds", attachments=["/tmp/a.mp4"]).intent == "chat"
    r = classify("add ~/x.mov", attachments=["~/x.mov"])
    assert r.paths == ("~/x.mov",)


# --------------------------------------------------------------------------- typos


def test_damerau_levenshtein() -> None:
    assert damerau_levenshtein("export", "exprot") == 1
    assert damerau_levenshtein("credits", "crdits") == 1
    assert damerau_levenshtein("upload", "uplod") == 1
    assert damerau_levenshtein("show", "shwo") == 1
    assert damerau_levenshtein("abc", "") == 3
    assert damerau_levenshtein("kitten", "sitting") == 3


@given(st.text(alphabet="abcdeox", max_size=8), st.text(alphabet="abcdeox", max_size=8))
def test_within_one_matches_full_distance(a: str, b: str) -> None:
    assert _router._within_one(a, b) == (damerau_levenshtein(a, b) <= 1)


@pytest.mark.parametrize("word", ["expert", "states", "statue", "balanced", "tricks", "shoe"])
def test_real_words_are_not_typos(word: str) -> None:
    assert _router._fix_typos(f"the {word} here")[1] is False


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "🙂🎬🔥", "\ud800", "a\udfffb", "\x00\x01\x02", "？？？", "...", "\u200b",
     "\ufeff导出", "x" * 100_000, ("export " * 20_000), "ðŸ˜€ mojibake", "\U0010ffff" * 10],
)
def test_garbage_never_raises(text: str) -> None:
    r = classify(text)
    assert r.intent in INTENTS
    assert r.text == text


def test_empty_and_emoji_are_chat() -> None:
    assert classify("").intent == "chat"
    assert classify("🙂🎬🔥").intent == "chat"
    assert classify("\ud800\udfff").intent == "chat"


def test_non_str_input() -> None:
    assert classify(None).intent == "chat"  # type: ignore[arg-type]
    assert classify(12345).intent == "chat"  # type: ignore[arg-type]
    assert classify("export", attachments=None).intent == "export"  # type: ignore[arg-type]


def test_large_message_is_fast() -> None:
    big = ("make the intro punchier and add some music. " * 2500)[:100_000]
    t0 = time.perf_counter()
    r = classify(big)
    assert r.intent == "chat"
    assert time.perf_counter() - t0 < 0.5


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.lists(st.text(max_size=40), max_size=3))
def test_property_never_raises(text: str, attachments: list[str]) -> None:
    r = classify(text, attachments)
    assert r.intent in INTENTS
    assert isinstance(r.paths, tuple) and isinstance(r.urls, tuple) and isinstance(r.hints, dict)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(
    ["export", "don't", "导出", "先别", "credits", "积分", "status", "show me", "timeline", "upload",
     "上传", "before", "later", "https://a.example.com/x.mp4", "/tmp/a.mov", "C:\\a\\b.mp4", ",", "?",
     "。", "render the title", "add music", "まだ", "ないで", "no", "todavía", "'", "\"", "“"]), max_size=12))
def test_property_keyword_soup(words: list[str]) -> None:
    assert classify(" ".join(words)).intent in INTENTS
    assert classify("".join(words)).intent in INTENTS


# --------------------------------------------------------------------------- light import


def test_import_is_light() -> None:
    code = (
        "import sys; import skill; before = set(sys.modules); import skill.router; "
        "new = set(sys.modules) - before; "
        "print(','.join(sorted(m for m in new if m.split('.')[0] in "
        "{'httpx', 'pydantic', 'jinja2', 'yaml', 'asyncio', 'json', 'typing_extensions'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(HERE.parent), check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- lazy regexes and gates


def _gate_corpus() -> list[str]:
    texts = [t for t, _i, _n in _load(EXTRA_CASES)] + [t for t, _i in NEW_CASES]
    if SHARED_CASES.is_file():
        texts += [t for t, _i, _n in _load(SHARED_CASES)]
    return texts


def test_gates_are_necessary_conditions() -> None:
    """Every match of a gated pattern (ASCII branches) contains one of its gate's substrings."""
    gated = [(_router._UPLOAD.a, _router._G_UPLOAD), (_router._CREDIT_WORD.a, _router._G_CREDIT),
             (_router._STATE.a, _router._G_STATE), (_router._NEG.a, _router._G_NEG),
             (_router._DEFER.a, _router._G_DEFER), (_router._CAPABILITY.a, _router._G_CAPABILITY),
             (_router._EDIT_EN, _router._G_EDIT_EN), (_router._EDIT_ES, _router._G_EDIT_ES),
             (_router._CREDIT_BARE, _router._G_CREDIT)]
    for text in _gate_corpus():
        s = text.lower()
        if not s.isascii():
            continue
        for part in [s] + [c.text for c in _router._split(s, True)]:
            for rx, gate in gated:
                for m in rx.finditer(part):
                    assert any(w in m.group() for w in gate) or not m.group(), (rx.pattern[:40], part)
                    assert _router._any_in(part, gate)


def test_gated_and_ungated_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process skips uncompiled patterns its gates rule out; answers must not change."""
    texts = _gate_corpus() + ["export", "credits?", "my balance", "dont export", "show the timeline",
                              "upload later", "how do i export", "add music then export"]
    ungated = [classify(t) for t in texts]
    monkeypatch.setattr(_router, "_may", lambda rx, s, gate: _router._any_in(s, gate))
    assert [classify(t) for t in texts] == ungated


def test_import_compiles_nothing_and_export_compiles_little() -> None:
    code = (
        "import re, sys; import re._compiler as c; n = [0]; orig = c.compile\n"
        "def wrap(*a, **k):\n    n[0] += 1; return orig(*a, **k)\n"
        "c.compile = wrap; import skill.router as r; print(n[0]); r.classify('export'); print(n[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(HERE.parent), check=True)
    at_import, after_export = map(int, out.stdout.split())
    assert at_import == 0
    assert after_export <= 15


def test_route_is_immutable_value() -> None:
    import copy
    import pickle

    r = classify("export 4k")
    assert r == classify("export 4k") and r != classify("export 1080p")
    assert pickle.loads(pickle.dumps(r)) == r and copy.deepcopy(r) == r
    with pytest.raises(AttributeError):
        del r.hints
    assert repr(r).startswith("Route(intent='export', text='export 4k'")
    assert Route("chat", "x").hints == {} and Route("chat", "x").confidence is None


def test_compiled_rewrites_match_the_same() -> None:
    """_compile_c's rewrites (``\\b(?:a|b)R`` -> ``\\baR|\\bbR``, ``\\bx`` -> ``x(?<!..)``) change no match."""
    import re

    texts = [t.lower() for t in _gate_corpus()] + [
        "the final video", "  the final cut pls", "\tfinished mp4", "x final video", "要不要导出", "不要导出",
        "导出前先别上传", "before you export, show me the timeline", "ok so then export",
    ]
    duals = [v for v in vars(_router).values() if isinstance(v, _router._Dual)]
    duals += [rx for _gate, rx in _router._MASKS]
    for d in duals:
        plain = re.compile(d.pattern, re.ASCII)
        for t in texts:
            assert [m.span() for m in d.full.finditer(t)] == [m.span() for m in plain.finditer(t)], (d.pattern[:40], t)
            if _router._ascii_ish(t):
                assert [m.span() for m in d.ascii.finditer(t)] == [m.span() for m in plain.finditer(t)], (d.pattern[:40], t)
    # the spelling of "^\s*(?:the\s+)?(?:final|finished)..." with a literal first character
    start = re.compile(r"^\s*(?:the\s+)?(?:final|finished)\s+(?:video|cut|mp4|file)\b", re.ASCII)
    for t in texts:
        m = start.match(t)
        if m is not None:
            assert _router._EXPORT.full.match(t).span() == m.span()


def test_hot_patterns_switch_to_their_fast_form_with_the_same_answers():
    """A pattern serves its first uses in the plain (quick to compile) form and is then
    swapped for the rewritten (fast to match) one; answers never change across the swap."""
    from skill import router

    lazy = router._c(r"\b(?:export|render|download)\s+(?:it|the video)", re.I)
    texts = ["please export it", "render the video now", "no download here", "downloaded it", "EXPORT IT"]
    plain = [bool(lazy.search(t)) for t in texts]
    assert lazy.ready and lazy.compiled().pattern == lazy.pattern  # plain form first
    for _ in range(router._UPGRADE_AFTER):
        for t in texts:
            lazy.search(t)
    assert lazy.compiled().pattern != lazy.pattern  # now the rewritten form
    assert [bool(lazy.search(t)) for t in texts] == plain == [True, True, False, False, True]

    messages = ["export it now", "show me the tracks", "how many credits do I have left?", "导出 1080p MP4",
                "don't export yet, add music", "upload https://cdn.example.com/a.mp4"]
    first = [router.classify(t) for t in messages]
    for _ in range(router._UPGRADE_AFTER * 2):
        for t in messages:
            router.classify(t)
    assert [router.classify(t) for t in messages] == first

"""Timeline summary and diff (skill/timeline.py) and the sanitizer (skill/sanitize.py)."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.sanitize import clean_text, redact
from skill.timeline import describe_draft_change, diff, is_exportable, parse_draft, summarize

PROTOCOL_SUMMARY = (
    'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) '
    '3. Title: "Urban Dreams" (0-3s)'
)


def sample() -> dict:
    return {
        "d": 10000,
        "m": {"title": "demo", "width": 1920, "height": 1080},
        "t": [
            {"tt": 0, "sg": [{"s": 0, "d": 10000, "m": {"name": "city timelapse"}}], "m": {}},
            {"tt": 1, "sg": [{"s": 0, "d": 10000, "v": 35, "m": {"name": "Lo-fi"}}]},
            {"tt": 7, "sg": [{"s": 0, "d": 3000, "m": {"text": "Urban Dreams"}}]},
        ],
    }


# --------------------------------------------------------------------------- summary


def test_protocol_example_exact():
    assert summarize(sample()) == PROTOCOL_SUMMARY
    assert summarize(sample(), "en-US") == PROTOCOL_SUMMARY


def test_chinese_summary():
    assert summarize(sample(), "zh") == (
        "时间线（3 条轨道）：1. 视频：city timelapse（0-10秒） 2. 背景音乐：Lo-fi（0-10秒，35%） "
        "3. 标题：“Urban Dreams”（0-3秒）"
    )
    assert summarize(sample(), "zh-CN") == summarize(sample(), "zh")


def test_unknown_language_falls_back_to_english():
    assert summarize(sample(), "fr") == PROTOCOL_SUMMARY


@pytest.mark.parametrize("draft", [None, {}, {"t": []}, [], "", "not json", 42, {"t": None}, {"t": "x"}])
def test_empty_drafts(draft):
    assert summarize(draft) == summarize(None)
    assert "empty" in summarize(draft)
    assert summarize(draft, "zh") == summarize(None, "zh")
    assert "空" in summarize(draft, "zh")
    assert not is_exportable(draft)


def test_tolerant_keys():
    draft = {
        "t": [
            {"tt": "0", "sg": [{"st": "1500", "dur": "2500.0", "url": "https://cdn.example/a/b/My%20Clip.mp4?sig=x"}]},
            {"tt": 1, "sg": [{"start": 0, "end": "8000", "vol": "0.2", "name": "Jazz"}]},
            {"tt": 7.0, "sg": [{"s": 500, "e": 2000, "text": "Hello"}]},
            {"tt": 1, "sg": [{"s": 0, "duration": 4000, "volume": 0.35, "src": "/mnt/x/song.mp3"}]},
            {"tt": 9, "sg": [{"d": 1000, "m": {"label": "sticker"}}]},
        ]
    }
    assert summarize(draft) == (
        "Timeline (5 tracks): 1. Video: My Clip.mp4 (1.5-4s) 2. BGM: Jazz (0-8s, 20%) "
        '3. Title: "Hello" (0.5-2s) 4. BGM: song.mp3 (0-4s, 35%) 5. Track: sticker (0-1s)'
    )


def test_volume_forms():
    def vol(v):
        return parse_draft({"t": [{"tt": 1, "sg": [{"v": v}]}]}).tracks[0].segments[0].volume

    assert vol(35) == 35
    assert vol(0.35) == 35
    assert vol("0.35") == 35
    assert vol("35%") == 35
    assert vol(1.0) == 100
    assert vol(True) is None
    assert vol("loud") is None
    assert vol(-3) is None


def test_several_segments_joined_and_sequential_starts():
    draft = {"t": [{"tt": 0, "sg": [{"d": 4000, "m": {"name": "a"}}, {"d": 6000, "m": {"name": "b"}}]}]}
    assert summarize(draft) == "Timeline (1 track): 1. Video: a (0-4s), b (4-10s)"
    assert summarize(draft, "zh") == "时间线（1 条轨道）：1. 视频：a（0-4秒）、b（4-10秒）"


def test_missing_times_and_names():
    draft = {"t": [{"tt": 0, "sg": [{}]}, {"tt": 7, "sg": []}, {"tt": 1, "sg": [{"v": 50}]}]}
    assert summarize(draft) == "Timeline (3 tracks): 1. Video: clip 2. Title: empty 3. BGM: audio (50%)"


def test_junk_values_do_not_leak_markup_or_escapes():
    draft = {"t": [{"tt": 7, "sg": [{"m": {"text": "\x1b[31m<b>Hi</b>\x1b[0m\n<script>x()</script>"}, "d": 1000}]}]}
    out = summarize(draft)
    assert out == 'Timeline (1 track): 1. Title: "Hi" (0-1s)'


def test_long_names_truncated():
    out = summarize({"t": [{"tt": 7, "sg": [{"text": "x" * 500}]}]})
    assert len(out) < 150 and "…" in out


def test_is_exportable():
    assert is_exportable(sample())
    assert is_exportable({"t": [{"tt": 0, "sg": []}, {"tt": 1, "sg": [{}]}]})
    assert not is_exportable({"t": [{"tt": 0, "sg": []}]})
    assert not is_exportable({"t": [{"tt": 0}]})
    assert not is_exportable({"d": 1000})


# --------------------------------------------------------------------------- diff


def test_no_change():
    assert diff(sample(), sample()) == []
    assert describe_draft_change(sample(), sample()) is None
    assert describe_draft_change(None, {}, "zh") is None


def test_bgm_added():
    before = sample()
    before["t"] = [before["t"][0]]
    after = copy.deepcopy(before)
    after["t"].append(sample()["t"][1])
    assert diff(before, after) == ['Added background music "Lo-fi" (0-10s, 35% volume)']
    assert diff(before, after, "zh") == ["添加了背景音乐“Lo-fi”（0-10秒，音量 35%）"]


def test_title_added():
    before = sample()
    del before["t"][2]
    assert diff(before, sample()) == ['Added title "Urban Dreams" (0-3s)']
    assert diff(before, sample(), "zh") == ["添加了标题“Urban Dreams”（0-3秒）"]


def test_title_changed():
    after = sample()
    after["t"][2]["sg"][0]["m"]["text"] = "City Lights"
    assert diff(sample(), after) == ['Title changed from "Urban Dreams" to "City Lights"']
    assert diff(sample(), after, "zh") == ["标题从“Urban Dreams”改为“City Lights”"]


def test_trim():
    after = sample()
    after["t"][0]["sg"][0]["d"] = 7000
    assert diff(sample(), after) == ["Video trimmed from 10s to 7s"]
    assert diff(after, sample()) == ["Video extended from 7s to 10s"]
    assert diff(sample(), after, "zh") == ["视频从 10 秒剪短到 7 秒"]


def test_moved():
    after = sample()
    after["t"][2]["sg"][0]["s"] = 2000
    assert diff(sample(), after) == ["Title moved from 0s to 2s"]


def test_volume_change():
    after = sample()
    after["t"][1]["sg"][0]["v"] = 20
    assert diff(sample(), after) == ["Music volume 35% → 20%"]
    assert diff(sample(), after, "zh") == ["音乐音量 35% → 20%"]
    # the same volume written differently is no change
    same = sample()
    same["t"][1]["sg"][0]["v"] = "0.35"
    assert diff(sample(), same) == []


def test_removal():
    after = sample()
    del after["t"][1]
    assert diff(sample(), after) == ['Removed background music "Lo-fi" (0-10s, 35% volume)']
    assert diff(sample(), after, "zh") == ["删除了背景音乐“Lo-fi”（0-10秒，音量 35%）"]


def test_segment_added_and_removed():
    after = sample()
    after["t"][0]["sg"].append({"s": 10000, "d": 5000, "m": {"url": "https://x/y/beach.mp4"}})
    assert diff(sample(), after) == ['Added video clip "beach.mp4" (10-15s)']
    assert diff(after, sample()) == ['Removed video clip "beach.mp4" (10-15s)']


def test_duration_and_canvas():
    after = sample()
    after["d"] = 15000
    after["m"]["width"], after["m"]["height"] = 1080, 1920
    assert diff(sample(), after) == [
        "Total duration changed from 10s to 15s",
        "Canvas changed from 1920×1080 to 1080×1920",
    ]


def test_describe_draft_change():
    after = sample()
    after["t"][1]["sg"][0]["v"] = 20
    after["t"][2]["sg"][0]["m"]["text"] = "B"
    assert describe_draft_change(sample(), after) == (
        'Timeline updated: Music volume 35% → 20%; Title changed from "Urban Dreams" to "B".'
    )
    assert describe_draft_change(sample(), after, "zh") == (
        "时间线已更新：音乐音量 35% → 20%；标题从“Urban Dreams”改为“B”。"
    )
    assert "\n" not in describe_draft_change(None, sample())


def test_many_changes_are_capped_in_the_message():
    before = {"t": [{"tt": 0, "sg": []}]}
    after = {"t": [{"tt": 0, "sg": [{"d": 1000, "name": f"c{i}"} for i in range(20)]}]}
    assert len(diff(before, after)) == 20
    msg = describe_draft_change(before, after)
    assert msg.endswith("and 12 more changes.")


def test_first_state_against_nothing():
    lines = diff(None, sample())
    assert lines == [
        'Added video "city timelapse" (0-10s)',
        'Added background music "Lo-fi" (0-10s, 35% volume)',
        'Added title "Urban Dreams" (0-3s)',
    ]


# --------------------------------------------------------------------------- fuzz

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(["0", "1", "7", "1e400", "-5", "35%", "0.5", "3s", "NaN", ""]),
)
_json = st.recursive(
    _scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=25,
)
_seg_keys = st.sampled_from(["s", "st", "start", "d", "dur", "duration", "e", "end", "v", "vol", "volume",
                             "text", "name", "title", "url", "src", "m"])
_segment = st.dictionaries(_seg_keys, _json, max_size=6)
_track = st.fixed_dictionaries(
    {"tt": st.one_of(st.sampled_from([0, 1, 7, 3, "0", "1", None, 1.5]), _scalars),
     "sg": st.one_of(st.lists(st.one_of(_segment, _json), max_size=4), _json)},
    optional={"m": _json},
)
_draft = st.one_of(
    _json,
    st.fixed_dictionaries({"t": st.one_of(st.lists(st.one_of(_track, _json), max_size=5), _json)},
                          optional={"d": _json, "m": _json}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_draft, _draft, st.sampled_from(["en", "zh", "xx", None]))
def test_fuzz_never_raises(a, b, lang):
    for d in (a, b):
        s = summarize(d, lang)
        assert isinstance(s, str) and s
        assert "\x1b" not in s
        assert isinstance(is_exportable(d), bool)
    lines = diff(a, b, lang)
    assert isinstance(lines, list) and all(isinstance(x, str) and x for x in lines)
    msg = describe_draft_change(a, b, lang)
    assert (msg is None) == (not lines)
    assert diff(a, a, lang) == []  # equal drafts: no change
    assert diff(b, copy.deepcopy(b), lang) == []


# --------------------------------------------------------------------------- sanitize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("\x1b]8;;http://x.example\x07link\x1b]8;;\x07", "link"),
        ("\x1b]0;title\x1b\\after", "after"),
        ("a\x00b\x07c\x91d", "abcd"),
        ("x\x9b31my", "xy"),
        ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ("<b>bold</b> and <a href='x'>link</a>", "bold and link"),
        ("before<script>alert('x')</script>after", "beforeafter"),
        ("<STYLE>p{}</STYLE>x", "x"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2 &#39;q&#39; &quot;d&quot;", "1 < 2 && 3 > 2 'q' \"d\""),
        ("&lt;script&gt;evil()&lt;/script&gt;ok", "ok"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("  padded  \n", "padded"),
        ("<<b>script>x()</script>y", ""),  # a reassembled <script> with no closing tag: all after it goes
        ("ok<scr<b></b>ipt>x()</script>", "ok"),
        ("a < b and c > d", "a < b and c > d"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        ("\u202eevil\u202c", "evil"),
        ("&#27;[31mred", "red"),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_odd_inputs():
    assert clean_text(None) == ""
    assert clean_text(42) == "42"
    assert clean_text("") == ""


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_clean_text_fuzz(s):
    out = clean_text(s)
    assert isinstance(out, str)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert "<script" not in out.lower()


def test_redact():
    assert redact("token abc123 and abc", ["abc123", "", None]) == "token *** and abc"
    assert redact("key=sk-1 sk-12", ["sk-1", "sk-12"]) == "key=*** ***"
    assert redact("abc", "abc") == "***"
    assert redact(None, ["x"]) == ""

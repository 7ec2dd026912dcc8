"""The draft (``state.draft``) in words: a one-line summary and a before/after diff.

The draft uses short keys (``t`` tracks, ``tt`` track type, ``sg`` segments, ``d``
duration in ms, ``m`` metadata); segment keys beyond those are undocumented, so every
reader here is tolerant: any JSON-like value goes in, a sentence comes out, nothing raises.
All wording lives in ``prompts/<lang>/timeline/*.j2``; this module only assembles data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ._templates import render
from .sanitize import clean_text

__all__ = ["summarize", "is_exportable", "diff", "describe_draft_change", "parse_draft"]

_KINDS = {0: "video", 1: "audio", 7: "text"}
_KIND_NAMES = {
    "video": "video", "audio": "audio", "bgm": "audio", "music": "audio", "sound": "audio",
    "text": "text", "title": "text", "subtitle": "text", "caption": "text",
}
_NUM = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(%|ms|s)?\s*$")
_RES = re.compile(r"^\s*(\d{1,6})\s*[xX×*:]\s*(\d{1,6})\s*$")
_WS = re.compile(r"\s+")
_MAX_NAME = 80
_MAX_SEGS_SHOWN = 6
_MAX_TRACKS_SHOWN = 12
_MAX_CHANGES_SHOWN = 8


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Segment:
    start: float | None  # seconds
    end: float | None  # seconds
    volume: int | None  # percent
    name: str | None  # text of a title, name of a clip


@dataclass(frozen=True)
class Track:
    kind: str  # video | audio | text | other
    key: str  # matching key: kind, or "other:<tt>"
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Draft:
    tracks: tuple[Track, ...]
    duration: float | None  # seconds
    width: int | None
    height: int | None


def _num(x: Any) -> tuple[float, str | None] | None:
    """A finite number from an int, float or numeric string (with an optional unit)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        if isinstance(x, (int, float)):
            v = float(x)
            unit = None
        elif isinstance(x, str) and len(x) < 64:
            m = _NUM.match(x)
            if not m:
                return None
            v = float(m.group(1))
            unit = m.group(2)
        else:
            return None
    except (ValueError, OverflowError, TypeError):
        return None
    if not math.isfinite(v):
        return None
    return v, unit


def _first(d: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _ms(x: Any) -> float | None:
    """Milliseconds (the draft's unit) -> seconds; ``"3s"`` is taken as seconds."""
    n = _num(x)
    if n is None:
        return None
    v, unit = n
    return v if unit == "s" else v / 1000.0


def _volume(x: Any) -> int | None:
    n = _num(x)
    if n is None:
        return None
    v, unit = n
    fractional = unit != "%" and (isinstance(x, float) or (isinstance(x, str) and "." in x))
    if fractional and 0.0 <= v <= 1.0:
        v *= 100.0
    if v < 0 or v > 10_000:
        return None
    return int(round(v))


def _text(x: Any) -> str | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        try:
            x = str(x)
        except ValueError:  # an int too long to print
            return None
    if not isinstance(x, str):
        return None
    s = _WS.sub(" ", clean_text(x[:2000])).strip()
    if not s:
        return None
    if len(s) > _MAX_NAME:
        s = s[: _MAX_NAME - 1].rstrip() + "…"
    return s


def _basename(x: Any) -> str | None:
    if not isinstance(x, str) or not x.strip():
        return None
    s = x.strip()[:2000].split("#", 1)[0].split("?", 1)[0].rstrip("/\\")
    s = re.split(r"[/\\]", s)[-1]
    if "%" in s:
        from urllib.parse import unquote

        s = unquote(s)
    return _text(s)


def _segment(raw: Any, prev_end: float | None) -> Segment:
    if not isinstance(raw, dict):
        return Segment(None, None, None, None)
    meta = raw.get("m")
    meta = meta if isinstance(meta, dict) else {}
    start = _ms(_first(raw, ("s", "st", "start", "startTime", "start_time")))
    dur = _ms(_first(raw, ("d", "dur", "duration")))
    end = _ms(_first(raw, ("e", "end", "endTime", "end_time")))
    if start is None and (dur is not None or end is not None):
        start = prev_end if prev_end is not None else 0.0
    if start is not None:
        start = max(0.0, start)
    if end is None and start is not None and dur is not None:
        end = start + max(0.0, dur)
    if end is not None and start is not None and end < start:
        end = start
    vol = _volume(_first(raw, ("v", "vol", "volume")))
    if vol is None:
        vol = _volume(_first(meta, ("v", "vol", "volume")))
    name = None
    for src, keys in ((meta, ("text", "name", "title", "label")), (raw, ("text", "name", "title", "label"))):
        for k in keys:
            name = _text(src.get(k))
            if name:
                break
        if name:
            break
    if not name:
        for src in (meta, raw):
            for k in ("url", "src", "path", "file"):
                name = _basename(src.get(k))
                if name:
                    break
            if name:
                break
    return Segment(start, end, vol, name)


def _track(raw: Any) -> Track:
    if not isinstance(raw, dict):
        return Track("other", "other:?", ())
    tt = raw.get("tt")
    kind = None
    n = _num(tt)
    if n is not None and n[0].is_integer():
        kind = _KINDS.get(int(n[0]))
        key = kind or f"other:{int(n[0])}"
    elif isinstance(tt, str):
        kind = _KIND_NAMES.get(tt.strip().lower())
        key = kind or f"other:{tt.strip().lower()[:20]}"
    else:
        key = "other:?"
    segs_raw = raw.get("sg")
    segs: list[Segment] = []
    if isinstance(segs_raw, (list, tuple)):
        prev_end = None
        for item in segs_raw[:10_000]:
            seg = _segment(item, prev_end)
            prev_end = seg.end if seg.end is not None else prev_end
            segs.append(seg)
    return Track(kind or "other", key, tuple(segs))


def _coerce(draft: Any) -> Any:
    if isinstance(draft, (str, bytes)) and draft:
        try:
            import json

            return json.loads(draft)
        except Exception:
            return None
    return draft


def _tracks_raw(draft: Any) -> list:
    if isinstance(draft, dict):
        t = draft.get("t")
    elif isinstance(draft, (list, tuple)):
        t = draft  # a bare track list
    else:
        return []
    return list(t) if isinstance(t, (list, tuple)) else []


def _canvas(draft: Any) -> tuple[int | None, int | None]:
    if not isinstance(draft, dict):
        return None, None
    candidates = []
    meta = draft.get("m")
    if isinstance(meta, dict):
        candidates.append(meta)
        for k in ("canvas", "canvas_config", "canvasConfig", "size"):
            if isinstance(meta.get(k), dict):
                candidates.append(meta[k])
    for k in ("canvas", "canvas_config", "canvasConfig"):
        if isinstance(draft.get(k), dict):
            candidates.append(draft[k])
    candidates.append(draft)
    for c in candidates:
        w = _num(_first(c, ("width", "w")))
        h = _num(_first(c, ("height", "h")))
        if w and h and 0 < w[0] < 100_000 and 0 < h[0] < 100_000:
            return int(round(w[0])), int(round(h[0]))
        res = c.get("resolution")
        if isinstance(res, str):
            m = _RES.match(res)
            if m and int(m.group(1)) and int(m.group(2)):
                return int(m.group(1)), int(m.group(2))
    return None, None


def parse_draft(draft: Any) -> Draft:
    """The tolerant reading of a draft (any JSON-like value, or a JSON string)."""
    try:
        draft = _coerce(draft)
        tracks = tuple(_track(t) for t in _tracks_raw(draft)[:1000])
        dur = _ms(draft.get("d")) if isinstance(draft, dict) else None
        w, h = _canvas(draft)
        return Draft(tracks, dur if dur is None or dur >= 0 else None, w, h)
    except Exception:  # pragma: no cover - defensive
        return Draft((), None, None, None)


# --------------------------------------------------------------------------- formatting


def _secs(v: float | None) -> str | None:
    """Seconds for display: ``10`` when whole, else one decimal (``2.5``)."""
    if v is None:
        return None
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _seg_ctx(seg: Segment, n: int = 1) -> dict[str, Any]:
    return {
        "n": n,
        "name": seg.name,
        "start": _secs(seg.start) if seg.end is not None or seg.start is not None else None,
        "end": _secs(seg.end),
        "vol": seg.volume,
    }


def _track_ctx(tr: Track) -> dict[str, Any]:
    segs = [_seg_ctx(s, i + 1) for i, s in enumerate(tr.segments[:_MAX_SEGS_SHOWN])]
    return {"kind": tr.kind, "segs": segs, "more": max(0, len(tr.segments) - _MAX_SEGS_SHOWN)}


# --------------------------------------------------------------------------- public API


def summarize(draft: Any, lang: str = "en") -> str:
    """``Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...``"""
    try:
        d = parse_draft(draft)
        tracks = [_track_ctx(t) for t in d.tracks[:_MAX_TRACKS_SHOWN]]
        return render(
            "timeline/summary", lang,
            tracks=tracks, count=len(d.tracks), more=max(0, len(d.tracks) - _MAX_TRACKS_SHOWN),
        )
    except Exception:  # pragma: no cover - a template bug must not break a reply
        return render("timeline/summary", lang, tracks=[], count=0, more=0)


def is_exportable(draft: Any) -> bool:
    """True when a track has a non-empty ``sg`` (the draft has something to render)."""
    try:
        for t in _tracks_raw(_coerce(draft)):
            if isinstance(t, dict) and isinstance(t.get("sg"), (list, tuple)) and len(t["sg"]) > 0:
                return True
        return False
    except Exception:  # pragma: no cover
        return False


def _group(tracks: tuple[Track, ...]) -> dict[str, list[Track]]:
    out: dict[str, list[Track]] = {}
    for t in tracks:
        out.setdefault(t.key, []).append(t)
    return out


def _segment_changes(kind: str, a: Track, b: Track) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    multi = max(len(a.segments), len(b.segments)) > 1
    for i in range(max(len(a.segments), len(b.segments))):
        base = {"kind": kind, "n": i + 1, "multi": multi}
        if i >= len(a.segments):
            out.append(("seg_added", {**base, "seg": _seg_ctx(b.segments[i], i + 1)}))
            continue
        if i >= len(b.segments):
            out.append(("seg_removed", {**base, "seg": _seg_ctx(a.segments[i], i + 1)}))
            continue
        sa, sb = a.segments[i], b.segments[i]
        if sa.name != sb.name and sb.name is not None:
            out.append(("renamed", {**base, "old": sa.name, "new": sb.name}))
        if sa.start is not None and sb.start is not None and _secs(sa.start) != _secs(sb.start):
            out.append(("moved", {**base, "old": _secs(sa.start), "new": _secs(sb.start)}))
        da = sa.end - sa.start if sa.end is not None and sa.start is not None else None
        db = sb.end - sb.start if sb.end is not None and sb.start is not None else None
        if da is not None and db is not None and _secs(da) != _secs(db):
            out.append(("retimed", {**base, "old": _secs(da), "new": _secs(db), "shorter": db < da}))
        if sa.volume != sb.volume and sb.volume is not None:
            out.append(("volume", {**base, "old": sa.volume, "new": sb.volume}))
    return out


def _changes(before: Any, after: Any) -> list[tuple[str, dict]]:
    a, b = parse_draft(before), parse_draft(after)
    ga, gb = _group(a.tracks), _group(b.tracks)
    out: list[tuple[str, dict]] = []
    keys = list(gb) + [k for k in ga if k not in gb]
    for key in keys:
        ta, tb = ga.get(key, []), gb.get(key, [])
        for i in range(max(len(ta), len(tb))):
            if i >= len(ta):
                out.append(("track_added", {"track": _track_ctx(tb[i])}))
            elif i >= len(tb):
                out.append(("track_removed", {"track": _track_ctx(ta[i])}))
            else:
                out.extend(_segment_changes(tb[i].kind, ta[i], tb[i]))
    if a.duration is not None and b.duration is not None and _secs(a.duration) != _secs(b.duration):
        out.append(("duration", {"old": _secs(a.duration), "new": _secs(b.duration)}))
    if b.width and b.height and a.width and a.height and (a.width, a.height) != (b.width, b.height):
        out.append(("canvas", {"old_w": a.width, "old_h": a.height, "new_w": b.width, "new_h": b.height}))
    return out


def diff(before_draft: Any, after_draft: Any, lang: str = "en") -> list[str]:
    """What changed from ``before_draft`` to ``after_draft``, one sentence a change."""
    try:
        changes = _changes(before_draft, after_draft)
    except Exception:  # pragma: no cover - defensive
        return []
    out = []
    for change, ctx in changes:
        try:
            line = render("timeline/change", lang, change=change, **ctx)
        except Exception:  # pragma: no cover - a template bug drops one line, not the reply
            continue
        if line:
            out.append(line)
    return out


def describe_draft_change(before_draft: Any, after_draft: Any, lang: str = "en") -> str | None:
    """All changes in one message line, or None when nothing changed."""
    lines = diff(before_draft, after_draft, lang)
    if not lines:
        return None
    shown = lines[:_MAX_CHANGES_SHOWN]
    return render("timeline/changes", lang, changes=shown, more=len(lines) - len(shown))

"""Draft (timeline) operations on the short-key JSON: ``t`` tracks, ``tt`` type, ``sg``
segments, ``d`` duration ms, ``m`` metadata. Segment key spellings vary on purpose, the
way a real backend's do: video/audio segments use ``s``, titles ``st``, subtitles ``start``."""

from __future__ import annotations

import os
from typing import Any

from .backend import Session

__all__ = [
    "VIDEO",
    "AUDIO",
    "TEXT",
    "is_exportable",
    "seg_start",
    "draft_duration_ms",
    "ensure_base",
    "place_uploads",
    "add_bgm",
    "set_title",
    "add_subtitles",
    "cut_range",
    "set_speed",
    "add_fade",
    "generic_edit",
    "replace_with_generated",
    "clip_name",
]

VIDEO, AUDIO, TEXT = 0, 1, 7


def seg_start(seg: dict[str, Any]) -> int:
    for key in ("s", "st", "start"):
        if key in seg:
            return int(seg[key])
    return 0


def _set_start(seg: dict[str, Any], value: int) -> None:
    for key in ("s", "st", "start"):
        if key in seg:
            seg[key] = int(value)
            return
    seg["s"] = int(value)


def is_exportable(draft: Any) -> bool:
    if not isinstance(draft, dict):
        return False
    return any(isinstance(t, dict) and t.get("sg") for t in draft.get("t") or [])


def draft_duration_ms(draft: dict[str, Any]) -> int:
    end = 0
    for track in draft.get("t") or []:
        for seg in track.get("sg") or []:
            end = max(end, seg_start(seg) + int(seg.get("d", 0)))
    return end


def clip_name(filename: str) -> str:
    stem = os.path.splitext(os.path.basename(filename))[0]
    return stem.replace("_", " ").replace("-", " ").strip() or filename


def _touch(session: Session, draft: dict[str, Any]) -> None:
    main = [t for t in draft.get("t", []) if t.get("tt") == VIDEO and t.get("sg")]
    if main:
        draft["d"] = max(draft_duration_ms({"t": main}), 1)
    else:
        draft["d"] = draft_duration_ms(draft)
    session.draft = draft
    session.revision += 1


def _track(draft: dict[str, Any], tt: int, kind: str | None = None) -> dict[str, Any]:
    for track in draft["t"]:
        if track.get("tt") == tt and (kind is None or track.get("m", {}).get("kind") == kind):
            return track
    track = {"tt": tt, "sg": [], "m": {"kind": kind} if kind else {}}
    draft["t"].append(track)
    return track


def _empty_draft(session: Session) -> dict[str, Any]:
    return {"t": [], "d": 0, "m": {"width": session.canvas["width"], "height": session.canvas["height"], "fps": 30}}


def place_uploads(session: Session) -> bool:
    """Put uploaded videos/images on a video track when the draft has none. True if changed."""
    draft = session.draft if isinstance(session.draft, dict) and session.draft.get("t") is not None else None
    if draft is not None and any(t.get("tt") == VIDEO and t.get("sg") for t in draft["t"]):
        return False
    media = [v for v in session.video_infos if v.get("file_type") in ("video", "image")]
    if not media:
        return False
    if draft is None:
        first = next((v for v in media if v.get("width") and v.get("height")), None)
        if first is not None:
            w, h = int(first["width"]), int(first["height"])
            session.canvas = {"width": w, "height": h, "aspect": _aspect(w, h)}
        draft = _empty_draft(session)
    track = _track(draft, VIDEO)
    pos = 0
    for info in media:
        dur = int(round(float(info.get("duration") or 0) * 1000)) or 3000
        track["sg"].append({"s": pos, "d": dur, "m": {"name": clip_name(info["filename"]), "url": info.get("cdn_url")}})
        pos += dur
    _touch(session, draft)
    return True


def _aspect(w: int, h: int) -> str:
    from math import gcd

    g = gcd(w, h) or 1
    return f"{w // g}:{h // g}"


def ensure_base(session: Session) -> dict[str, Any]:
    """A draft with a video track: uploads, else a 10 s blank clip."""
    place_uploads(session)
    draft = session.draft if isinstance(session.draft, dict) and session.draft.get("t") is not None else None
    if draft is None:
        draft = _empty_draft(session)
    if not any(t.get("tt") == VIDEO and t.get("sg") for t in draft["t"]):
        _track(draft, VIDEO)["sg"].append({"s": 0, "d": 10000, "m": {"name": "Blank canvas"}})
        _touch(session, draft)
    return draft


def add_bgm(session: Session, style: str, volume: int = 35) -> dict[str, Any]:
    draft = ensure_base(session)
    total = draft.get("d") or draft_duration_ms(draft) or 10000
    track = _track(draft, AUDIO, "bgm")
    track["sg"] = [{"s": 0, "d": total, "v": volume, "m": {"name": style, "url": None}}]
    _touch(session, draft)
    return track["sg"][0]


def set_title(session: Session, text: str) -> dict[str, Any]:
    draft = ensure_base(session)
    track = _track(draft, TEXT, "title")
    seg = {"st": 0, "d": 3000, "m": {"text": text, "style": "white, top-center, 3s fade-in"}}
    track["sg"] = [seg]
    draft.setdefault("m", {})["title"] = text
    _touch(session, draft)
    return seg


def add_subtitles(session: Session, lines: list[str]) -> list[dict[str, Any]]:
    draft = ensure_base(session)
    total = draft.get("d") or 10000
    track = _track(draft, TEXT, "subtitles")
    step = max(1000, total // max(1, len(lines)))
    track["sg"] = [
        {"start": i * step, "d": min(step, total - i * step), "text": line}
        for i, line in enumerate(lines)
        if i * step < total
    ]
    _touch(session, draft)
    return track["sg"]


def cut_range(session: Session, keep_from_ms: int, keep_to_ms: int | None) -> dict[str, Any]:
    """Keep only [keep_from, keep_to) of the timeline, shifting it to start at 0."""
    draft = ensure_base(session)
    lo = max(0, keep_from_ms)
    hi = keep_to_ms if keep_to_ms is not None else draft_duration_ms(draft)
    for track in draft["t"]:
        kept = []
        for seg in track.get("sg") or []:
            s = seg_start(seg)
            e = s + int(seg.get("d", 0))
            ns, ne = max(s, lo), min(e, hi)
            if ne <= ns:
                continue
            if ns > s:
                seg.setdefault("m", {})["trim_in"] = int(seg.get("m", {}).get("trim_in", 0)) + (ns - s)
            _set_start(seg, ns - lo)
            seg["d"] = ne - ns
            kept.append(seg)
        track["sg"] = kept
    _touch(session, draft)
    return draft


def set_speed(session: Session, factor: float) -> dict[str, Any]:
    draft = ensure_base(session)
    for track in draft["t"]:
        if track.get("tt") != VIDEO:
            continue
        pos = 0
        for seg in track["sg"]:
            seg.setdefault("m", {})["speed"] = factor
            seg["s"] = pos
            seg["d"] = max(100, int(round(int(seg["d"]) / factor)))
            pos += seg["d"]
    _touch(session, draft)
    total = draft["d"]
    for track in draft["t"]:
        if track.get("tt") == AUDIO:
            for seg in track["sg"]:
                seg["d"] = min(int(seg["d"]), total)
    return draft


def add_fade(session: Session, fade_in: bool, fade_out: bool) -> dict[str, Any]:
    draft = ensure_base(session)
    for track in draft["t"]:
        if track.get("tt") == VIDEO and track["sg"]:
            if fade_in:
                track["sg"][0].setdefault("m", {})["fade_in"] = 1000
            if fade_out:
                track["sg"][-1].setdefault("m", {})["fade_out"] = 1000
    _touch(session, draft)
    return draft


def generic_edit(session: Session, note: str) -> dict[str, Any]:
    draft = ensure_base(session)
    seg = next(t for t in draft["t"] if t.get("tt") == VIDEO and t["sg"])["sg"][0]
    meta = seg.setdefault("m", {})
    meta["edits"] = int(meta.get("edits", 0)) + 1
    meta["last_edit"] = note[:80]
    _touch(session, draft)
    return seg


def replace_with_generated(session: Session, name: str, url: str | None, duration_ms: int,
                           width: int, height: int) -> dict[str, Any]:
    session.canvas = {"width": width, "height": height, "aspect": _aspect(width, height)}
    draft = {"t": [{"tt": VIDEO, "sg": [{"s": 0, "d": duration_ms, "m": {"name": name, "url": url}}], "m": {}}],
             "d": duration_ms, "m": {"width": width, "height": height, "fps": 30}}
    _touch(session, draft)
    return draft

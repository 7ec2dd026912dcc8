"""Make backend text safe to show: no terminal escapes, no markup, no control characters.

``clean_text`` is applied to everything the backend agent writes before the user sees it;
``redact`` hides secrets (tokens) in log and debug output. Both are pure and never raise.
"""

from __future__ import annotations

import re
from typing import Iterable

__all__ = ["clean_text", "redact"]

# Terminal escape sequences (7-bit and 8-bit forms).
_ESCAPES = re.compile(
    r"""
      \x1b\][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?   # OSC ... BEL/ST (unterminated: to the line end)
    | \x9d[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?     # 8-bit OSC
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?          # DCS, SOS, PM, APC
    | [\x90\x98\x9e\x9f][^\x1b\x9c]*(?:\x1b\\|\x9c)?  # 8-bit DCS, SOS, PM, APC
    | \x1b\[[0-?]*[ -/]*[@-~]?                        # CSI
    | \x9b[0-?]*[ -/]*[@-~]?                          # 8-bit CSI
    | \x1b[ -/]*[0-~]                                 # nF, Fp, Fe, Fs
    """,
    re.VERBOSE,
)
# C0 and C1 controls except \t and \n; DEL; bidi overrides and isolates (Trojan-source tricks).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")

_SCRIPT = re.compile(
    r"<\s*(script|style|iframe|object|embed|template|noscript)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<![A-Za-z][^>]*>|<\?.*?(?:\?>|\Z)", re.DOTALL)
_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(?:p|div|li|h[1-6]|tr|ul|ol|table|blockquote|pre)\s*>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/?\s*>")

_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,7}|[A-Za-z]{2,8});")
_NAMED = {
    "amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": " ",
    "ndash": "–", "mdash": "—", "hellip": "…", "lsquo": "‘", "rsquo": "’",
    "ldquo": "“", "rdquo": "”", "middot": "·", "times": "×", "copy": "©",
    "reg": "®", "trade": "™", "bull": "•", "rarr": "→", "larr": "←", "laquo": "«", "raquo": "»",
}

_TRAILING_WS = re.compile(r"[ \t]+\n")
# Anything clean_text would change (besides strip): most agent replies have none of it,
# and one character-class search settles that.
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029<&]|[ \t]\n|\n\n\n")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _entity(m: re.Match[str]) -> str:
    body = m.group(1)
    if body[0] == "#":
        try:
            code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
            return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF else ""
        except (ValueError, OverflowError):
            return ""
    return _NAMED.get(body, _NAMED.get(body.lower(), m.group(0)))


def _strip_escapes(s: str) -> str:
    s = _NEWLINES.sub("\n", s)
    s = _ESCAPES.sub("", s)
    return _CONTROLS.sub("", s)


def _strip_markup(s: str) -> str:
    # Removing one tag can join two halves into a new one ("<<b>script>"): repeat until stable.
    # Each round only shortens the text, so this terminates.
    while True:
        before = s
        s = _SCRIPT.sub("", s)
        s = _COMMENT.sub("", s)
        s = _BREAK.sub("\n", s)
        s = _TAG.sub("", s)
        if s == before:
            return s


def clean_text(s: object) -> str:
    """Backend text without escapes, control characters or markup; never raises."""
    try:
        if s is None:
            return ""
        if not isinstance(s, str):
            s = str(s)
        if not _NEEDS_WORK.search(s):
            return s.strip()
        s = _strip_escapes(s)
        s = _strip_markup(s)
        if "&" in s:
            s = _ENTITY.sub(_entity, s)
            # Entities may decode to controls or to markup ("&lt;script&gt;"): clean again.
            s = _strip_markup(_strip_escapes(s))
        s = _TRAILING_WS.sub("\n", s)
        s = _BLANK_RUNS.sub("\n\n", s)
        return s.strip()
    except Exception:  # pragma: no cover - defensive: sanitising must never break a reply
        return ""


def redact(s: object, secrets: Iterable[object] | None = ()) -> str:
    """``s`` with every non-empty secret replaced by ``***`` (longest secrets first)."""
    try:
        text = "" if s is None else s if isinstance(s, str) else str(s)
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        items = []
        for sec in secrets or ():
            if sec is None:
                continue
            sec = sec if isinstance(sec, str) else str(sec)
            if sec:
                items.append(sec)
        for sec in sorted(set(items), key=len, reverse=True):
            text = text.replace(sec, "***")
        return text
    except Exception:  # pragma: no cover
        return "***"

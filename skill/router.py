"""Intent router: one chat message (+ attachments) -> ``export | credits | state | upload | chat``.

Pure stdlib, no model, no network; every regex is compiled at import time so that the CLI's
``route`` command starts fast and a message is classified in a few microseconds.

How a message is read
=====================
1. **Arguments.**  http(s) URLs and local paths (POSIX, ``~/``, Windows, non-ASCII names) are
   pulled out of the raw text first.  A URL is *media* only by the extension of its path.
   Their spans are replaced by placeholder characters, so that ``https://x/export.mp4`` can
   never look like the word "export".
2. **Normalisation.**  NFKC + lower case (full-width ``，？：`` become ASCII), quoted text
   (``'download our app'``, ``“扫码下载”``, ``「夏の思い出」``) is masked — it is on-screen
   text, not an instruction — and short typos of key words are corrected with a tiny
   Damerau-Levenshtein check (``exprot`` -> ``export``, ``shwo`` -> ``show``).
3. **Sense masking.**  Four stem-gated regexes mask the other senses of the action words: film credits
   (``credits roll``, ``end credits``, ``credit the photographer``, ``演职员表``, ``créditos
   finales``), colour/audio/bank balance, ``status bar`` / ``进度条`` / ``status of <topic>``,
   the noun ``export settings`` / ``the export``, text styling (``render the title``,
   ``把标题渲染成金色``), library downloads (``download the music``), past or external uploads
   (``the uploaded logo``, ``上传速度``, ``upload it to TikTok``).
4. **Clauses.**  The text is cut at punctuation and connectives (``then``, ``but``, ``so``,
   ``然后`` ...).  Clauses introduced by ``before/if/until/antes de`` or ending in
   ``之前/前に`` are *subordinate*: their actions are not the request.
5. **Per clause**: action words per intent (with their positions), negation scope (``don't /
   not yet / no need to / 先别 / 不用 / まだ…ないで / no …`` negate the actions *after* them in
   the clause, ``just / 直接`` resets the scope), deferral (``later / myself / 等会儿 / 再说 /
   後で / luego``) disables the whole clause, capability and how-to questions (``what formats
   can I upload``, ``how many tracks can…``, ``怎么…``) are not requests, and edit requests
   are recognised by an edit verb in imperative position (``add / trim / make / 加 / 剪 / 改 /
   追加 / agrega`` ...; a Chinese verb followed by ``了`` is done, not asked for).
6. **Decision** (first rule that fires):
   credits query (an account-sense credit word + a query cue, or a bare ``balance``) ->
   media given (URL/path/attachments) and upload not declined -> an active upload request ->
   an active edit request (the backend agent must do it first, so ``add subtitles and then
   export`` is chat) -> the first active export/state request -> chat.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

__all__ = ["INTENTS", "Route", "classify", "extract_args", "damerau_levenshtein"]

INTENTS: tuple[str, ...] = ("export", "credits", "state", "upload", "chat")

_MAX_ANALYSE = 4000  # characters of a message that are read for the intent
_MAX_EXTRACT = 1_000_000  # characters scanned for URLs / paths


_NOTHING = object()


class Route:
    """The router's verdict for one message (immutable).

    Written out by hand rather than as a frozen dataclass: importing ``dataclasses`` (and
    ``inspect`` behind it) would cost more than the whole rest of this module's import.
    """

    __slots__ = ("intent", "text", "paths", "urls", "hints", "confidence")
    __match_args__ = __slots__

    intent: str
    text: str
    paths: tuple[str, ...]
    urls: tuple[str, ...]
    hints: dict
    confidence: float | None

    def __init__(self, intent: str, text: str, paths: tuple[str, ...] = (), urls: tuple[str, ...] = (),
                 hints: dict = _NOTHING, confidence: float | None = None) -> None:  # type: ignore[assignment]
        put = object.__setattr__
        put(self, "intent", intent)
        put(self, "text", text)
        put(self, "paths", paths)
        put(self, "urls", urls)
        put(self, "hints", {} if hints is _NOTHING else hints)
        put(self, "confidence", confidence)

    def _astuple(self) -> tuple:
        return (self.intent, self.text, self.paths, self.urls, self.hints, self.confidence)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        return ("Route(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._astuple() == other._astuple()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __reduce__(self) -> tuple:
        return (self.__class__, self._astuple())

    def __copy__(self) -> "Route":
        return self

    def __deepcopy__(self, memo: dict) -> "Route":
        import copy

        return self.__class__(*copy.deepcopy(self._astuple(), memo))


# --------------------------------------------------------------------------- helpers

_BOUNDARY_LETTER = r"\\b([a-z])"
_BOUNDARY_GROUP = r"\\b\(\?:([a-z' |]+)\)"  # \b(?:foo|bar baz) -> (?:\bfoo|\bbar baz)


_UPGRADE_AFTER = 16
"""Uses after which a pattern is recompiled in its faster-matching form (see _Lazy)."""

_METHODS = ("search", "match", "finditer", "findall", "sub")


class _Lazy:
    """A regex compiled on first use, in two stages when a faster form exists.

    Compiling the ~60 patterns below costs ~35 ms, which a one-shot ``nemo-skill route`` or
    ``say`` would pay in full; lazily, a process pays only for the patterns its messages
    reach (and the cheap gates in front of the big ones keep that small).  Patterns built by
    ``_compile_c`` also have a rewritten form (:func:`_distribute`) that matches the same text
    1.5-2x faster but takes 2-3x longer to compile: the plain form serves the first
    ``_UPGRADE_AFTER`` calls (a one-shot command never pays for the rewrite), then the
    rewritten one is swapped in for a long-running process.  Once settled, the compiled
    pattern's bound methods replace this object's own: no Python-level indirection.
    """

    def __init__(self, pattern: str, flags: int = 0, build=None, fast_build=None) -> None:
        self.pattern = pattern
        self.flags = flags
        self._build = build or re.compile
        self._fast_build = fast_build
        self._uses = 0
        self.ready = False  # compiled yet?

    def _bind(self, rx: re.Pattern[str]) -> None:
        for name in _METHODS:
            setattr(self, name, getattr(rx, name))
        self.compiled = lambda: rx

    def _bind_counting(self, rx: re.Pattern[str]) -> None:
        def counted(method):
            def call(*a):
                self._uses += 1
                if self._uses >= _UPGRADE_AFTER:
                    self._bind(self._fast_build(self.pattern, self.flags))
                return method(*a)
            return call

        for name in _METHODS:
            setattr(self, name, counted(getattr(rx, name)))
        self.compiled = lambda: rx

    def compiled(self) -> re.Pattern[str]:
        rx = self._build(self.pattern, self.flags)
        self.ready = True
        if self._fast_build is None:
            self._bind(rx)
        else:
            self._bind_counting(rx)
        return rx

    def search(self, *a):
        self.compiled()
        return self.search(*a)

    def match(self, *a):
        self.compiled()
        return self.match(*a)

    def finditer(self, *a):
        self.compiled()
        return self.finditer(*a)

    def findall(self, *a):
        self.compiled()
        return self.findall(*a)

    def sub(self, *a):
        self.compiled()
        return self.sub(*a)


def _structure(pattern: str, start: int = 0):
    """``(index, char, depth)`` for each character of a regex source that is structure:
    outside character classes and not escaped (``depth`` counts open groups before it)."""
    depth, in_class, esc = 0, False, False
    for i in range(start, len(pattern)):
        ch = pattern[i]
        if esc:
            esc = False
        elif ch == "\\":
            esc = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        else:
            yield i, ch, depth
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1


def _top_level_alternatives(pattern: str) -> list[str]:
    """Split a regex source at its top-level ``|`` (outside groups and character classes)."""
    out, start = [], 0
    for i, ch, depth in _structure(pattern):
        if ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


_NON_ASCII_START = r"(?:\(\?:|\(\?<!.\))*[^\x00-\x7f]"  # a branch that cannot match ASCII text


class _Dual:
    """A regex compiled twice: the full one, and its ASCII-only branches for ASCII text.

    Most messages are plain ASCII; skipping the CJK/kana branches there roughly halves the
    cost of the big keyword alternations.
    """

    __slots__ = ("full", "ascii", "pattern", "f", "a")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.full = self.f = _c(pattern, flags)
        self.ascii = self.a = _Lazy(pattern, flags, _plain_ascii_branches, _compile_ascii_branches)

    def search(self, s: str, *a: int) -> re.Match[str] | None:
        return (self.ascii if s.isascii() else self.full).search(s, *a)

    def match(self, s: str, *a: int) -> re.Match[str] | None:
        return (self.ascii if s.isascii() else self.full).match(s, *a)

    def finditer(self, s: str, *a: int):
        return (self.ascii if s.isascii() else self.full).finditer(s, *a)

    def sub(self, repl, s: str, count: int = 0) -> str:
        return (self.ascii if s.isascii() else self.full).sub(repl, s, count)


def _any_in(s: str, words: tuple[str, ...]) -> bool:
    """Is one of ``words`` a substring of ``s``?  (A cheap necessary condition for a regex.)"""
    for w in words:
        if w in s:
            return True
    return False


def _literal_heads(alternation: str) -> tuple[str, ...]:
    """The literal text each alternative of ``(?:a|b...)`` starts with (a required substring)."""
    body = alternation[3:-1] if alternation.startswith("(?:") and alternation.endswith(")") else alternation
    heads = []
    for alt in _top_level_alternatives(body):
        head = ""
        for i, ch in enumerate(alt):
            if ch in "()[]{}?*+|\\.^$":
                break
            if i + 1 < len(alt) and alt[i + 1] in "?*{":  # an optional character ends the literal
                break
            head += ch
        if not head:
            raise ValueError(f"alternative without a literal head: {alt!r}")
        heads.append(head)
    return tuple(dict.fromkeys(heads))


def _compile_ascii_branches(pattern: str, flags: int = 0, compile_=None) -> re.Pattern[str]:
    alts = [a for a in _top_level_alternatives(pattern) if not re.match(_NON_ASCII_START, a)]
    return (compile_ or _compile_c)("|".join(alts), flags) if alts else re.compile(r"(?!)")


def _plain_ascii_branches(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return _compile_ascii_branches(pattern, flags, _compile_plain)


def _compile_plain(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """The same pattern as :func:`_compile_c` without the speed rewrite: quick to compile."""
    return re.compile(pattern, flags | re.ASCII)


def _c(pattern: str, flags: int = 0) -> _Lazy:
    """A lazily compiled :func:`_compile_c` pattern (plain first, rewritten once it is hot)."""
    return _Lazy(pattern, flags, _compile_plain, _compile_c)


_CAPTURING = r"(?<!\\)\((?!\?)"


def _lead_group(alt: str) -> tuple[str, str, str] | None:
    """``(\\b or "", body, rest)`` of a branch that opens with a group ``\\b?(?:body)``."""
    head = "\\b" if alt.startswith("\\b(?:") else ""
    if not alt.startswith("(?:", len(head)):
        return None
    for i, ch, depth in _structure(alt, len(head)):
        if ch == ")" and depth == 1:  # the group that opened at len(head) closes here
            return head, alt[len(head) + 3:i], alt[i + 1:]
    return None


def _distribute(pattern: str) -> str:
    """``\\b(?:a|b)REST`` -> ``\\baREST|\\bbREST`` for each top-level branch (same matches).

    A backtracking engine tries ``(?:a|b)R`` as ``aR`` then ``bR``, so the result is identical;
    but now every branch can start with a literal, and a pattern whose branches all do gets a
    first-character table that lets the engine skip most positions without entering it.  Not
    for a group with a quantifier, nor with capturing groups (they would be renumbered).
    """
    out = []
    for alt in _top_level_alternatives(pattern):
        g = _lead_group(alt)
        if g is None or g[2][:1] in ("?", "*", "+", "{") or re.search(_CAPTURING, alt):
            out.append(alt)
            continue
        words = _top_level_alternatives(g[1])
        if "" in words:
            out.append(alt)
        else:
            out.extend(g[0] + w + g[2] for w in words)
    return "|".join(out)


def _compile_c(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile in ASCII mode, so ``\\b`` is a Latin-letter boundary (``exportして`` has one).

    ``\\bx`` is rewritten to ``x(?<![a-z0-9_]x)`` (same meaning): a branch that starts with a
    literal lets the regex engine skip most positions cheaply, which is 1.5-2x faster here.
    """
    pattern = _distribute(pattern)
    pattern = re.sub(_BOUNDARY_GROUP,
        lambda m: "(?:" + "|".join("\\b" + w for w in m.group(1).split("|")) + ")", pattern)
    pattern = re.sub(_BOUNDARY_LETTER, lambda m: m.group(1) + "(?<![a-z0-9_]" + m.group(1) + ")", pattern)
    return re.compile(pattern, flags | re.ASCII)


def damerau_levenshtein(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours)."""
    la, lb = len(a), len(b)
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ai = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        prev2, prev = prev, cur
    return prev[lb]


def _within_one(a: str, b: str, swap_only: bool = False) -> bool:
    """``damerau_levenshtein(a, b) <= 1`` in O(n); ``swap_only`` allows only a transposition."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la == lb:
        i = 0
        while a[i] == b[i]:
            i += 1
        if i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]:
            return True
        return not swap_only and a[i + 1:] == b[i + 1:]
    if swap_only or abs(la - lb) != 1:
        return False
    if la > lb:
        a, b = b, a
    i = 0
    n = len(a)
    while i < n and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


# --------------------------------------------------------------------------- arguments

_MEDIA_EXT = frozenset(
    "mp4 mov avi webm mkv jpg jpeg png gif webp mp3 wav m4a aac "
    "m4v mpg mpeg wmv flv 3gp heic heif bmp tif tiff flac ogg opus".split()
)
_EXT = r"(?:" + "|".join(sorted(_MEDIA_EXT, key=len, reverse=True)) + r")"
_TRAIL = ".,;:!?)]}>'\"`，。；：！？、）」』】》"

_URL_RE = _Lazy(r"(?i)\b(?:https?|file)://[^\s<>\"'`，。、；！？）」』】《》]+")
_WIN_PATH_RE = _Lazy(
    r"(?<![A-Za-z0-9])[A-Za-z]:\\(?:[^\\/:*?\"<>|\r\n\t]+\\)*"
    r"(?:[^\\/:*?\"<>|\r\n\t]{0,120}?\." + _EXT + r"(?![A-Za-z0-9])"
    r"|[^\\/:*?\"<>|\s，。；！？、）」]*)",
    re.I,
)
_POSIX_PATH_RE = _Lazy(
    r"(?<![A-Za-z0-9_.:/\\~-])(?:~|\.{1,2})?/"
    r"(?:"
    # a media file: directories without spaces, a file name that may hold a few spaces
    r"(?:[^/\s\"'<>|，。；！？、）」]+/)*[^/\n\"'<>|，。；！？、）」]{1,80}?\." + _EXT + r"(?![A-Za-z0-9])"
    r"|(?:[^/\s\"'<>|，。；！？、）」]+/)+[^/\s\"'<>|，。；！？、）」]*"  # >= 2 segments
    r"|[^/\s\"'<>|，。；！？、）」]+\.[A-Za-z0-9]{1,5}(?![A-Za-z0-9/])"  # /name.ext
    r")",
    re.I,
)
_RES_RE = _c(r"\b(?:(480|540|720|1080|1440|2160|4320)\s*p|([248])\s*k|(uhd|fhd|full\s*hd|qhd))\b")
_FMT_RE = _c(r"\b(mp4|mov|webm|gif|mkv|avi|m4v|mp3|wav)\b")
_FPS_RE = _c(r"\b(24|25|30|48|50|60|120)\s*fps\b")
_RES_CANON = {"4": "2160p", "2": "1440p", "8": "4320p", "uhd": "2160p", "fhd": "1080p", "qhd": "1440p"}


def _is_media_url(url: str) -> bool:
    rest = url.split("://", 1)[-1]
    path = rest.split("?", 1)[0].split("#", 1)[0]
    if "/" not in path:
        return False
    last = path.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in _MEDIA_EXT


def _scan(text: str) -> tuple[list[str], list[str], list[str], list[tuple[int, int, str]]]:
    """URLs, media URLs, local paths and the spans (start, end, kind) they occupy."""
    urls: list[str] = []
    media: list[str] = []
    paths: list[str] = []
    spans: list[tuple[int, int, str]] = []
    has_url = "://" in text
    if has_url:
        for m in _URL_RE.finditer(text):
            u = m.group().rstrip(_TRAIL)
            if len(u) < 9:
                continue
            spans.append((m.start(), m.start() + len(u), "u"))
            if u[:7].lower() == "file://":
                p = u[7:]
                paths.append(p)
                spans[-1] = (spans[-1][0], spans[-1][1], "m" if _is_media_url("x:/" + p) else "p")
                continue
            urls.append(u)
            if _is_media_url(u):
                media.append(u)
                spans[-1] = (spans[-1][0], spans[-1][1], "m")

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e, _ in spans)

    if ":\\" in text:
        for m in _WIN_PATH_RE.finditer(text):
            p = m.group().rstrip(_TRAIL)
            if len(p) > 3 and free(m.start(), m.start() + len(p)):
                paths.append(p)
                spans.append((m.start(), m.start() + len(p), "m" if _path_is_media(p) else "p"))
    if "/" in text:
        for m in _POSIX_PATH_RE.finditer(text):
            p = m.group().rstrip(_TRAIL)
            if len(p) > 2 and p.count("/") + p.count(".") >= 2 and free(m.start(), m.start() + len(p)):
                paths.append(p)
                spans.append((m.start(), m.start() + len(p), "m" if _path_is_media(p) else "p"))
    spans.sort()
    return urls, media, paths, spans


def _path_is_media(p: str) -> bool:
    last = p.replace("\\", "/").rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in _MEDIA_EXT


def extract_args(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(paths, urls)`` found in ``text`` (all http/https URLs; media or not)."""
    urls, _media, paths, _spans = _scan(_clean(text)[:_MAX_EXTRACT])
    return tuple(dict.fromkeys(paths)), tuple(dict.fromkeys(urls))


# --------------------------------------------------------------------------- normalisation

_BAD_CHARS = _Lazy(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_QUOTED = _Lazy(
    r"(?<![0-9a-z\u00c0-\u024f])'[^'\n]{1,120}'(?![0-9a-z\u00c0-\u024f])"
    r"|\"[^\"\n]{1,120}\"|“[^”\n]{1,120}”|「[^」\n]{1,120}」|『[^』\n]{1,120}』|《[^》\n]{1,120}》"
    r"|«[^»\n]{1,120}»"
)
_QUOTE_GATE = _Lazy(r"['\"“「『《«]")
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})
_PLACE = {"m": " \ue000 ", "u": " \ue001 ", "p": " \ue002 "}
# Text that is ASCII apart from the placeholders above (and the quote / sense masks \ue003,
# \ue004) is read with the ASCII-only branches: every other branch starts with a non-ASCII
# literal (see _Dual), which a placeholder never is.
_NOT_ASCII_OR_PLACE = _Lazy(r"[^\x00-\x7f\ue000-\ue004]")


def _ascii_ish(s: str) -> bool:
    return s.isascii() or _NOT_ASCII_OR_PLACE.search(s) is None


def _clean(text: object) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:
            return ""
    if text.isascii() and text.isprintable():  # the common case, without a regex
        return text
    return _BAD_CHARS.sub(" ", text) if _BAD_CHARS.search(text) else text


# --- typo correction (a tiny Damerau-Levenshtein check on key words only)
_FUZZ_KEYS = ("export", "upload", "download", "credits", "credit", "status", "show", "progress",
              "timeline", "balance", "tracks")
_FUZZ_STOP = frozenset(
    "expert experts exports expo states statue stats statues stated shoe shows showy balanced "
    "balances valance tricks trucks tracts traces tracked tracker track trace racks uploads "
    "downloads credited creditor timelines crusts credo".split()
)
_FUZZ_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _k in _FUZZ_KEYS:
    _FUZZ_BY_FIRST[_k[0]] = _FUZZ_BY_FIRST.get(_k[0], ()) + (_k,)
_FUZZ_SET = frozenset(_FUZZ_KEYS)
_FUZZ_FL = frozenset((k[0], n) for k in _FUZZ_KEYS for n in (len(k) - 1, len(k), len(k) + 1) if n >= 4)
# only words that can be near a key word: its first letter, 4-9 letters (see _FUZZ_FL)
_ASCII_WORD = _Lazy(r"(?<![a-z])[" + "".join(sorted(_FUZZ_BY_FIRST)) + r"][a-z]{3,8}(?![a-z])")
_ALNUM = _Lazy(r"[^\W_]")  # str.isalnum() characters, in C


_TYPO_MEMO: dict[str, str] = {}  # candidate word -> its correction, or "" (bounded, see below)


def _typo_of(w: str) -> str:
    """The key word ``w`` is a typo of, or ``""``."""
    if (w[0], len(w)) not in _FUZZ_FL or w in _FUZZ_STOP or w in _FUZZ_SET:
        return ""
    for k in _FUZZ_BY_FIRST[w[0]]:
        if abs(len(k) - len(w)) <= 1 and _within_one(w, k, swap_only=len(k) < 5 or len(w) < 5):
            return k
    return ""


def _fix_typos(s: str) -> tuple[str, bool]:
    fixes = None
    memo = _TYPO_MEMO
    for w in _ASCII_WORD.findall(s):
        k = memo.get(w)
        if k is None:
            k = _typo_of(w)
            if len(memo) >= 4096:  # words are a small vocabulary; this only bounds garbage input
                memo.clear()
            memo[w] = k
        if k:
            if fixes is None:
                fixes = {}
            fixes[w] = k
    if fixes is None:
        return s, False
    return _ASCII_WORD.sub(lambda m: fixes.get(m.group(), m.group()), s), True


# --------------------------------------------------------------------------- lexicons

_PLATFORMS = (r"(?:youtube|yt|tiktok|tik tok|instagram|insta|ig|facebook|fb|twitter|vimeo|google drive|"
              r"drive|dropbox|icloud|onedrive|the cloud|cloud|social media|social|my channel|our channel|"
              r"bilibili|douyin|weibo|linkedin|reddit|snapchat|pinterest|twitch|my website|our website|"
              r"the website|my site|a server|the server|s3|github|slack|whatsapp|wechat)")

# Other senses of the action words: masked before anything else is looked at.
def _mask_family(stems: str, pattern: str) -> tuple[_Lazy, _Dual]:
    return _Lazy(stems), _Dual(pattern)


# Each family runs only when one of its stems (a cheap literal scan) is in the message.
_MASKS = (
    _mask_family(
        r"status|progress|loading|状态栏|进度条|加载条|バー|barra",
        r"\b(?:status|progress|loading)\s+(?:bars?|lines?|indicators?|icons?|page|codes?|messages?|quo|circles?|rings?|updates? from)\b"
        r"|\b(?:status|progress)\s+of\s+(?!(?:the\s+|my\s+|our\s+|this\s+|your\s+)?(?:project|edit|editing|video|render|rendering|export|upload|draft|timeline|job|task|work|it|things)\b)[^\s,.;!?]+"
        r"|\b(?:status|progress)\s+(?:looks|look|is|was|seems|says|said|shows|showed|reads)\b"
        r"|\bin progress\b"
        r"|状态栏|进度条|加载条|ステータスバー|プログレスバー|barra de (?:estado|progreso)",
    ),
    _mask_family(  # film credits / attribution
        r"credit|cr[eé]dito|クレジット|演职员|片尾字幕|积分",
        r"\b(?:end|ending|closing|opening|final|film|movie|rolling|scrolling|intro|outro)\s+credits?\b"
        r"|\bcredits?\s+(?:roll|rolls|sequence|scene|screen|text|list|section|page|music|song|font|cards?|titles?|names?|at the (?:end|beginning|start)|with)\b"
        r"|\bcredit\s+(?:the|@|to|him|her|them|my friend|our)\b|\bcredit\s+(?=\S*@)"
        r"|\bcr[eé]ditos\s+(?:finales|iniciales|de cierre|al final|al inicio|con)\b"
        r"|(?:エンド|オープニング)クレジット|クレジット(?:ロール|表記)|演职员表?|片尾字幕"
        r"|积分(?:排行榜?|榜|排名|规则|制度|系统|表|赛)",
    ),
    _mask_family(  # balances that are not the account's
        r"balance|余额|saldo|残高",
        r"\b(?:bank|banking|checking|savings|card|paypal|wallet|colou?r|white|audio|sound|tonal|tone|stereo|left-right)\s+balance\b"
        r"|(?:银行卡?|卡里|卡上|支付宝|微信|信用卡)的?余额|\bsaldo\s+(?:bancario|del banco)\b|(?:銀行|口座)の?残高",
    ),
    _mask_family(  # export/render/download/upload used as nouns, in the past, or about something else
        r"export|render|download|upload|导出|下载|上传|渲染|アップロード",
        r"\b(?:the|an|this|that|last|previous|your|first|old|earlier|latest)\s+(?:export|render|download|upload)(?:s)?\b"
        r"|\b(?:export|render|download|upload)(?:ing)?\s+(?:settings?|formats?|options?|presets?|quality|buttons?|menu|history|logs?|errors?|failed|fails|dialog|panel|tab|limits?|speeds?|times?|bar|page|progress|sizes?|quota|queue|folder|process|feature|function)\b"
        r"|导出(?:设置|格式|选项|参数|按钮)|(?:上次|之前|刚才|已经)导出|导出(?:过|的(?:视频|文件|那个|格式))"
        r"|下载(?:速度|按钮)|上传(?:速度|时间|失败|进度|限制|完|好了|了|过|的)|(?:刚|刚刚|已经|之前|昨天)上传"
        r"|上传到(?:抖音|b站|快手|小红书|视频号|youtube|微博|网盘|云盘|朋友圈)"
        r"|\brender(?:ing)?\s+(?:the\s+|this\s+|that\s+|my\s+|all\s+|each\s+|these\s+|those\s+)?(?:title|titles|text|texts|subtitles?|captions?|letters?|words?|fonts?|logo|names?|heading|headline|lyrics|credits|quote|watermark)\b"
        r"|把(?:标题|字幕|文字|文本|logo|字|片名|名字|水印)[^,。]{0,6}?渲染|渲染成(?!品|片|视频|mp4)"
        r"|\bdownload(?:ing)?\s+(?:the\s+|some\s+|a\s+|an\s+|this\s+|that\s+|more\s+|free\s+|any\s+|our\s+)?(?:music|songs?|audio|tracks?|sounds?|sfx|effects?|fonts?|stickers?|templates?|stock|assets?|images?|photos?|pictures?|bgm|app|apps|presets?|luts?|footage|b-roll|overlays?|transitions?)\b"
        r"|下载(?:音乐库|曲库|素材库|音乐|歌|音效|字体|素材|模板|贴纸|app|应用)"
        r"|\bupload(?:'s|\s+is|\s+was|\s+has been|\s+got|\s+has)\s+(?:done|finished|complete|completed|over|ready|through)\b"
        r"|\bupload(?:ing)?\s+(?:[^\s,.;!?]+\s+){0,3}?(?:to|on|onto)\s+" + _PLATFORMS + r"\b"
        r"|アップロードした(?!い)",
    ),
)


# The stems of each family as plain substrings, for ASCII text (the non-ASCII stems cannot occur
# there; ``cr[eé]dito`` contains "credit").
_MASK_ASCII_STEMS = (("status", "progress", "loading", "barra"), ("credit",), ("balance", "saldo"),
                     ("export", "render", "download", "upload"))


_MASK_ASCII = tuple(zip(_MASK_ASCII_STEMS, (rx for _gate, rx in _MASKS)))


def _mask(s: str, asc: bool) -> str:
    if asc:
        for stems, rx in _MASK_ASCII:
            for w in stems:  # _any_in, inlined (this runs for every message)
                if w in s:
                    s = rx.a.sub(" \ue004 ", s)
                    break
        return s
    for gate, rx in _MASKS:
        if gate.search(s) is not None:
            s = rx.f.sub(" \ue004 ", s)
    return s


# --- clauses
_DELIM = _Dual(
    r"[.!?;。！？；\n\r\t,、:…—–]+|\s-+\s"
    r"|\b(?:and then|and also|then|but|however|so|plus|y luego|luego|pero|además)\b|然后|但是|不过|所以|接着|并且|另外"
)
_SUBORD = _Dual(r"\b(?:before|until|till|unless|if|antes de(?: que)?|hasta que)\b")
_SUB_END = _Lazy(r"(?:之前|以前|前に|(?:导出|渲染|下载|上传|发布)前)")
_JUNK = _Lazy(r"[^\w\s']+")

# --- negation / deferral / capability
_NEG = _Dual(
    r"\b(?:don't|dont|do not|does not|doesn't|did not|didn't|never|not|no|without|stop|hold off|skip|"
    r"forget|cancel|avoid|nor|wait (?:to|before|on|with)|isn't|aren't|can't|cannot|won't|shouldn't|sin|nunca)\b"
    r"|别|不用|不(?<!要不)要|不需要|暂时不|暂不|不必|无需|先不|不想|不再|没必要|甭|まだ"
)
_NEG_RESET = _c(r"\b(?:just|and|but|instead|y|pero)\b|直接|只要|就|而是|然后")
_JA_POSTNEG = _Lazy(r"ないで|しない|やめて|ません|不要")
_DEFER = _Dual(
    r"\b(?:later|tomorrow|afterwards?|next time|another time|some other time|in a (?:bit|while|minute)|"
    r"eventually|myself|ourselves|m[aá]s tarde|mañana|despu[eé]s(?! de))\b"
    r"|等会儿?|等一会|待会|晚点|稍后|回头|改天|下次|以后再|明天|再说|我自己|自己(?:来|下载|导出|上传|渲染|弄)"
    r"|後で|あとで|後ほど"
)
_CAPABILITY = _Dual(
    r"\bhow\s+(?:do|does|can|could|should|would|to|did)\b"
    r"|\b(?:what|which)\s+(?:[a-z']+\s+){0,2}?(?:formats?|resolutions?|codecs?|types?|kinds?|sizes?|options?|languages?|extensions?|aspect ratios?)\b"
    r"|\bdo you support\b|\bsupported\b|\bis there (?:a|any) (?:limit|way|max)"
    r"|\bhow (?:many|much|big|large|long)\b(?!\s+(?:credits?|quota|balance))[^?]*\bcan\b"
    r"|\bwhat happens (?:if|when)\b|\bwhy\b|\bwhat (?:is|are) (?:a|an|the difference)\b"
    r"|怎么(?!样)|怎样(?!了)|如何(?![?。,.!]|$|了)|哪些格式|什么格式|支持(?:哪些|什么)|哪些分辨率|为什么|能.{0,6}哪些|多大|多长|上限|最多|最大"
    r"|どうやって|どうすれば|どんな(?:形式|フォーマット)|\bc[oó]mo\b|\bqu[eé] formatos\b"
)
_QUESTION_START = _c(r"^\s*(?:do|does|did|is|am|are|will|would|can|could|how|what|whats|what's|which|was|have|has)\b")

# --- credits
_CREDIT_WORD = _Dual(
    r"\bcredits?\b|\bcr[eé]ditos?\b|积分|クレジット|额度|\bsaldo\b|残高|余额"
    r"|\b(?:my|your|account|credit|credits|remaining|current|available|wallet|points?)\s+(?:current\s+)?balance\b"
    r"|\bbalance\s+(?:left|remaining|pls|plz|please|check)\b"
    r"|\b(?:my|your|account|credit|daily|monthly|weekly|usage|api|free|remaining|the)\s+quota\b"
    r"|\bquota\s+(?:left|remaining|reset|used|limit)\b|\bhow much quota\b"
)
_CREDIT_BARE = _c(
    r"^\s*(?:(?:pls|plz|please|my|mi|the|account|check|what's|whats|what is|remaining|current|por favor|"
    r"查一下|查下|查|看看|我的|wait)\s*)*"
    r"(?:credits?|balance|quota|积分|余额|额度|saldo|cr[eé]ditos|クレジット|残高)"
    r"(?:\s*(?:balance|status|left|remaining|pls|plz|please|por favor|now|info|呢|吧))*\s*$"
)
_CREDIT_STRONG = _Dual(
    r"\bhow (?:many|much)\b|\bleft\b|\bremain|\bbalance\b|\bout of\b|\bstatus\b|\breset\b|\brefill|\btop up\b"
    r"|\bmy (?:credits?|balance|quota)\b|\bwhat(?:'s|s| is| are)\s+(?:my|the)\b|\b(?:check|show|see|view|tell|display)\b"
    r"|多少|还剩|剩|够不够|够吗|够用吗|够么|查|看看|看下|看一下|没了|没有了|是不是没|扣|花|用了|几个|吗|么"
    r"|残|教えて|いくら|どれくらい|確認|\bcu[aá]nt[oa]s?\b|\bquedan?\b|\bqueda\b|\btengo\b|\brestantes?\b"
)
_CREDIT_WEAK = _Dual(r"\b(?:enough|cost|costs|spend|spent|use|used|using|ate|eat|eats|charge|charged|charges|deduct|deducted|need|take|takes)\b|够")
_REMAIN_Q = _Dual(
    r"\bwhat(?:'s|s| is)? left\b|\bhow (?:many|much)\s+(?:remain|are left|is left|left|do i have|have i got|do i still have)\b"
    r"|\bhow much do i have\b|还剩多少|剩多少|还有多少|剩下多少|\bquedan\b|残り"
)
_STATE_OBJ = _Dual(r"\b(?:timeline|tracks?|project|draft|clips?)\b|时间线|时间轴|轨道|项目|草稿|タイムライン|トラック")

# --- export
_TEXTOBJ = (r"(?:ideas?|titles?|descriptions?|hashtags?|tags?|captions?|scripts?|texts?|summary|summaries|"
            r"suggestions?|copy|lists?|names?|options?|thoughts?|outlines?|prompts?|lyrics|transcripts?|"
            r"notes?|feedback|slogans?|taglines?|headlines?|quotes?|tips|examples?|plans?|storyboards?)")
_DELIV = (r"(?:(?:final|finished|rendered|exported|completed|edited|whole|full)\s+)?"
          r"(?:video|videos|file|files|mp4|mov|webm|mkv|result|output|render|export|download link|link)\b"
          r"|(?:final|finished)\s+(?:cut|version|product|edit)\b")
_GAP = r"(?:\s+(?!" + _TEXTOBJ + r"\b)[^\s,.;!?]+){0,3}?\s+"
_DELIV_ZH = r"(?:视频|成片|成品|mp4|mov|文件|最终版|片子|链接|完整版)"
_EXPORT = _Dual(
    r"\bexport(?:s|ing|a|ar|alo|en|es|e|ame)?\b|\brender(?:s|ing)?\b|\bdownload(?:s|ing)?\b"
    r"|\b(?:send|deliver|share|e-?mail|mail)\b(?:\s+(?:me|us|over))?" + _GAP + r"(?:" + _DELIV + r")"
    r"|\bsend\s+(?:it|that|this)\s+(?:to me|over|my way|back)\b"
    r"|\b(?:give|hand|pass|get)\s+(?:me|us)" + _GAP + r"(?:" + _DELIV + r")"
    r"|\b(?:can|could|may)\s+(?:i|we)\s+(?:get|have|grab)" + _GAP + r"(?:" + _DELIV + r")"
    r"|\b(?:i|we)\s+(?:need|want|'d like|would like)\s+(?:the|my|our)\s+(?:(?:final|finished|rendered|exported|completed)\s+)?(?:video\s+)?(?:file|mp4|mov|output)\b"
    # ``^\s*(?:the\s+)?(?:final|finished)\s+(?:video|cut|mp4|file)\b`` spelt with a literal first
    # character ((?<![\s\S][\s\S]) after it: "at the start"), so that _EXPORT has a first-char table
    r"|(?: |\t|\n|\r|\f|\v)(?<![\s\S][\s\S])\s*(?:the\s+)?(?:final|finished)\s+(?:video|cut|mp4|file)\b"
    r"|t(?<![\s\S][\s\S])he\s+(?:final|finished)\s+(?:video|cut|mp4|file)\b"
    r"|f(?<![\s\S][\s\S])(?:inal|inished)\s+(?:video|cut|mp4|file)\b"
    r"|导出|下载|渲染|(?:发|传|寄)(?:给)?我[^,。?!]{0,6}?" + _DELIV_ZH
    + r"|给我(?!看|讲|说|介绍|生成|做|写|加|剪|改|调|换|发几|出)[^,。?!]{0,6}?" + _DELIV_ZH
    + r"|" + _DELIV_ZH + r"[^,。?!]{0,8}?(?:发(?:给)?我|给我)(?!看|讲)"
    r"|書き出|エクスポート|ダウンロード|出力して|レンダリング|(?:動画|ファイル)[^、。]{0,6}?(?:送って|ちょうだい|ください|下さい)"
    r"|\bdescarg(?:a|ar|alo|ues|ue|uen)\b|\b(?:m[aá]nd|env[ií]|p[aá]s)a?me(?:lo|la)?\b(?:\s+\S+){0,3}?\s+(?:v[ií]deo|archivo|mp4|resultado|final)\b"
    r"|\bd[aá]me(?:lo)?\s+(?:el|la|mi)\s+(?:v[ií]deo|archivo|mp4|resultado)\b"
)

# --- state
_STATE = _Dual(
    r"\b(?:status|progress|progreso|estado)\b"
    r"|\b(?:show|display|list|preview|view|see|check|open|review|look at|pull up|bring up|muestra|mu[eé]strame|ens[eé][ñn]ame|ver)\b"
    r"(?:\s+(?!how\b)[^\s,.;!?]+){0,4}?\s*(?:timeline|tracks?|draft|project|progress|edits so far|changes so far|current (?:edit|version|cut|state)|l[ií]nea de tiempo|pistas?|proyecto|borrador|时间线|时间轴|轨道|草稿|项目)"
    r"|\bwhat(?:'s|s| is| are)?\s+(?:currently\s+|now\s+|actually\s+)?(?:on|in)\s+(?:the\s+|my\s+|each\s+|our\s+|this\s+)?(?:timeline|tracks?|project|draft)\b"
    r"|\b(?:which|what)\s+(?:clips?|media|assets?|files?|videos?|images?|audio|music|elements?|layers?|items?|things)\b[^.?!]*?\b(?:on|in)\s+(?:the\s+)?(?:timeline|tracks?|project|draft)\b"
    r"|\bwhat\s+(?:have|did|'ve)\s+(?:you|we)\s+(?:done|do|changed|change|made|edited|added)(?:\s+(?:so far|yet|until now|till now|up to now|to the (?:project|timeline|draft)|on the (?:project|timeline)))?(?=\s*(?:[.!?;,。、]|$))"
    r"|\bwhat(?:'s| is| has been| got)\s+done\b|\bso far\b"
    r"|\bwhat\s+(?:changes|edits)\s+(?:have|did)\s+you\b"
    r"|\bwhat does (?:the |my |our |this )?(?:project|timeline|video|draft|edit|cut) look like\b"
    r"|\bwhere(?:\s+are we|\s+are things|\s+do we stand|(?:\s+is|'s)\s+(?:the|my|our)\s+(?:project|edit|draft))\b"
    r"|\b(?:summary|overview|rundown|recap)\s+of\s+(?:the\s+|my\s+|our\s+|this\s+)?(?:current\s+)?(?:edit|project|timeline|draft|video|work|progress|changes)\b"
    r"|\bhow(?:'s| is| are)\s+(?:the |my |our )?(?:project|edit|draft|render|progress|things)\b"
    r"|\b(?:current|latest)\s+(?:draft|timeline|state|version)\b"
    r"|状态|进度|(?:看看|看下|看一下|看一眼|瞧瞧|给我看|让我看|显示|预览|查看|列出|打开|展示)[^,。?!]{0,6}?(?:时间线|时间轴|轨道|草稿|项目|工程|进度|当前|现在的|目前的)"
    r"|(?:时间线|时间轴|轨道)上?(?:现在|目前|都)?(?:有|是)(?:什么|哪些|啥)|(?:做|改|剪|完成|弄)了(?:哪些|什么|啥|多少)|当前草稿"
    r"|(?:タイムライン|トラック|プロジェクト|下書き|ドラフト|編集内容)(?:を|は)?[^、。]{0,4}?(?:見せて|見たい|表示|確認|見る)|進捗|進行状況|ステータス"
)

# --- upload
_UPLOAD = _Dual(
    r"\bupload(?:s|ing)?\b|\bimport(?:ing)?\b|上传|导入|传(?:[一几两三四五六七八九十]?[个张段条首份部]|一下|些|上[去来])|アップロード|インポート"
    r"|\bsub(?:ir|e|o|amos|irlo|ela|elo)\b(?!\s+(?:el|la)\s+(?:volumen|brillo|m[uú]sica|contraste|velocidad))|\bcargar\b|\bimportar\b"
)

_ACTIONS = (("export", _EXPORT), ("state", _STATE), ("upload", _UPLOAD))

# --- edit requests
_EDIT_VERBS = (
    r"(?:add|insert|put|place|include|trim|cut|crop|shorten|lengthen|extend|speed|slow|make|change|fix|"
    r"remove|delete|erase|mute|unmute|replace|swap|switch|move|shift|rearrange|reorder|split|merge|combine|"
    r"join|stitch|rotate|flip|mirror|resize|scale|zoom|pan|blur|sharpen|brighten|darken|lighten|enhance|"
    r"boost|lower|raise|increase|decrease|reduce|turn|adjust|tweak|set|apply|use|generate|create|produce|"
    r"write|compose|translate|transcribe|caption|subtitle|dub|narrate|colou?r|grade|correct|stabili[sz]e|"
    r"balance|normali[sz]e|fade|loop|reverse|crossfade|overlay|animate|cent(?:er|re)|keep|track(?!\s+\d)|"
    r"credit|cool|warm|redo|undo|restore|edit|polish|clean|denoise|update|rename|sync|align|tighten|"
    r"highlight|emphasi[sz]e|hide|blend|duplicate|copy|paste|cover|tint|saturate|desaturate|amplify|"
    r"filter|retime|reframe|recolou?r|get rid|convert|transform)"
)
_EDIT_NOT = r"(?!\s+(?:sure|it as is|it as-is|as is|everything as is|it the same|it like this))"
_FILLER = (r"(?:please|pls|plz|kindly|just|now|also|and|then|so|ok|okay|oh|hey|hi|alright|yes|yeah|yep|"
           r"first|firstly|next|finally|lastly|actually|maybe|instead|quickly|quick|again|meanwhile|but|"
           r"wait|lol|hmm+|um+|u|for now|right now|can you|could you|would you|will you|can u|could u|"
           r"you can|let's|lets|let us|i want you to|i need you to|i'd like you to|i would like you to|"
           r"help me|try to|go ahead and|i want to|i'd like to|i need to|i wanna|we need to|need to|"
           r"you should|should|to|can we|could we|pls can you)")
_EDIT_EN = _c(
    r"(?:^\s*(?:" + _FILLER + r"\s+)*|\b(?:and|then|also|plus|&|please|pls|just|now)\s+(?:" + _FILLER + r"\s+)*)"
    + _EDIT_VERBS + r"\b" + _EDIT_NOT + r"(?=\s*[^\s.,!?])"
)
_EDIT_ES = _c(
    r"(?:^\s*|\b(?:y|luego|primero|por favor|después|ahora)\s+)(?:por favor\s+)?"
    r"(?:agrega|añade|agregar|añadir|pon|ponle|cambia|corta|recorta|quita|elimina|borra|haz|hazlo|"
    r"arregla|arréglalo|arreglalo|mueve|genera|crea|traduce|acelera|ajusta|usa|sube el volumen|baja|mejora|"
    r"aumenta|reduce)\b"
)
_EDIT_CJK = _Lazy(
    r"(?:添加|插入|增加|减少|缩短|延长|加长|缩小|放大|提亮|调亮|调暗|调色|降噪|静音|居中|模糊|锐化|旋转|翻转|裁剪|"
    r"拼接|合并|替换|去掉|去除|删除|删掉|剪掉|剪短|剪辑一|剪一|剪个|剪成|美化|润色|翻译|生成|制作|修复|修一下|"
    r"修改一下|修改成|加速|减速|慢放|倒放|变成|变得|做成|做个|做一|做得|配上|配个|配一|配音|挪|移到|移动|"
    r"写个|写一|弄成|弄得|弄个|换成|换个|换一|换掉|改成|改为|改一下|改下|改得|调大|调小|调高|调低|调快|调慢|"
    r"调整|调一下|调下|调成|修改|剪辑|改动|加|删|剪|改|换|"
    r"追加|入れて|変えて|変更して|消して|削除|カット|トリム|にして|短く|長く|明るく|暗く|大きく|小さく|作って|"
    r"付けて|つけて|加えて|差し替え|移動|調整|直して|修正)"
)
_CJK_NOUNS = frozenset(("修改", "剪辑", "改动"))
_CJK_DONE = _Lazy(r"[^,。?!]{0,2}?(?:了|完|过)")



# --- gates: substrings that every match of a pattern's ASCII branches contains.  They only spare
# a process compiling a pattern its messages cannot match (a one-shot ``route`` command); once a
# pattern is compiled it is simply run.  tests/test_router.py checks them against the patterns.
_G_UPLOAD = ("upload", "import", "sub", "cargar")
_G_CREDIT = ("credit", "balance", "quota", "saldo")  # _CREDIT_WORD, and _CREDIT_BARE's core words
_G_CREDIT_BARE_ALL = _G_CREDIT + ("积分", "余额", "额度", "crédito", "クレジット", "残高")
_G_STATE = ("status", "progress", "estado", "show", "display", "list", "view", "see", "check", "open",
            "look at", "pull up", "bring up", "muestra", "ens", "ver", "what", "which", "so far", "where",
            "summary", "rundown", "recap", "how", "current", "latest")
_G_NEG = ("n't", "no", "dont", "never", "without", "stop", "hold off", "skip", "forget", "cancel", "avoid",
          "wait", "sin", "nunca")
_G_DEFER = ("later", "tomorrow", "afterward", "next time", "other time", "in a ", "eventually", "myself",
            "ourselves", "tarde", "despues")
_G_CAPABILITY = ("how", "what", "which", "support", "is there", "why", "como", "que formatos")
_G_EDIT_EN = _literal_heads(_EDIT_VERBS)
_G_EDIT_ES = _literal_heads(_EDIT_ES.pattern[_EDIT_ES.pattern.index("(?:agrega"):_EDIT_ES.pattern.rindex(")") + 1])


def _may(rx: _Lazy, s: str, gate: tuple[str, ...]) -> bool:
    """Can ``rx`` match ``s``?  False only if it is not compiled yet and ``gate`` rules it out."""
    return rx.ready or _any_in(s, gate)


# --------------------------------------------------------------------------- clause analysis


class _Clause:
    __slots__ = ("text", "start", "end", "sub", "question", "capability", "deferred", "neg", "actions",
                 "credit_word", "asc")

    def __init__(self, text: str, start: int, end: int, sub: bool, question: bool, asc: bool) -> None:
        self.asc = asc
        self.text = text
        self.start = start
        self.end = end
        self.sub = sub
        self.question = question or text.endswith(("吗", "么", "呢", "か"))
        self.capability = False
        self.deferred = False
        self.neg: list[int] = []
        self.actions: list[tuple[int, str, bool]] = []  # (position in text, intent, negated)
        self.credit_word = False


def _split(s: str, asc: bool) -> list[_Clause]:
    """Clauses with their offsets in ``s``; ``sub`` marks before/if-clauses and ...之前 clauses."""
    events = [(m.start(), m.end(), 0, "?" in m.group()) for m in (_DELIM.a if asc else _DELIM.f).finditer(s)]
    for m in (_SUBORD.a if asc else _SUBORD.f).finditer(s):
        events.append((m.start(), m.start(), 1, False))
    if not asc:
        for m in _SUB_END.finditer(s):
            events.append((m.end(), m.end(), 2, False))
        events.sort()
    elif len(events) > 1:
        events.sort()
    n = len(s)
    events.append((n, n, 0, False))
    out: list[_Clause] = []
    pos = 0
    start_sub = False
    for a, b, kind, q in events:
        if a < pos:
            continue
        seg = s[pos:a]
        t = seg.strip()
        if t:
            if t is seg:
                out.append(_Clause(t, pos, a, start_sub or kind == 2, q, asc))
            else:
                lead = pos + len(seg) - len(seg.lstrip())
                out.append(_Clause(t, lead, lead + len(t), start_sub or kind == 2, q, asc))
            start_sub = kind == 1
        elif kind == 1:
            start_sub = True
        pos = b
    return out


def _negated(c: _Clause, pos: int, end: int) -> bool:
    """Is the action at ``pos`` in the scope of a negation (before it, or Japanese ~ないで after)?"""
    for p in c.neg:
        if p <= pos:
            return True
    if c.asc:  # the Japanese negations are not ASCII
        return False
    return _JA_POSTNEG.search(c.text, end, end + 12) is not None


def _analyse(c: _Clause) -> None:
    """Negation scope, deferral and capability for a clause whose actions are known."""
    t = c.text
    if c.asc:
        neg, defer, cap = _NEG.a, _DEFER.a, _CAPABILITY.a
        negs = [m.end() for m in neg.finditer(t)] if _may(neg, t, _G_NEG) else []
    else:
        neg, defer, cap = _NEG.f, _DEFER.f, _CAPABILITY.f
        negs = [m.end() for m in neg.finditer(t)]
    if negs:
        resets = [m.start() for m in _NEG_RESET.finditer(t)]
        if resets:  # a reset ends the scope of every negation before it
            last = max(resets)
            negs = [p for p in negs if p > last]
    c.neg = negs
    if negs or not c.asc:  # (the actions start out not negated)
        c.actions = [(p, i, _negated(c, p, p + 1)) for p, i, _n in c.actions]
    if c.asc:
        c.deferred = _may(defer, t, _G_DEFER) and defer.search(t) is not None
        c.capability = _may(cap, t, _G_CAPABILITY) and cap.search(t) is not None
    else:
        c.deferred = defer.search(t) is not None
        c.capability = cap.search(t) is not None


def _edit_request(c: _Clause) -> bool:
    """An edit verb in imperative position (or a CJK verb not marked as done / not a noun)."""
    t = c.text
    if not c.actions:
        neg = _NEG.a if c.asc else _NEG.f
        if (not c.asc or _may(neg, t, _G_NEG)) and neg.search(t) is not None:
            c.neg = [m.end() for m in neg.finditer(t)]
    m = _EDIT_EN.search(t) if _may(_EDIT_EN, t, _G_EDIT_EN) else None
    if m is None and _may(_EDIT_ES, t, _G_EDIT_ES):
        m = _EDIT_ES.search(t)
    if m is not None and not _negated(c, m.end() - 1, m.end()):
        return True
    if c.asc:  # the CJK edit verbs are not ASCII
        return False
    for m in _EDIT_CJK.finditer(t):
        a = m.start()
        if m.group() in _CJK_NOUNS or (a and t[a - 1] in "的些次"):  # 哪些修改 / 这次剪辑: nouns
            continue
        if _negated(c, a, m.end()):
            continue
        d = _CJK_DONE.match(t, m.end())
        if d is not None:
            continue
        return True
    return False


def _credit_query(c: _Clause) -> bool:
    t = c.text
    if not c.credit_word:
        return False
    if (_CREDIT_STRONG.a if c.asc else _CREDIT_STRONG.f).search(t) is not None:
        return True
    if (_CREDIT_WEAK.a if c.asc else _CREDIT_WEAK.f).search(t) is not None and (c.question or _QUESTION_START.search(t) is not None):
        return True
    return _CREDIT_BARE.match(_JUNK.sub(" ", t)) is not None


# --------------------------------------------------------------------------- classify


def _locate(clauses: list[_Clause], starts: list[int], p: int) -> _Clause | None:
    i = bisect_right(starts, p) - 1
    if i >= 0 and p < clauses[i].end:
        return clauses[i]
    return None


def _decide(s: str, has_media: bool, has_paths: bool) -> tuple[str, float, dict]:
    hints: dict = {}
    asc = _ascii_ish(s)
    # every mention of an action word, found once over the whole message
    if asc:
        found = [(m.start(), "export") for m in _EXPORT.a.finditer(s)]
        if _may(_STATE.a, s, _G_STATE):
            found += [(m.start(), "state") for m in _STATE.a.finditer(s)]
        if _any_in(s, _G_UPLOAD):
            found += [(m.start(), "upload") for m in _UPLOAD.a.finditer(s)]
        credit_at = [m.start() for m in _CREDIT_WORD.a.finditer(s)] if _any_in(s, _G_CREDIT) else []
    else:
        found = [(m.start(), intent) for intent, rx in _ACTIONS for m in rx.f.finditer(s)]
        credit_at = [m.start() for m in _CREDIT_WORD.f.finditer(s)]
    if not credit_at:
        if (len(s) < 60 and _any_in(s, _G_CREDIT if asc else _G_CREDIT_BARE_ALL)
                and _CREDIT_BARE.match(_JUNK.sub(" ", s)) is not None):
            return "credits", 0.9, hints  # bare "balance"
        if not found:
            if has_media or has_paths:
                return "upload", 0.95 if has_media else 0.85, hints
            return "chat", 0.6, hints
    clauses = _split(s, asc)
    if not clauses:
        return ("upload", 0.9, hints) if has_media or has_paths else ("chat", 0.5, hints)
    starts = [c.start for c in clauses]
    # 1. credits questions win over everything they mention (export, upload, edits...)
    if credit_at:
        for p in credit_at:
            c = _locate(clauses, starts, p)
            if c is not None:
                c.credit_word = True
        for c in clauses:
            if _credit_query(c):
                return "credits", 0.9, hints
        for c in clauses:
            if _REMAIN_Q.search(c.text) is not None and _STATE_OBJ.search(c.text) is None:
                return "credits", 0.8, hints
    for p, intent in found:  # the first mention of each intent in each clause
        i = bisect_right(starts, p) - 1
        if i >= 0:
            c = clauses[i]
            if p < c.end:
                acts = c.actions
                for _q, j, _n in acts:
                    if j == intent:
                        break
                else:
                    acts.append((p - c.start, intent, False))
    for c in clauses:
        if c.actions:
            _analyse(c)
    # 2. media given, unless the upload is explicitly declined / put off
    if has_media or has_paths:
        declined = any(
            i == "upload" and (neg or c.deferred) for c in clauses for _p, i, neg in c.actions
        )
        if not declined:
            return "upload", 0.95 if has_media else 0.85, hints
    active: list[tuple[int, str]] = []
    capability = False
    for c in clauses:
        if c.sub or not c.actions:
            continue
        if c.capability:
            capability = True
            continue
        for pos, intent, neg in c.actions:
            if neg:
                hints.setdefault("negated", intent)
            elif c.deferred:
                hints.setdefault("deferred", intent)
            else:
                active.append((c.start + pos, intent))
    if not active:
        return "chat", 0.8 if capability else 0.6, hints
    if any(i == "upload" for _p, i in active):
        return "upload", 0.85, hints
    # 3. an edit request anywhere (not subordinate, not put off) goes to the agent first
    for c in clauses:
        if not c.sub and not c.deferred and _edit_request(c):
            return "chat", 0.85, hints
    return min(active)[1], 0.85, hints


def _has_instruction(s: str) -> bool:
    """Does a message that names no intent still ask for something (an edit, a question)?"""
    for c in _split(s, s.isascii()):
        if c.question or _edit_request(c) or _CAPABILITY.search(c.text) is not None:
            return True
    return False


def _export_hints(s: str, hints: dict) -> None:
    m = _RES_RE.search(s)
    if m is not None:
        if m.group(1):
            hints["resolution"] = m.group(1) + "p"
        else:
            key = (m.group(2) or m.group(3) or "").replace(" ", "")
            hints["resolution"] = _RES_CANON.get(key, "1080p" if key == "fullhd" else key)
    m = _FMT_RE.search(s)
    if m is not None:
        hints["format"] = m.group(1)
    m = _FPS_RE.search(s)
    if m is not None:
        hints["fps"] = int(m.group(1))


def classify(text: str, attachments: Sequence[str] = ()) -> Route:
    """Route one chat message; never raises, returns ``chat`` for empty or garbage input."""
    original = text if isinstance(text, str) else ("" if text is None else _clean(text))
    try:
        return _classify(original, attachments)
    except Exception:  # pragma: no cover - a router must never take the CLI down
        return Route("chat", original, (), (), {}, 0.0)


def _attachments(attachments: Sequence[str] | None) -> tuple[str, ...]:
    if not attachments:
        return ()
    if isinstance(attachments, (str, bytes)):
        attachments = (attachments,)
    out = []
    for a in attachments:
        if isinstance(a, bytes):
            a = a.decode("utf-8", "replace")
        a = _clean(a).strip()
        if a:
            out.append(a)
    return tuple(out)


_NFKC = None  # unicodedata.normalize, imported by the first non-ASCII message (not free to import)


def _load_nfkc():
    global _NFKC
    import unicodedata

    _NFKC = unicodedata.normalize
    return _NFKC


def _classify(original: str, attachments: Sequence[str]) -> Route:
    raw = _clean(original)
    att = _attachments(attachments) if attachments else ()
    if "/" in raw or ":\\" in raw:  # _scan finds nothing without one of them
        urls, media, paths, spans = _scan(raw[:_MAX_EXTRACT])
    else:
        urls = media = paths = spans = ()  # type: ignore[assignment]
    if spans:
        all_paths = tuple(dict.fromkeys(paths + list(att)))
        url_t = tuple(dict.fromkeys(urls))
        has_media = bool(media) or any(k == "m" for _a, _b, k in spans)
        has_paths = any(k == "p" for _a, _b, k in spans)
        # text to read for the intent: arguments replaced by placeholders
        parts = []
        last = 0
        for a, b, k in spans:
            if a < last:
                continue
            parts.append(raw[last:a])
            parts.append(_PLACE[k])
            last = b
        parts.append(raw[last:])
        body = "".join(parts)
    else:
        all_paths = tuple(dict.fromkeys(att)) if att else ()
        url_t = tuple(dict.fromkeys(urls)) if urls else ()
        has_media = bool(media)
        has_paths = False
        body = raw
    body = body[:_MAX_ANALYSE]
    if body.isascii():
        s = body.lower()
    else:
        s = (_NFKC or _load_nfkc())("NFKC", body).lower().translate(_APOS)
    asc = _ascii_ish(s)
    if (("'" in s or '"' in s) if asc else _QUOTE_GATE.search(s) is not None):
        s = _QUOTED.sub(" \ue003 ", s)
    s, fuzzy = _fix_typos(s)
    s = _mask(s, asc)
    if _ALNUM.search(s) is None:
        if has_media or has_paths:
            return Route("upload", original, all_paths, url_t, {}, 0.95)
        if att:
            return Route("upload", original, all_paths, url_t, {}, 0.9)
        return Route("chat", original, all_paths, url_t, {}, 1.0 if not s.strip() else 0.5)
    intent, conf, hints = _decide(s, has_media, has_paths)
    if att and intent == "chat" and conf <= 0.6 and not _has_instruction(s):
        intent, conf = "upload", 0.8  # files attached, no other instruction
    if intent == "export":
        _export_hints(s, hints)
    if fuzzy:
        conf = min(conf, 0.7)
    return Route(intent, original, all_paths, url_t, hints, conf)

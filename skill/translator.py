"""Rewrite the backend agent's web-GUI instructions for a chat user.

The backend agent writes as if the user sat in its web editor ("click the Export button",
"drag the clip onto the timeline", "点击导出"). A chat user has no buttons, so every GUI
instruction is rewritten into what the runtime does or what the user can say; everything
else (titles, descriptions, tag lists) is kept verbatim.

``translate`` is pure: it never touches files or the network. The ``actions`` it returns
are read-only *suggestions* (``show_state``, ``show_credits``, ``offer_export``); the
runtime decides whether to act. Export is only ever offered, never run, on backend text,
and nothing the backend says can make the runtime upload, read or write a file or fetch
a URL. The replacement phrases live in ``prompts/<lang>/translator/*.j2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .sanitize import clean_text

__all__ = ["Translation", "translate", "contains_gui_phrase", "ACTIONS"]

SHOW_STATE = "show_state"
SHOW_CREDITS = "show_credits"
OFFER_EXPORT = "offer_export"
ACTIONS = frozenset({SHOW_STATE, SHOW_CREDITS, OFFER_EXPORT})


@dataclass(frozen=True)
class Translation:
    text: str
    actions: frozenset = field(default_factory=frozenset)


# --------------------------------------------------------------------------- patterns
# Quoted spans (titles, names) are masked as \x00N\x00 while matching, so a title such as
# "Drag Race Highlights" is content, not an instruction. clean_text removes every control
# character first, so these markers cannot come from the input.
_QUOTED = re.compile(r'"[^"\n]{1,120}"|“[^”\n]{1,120}”|「[^」\n]{1,120}」|『[^』\n]{1,120}』')
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|[。！？]")
_QMARK = re.compile(r"\x00(\d+)\x00")
_PMARK = re.compile(r"\x01(\d+)\x01")

# The rest of the clause: up to , ; ! ? : . (a "." or ":" inside a token such as
# "v1.mp4" or "2:30" does not end it), a newline or a CJK clause mark.
# It also stops before "and/or/then" + another GUI verb, so "preview it in the timeline
# and click Export" becomes two rewrites.
_NEXT_GUI = (
    r"(?!\s+(?:and\s+then|and|or|then)\s+(?:(?:just|simply|please)\s+)?(?:(?:double|right)[\s-]?)?"
    r"(?:click|tap|press|hit|open|drag|drop|preview|check|use|go\s+to|switch\s+to|visit)\b"
    r"|\s*(?:(?:and\s+then|and|or|then)\s+)?\x01)"
)
_TAIL = r"(?:" + _NEXT_GUI + r"(?:[^\n,;!?，。！？；、:.\x00-\x02]|[.:](?=[^\s\x00-\x02])|\x00\d+\x00))*"
_HEDGE = (
    r"(?:\b(?:you\s+can|you\s+may|you\s+could|you\s+should|you\s+(?:will\s+|'ll\s+|’ll\s+)?need\s+to|"
    r"you\s+might\s+want\s+to|simply|just|please|feel\s+free\s+to|go\s+ahead\s+and|try\s+to|try|"
    r"once\s+you(?:'ve|’ve|\s+have)?|when\s+you|after\s+you(?:'ve|’ve|\s+have)?|then)\s+)*"
)
_ZH_HEDGE = r"(?:请您?|您可以|你可以|您只需要?|你只需要?|只需要?|只要|直接|可以)*"
_WORD = r"(?:\x00\d+\x00|[\w'‘’-]+)"
_PANEL = (
    r"(?:panel|tab|editor|menu|sidebar|window|view|settings|section|library|toolbar|inspector|"
    r"properties|drawer|pane|page|dialog|timeline|player|workspace)s?"
)
_ZH_PANEL = r"(?:面板|标签页?|选项卡|编辑器|窗口|菜单|设置|页面|侧边栏|工具栏|属性栏|时间线|时间轴|播放器)"

_F = re.IGNORECASE

# (kind, regex). Kinds: preview, credits, credits_loc, click, state, drag, button, loc.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("preview", re.compile(
        _HEDGE + r"(?<![#@])(?:\b(?:preview(?:ing)?|review|check|see|view|watch|play(?:\s*back)?)\b"
        r"(?:\s+(?:it|this|that|them|everything|(?:the|your)\s+[\w-]+(?:\s+[\w-]+)?))?"
        r"\s+(?:in|on)\s+(?:the\s+)?(?:timeline|preview(?:\s+(?:window|panel|pane|player))?|player)\b"
        r"|\bpreview(?:ing)?\s+(?:it|this|that|them|(?:the|your)\s+(?:result|video|edits?|changes?|clip|cut|"
        r"final\s+(?:video|cut)|project|timeline))\b"
        r"|(?:\b(?:check|see|look\s+at|open|use|watch|view)\s+(?:(?:it|this|that|them)\s+)?(?:(?:in|at|on)\s+)?)?"
        r"(?:\bthe\s+)?\b(?:timeline\s+preview|(?:timeline\s+)?preview\s+(?:window|panel|pane|player))\b)" + _TAIL, _F)),
    ("preview", re.compile(
        _ZH_HEDGE + r"(?:(?:在|于|到)(?:时间线|时间轴|预览窗口|预览区域?|预览面板|播放器)(?:中|上|里|内)?"
        r"(?:预览|播放|查看|检查)|预览(?!图))" + _TAIL)),
    ("credits", re.compile(
        _HEDGE + r"(?<![#@])\b(?:check|visit|open|go\s+to|see|view|log\s+in\s+to|sign\s+in\s+to|head\s+(?:over\s+)?to|"
        r"navigate\s+to|look\s+at|review)\s+(?:(?:your|the|my)\s+)?(?:[\w-]+\s+)?"
        r"(?:dashboard|account|billing|balance|credits?\s+(?:page|balance|dashboard)|subscription|usage\s+page|wallet)s?\b"
        + _TAIL, _F)),
    ("credits", re.compile(
        _ZH_HEDGE + r"(?:查看|前往|打开|进入|登录|访问|去|检查)(?:一下)?(?:您的|你的|我的)?"
        r"(?:账户|帐户|账号|帐号|控制台|仪表盘|仪表板|后台|账单|计费|余额)" + _TAIL)),
    ("credits_loc", re.compile(
        r"\s*\b(?:in|on|from|via|under)\s+(?:your|the)\s+(?:[\w-]+\s+)?"
        r"(?:dashboard|account\s+(?:page|settings)|billing\s+(?:page|settings|section))\b", _F)),
    ("credits_loc", re.compile(
        r"(?:在|从)(?:您的|你的)?(?:账户|帐户|账号|帐号|控制台|仪表盘|仪表板|后台)(?:页面?)?(?:中|里|上|内)?")),
    ("click", re.compile(
        _HEDGE + r"(?<![#@])\b(?:(?:double|right|left)[\s-]?)?(?:click(?:ing|ed|s)?|tap(?:ping|ped|s)?(?!\s+into\b)"
        r"|(?:press(?:ing|ed)?|hit(?:ting|s)?|push(?:ing)?)(?=\s+(?:on\s+)?(?:the\s+)?(?:\x00|[\"'‘“]|"
        r"(?:[\w-]+\s+){0,3}(?:button|key|icon)s?\b|(?:enter|return|space|play|export|save|upload|render|"
        r"download|generate|apply|ok|done|submit|continue|next|start|confirm|delete|backspace|ctrl|cmd|shift|esc)\b"
        r"|(?-i:[A-Z]))))\b" + _TAIL, _F)),
    ("click", re.compile(
        _ZH_HEDGE + r"(?:点击|单击|双击|点按|轻触|轻点|轻按|按下|点一下|点选|按(?!钮)(?=[^，。！？；\n]{0,12}?(?:按钮|键)))"
        + _TAIL)),
    ("state", re.compile(
        _HEDGE + r"(?<![#@])\b(?:open(?:ing)?|go\s+to|navigate\s+to|switch\s+to|head\s+(?:over\s+)?to|expand|toggle|"
        r"bring\s+up|pull\s+up)\s+(?:up\s+)?(?:(?:the|your|a|an)\s+)?(?:" + _WORD + r"\s+){0,3}?" + _PANEL + r"\b"
        + _TAIL, _F)),
    ("state", re.compile(
        _HEDGE + r"(?<![#@])\bopen\s+(?=[~/\\]|[a-z]:[\\/]|https?://|file\b|\S+\.[a-z0-9]{1,5}\b)" + _TAIL, _F)),
    ("state", re.compile(
        _ZH_HEDGE + r"(?:(?:打开|展开|切换到|进入|前往|转到)[^，。！？；、\n\x00\x01]{0,12}?" + _ZH_PANEL
        + r"|打开\s*(?=[~/\\]|[A-Za-z]:[\\/]|https?://|文件|\S+\.[A-Za-z0-9]{1,5}\b))" + _TAIL)),
    ("drag", re.compile(
        _HEDGE + r"(?<![#@])\b(?:drag(?:ging|ged|s)?(?:[\s-]*(?:and|&|n|'n'|’n’)[\s-]*drop(?:ping|ped|s)?)?"
        r"|drop(?:ping)?(?=[^.!?;\n]{0,40}?\b(?:onto|into|timeline|track|canvas|here|zone|area|editor|panel|window)\b))\b"
        + _TAIL, _F)),
    ("drag", re.compile(
        _ZH_HEDGE + r"(?:(?:把|将)[^，。！？；、\n\x00\x01]{0,20}?)?(?:拖拽|拖动|拖放|拖曳|拖入|拖到|拖至|拖进|拖移|拖(?![延鞋欠累垮]))"
        + _TAIL)),
    ("button", re.compile(
        _HEDGE + r"(?<![#@])(?:\b(?:use|using|with|via|find|locate|see)\s+)?(?:\b(?:the|a|an|your|this|that)\s+)?"
        r"(?:\x00\d+\x00\s*|[\"'‘“][^\"'’”\n]{1,40}[\"'’”]\s*|\b[\w-]+\s+)?\bbuttons?\b" + _TAIL, _F)),
    ("button", re.compile(
        _ZH_HEDGE + r"(?:(?:使用|利用|通过|用|找到|点)\s*)?(?:\x00\d+\x00|[\"'‘“「][^\"'’”」\n]{1,20}[\"'’”」]|[A-Za-z]+|"
        r"[\u4e00-\u9fff]{2})?\s*按钮" + _TAIL)),
    ("loc", re.compile(
        r"\s*\b(?:in|from|on|under|via|using|within|inside|at)\s+(?:the\s+|your\s+)?(?:" + _WORD + r"\s+){0,2}"
        r"(?:panel|tab|sidebar|toolbar|menu|inspector|drawer|pane|dialog|editor)s?\b", _F)),
    ("loc", re.compile(
        r"(?:在|从)[^，。！？；、\s\n\x00\x01]{0,8}?(?:面板|标签页|选项卡|侧边栏|工具栏|菜单|编辑器|窗口)(?:中|里|上|内)?")),
]

# What a click or a button does, from the words of its target.
_KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    ("upload", re.compile(
        r"\b(?:upload|import|browse|add\s+(?:media|files?|clips?|videos?|footage)|(?:choose|select|open)\s+(?:a\s+)?files?)"
        r"|上传|导入|添加素材|选择文件", _F)),
    ("export", re.compile(r"\b(?:export|download|render|save\s+(?:the\s+|your\s+)?video|publish)|导出|下载|渲染|保存视频", _F)),
    ("credits", re.compile(
        r"\b(?:credits?|billing|balance|top[\s-]?up|recharge|buy|subscribe|upgrade|dashboard|account)\b"
        r"|积分|余额|充值|账户|帐户|控制台|购买|升级", _F)),
    ("preview", re.compile(r"\b(?:preview|play)\b|预览|播放", _F)),
    ("state", re.compile(r"\b(?:status|timeline|tracks?)\b|状态|时间线|时间轴|轨道", _F)),
]
_VERB_PREFIX = (
    re.compile(
        _HEDGE + r"(?:\b(?:(?:double|right|left)[\s-]?)?(?:click(?:ing|ed|s)?|tap(?:ping|ped|s)?|press(?:ing|ed)?|"
        r"hit(?:ting|s)?|push(?:ing)?|use|using|with|via|find|locate|see)\b\s*(?:on\b\s*)?)?"
        r"(?:\b(?:the|a|an|your|this|that)\b\s*)?",
        _F,
    ),
    re.compile(_ZH_HEDGE + r"(?:点击|单击|双击|点按|轻触|轻点|轻按|按下|点一下|点选|按|使用|利用|通过|用|找到|点)?\s*"),
)
_TARGET_END = re.compile(r"\s*\b(?:buttons?|icons?|keys?|links?|options?|tabs?)\b|按钮|图标|键|选项|\s+(?:to|and|in|on|for|so|then|at)\b|[,，。]", _F)
_LABEL_OK = re.compile(r"^[^\W\d_][\w' -]{0,23}$")
_LABEL_BAD = re.compile(
    r"^(?:here|there|it|this|that|them|below|above|link|button|icon|on|the|next|ok|okay|it\s+again)$"
    r"|click|tap|press|drag|drop|open|panel|button|拖|点|按", _F)

_BULLET = re.compile(r"\s*(?:[-*•]\s*|\d+[.)]\s*)?")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_PUNCT = re.compile(r"[ \t]+([,.;:!?])")
_EMPTY_PUNCT = re.compile(r"(?:(?<=^)|(?<=\n)|(?<=[.!?。！？]\s))[ \t]*[,;，；][ \t]*")
_CAP = re.compile(r"\x02[ \t,;，；]*(\w)")
_MAX_ROUNDS = 4


def _at_sentence_start(s: str, i: int) -> bool:
    """Whether position ``i`` of ``s`` starts a sentence (after . ! ? :, a line start or a bullet)."""
    j = i
    while j > 0 and s[j - 1] in " \t":
        j -= 1
    if j == 0 or s[j - 1] in ".!?:\n":
        return True
    nl = s.rfind("\n", max(0, j - 12), j)
    start = nl + 1 if nl >= 0 else (0 if j <= 12 else -1)
    return start >= 0 and _BULLET.fullmatch(s, start, j) is not None


def _mask_quotes(text: str) -> tuple[str, list[str]]:
    quotes: list[str] = []

    def sub(m: re.Match[str]) -> str:
        q = m.group(0)
        if _SENTENCE_BREAK.search(q[1:-1]):
            return q  # probably not a title: two sentences between stray quotes
        quotes.append(q)
        return f"\x00{len(quotes) - 1}\x00"

    return _QUOTED.sub(sub, text), quotes


def _unmask(text: str, quotes: list[str]) -> str:
    return _QMARK.sub(lambda m: quotes[int(m.group(1))] if int(m.group(1)) < len(quotes) else "", text)


def _any_rule(masked: str) -> re.Match[str] | None:
    for _, rx in _RULES:
        m = rx.search(masked)
        if m and m.group(0).strip():
            return m
    return None


# Every rule in _RULES needs at least one of these words (substring match on the
# lower-cased text, so the gate is a superset of the rules' triggers). Text without any of
# them is settled by a few substring tests instead of running every rule: most agent
# replies take this path. (A regex alternation of the same words is ~30x slower.)
_GATE_WORDS = (
    "timeline", "preview", "player", "dashboard", "account", "billing", "balance", "credit", "subscription",
    "usage", "wallet", "click", "tap", "press", "hit", "push", "panel", "tab", "editor", "menu", "sidebar",
    "window", "view", "setting", "section", "librar", "toolbar", "inspector", "propert", "drawer", "pane",
    "page", "dialog", "workspace", "open", "drag", "drop", "button",
    "预览", "播放", "查看", "检查", "账", "帐", "控制台", "仪表", "后台", "计费", "余额", "点", "单击", "双击", "轻", "按",
    "打开", "展开", "切换", "进入", "前往", "转到", "拖", "面板", "标签", "选项卡", "侧边栏", "工具栏", "菜单", "编辑器",
    "窗口", "设置", "页面", "时间线", "时间轴", "属性栏",
)


def _gate(cleaned: str) -> bool:
    low = cleaned.lower()
    for w in _GATE_WORDS:
        if w in low:
            return True
    return False


def _contains(cleaned: str) -> bool:
    if not _gate(cleaned):
        return False
    masked, _ = _mask_quotes(cleaned)
    return _any_rule(masked) is not None


def contains_gui_phrase(text: object) -> bool:
    """True when the text still tells the user to click, open, drag... something."""
    try:
        return _contains(clean_text(text))
    except Exception:  # pragma: no cover - defensive
        return False


def _classify(span: str, quotes: list[str]) -> tuple[str, str | None]:
    """(what the clicked thing does, a label the user could say) from a click/button span."""
    unq = _unmask(span, quotes)
    cut = max(rx.match(unq).end() for rx in _VERB_PREFIX)  # both patterns can match empty
    rest = unq[cut:]
    end = _TARGET_END.search(rest)
    raw_target = (rest[: end.start()] if end else rest).strip()
    quoted = bool(raw_target) and raw_target[0] in "\"'‘“「『"
    target = raw_target.strip("\"'‘’“”「」『』 ")
    best: tuple[int, str] | None = None
    for where in (target, unq):
        for kind, rx in _KEYWORDS:
            m = rx.search(where)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), kind)
        if best:
            return best[1], None
    label = None
    named = quoted or target[:1].isupper() or not target[:1].isascii()
    if named and target and len(target.split()) <= 3 and _LABEL_OK.match(target) and not _LABEL_BAD.search(target):
        label = target.lower()
    return "button", label


_TEMPLATE_FOR = {
    "export": ("translator/export", OFFER_EXPORT),
    "upload": ("translator/upload", None),
    "button": ("translator/button", None),
    "state": ("translator/open", SHOW_STATE),
    "preview": ("translator/preview", SHOW_STATE),
    "credits": ("translator/credits", SHOW_CREDITS),
    "drag": ("translator/drag", None),
}


def _one_round(masked: str, quotes: list[str], phrases: list[tuple[str, dict]], actions: set[str]) -> str:
    for kind, rx in _RULES:

        def sub(m: re.Match[str], kind: str = kind) -> str:
            span = m.group(0)
            if not span.strip():
                return span
            if kind in ("loc", "credits_loc"):
                if kind == "credits_loc":
                    actions.add(SHOW_CREDITS)
                # At a sentence start the next word becomes the first: mark it for a capital.
                return "\x02" if _at_sentence_start(m.string, m.start()) else ""
            what, label = (kind, None)
            if kind in ("click", "button"):
                what, label = _classify(span, quotes)
            elif kind == "state":  # "open the Export panel" is the export, not a state view
                found, _ = _classify(span, quotes)
                what = found if found in ("export", "upload", "credits") else kind
            name, action = _TEMPLATE_FOR[what]
            if action:
                actions.add(action)
            lead = span[: len(span) - len(span.lstrip())]
            phrases.append((name, {"label": label}))
            return f"{lead}\x01{len(phrases) - 1}\x01"

        masked = rx.sub(sub, masked)
    return masked


def _tidy(text: str) -> str:
    text = _SPACE_PUNCT.sub(r"\1", text)
    text = _EMPTY_PUNCT.sub("", text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _translate_once(clean: str, lang: str, actions: set[str]) -> str:
    from ._templates import render

    masked, quotes = _mask_quotes(clean)
    phrases: list[tuple[str, dict]] = []
    for _ in range(_MAX_ROUNDS):
        masked = _one_round(masked, quotes, phrases, actions)
        if _any_rule(_PMARK.sub(" ", masked)) is None:
            break
    rendered = [render(name, lang, **ctx) for name, ctx in phrases]

    def put(m: re.Match[str]) -> str:
        i = int(m.group(1))
        phrase = rendered[i] if i < len(rendered) else ""
        if phrase and _at_sentence_start(masked, m.start()):
            phrase = phrase[0].upper() + phrase[1:]
        return phrase

    out = _PMARK.sub(put, masked)
    out = _CAP.sub(lambda m: m.group(1).upper(), out).replace("\x02", "")
    return _tidy(_unmask(out, quotes))


def _strip_rules(text: str) -> str:
    """Last resort: delete whatever still reads as a GUI instruction (each pass shortens the text)."""
    while True:
        masked, quotes = _mask_quotes(text)
        m = _any_rule(masked)
        if m is None:
            return text
        text = _tidy(_unmask(masked[: m.start()] + masked[m.end():], quotes))


def translate(text: object, lang: str = "en") -> Translation:
    """GUI instructions rewritten for chat; everything else kept. Never raises."""
    try:
        out = clean_text(text)
        if not _contains(out):
            return Translation(out, frozenset())
        actions: set[str] = set()
        # A rewritten phrase can, with words left around it, read as a new instruction
        # ("OPEN THE" + "timeline summary"): translate again until nothing GUI is left.
        for _ in range(_MAX_ROUNDS):
            out = _translate_once(out, lang, actions)
            if not contains_gui_phrase(out):
                break
        else:
            out = _strip_rules(out)
        return Translation(out, frozenset(a for a in actions if a in ACTIONS))
    except Exception:  # pragma: no cover - a translator bug must not leak GUI text or raise
        try:
            return Translation(_strip_rules(clean_text(text)), frozenset())
        except Exception:
            return Translation("", frozenset())

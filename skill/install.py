"""``nemo-skill install --host claude|cursor|openclaw [--variant NAME] [--dest DIR]``.

Writes a skill folder where the host loads skills from:

    claude    ~/.claude/skills/<name>/
    cursor    ~/.cursor/skills/<name>/
    openclaw  ~/.openclaw/skills/<name>/
    --dest    DIR itself

``<name>`` is the manifest's ``name``. The folder holds ``SKILL.md`` (the bundled manifest,
with its "How to use it" section rewritten so the host's agent runs
``nemo-skill [--skill VARIANT] say "<the user's words>" --json``) and a marker file,
``.nemo-skill.json``, that makes re-installs idempotent. A folder that exists without
the marker belongs to someone else and is never overwritten (exit 2) unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["run_install", "plan_install", "render_skill_md", "host_dir", "MARKER", "HOSTS"]

MARKER = ".nemo-skill.json"
SKILL_FILE = "SKILL.md"
HOSTS = {
    "claude": (".claude", "skills"),
    "cursor": (".cursor", "skills"),
    "openclaw": (".openclaw", "skills"),
}
EXIT_OK, EXIT_BAD_INPUT = 0, 2

_FRONTMATTER = re.compile(r"\A(\s*---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*\n)(.*)\Z", re.S)
_HOW_HEADING = re.compile(r"^##[ \t]+(?:how to use(?: it)?|usage|使用方法)[ \t]*$", re.I | re.M)
_H2 = re.compile(r"^##[ \t]+\S", re.M)


class InstallError(Exception):
    def __init__(self, template: str, **ctx: Any) -> None:
        super().__init__(template)
        self.template = template
        self.ctx = ctx


def host_dir(host: str, home: Path | None = None) -> Path:
    """Where ``host`` loads skill folders from (``Path.home()`` based)."""
    base = home if home is not None else Path.home()
    return base.joinpath(*HOSTS[host])


def _cli_prefix(skill_md: Path | None) -> str:
    """The command the host agent runs. It names the *installed* SKILL.md, so the
    platform is detected from the install path (PROTOCOL.md) and the attribution
    headers follow the installed manifest."""
    if skill_md is None:
        return "nemo-skill"
    import shlex

    return f"nemo-skill --skill {shlex.quote(str(skill_md))}"


def render_skill_md(text: str, skill_md: Path | None) -> str:
    """The manifest text with its usage section replaced by the templated one.

    The frontmatter is kept byte for byte (so ``name``, ``version`` and
    ``metadata.openclaw`` are exactly what the bundled manifest declares).
    """
    from ._templates import render
    from .lang import detect_lang

    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    m = _FRONTMATTER.match(text)
    if not m:  # load_manifest accepted it, so this is a packaging bug
        raise ValueError("manifest without frontmatter")
    front, body = m.group(1), m.group(2)
    lang = "zh" if detect_lang(body, default="en") == "zh" else "en"
    usage = render("install/skill_usage", lang, cmd=_cli_prefix(skill_md)).strip() + "\n"
    how = _HOW_HEADING.search(body)
    if how:
        nxt = _H2.search(body, how.end())
        end = nxt.start() if nxt else len(body)
        body = body[:how.start()] + usage + ("\n" if nxt else "") + body[end:]
    else:
        first_h2 = _H2.search(body)
        if first_h2:
            body = body[:first_h2.start()] + usage + "\n" + body[first_h2.start():]
        else:
            body = body.rstrip("\n") + "\n\n" + usage
    return front + body.rstrip("\n") + "\n"


@dataclass
class Plan:
    name: str
    dest: Path
    skill_md: str
    marker: str
    example: str | None


def _marker_text(variant: str | None, host: str, name: str) -> str:
    from ._version import __version__

    data = {"installed_by": "nemo-skill", "version": __version__, "variant": variant, "host": host,
            "skill": name}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan_install(host: str, variant: str | None = None, dest: str | os.PathLike | None = None) -> Plan:
    """What would be written where (raises ``ManifestError`` for an unknown variant)."""
    from .api._errors import BadInputError
    from .manifest import bundled_manifest_path, bundled_variants, load_manifest, parse_manifest

    if variant:
        variants = bundled_variants()
        if variant not in variants:
            raise BadInputError("no such skill variant",
                                detail={"name": variant, "known": sorted(variants), "reason": "unknown_variant"})
        src = variants[variant]
    else:
        src = bundled_manifest_path()
    manifest = load_manifest(src)
    folder = Path(os.path.abspath(Path(dest).expanduser() if dest else host_dir(host) / manifest.name))
    text = render_skill_md(src.read_text(encoding="utf-8"), folder / "SKILL.md")
    check = parse_manifest(text)  # the installed copy must still drive the runtime
    if (check.name, check.version) != (manifest.name, manifest.version):  # pragma: no cover - a bug
        raise ValueError("installed SKILL.md changed name or version")
    return Plan(name=manifest.name, dest=folder, skill_md=text,
                marker=_marker_text(variant, host, manifest.name),
                example=manifest.examples[0] if manifest.examples else None)


def _is_ours(folder: Path) -> bool:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("installed_by") == "nemo-skill"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(path: Path, text: str) -> None:
    from .state import atomic_write_text

    atomic_write_text(path, text, mode=0o644)  # a skill folder other tools read


def apply_plan(plan: Plan, force: bool = False) -> str:
    """Write the folder; returns ``installed``, ``updated`` or ``up_to_date``."""
    folder = plan.dest
    if folder.exists() and not folder.is_dir():
        raise InstallError("install/not_dir", path=str(folder))
    existed = folder.is_dir() and any(folder.iterdir())
    if existed and not _is_ours(folder) and not force:
        raise InstallError("install/foreign", path=str(folder))
    if existed and _is_ours(folder) and _read(folder / SKILL_FILE) == plan.skill_md \
            and _read(folder / MARKER) == plan.marker:
        return "up_to_date"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / SKILL_FILE, plan.skill_md)
        _write(folder / MARKER, plan.marker)  # last: a half-written install is redone next time
    except OSError as exc:
        raise InstallError("install/write_failed", path=str(folder), reason=exc.strerror or "") from None
    return "updated" if existed else "installed"


class _Out:
    def __init__(self, as_json: bool, lang: str | None) -> None:
        self.as_json = as_json
        self.lang = lang

    def t(self, template: str, /, **kw: Any) -> str:
        from ._templates import render

        return render(template, self.lang, **kw)

    def _line(self, obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def message(self, text: str) -> None:
        if self.as_json:
            self._line({"type": "message", "text": text})
        else:
            print(text, flush=True)

    def error(self, code: str, text: str, hint: str) -> None:
        if self.as_json:
            self._line({"type": "error", "code": code, "text": text, "hint": hint})
        else:
            sys.stderr.write(text + ("\n" + hint if hint else "") + "\n")
            sys.stderr.flush()

    def done(self, ok: bool) -> None:
        if self.as_json:
            self._line({"type": "done", "intent": "install", "ok": ok})


def run_install(args: argparse.Namespace) -> int:
    from .api._errors import BadInputError

    lang = getattr(args, "lang", None)
    if not lang:
        from .runtime import _env_lang

        lang = _env_lang() or None
    out = _Out(bool(getattr(args, "json", False)), lang)
    host = args.host_name
    host_label = out.t("install/host", host=host)
    try:
        plan = plan_install(host, getattr(args, "variant", None), getattr(args, "dest", None))
        status = apply_plan(plan, force=bool(getattr(args, "force", False)))
    except InstallError as exc:
        out.error("bad_input", out.t(exc.template, **exc.ctx), out.t(exc.template + "_hint", **exc.ctx))
        out.done(False)
        return EXIT_BAD_INPUT
    except BadInputError as exc:
        detail = dict(exc.detail)
        out.error("bad_input", out.t("errors/bad_input", detail=detail, status=None),
                  out.t("errors/bad_input_hint", detail=detail, status=None))
        out.done(False)
        return EXIT_BAD_INPUT
    files = [SKILL_FILE, MARKER]
    out.message(out.t(f"install/{status}", name=plan.name, host_label=host_label, path=str(plan.dest),
                      files=files))
    if status != "up_to_date":
        out.message(out.t("install/next", host_label=host_label, example=plan.example))
    if shutil.which("nemo-skill") is None:
        out.message(out.t("install/not_on_path", host_label=host_label))
    out.done(True)
    return EXIT_OK

"""Every user-facing string comes from a Jinja template in ``prompts/<lang>/<name>.j2``.

``render("export_done", "zh", path=...)``. Languages without a template set fall back to
English. Jinja is imported on first use only (start-up matters: a host spawns the CLI
for every action).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["render", "prompts_dir", "template_names", "SUPPORTED_LANGS", "normalize_lang"]

SUPPORTED_LANGS = ("en", "zh")


def prompts_dir() -> Path:
    """The installed copy (``skill/_prompts``) or the source tree's ``prompts/``."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_prompts", here.parent / "prompts"):
        if cand.is_dir():
            return cand
    raise RuntimeError("prompts directory not found")  # packaging bug, not user input


def normalize_lang(lang: str | None) -> str:
    """``zh-CN`` -> ``zh``; anything without templates -> ``en``."""
    if not lang:
        return "en"
    base = lang.replace("_", "-").split("-")[0].split(".")[0].lower()
    return base if base in SUPPORTED_LANGS else "en"


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(prompts_dir())),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, lang: str | None = None, /, **ctx: Any) -> str:
    """Render ``prompts/<lang>/<name>.j2`` (English when the language has no templates)."""
    env = _env()
    code = normalize_lang(lang)
    try:
        tpl = env.get_template(f"{code}/{name}.j2")
    except Exception:  # jinja2.TemplateNotFound; missing zh falls back to en
        tpl = env.get_template(f"en/{name}.j2")
    return tpl.render(lang=code, **ctx).strip()


def template_names(lang: str) -> set[str]:
    root = prompts_dir() / lang
    return {
        os.path.relpath(os.path.join(dp, f), root)[: -len(".j2")].replace(os.sep, "/")
        for dp, _, files in os.walk(root)
        for f in files
        if f.endswith(".j2")
    }

"""Every user-facing string is a template, complete in English and Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from skill._templates import prompts_dir, render, template_names

ROOT = Path(__file__).resolve().parents[1]


def test_every_template_exists_in_english_and_chinese():
    en, zh = template_names("en"), template_names("zh")
    assert en and en == zh, {"only_en": sorted(en - zh), "only_zh": sorted(zh - en)}


def test_every_template_name_used_in_code_exists():
    names = template_names("en")
    used = set()
    for py in (ROOT / "skill").rglob("*.py"):
        if "sandbox" in py.parts:
            continue
        src = py.read_text(encoding="utf-8")
        used |= set(re.findall(r"""(?:\.t|render)\(\s*f?["']([a-z_]+/[a-z0-9_{}]+)["']""", src))
    static = {u for u in used if "{" not in u}
    assert static, "found the template calls"
    assert static <= names, sorted(static - names)


def test_error_templates_cover_every_interface_code():
    names = template_names("en")
    for code in ("1001", "1002", "2001", "4001", "4002", "402", "429", "network", "timeout", "bad_input", "server"):
        assert f"errors/{code}" in names and f"errors/{code}_hint" in names


def test_chinese_templates_are_chinese():
    for name in template_names("zh"):
        if name.startswith("timeline/_"):
            continue
        src = (prompts_dir() / "zh" / f"{name}.j2").read_text(encoding="utf-8")
        literal = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", "", src, flags=re.S)
        if len(re.findall(r"[A-Za-z]{3,}", literal)) >= 3:  # a sentence of its own: must be Chinese
            assert re.search(r"[\u4e00-\u9fff]", literal), name


def test_render_falls_back_to_english_for_other_languages():
    assert render("setup/setting_up", "ja") == render("setup/setting_up", "en")
    assert render("setup/setting_up", "zh-CN") == render("setup/setting_up", "zh")

"""Manifest loading: lenient where real manifests need it, strict where it matters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.manifest import ManifestError, bundled_variants, parse_manifest, resolve_manifest

SEED_NAMES = {"generator-meta-ai", "video-meta-ai", "generation-maker-generator", "generator-online"}


def test_bundled_variants_match_the_seeds():
    assert set(bundled_variants()) == SEED_NAMES
    for name in SEED_NAMES:
        m = resolve_manifest(name)
        assert m.name == name and m.version == "1.0.0"
        assert m.description and len(m.examples) == 3
        assert m.openclaw.emoji == "🎬" and m.openclaw.primaryEnv == "NEMO_TOKEN"


def test_top_level_manifest():
    m = resolve_manifest(None)
    assert m.name == "nemo-skill" and m.examples
    assert "nemo-skill say" in m.body


def test_inline_json_metadata_numeric_version_and_extra_keys():
    m = parse_manifest('---\nname: x-skill\nversion: 1.5\nhomepage: https://e\nmetadata: '
                       '{"openclaw":{"emoji":"🎬","requires":{"env":["NEMO_TOKEN"],"configPaths":["~/.config"]},'
                       '"primaryEnv":"NEMO_TOKEN"}}\n---\n# X\n\n## Try saying\n- "a"\n- "b"\n')
    assert m.version == "1.5" and m.openclaw.requires.env == ["NEMO_TOKEN"]
    assert m.examples == ["a", "b"] and m.model_extra.get("homepage") == "https://e"


def test_metadata_as_json_string_with_trailing_comma_and_legacy_key():
    m = parse_manifest("---\nname: y\nversion: 1.0.0\nmetadata: '{\"clawdbot\": {\"emoji\": \"x\",},}'\n---\n")
    assert m.openclaw.emoji == "x"


@pytest.mark.parametrize(
    "text,line,reason",
    [
        ("---\nname: a\nversion: [1,\n---\n", 3, "yaml"),
        ("---\nversion: 1.0.0\n---\n", 2, "missing"),
        ("---\nname: a\n---\n", 2, "missing"),
        ("no frontmatter at all", 1, "no_frontmatter"),
        ("---\nname: a\nversion: 1\n", None, "unclosed"),
        ("---\n- a\n- b\n---\n", 2, "not_mapping"),
    ],
)
def test_clear_errors_with_line(text, line, reason):
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "SKILL.md")
    assert info.value.detail["reason"] == reason
    if line is not None:
        assert info.value.detail["line"] == line


def test_unknown_variant_is_bad_input():
    with pytest.raises(ManifestError) as info:
        resolve_manifest("no-such-variant")
    assert info.value.exit_code == 2 and "generator-online" in info.value.detail["known"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_manifest_error(text):
    try:
        parse_manifest(text)
    except ManifestError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                    max_leaves=10))
def test_arbitrary_yaml_frontmatter_only_raises_manifest_error(obj):
    import yaml

    text = "---\n" + yaml.safe_dump({"name": "n", "version": "1", "metadata": obj, "x": obj}) + "---\n"
    try:
        parse_manifest(text)
    except ManifestError:
        pass

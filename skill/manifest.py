"""SKILL.md: YAML frontmatter + markdown body -> ``Manifest``.

Lenient where real manifests need it (``metadata`` as inline JSON or a JSON string with
trailing commas, numeric versions, extra keys kept, the legacy ``clawdbot``/``clawdis``
metadata keys); strict where it matters: ``name`` and ``version`` must be there, and
broken YAML is reported with its line number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .api._errors import BadInputError

__all__ = [
    "Manifest",
    "OpenClawMeta",
    "ManifestError",
    "load_manifest",
    "parse_manifest",
    "bundled_variants",
    "bundled_manifest_path",
    "resolve_manifest",
]

_FENCE = re.compile(r"^---[ \t]*$", re.M)
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_TRY_HEADING = re.compile(r"^\s*(?:#+\s*)?\**\s*(?:try saying|试试说|examples?)\s*:?\**\s*:?\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+[\"“]?(.+?)[\"”]?\s*$")


class ManifestError(BadInputError):
    """A SKILL.md that cannot drive the runtime (carries ``path`` and ``line``)."""


class Requires(BaseModel):
    model_config = ConfigDict(extra="allow")
    env: list[str] = []
    bins: list[str] = []


class OpenClawMeta(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    emoji: Optional[str] = None
    requires: Requires = Requires()
    primaryEnv: Optional[str] = None
    homepage: Optional[str] = None

    @field_validator("requires", mode="before")
    @classmethod
    def _req(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else {}


class Manifest(BaseModel):
    """What the runtime needs from a SKILL.md; unknown frontmatter keys are kept in ``extra``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    version: str
    description: str = ""
    display_name: Optional[str] = Field(default=None, alias="displayName")
    examples: list[str] = []
    openclaw: OpenClawMeta = OpenClawMeta()
    metadata: dict = {}
    body: str = ""
    path: Optional[str] = None

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("name is empty")
        return v

    @property
    def title(self) -> str:
        return self.display_name or self.name.replace("-", " ").title()

    @property
    def is_spec_name(self) -> bool:
        return bool(_NAME.match(self.name))


def _split(text: str) -> tuple[str, str, int]:
    """(frontmatter, body, line number where the frontmatter starts)."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines) or lines[first].strip() != "---":
        raise ManifestError("the file has no YAML frontmatter (it must start with a '---' line)",
                            detail={"line": first + 1, "reason": "no_frontmatter"})
    for i in range(first + 1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[first + 1:i]), "\n".join(lines[i + 1:]), first + 2
    raise ManifestError("the YAML frontmatter is not closed by a '---' line",
                        detail={"line": len(lines), "reason": "unclosed"})


def _lenient_json(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        return json.loads(re.sub(r",\s*([}\]])", r"\1", s))


def _examples(body: str, fm: dict) -> list[str]:
    ex = fm.get("examples")
    if isinstance(ex, list):
        return [str(e).strip() for e in ex if str(e).strip()]
    out: list[str] = []
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if _TRY_HEADING.match(line):
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    if out:
                        break
                    continue
                m = _BULLET.match(nxt)
                if not m:
                    break
                out.append(m.group(1).strip().strip('"“”'))
            if out:
                break
    return out


def parse_manifest(text: str, path: str | None = None) -> Manifest:
    import yaml

    fm_text, body, line0 = _split(text)
    try:
        fm = yaml.safe_load(fm_text) if fm_text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + line0) if mark is not None else line0
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ManifestError(f"invalid YAML in the frontmatter: {problem}",
                            detail={"line": line, "path": path, "reason": "yaml"}) from None
    if not isinstance(fm, dict):
        raise ManifestError("the frontmatter must be a mapping of keys to values",
                            detail={"line": line0, "path": path, "reason": "not_mapping"})
    for key in ("name", "version"):
        if fm.get(key) in (None, ""):
            line = next((line0 + i for i, ln in enumerate(fm_text.split("\n")) if ln.startswith(f"{key}:")), line0)
            raise ManifestError(f"the frontmatter has no '{key}'",
                                detail={"line": line, "path": path, "reason": "missing", "field": key})
    meta = fm.get("metadata")
    if isinstance(meta, str):
        try:
            meta = _lenient_json(meta)
        except ValueError:
            meta = {}
    if not isinstance(meta, dict):
        meta = {}
    oc = meta.get("openclaw") or meta.get("clawdbot") or meta.get("clawdis") or {}
    data = {k: v for k, v in fm.items() if isinstance(k, str)}
    data.update(
        metadata=meta,
        openclaw=oc if isinstance(oc, dict) else {},
        examples=_examples(body, fm),
        body=body,
        path=path,
    )
    if "display_name" in data and "displayName" not in data:
        data["displayName"] = data.pop("display_name")
    if not isinstance(data.get("description"), str):
        data["description"] = str(data.get("description") or "")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise ManifestError(f"the frontmatter field '{field}' is not valid: {first.get('msg')}",
                            detail={"line": line0, "path": path, "reason": "invalid", "field": field}) from None


def load_manifest(path: str | Path) -> Manifest:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("the skill manifest was not found", detail={"path": str(p), "reason": "missing_file"}) \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError("the skill manifest could not be read",
                            detail={"path": str(p), "reason": getattr(exc, "strerror", None) or "decode"}) from None
    return parse_manifest(text, str(p.resolve()))


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def bundled_manifest_path() -> Path:
    """The top-level SKILL.md (installed copy, else the source tree's)."""
    here = _package_dir()
    for cand in (here / "_bundled" / "SKILL.md", here.parent / "SKILL.md"):
        if cand.is_file():
            return cand
    raise ManifestError("the bundled SKILL.md is missing", detail={"reason": "packaging"})


def bundled_variants() -> dict[str, Path]:
    root = _package_dir() / "variants"
    return {p.parent.name: p for p in sorted(root.glob("*/SKILL.md"))}


def resolve_manifest(path_or_name: str | None) -> Manifest:
    """``--skill``: a SKILL.md path, a folder holding one, or a bundled variant name."""
    if not path_or_name:
        return load_manifest(bundled_manifest_path())
    variants = bundled_variants()
    if path_or_name in variants:
        return load_manifest(variants[path_or_name])
    p = Path(path_or_name).expanduser()
    if p.is_dir():
        p = p / "SKILL.md"
    if p.exists() or "/" in path_or_name or path_or_name.endswith(".md"):
        return load_manifest(p)
    raise ManifestError("no such skill variant", detail={"name": path_or_name, "known": sorted(variants),
                                                         "reason": "unknown_variant"})

"""Reply language from the message's script (no model, no network)."""

from __future__ import annotations

import re

__all__ = ["detect_lang"]

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_ES = re.compile(r"[ñ¿¡]|\b(?:hola|por favor|gracias|video|vídeo|música|quiero|créditos|mándame|dame|cuántos|agrega|pon|subir|exporta|estado|proyecto|saldo)\b", re.I)


def detect_lang(text: str | None, default: str = "en") -> str:
    """``zh``, ``ja``, ``ko``, ``es`` or ``default``; script first, a few Spanish words second."""
    if not text:
        return default
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    if _HANGUL.search(text):
        return "ko"
    if _ES.search(text) and re.search(r"[ñ¿¡áéíóú]|\b(?:hola|por|quiero|dame|pon|agrega|subir|exporta|mi|el|la|de)\b", text, re.I):
        return "es"
    return default

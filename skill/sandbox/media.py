"""Media helpers built on the imageio-ffmpeg binary: type checks, probing, rendering."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "VIDEO_EXTS",
    "IMAGE_EXTS",
    "AUDIO_EXTS",
    "MediaInfo",
    "file_type_for",
    "ffmpeg_exe",
    "probe",
    "render_mp4",
    "synthetic_info",
    "even_size",
]

VIDEO_EXTS = frozenset({"mp4", "mov", "avi", "webm", "mkv"})
IMAGE_EXTS = frozenset({"jpg", "jpeg", "png", "gif", "webp"})
AUDIO_EXTS = frozenset({"mp3", "wav", "m4a", "aac"})

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO_LINE = re.compile(r"Stream #.*?Video:(.*)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"([\d.]+)\s*fps")
_TBR = re.compile(r"([\d.]+)\s*tbr")


@dataclass
class MediaInfo:
    duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    has_audio: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_type_for(filename: str) -> str | None:
    """``video`` / ``image`` / ``audio`` from the extension, else None."""
    ext = os.path.splitext(filename)[1].lower().lstrip(".")
    if ext in VIDEO_EXTS:
        return "video"
    if ext in IMAGE_EXTS:
        return "image"
    if ext in AUDIO_EXTS:
        return "audio"
    return None


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # lazy: only the sandbox needs it

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: str, timeout: float = 30.0) -> MediaInfo:
    """Parse ``ffmpeg -i`` stderr. Non-media files give an all-zero MediaInfo."""
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return MediaInfo()
    return parse_probe(proc.stderr.decode("utf-8", "replace"))


def parse_probe(text: str) -> MediaInfo:
    info = MediaInfo()
    m = _DURATION.search(text)
    if m:
        h, mi, s = m.groups()
        info.duration = round(int(h) * 3600 + int(mi) * 60 + float(s), 3)
    v = _VIDEO_LINE.search(text)
    if v:
        line = v.group(1)
        size = _SIZE.search(line)
        if size:
            info.width, info.height = int(size.group(1)), int(size.group(2))
        fps = _FPS.search(line) or _TBR.search(line)
        if fps:
            info.fps = round(float(fps.group(1)), 3)
    info.has_audio = bool(re.search(r"Stream #.*?Audio:", text))
    return info


def synthetic_info(file_type: str) -> MediaInfo:
    """Plausible metadata for a URL the sandbox does not fetch."""
    if file_type == "video":
        return MediaInfo(duration=10.0, width=1920, height=1080, fps=30.0, has_audio=True)
    if file_type == "image":
        return MediaInfo(duration=0.0, width=1920, height=1080, fps=0.0)
    return MediaInfo(duration=30.0, has_audio=True)


def even_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Scale down to at most ``max_height`` keeping aspect; both even, at least 16."""
    width, height = max(16, int(width or 1920)), max(16, int(height or 1080))
    if height > max_height:
        width = width * max_height / height
        height = max_height
    w = max(16, int(round(width / 2)) * 2)
    h = max(16, int(round(height / 2)) * 2)
    return w, h


def render_mp4(out_path: str, duration_s: float, width: int, height: int,
               fps: float = 30.0, audio: bool = False, timeout: float = 600.0) -> None:
    """Render a test-pattern H.264 MP4 (with a sine tone when ``audio``). Raises on failure."""
    duration_s = max(0.1, float(duration_s))
    fps = fps if 1 <= fps <= 60 else 30.0
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps:g}:duration={duration_s:.3f}",
    ]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={duration_s:.3f}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "96k"]
    cmd += ["-t", f"{duration_s:.3f}", "-movflags", "+faststart", "-f", "mp4", out_path]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=timeout)
    if proc.returncode != 0 or not os.path.exists(out_path):
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError("ffmpeg failed: " + (err[-1] if err else f"exit {proc.returncode}"))

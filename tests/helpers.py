"""Small shared test helpers (media samples, sandbox stats)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_clip(path: Path, seconds: float = 2.0, size: str = "320x240") -> Path:
    subprocess.run(
        [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={size}:rate=25:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True, stdin=subprocess.DEVNULL, capture_output=True,
    )
    return path


def probe(path: Path) -> dict:
    """Codec, duration and size of a media file, read from ``ffmpeg -i``."""
    r = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    err = r.stderr
    out: dict = {"codec": None, "duration": None, "width": None, "height": None}
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", err)
    if m:
        out["duration"] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = re.search(r"Stream #\S+.*?Video: (\w+).*?, (\d{2,5})x(\d{2,5})", err)
    if m:
        out["codec"], out["width"], out["height"] = m.group(1), int(m.group(2)), int(m.group(3))
    return out


def stats(url: str) -> dict:
    return httpx.get(url + "/_sandbox/stats", timeout=10).json()


def count(url: str, key: str) -> int:
    return int(stats(url).get("requests", {}).get(key, 0))

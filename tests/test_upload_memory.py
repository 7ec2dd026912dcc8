"""A 500 MB upload through the client keeps the process small (streamed from disk)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("size_mb", [500])
def test_500mb_upload_peak_rss_under_100mb(sandbox_url, tmp_path, size_mb):
    big = tmp_path / "big.mp4"
    with open(big, "wb") as fh:  # sparse: costs no disk, reads as zeros
        fh.truncate(size_mb * 1024 * 1024 - 1)
    script = textwrap.dedent(f"""
        import asyncio, json, resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        from skill.api import Attribution, NemoClient

        async def main():
            c = NemoClient(api_url={sandbox_url!r}, attribution=Attribution("t", "1", "unknown"))
            s = await c.create_session("en")
            res = await c.upload_files(s.session_id, [{str(big)!r}])
            await c.aclose()
            return res.files[0].model_dump()

        f = asyncio.run(main())
        # VmHWM is this process image's own peak; ru_maxrss would also count the parent's
        # memory at fork time (Linux carries it across exec), which is not ours.
        try:
            hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
            rss_kb = int(hwm)
        except OSError:
            rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"rss_kb": rss_kb, "file": f}}))
    """)
    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["file"]["size"] == size_mb * 1024 * 1024 - 1
    peak_mb = out["rss_kb"] / 1024
    print(f"peak RSS for a {size_mb} MB upload: {peak_mb:.1f} MB")
    assert peak_mb < 100, f"peak RSS {peak_mb:.1f} MB"

"""Download: a large result through ``skill.api._render.download_to`` vs ``curl -o``, and a
download cut at 50% that must resume with the bytes intact.

    .venv/bin/python bench/bench_download.py [--mb 200] [--reps 3] [--smoke]

The sandbox serves a file of pseudo-random bytes from its "CDN" (``/_sandbox/files/``,
where render results live). Ours runs in a child process; its transfer time is measured
inside the child (``download_to`` only) and its whole-process wall is shown too; curl's
is the process wall. Peak RSS is the child's own. Then the ``cut_download`` fault drops
the connection at 50%: ``download_to`` must resume with ``Range`` (not restart) and the
sha256 must match. Targets: transfer wall <= 1.2x curl; RSS < 100 MB; resume + sha256 ok.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CURL, PY, Results, Sandbox, base_env, check, cmdline, compile_package, median, run_child, std_args  # noqa: E402


def worker(url: str, dest: str) -> int:
    import asyncio
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from skill.api import Attribution, NemoClient, download_to

    seen: list[float] = []

    async def go() -> dict:
        client = NemoClient(api_url="http://127.0.0.1:1", attribution=Attribution("bench", "0"), token="x")
        async with client:
            t0 = time.perf_counter()
            n = await download_to(client, url, Path(dest), on_progress=lambda p: seen.append(p.done))
            dt = time.perf_counter() - t0
        restarted = any(b < a for a, b in zip(seen, seen[1:]))
        return {"seconds": dt, "bytes": n, "restarted": restarted, "progress_calls": len(seen)}

    print(json.dumps(asyncio.run(go())))
    return 0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1], argv[2])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    size = (5 if args.smoke else args.mb) * 1_000_000
    reps = 1 if args.smoke else args.reps
    res = Results("download", cmdline())
    compile_package()  # the measured process starts from .pyc files, as an installed copy does
    if not CURL:
        print("curl not found: skipping")
        return 0
    me = str(Path(__file__).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="nemo-bench-dl-"))
    env = base_env()
    try:
        with Sandbox(time_scale=1.0) as sb:
            f = sb.make_file(size, "result.mp4")
            url, want = f["url"], f["sha256"]
            t: dict[str, list[float]] = {"ours": [], "ours_process": [], "curl": []}
            rss: dict[str, list[float]] = {"ours": [], "curl": []}
            for i in range(reps):
                dest = tmp / f"curl_{i}.mp4"
                c = check(run_child([CURL, "-sS", "--fail", "-o", str(dest), url], env=env), "curl")
                t["curl"].append(c.wall)
                rss["curl"].append(c.maxrss_mb)
                dest.unlink()
                dest = tmp / f"ours_{i}.mp4"
                c = check(run_child([PY, me, "--worker", url, str(dest)], env=env), "ours")
                out = json.loads(c.stdout.decode().strip().splitlines()[-1])
                assert out["bytes"] == size, out
                t["ours"].append(out["seconds"])
                t["ours_process"].append(c.wall)
                rss["ours"].append(c.maxrss_mb)
                if i == 0:
                    assert sha256(dest) == want, "sha256 mismatch on a plain download"
                dest.unlink()
            # cut at 50%, resume
            sb.fault("cut_download", fraction=0.5)
            dest = tmp / "resumed.mp4"
            c = check(run_child([PY, me, "--worker", url, str(dest)], env=env), "ours (cut)")
            out = json.loads(c.stdout.decode().strip().splitlines()[-1])
            got = sha256(dest)
            gets = sb.stats()["requests"].get("GET /_sandbox/files/{name:path}")
            dest.unlink()
    finally:
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    mb = size / 1e6
    print(f"\ndownload {mb:.0f} MB, median of {reps}:")
    print(f"  ours  transfer {median(t['ours']):6.3f} s ({mb / median(t['ours']):6.0f} MB/s), process "
          f"{median(t['ours_process']):6.3f} s, peak RSS {max(rss['ours']):6.1f} MB")
    print(f"  curl  process  {median(t['curl']):6.3f} s ({mb / median(t['curl']):6.0f} MB/s), peak RSS {max(rss['curl']):6.1f} MB")
    print(f"  cut at 50%: bytes {out['bytes']}, restarted from 0: {out['restarted']}, sha256 ok: {got == want}, "
          f"GETs of the file in all: {gets}")
    r = median(t["ours"]) / median(t["curl"])
    res.add(f"download {mb:.0f} MB wall: `download_to` vs `curl -o`", f"{median(t['ours']):.2f} s",
            f"{median(t['curl']):.2f} s", r, "<= 1.2x", r <= 1.2,
            note=f"ours whole process {median(t['ours_process']):.2f} s ({median(t['ours_process']) / median(t['curl']):.2f}x)")
    res.add(f"download {mb:.0f} MB peak RSS (ours)", f"{max(rss['ours']):.1f} MB", f"{max(rss['curl']):.1f} MB", None,
            "< 100 MB", max(rss["ours"]) < 100)
    ok = got == want and not out["restarted"] and out["bytes"] == size
    res.add("download cut at 50%: resumed with Range, sha256 matches", "resumed, sha ok" if ok else
            f"restarted={out['restarted']} sha_ok={got == want}", "-", None, "resume + sha256", ok)
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

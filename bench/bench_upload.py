"""Upload: a large sparse file through ``nemo-skill upload`` vs ``curl -F files=@...``.

    .venv/bin/python bench/bench_upload.py [--mb 500] [--reps 3] [--smoke]

Same endpoint (``/api/upload-video/nemo_agent/me/<sid>``), same headers (Authorization and
X-Skill-*), same sandbox, alternating. Wall time is the whole child process (ours
includes interpreter start-up, as a host would see it); peak RSS and CPU are the child's
own (``os.wait4``). Targets: wall <= 1.2x curl; ours peak RSS < 100 MB.
The server side (multipart parsing, copy, md5, probe) is the same for both and is
included in both walls.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CURL, NEMO, Results, Sandbox, check, cmdline, compile_package, median, run_child, std_args, warm_profile  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--mb", type=int, default=500, help="file size in MB (10^6 bytes)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    size = (5 if args.smoke else args.mb) * 1_000_000
    reps = 1 if args.smoke else args.reps
    res = Results("upload", cmdline())
    compile_package()  # the measured process starts from .pyc files, as an installed copy does
    if not CURL:
        print("curl not found: skipping")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="nemo-bench-up-"))
    f = tmp / "big_clip.mp4"
    with open(f, "wb") as fh:  # sparse: no disk blocks, reads as zeros
        fh.truncate(size)
    try:
        with Sandbox(time_scale=1.0) as sb:
            prof = warm_profile(sb.url, session=True)
            endpoint = f"{sb.url}/api/upload-video/nemo_agent/me/{prof.session_id}"
            curl = [CURL, "-sS", "--fail", "-o", os.devnull, "-F", f"files=@{f}"]
            for k, v in prof.headers.items():
                curl += ["-H", f"{k}: {v}"]
            curl.append(endpoint)
            ours_cmd = [NEMO, "--json", "-q", "upload", str(f)]
            walls: dict[str, list[float]] = {"ours": [], "curl": []}
            rss: dict[str, list[float]] = {"ours": [], "curl": []}
            cpu: dict[str, list[float]] = {"ours": [], "curl": []}
            for _ in range(reps):
                for kind, cmd in (("curl", curl), ("ours", ours_cmd)):
                    c = check(run_child(cmd, env=prof.env), kind)
                    if kind == "ours":
                        assert b'"ok": true' in c.stdout, c.stdout[-500:]
                    walls[kind].append(c.wall)
                    rss[kind].append(c.maxrss_mb)
                    cpu[kind].append(c.cpu)
            uploads = sb.stats().get("uploads")
    finally:
        f.unlink(missing_ok=True)
        tmp.rmdir()
    mb = size / 1e6
    print(f"\nupload {mb:.0f} MB, median of {reps} (uploads seen by the sandbox: {uploads}):")
    for k in walls:
        w = median(walls[k])
        print(f"  {k:<5} wall {w:7.2f} s ({mb / w:6.0f} MB/s)  peak RSS {max(rss[k]):6.1f} MB  CPU {median(cpu[k]):5.2f} s")
    r = median(walls["ours"]) / median(walls["curl"])
    res.add(f"upload {mb:.0f} MB wall: `nemo-skill upload` vs `curl -F`", f"{median(walls['ours']):.2f} s",
            f"{median(walls['curl']):.2f} s", r, "<= 1.2x", r <= 1.2,
            note=f"client CPU ours {median(cpu['ours']):.2f} s, curl {median(cpu['curl']):.2f} s")
    res.add(f"upload {mb:.0f} MB peak RSS (ours)", f"{max(rss['ours']):.1f} MB", f"{max(rss['curl']):.1f} MB", None,
            "< 100 MB", max(rss["ours"]) < 100)
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Render wait: delay between a render completing and the download starting, and status
requests, for ``Renderer.wait`` vs the seeds' fixed 30-second polling.

    .venv/bin/python bench/bench_render_wait.py [--durations 5,30,120] [--time-scale 1.0] [--smoke]

Each render (simulated seconds x ``--time-scale`` = real seconds, via the sandbox's
``slow_render`` fault) is submitted twice on the same sandbox and waited for concurrently:
once with ``Renderer.wait`` (``skill/api/_render.py``) and once with the seeds' loop (poll
right after submit, then every 30 s x time-scale). The sandbox records when each job
completed (server clock, same machine) and counts its status requests. Delay = the
moment the waiter returns (= the download would start) - the completion time.
Targets: delay <= max(1 s, 5% of the real render); <= 25 status requests for 120 s.
The full run takes about as long as the longest render plus one seed interval (~150 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Results, Sandbox, cmdline, std_args, warm_profile  # noqa: E402

DRAFT = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000, "m": {"name": "bench"}}]}], "d": 1000,
         "m": {"width": 320, "height": 180, "fps": 10}}


async def run(sb: Sandbox, prof, durations: list[float], scale: float) -> list[dict]:
    from skill.api import Attribution, NemoClient, Renderer, new_render_id

    h = prof.headers
    attribution = Attribution(h["X-Skill-Source"], h["X-Skill-Version"], h["X-Skill-Platform"])
    client = NemoClient(api_url=sb.url, attribution=attribution, token=prof.token)
    longest = max(durations) * scale
    renderer = Renderer(client, deadline=max(600.0, 3 * longest))

    async def ours(rid: str) -> float:
        await renderer.wait(rid)
        return time.time()

    async def seeds(rid: str) -> float:
        while True:
            job, _ = await client.render_status(rid)
            if job.done or job.failed:
                return time.time()
            await asyncio.sleep(30.0 * scale)

    plan = []
    async with client:
        for d in durations:
            for kind in ("ours", "seeds"):
                sb.fault("slow_render", seconds=d * scale)
                rid = new_render_id()
                await client.submit_render(prof.session_id, DRAFT, rid)
                plan.append((d, kind, rid))
        ends = await asyncio.gather(*[(ours if kind == "ours" else seeds)(rid) for _, kind, rid in plan])
    jobs = sb.renders()
    out = []
    for (d, kind, rid), end in zip(plan, ends):
        j = jobs[rid]
        out.append({"sim": d, "real": d * scale, "kind": kind, "delay": end - j["finished_at"],
                    "polls": j["polls"], "status": j["status"], "took": j["finished_at"] - j["created"]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--durations", default="5,30,120", help="simulated render seconds, comma separated")
    ap.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated second")
    args = ap.parse_args(argv)
    durations = [float(x) for x in args.durations.split(",") if x.strip()]
    scale = 0.02 if args.smoke else args.time_scale
    res = Results("render_wait", cmdline())
    with Sandbox(time_scale=scale) as sb:
        prof = warm_profile(sb.url, session=True)
        rows = asyncio.run(run(sb, prof, durations, scale))
    print(f"\nrender wait (time scale {scale}; seeds poll every {30 * scale:g} s real):")
    print(f"  {'sim s':>6} {'real s':>7} {'who':<6} {'delay s':>8} {'requests':>8}  status  (job took s)")
    for r in rows:
        print(f"  {r['sim']:6.0f} {r['real']:7.2f} {r['kind']:<6} {r['delay']:8.3f} {r['polls']:8d}  {r['status']}  ({r['took']:.2f})")
    by = {(r["sim"], r["kind"]): r for r in rows}
    for d in durations:
        o, s = by[(d, "ours")], by[(d, "seeds")]
        limit = max(1.0, 0.05 * o["real"])
        ok = o["delay"] <= limit and o["status"] == "completed"
        res.add(f"render {d:g} s sim / {o['real']:g} s real: delay completed -> download", f"{o['delay']:.2f} s",
                f"{s['delay']:.2f} s", None, f"<= {limit:g} s", ok,
                note=f"status requests ours {o['polls']}, seeds {s['polls']}")
        if d >= 120:
            res.add(f"render {d:g} s sim: status requests", o["polls"], s["polls"], None, "<= 25", o["polls"] <= 25)
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

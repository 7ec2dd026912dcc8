"""The sandbox in its own process, for benchmarks (so it never shares a GIL with the
client being measured). Not a public tool.

    python bench/_sandbox.py '{"time_scale": 1.0}'

Prints ``listening on URL`` and serves until stdin closes. Adds bench-only control routes
(under ``/_sandbox/bench/`` so they are not counted as API requests):

- ``POST /_sandbox/bench/file`` ``{"bytes": N, "name": "x.mp4"}``: a file of N pseudo-random
  bytes served at ``/_sandbox/files/<name>``; answers ``{"url", "sha256", "bytes"}``.
- ``GET /_sandbox/bench/renders``: per render job ``finished_at`` (epoch s, server clock),
  ``created``, ``polls`` (status requests) and ``status``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from skill.sandbox import SandboxServer  # noqa: E402


def _write_random(path: str, size: int) -> str:
    digest = hashlib.sha256()
    block = 4 * 1024 * 1024
    seed = os.urandom(block)
    left = size
    i = 0
    with open(path, "wb") as fh:
        while left > 0:
            # cheap pseudo-random blocks: a random block with a varying prefix
            chunk = (i.to_bytes(8, "little") + seed[8:])[: min(block, left)]
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
            i += 1
    return digest.hexdigest()


def _bind_tcp(host: str, port: int) -> socket.socket:
    """``skill.sandbox.server._bind`` with ``IPPROTO_TCP``: asyncio only sets TCP_NODELAY on
    accepted sockets whose listener has ``proto == IPPROTO_TCP``; with proto 0 every
    response written in two pieces (headers, body) waits ~40 ms for a delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def main() -> int:
    cfg = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if os.environ.get("NEMO_BENCH_SANDBOX_NAGLE") != "1":  # 1: keep the sandbox's own socket
        import skill.sandbox.server as server_mod

        server_mod._bind = _bind_tcp
    srv = SandboxServer(**cfg)
    backend = srv.backend

    async def make_file(request: Request) -> JSONResponse:
        import asyncio

        body = await request.json()
        size = int(body["bytes"])
        name, path = backend.new_file_path("bench", os.path.splitext(body.get("name") or "x.mp4")[1])
        sha = await asyncio.to_thread(_write_random, path, size)
        backend.register_file(name, path, "video/mp4")
        return JSONResponse({"url": f"{srv.url}/_sandbox/files/{name}", "sha256": sha, "bytes": size,
                             "name": name})

    async def renders(request: Request) -> JSONResponse:
        return JSONResponse({jid: {"finished_at": j.finished_at, "created": j.created, "polls": j.polls,
                                   "status": j.status, "expected": j.expected}
                             for jid, j in backend.renders.items()})

    srv.app.router.routes.insert(0, Route("/_sandbox/bench/file", make_file, methods=["POST"]))
    srv.app.router.routes.insert(0, Route("/_sandbox/bench/renders", renders, methods=["GET"]))
    srv.start()
    sys.stdout.write(f"listening on {srv.url}\n")
    sys.stdout.flush()
    try:
        sys.stdin.read()  # until the parent closes our stdin
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

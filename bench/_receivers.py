"""Webhook receivers for bench/api.py, in a process of their own (asyncio, aiohttp), so receiving never competes
with the portal's processes for the interpreter: each verifies every delivery with `standardwebhooks` and writes
`<webhook-id> <arrival time>` lines to <folder>/<n>.log.

Run by bench/api.py: python bench/_receivers.py <folder> <count>; prints one port per line, then serves. The
signing secret of receiver n is read from <folder>/<n>.secret once it exists.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def receiver(folder: Path, n: int) -> web.Application:
    log = open(folder / f"{n}.log", "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime
    verifier: list[Webhook] = []

    async def hooks(request: web.Request) -> web.Response:
        if not verifier:
            secret = folder / f"{n}.secret"
            if not secret.exists():
                return web.Response(status=503)
            verifier.append(Webhook(secret.read_text().strip()))
        body = await request.read()
        try:
            verifier[0].verify(body, {k.lower(): v for k, v in request.headers.items()})
        except WebhookVerificationError:
            return web.Response(status=400)
        log.write(f"{request.headers['webhook-id']} {time.time()}\n")
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", hooks)
    return app


async def main(folder: Path, count: int) -> None:
    for n in range(count):
        runner = web.AppRunner(receiver(folder, n), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))

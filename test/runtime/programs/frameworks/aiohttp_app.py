"""An aiohttp server and a client fan-out limited by a semaphore, in one program (loopback only)."""
import asyncio

import aiohttp
from aiohttp import web


async def hello(request):
    n = int(request.match_info["n"])
    await asyncio.sleep(0.01 * (n % 3))  # HANDLER_SLEEP
    return web.json_response({"n": n, "square": n * n})


async def fetch(session, limit, base, n):
    async with limit:  # SEMAPHORE
        async with session.get("%s/sq/%d" % (base, n)) as resp:  # GET
            data = await resp.json()  # BODY
    return data["square"]


async def main():
    app = web.Application()
    app.router.add_get("/sq/{n}", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base = "http://127.0.0.1:%d" % port
    limit = asyncio.Semaphore(2)
    async with aiohttp.ClientSession() as session:
        squares = await asyncio.gather(*(fetch(session, limit, base, n) for n in range(8)))  # FANOUT
    print(squares)
    await runner.cleanup()


asyncio.run(main())

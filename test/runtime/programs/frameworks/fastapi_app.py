"""A FastAPI app served by uvicorn and its httpx client, in one program (loopback only).
With the argument "uvloop" the same runs on uvloop."""
import asyncio
import socket
import sys

import httpx
import uvicorn
from fastapi import FastAPI

app = FastAPI()
items = {}


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    await asyncio.sleep(0.01)  # SLEEP
    return {"id": item_id, "name": items.get(item_id, "unknown")}


@app.put("/items/{item_id}")
async def put_item(item_id: int, name: str):
    items[item_id] = name
    return {"ok": True}


async def client(port):
    async with httpx.AsyncClient(base_url="http://127.0.0.1:%d" % port) as http:
        for i in range(3):
            r = await http.put("/items/%d" % i, params={"name": "item-%d" % i})  # PUT
            assert r.status_code == 200
        results = await asyncio.gather(*(http.get("/items/%d" % i) for i in range(4)))  # GATHER
        for r in results:
            print(r.json())


async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))  # SERVE
    while not server.started:
        await asyncio.sleep(0.01)  # STARTED
    await client(port)  # CLIENT
    server.should_exit = True
    await serving  # STOP
    print("done")


if len(sys.argv) > 1 and sys.argv[1] == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main())

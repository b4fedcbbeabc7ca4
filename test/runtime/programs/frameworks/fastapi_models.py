"""A FastAPI app whose models are dataclasses (their __init__, __eq__... are code that dataclasses
and pydantic compile from strings at run time) served by uvicorn, and its httpx client, in one
program (loopback only). One endpoint builds many model objects in a row and holds the loop."""
import asyncio
import dataclasses
import socket

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic.dataclasses import dataclass as validated


@dataclasses.dataclass
class Point:
    x: int
    y: int
    label: str = ""
    tags: list = dataclasses.field(default_factory=list)
    weight: float = 1.0
    seen: bool = False


@validated
class Order:
    item: str
    qty: int


app = FastAPI()


@app.post("/orders")
async def create_order(order: Order):
    await asyncio.sleep(0.01)  # ORDER_SLEEP
    return {"item": order.item, "total": order.qty * 2}


@app.get("/points/{n}")
async def points(n: int):
    made = [Point(i, i, "p", [i], 0.5, True) for i in range(n)]  # BUILD
    return {"count": len(made), "equal": made[0] == Point(0, 0, "p", [0], 0.5, True)}


async def client(port):
    async with httpx.AsyncClient(base_url="http://127.0.0.1:%d" % port, timeout=60) as http:
        r = await http.post("/orders", json={"item": "tea", "qty": 3})  # POST
        print(r.json())
        r = await http.get("/points/150000")  # POINTS
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


asyncio.run(main())

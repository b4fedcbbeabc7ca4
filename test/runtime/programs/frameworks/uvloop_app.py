"""An echo service and its clients on uvloop: server, gather, queue, wait_for, a task factory."""
import asyncio
import sys
import time

import uvloop


async def handle(reader, writer):
    while True:
        line = await reader.readline()  # SERVER_READ
        if not line:
            break
        await asyncio.sleep(0.001)  # SERVER_WORK
        writer.write(line.upper())
        await writer.drain()
    writer.close()


async def client(port, i, results):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # CONNECT
    for j in range(3):
        writer.write(b"msg %d %d\n" % (i, j))
        await writer.drain()
        data = await reader.readline()  # CLIENT_READ
        await results.put(data.decode().strip())  # PUT
    writer.close()
    await writer.wait_closed()
    return i


async def collect(results, n):
    got = []
    for _ in range(n):
        got.append(await results.get())  # GET
    return sorted(got)


async def slow_lookup():
    await asyncio.sleep(5)  # SLOW


async def fails():
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # BLOCKS
    raise ValueError("bad record")


def named_factory(loop, coro, **kwargs):
    task = asyncio.Task(coro, loop=loop, **kwargs)
    return task


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    results = asyncio.Queue()
    collector = asyncio.create_task(collect(results, 12), name="collector")  # COLLECTOR
    done = await asyncio.gather(*(client(port, i, results) for i in range(4)))  # GATHER
    print("clients", done)
    print("echoed", await collector)
    try:
        await asyncio.wait_for(slow_lookup(), 0.05)  # WAIT_FOR
    except asyncio.TimeoutError:
        print("lookup timed out")
    asyncio.get_running_loop().set_task_factory(named_factory)
    bad = asyncio.create_task(fails())  # FAILS
    try:
        await bad  # AWAIT_BAD
    except ValueError as e:
        print("failed:", e, bad.get_name(), asyncio.current_task().get_name())
    print("coro", bad.get_coro().__qualname__, asyncio.iscoroutine(bad.get_coro()))
    server.close()
    await server.wait_closed()
    return 0


uvloop.install()
sys.exit(asyncio.run(main()))  # RUN

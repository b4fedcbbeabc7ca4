"""anyio on its trio backend: a task group of workers fed through a memory object stream, a
lock, an event, a loopback TCP echo, a move_on_after that fires, a fail_after that is met, and a
task cancelled through its group's scope. Exits by itself."""
import anyio
from anyio.streams.memory import MemoryObjectReceiveStream


async def worker(name, receive: MemoryObjectReceiveStream, lock, results):
    async with receive:
        async for item in receive:  # WORKER_RECEIVE
            async with lock:  # WORKER_LOCK
                await anyio.sleep(0.005)  # WORKER_SLEEP
                results.append((name, item))


async def slow(n, results):
    with anyio.move_on_after(0.03) as scope:  # SLOW_MOVE_ON
        await anyio.sleep(n)  # SLOW_SLEEP
    results.append(("slow", scope.cancel_called))


async def echo(client):
    async with client:
        data = await client.receive()  # ECHO_RECEIVE
        await client.send(data[::-1])


async def waiter(event):
    await event.wait()  # EVENT_WAIT


async def main():
    results = []
    lock = anyio.Lock()
    send, receive = anyio.create_memory_object_stream(0)
    async with anyio.create_task_group() as tg:  # TASK_GROUP
        for name in ("w1", "w2"):
            tg.start_soon(worker, name, receive.clone(), lock, results, name=name)  # START_WORKER
        tg.start_soon(slow, 5, results)  # START_SLOW
        async with send:
            for i in range(4):
                await send.send(i)  # SEND
        await receive.aclose()
    print(sorted(r[1] for r in results if r[0] != "slow"), [r for r in results if r[0] == "slow"])

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    event = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, echo)  # SERVE_TCP
        tg.start_soon(waiter, event, name="waiter")  # START_WAITER
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:  # CONNECT
            await stream.send(b"olleh")
            print((await stream.receive()).decode())  # CLIENT_RECEIVE
        event.set()
        await anyio.sleep(0.01)
        tg.cancel_scope.cancel()  # CANCEL_GROUP
    await listener.aclose()

    with anyio.fail_after(5):  # FAIL_AFTER
        await anyio.sleep(0.01)  # MET_SLEEP
    print("done")


anyio.run(main, backend="trio")  # RUN

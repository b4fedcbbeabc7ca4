"""A trio program with what real trio code does: a nursery of workers, a memory channel between a
producer and consumers, a lock and an event, a loopback TCP echo server and client, deadlines that
fire, are met, and fail, and a task cancelled by its nursery. Exits by itself; `fail` as first
argument ends it with an uncaught error from a nursery (trio's MultiError / ExceptionGroup output),
`interrupt` with KeyboardInterrupt raised inside a task."""
import functools
import sys

import trio


async def producer(send_channel, n):
    async with send_channel:
        for i in range(n):
            await send_channel.send(i)  # SEND
            await trio.sleep(0.01)  # PRODUCER_SLEEP


async def consumer(name, receive_channel, totals, lock):
    async with receive_channel:
        async for item in receive_channel:  # RECEIVE
            async with lock:  # LOCK
                totals[name] = totals.get(name, 0) + item
                await trio.sleep(0.005)  # HOLD_LOCK


async def echo_handler(stream):
    async for data in stream:  # SERVER_RECV
        await stream.send_all(data.upper())


async def echo_client(port, ready):
    await ready.wait()  # EVENT_WAIT
    stream = await trio.open_tcp_stream("127.0.0.1", port)  # CONNECT
    async with stream:
        for word in (b"alpha", b"beta"):
            await stream.send_all(word)
            reply = await stream.receive_some(100)  # CLIENT_RECV
            print("echo", reply.decode())


async def forever():
    await trio.sleep_forever()  # FOREVER


async def main():
    totals = {}
    lock = trio.Lock()
    send_channel, receive_channel = trio.open_memory_channel(0)
    async with trio.open_nursery() as nursery:  # NURSERY
        nursery.start_soon(producer, send_channel, 6)  # START_PRODUCER
        for name in ("c1", "c2"):
            nursery.start_soon(consumer, name, receive_channel.clone(), totals, lock, name=name)  # START_CONSUMER
        await receive_channel.aclose()
    print("total", sum(totals.values()))

    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, echo_handler, 0, host="127.0.0.1"))  # SERVE_TCP
        port = listeners[0].socket.getsockname()[1]
        nursery.start_soon(echo_client, port, ready, name="client")  # START_CLIENT
        await trio.sleep(0.01)
        ready.set()
        with trio.move_on_after(30):  # CLIENT_DEADLINE
            while nursery.child_tasks and len(nursery.child_tasks) > 1:
                await trio.sleep(0.01)  # POLL
        nursery.cancel_scope.cancel()  # STOP_SERVER

    with trio.move_on_after(0.05) as scope:  # MOVE_ON_FIRES
        await trio.sleep(5)  # LONG_SLEEP
    print("moved on", scope.cancelled_caught)

    with trio.move_on_after(5):  # MOVE_ON_CLEARED
        await trio.sleep(0.01)  # SHORT_SLEEP

    try:
        with trio.fail_after(0.05):  # FAIL_AFTER
            await trio.sleep(5)  # FAIL_SLEEP
    except trio.TooSlowError:
        print("too slow")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(forever, name="victim")  # START_VICTIM
        await trio.sleep(0.02)
        nursery.cancel_scope.cancel()  # CANCEL_VICTIM

    if sys.argv[1:] == ["fail"]:
        async def boom():
            raise ValueError("boom")  # RAISE

        async with trio.open_nursery() as nursery:  # FAILING_NURSERY
            nursery.start_soon(boom)
            nursery.start_soon(boom)
            await trio.sleep(1)  # BEFORE_FAIL
    if sys.argv[1:] == ["interrupt"]:
        async def interrupt():
            await trio.sleep(0.01)
            raise KeyboardInterrupt
        async with trio.open_nursery() as nursery:
            nursery.start_soon(interrupt)
            await trio.sleep(1)
    print("done")


trio.run(main)  # RUN

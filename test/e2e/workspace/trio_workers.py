"""A trio program for the real-VS-Code test (trio.e2e.mjs): a nursery of named workers fed through
a memory channel, a deadline that fires, and a task cancelled by its nursery."""
import trio


async def producer(send_channel):
    async with send_channel:
        for i in range(4):
            await send_channel.send(i)
            await trio.sleep(0.05)


async def worker(receive_channel, results):
    async with receive_channel:
        async for item in receive_channel:
            await trio.sleep(0.02)
            results.append(item)


async def forever():
    await trio.sleep_forever()


async def main():
    results = []
    send_channel, receive_channel = trio.open_memory_channel(0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer, send_channel, name="producer")
        for n in range(2):
            nursery.start_soon(worker, receive_channel.clone(), results, name="worker-%d" % n)
        await receive_channel.aclose()
    with trio.move_on_after(0.1):
        await trio.sleep(5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(forever, name="victim")
        await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    print("results", sorted(results))


trio.run(main)

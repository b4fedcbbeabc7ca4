"""anyio task groups with deadlines (asyncio backend): slow children give up under move_on_after,
a fail_after that is met clears."""
import anyio


async def child(n, results):
    with anyio.move_on_after(0.05 * n) as scope:  # MOVE_ON
        await anyio.sleep(0.3)  # CHILD_SLEEP
        results.append(n)
    if scope.cancel_called:
        results.append(-n)


async def main():
    results = []
    async with anyio.create_task_group() as tg:
        for n in range(1, 4):
            tg.start_soon(child, n, results)  # START_SOON
    with anyio.fail_after(5):  # FAIL_AFTER
        await anyio.sleep(0.01)
    print(sorted(results))


anyio.run(main)

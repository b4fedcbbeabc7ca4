# Two tasks that wait until a file "release" exists beside this script: the run stays live as
# long as a test needs to look at it, however slow the machine.
import asyncio
import os

RELEASE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "release")


async def wait_for_release(what):
    while not os.path.exists(RELEASE):
        await asyncio.sleep(0.05)
    print(what)


async def main():
    task1 = asyncio.create_task(wait_for_release("hello"))
    task2 = asyncio.create_task(wait_for_release("world"))
    await task1
    await task2

asyncio.run(main())

# 10,000 concurrent tasks for about two seconds: the task tree must stay responsive while they stream in.
import asyncio
import random


async def work(i):
    await asyncio.sleep(random.random() * 1.5)
    await asyncio.sleep(0.1)
    return i


async def main():
    results = await asyncio.gather(*(work(i) for i in range(10_000)))
    print(f"{len(results)} tasks done")

asyncio.run(main())

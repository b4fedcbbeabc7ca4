"""A multiprocessing.Pool map whose workers run asyncio (start method from argv[1])."""
import asyncio
import multiprocessing
import sys


async def fetch(x):
    await asyncio.sleep(0.01)  # L:worker-sleep
    return x * x


def square(x):
    return asyncio.run(fetch(x))  # L:worker-run


def main():
    ctx = multiprocessing.get_context(sys.argv[1])
    with ctx.Pool(2) as pool:
        print(sorted(pool.map(square, range(8))))
        pool.close()
        pool.join()
    print("done")


if __name__ == "__main__":
    main()

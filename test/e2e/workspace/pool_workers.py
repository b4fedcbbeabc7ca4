"""A multiprocessing program for the real-VS-Code test (processes.e2e.mjs): a Pool of 2 forked
workers, each running a small asyncio job (two fetches that sleep), then the parent's own asyncio
summary. A barrier makes each worker take one job, so both show work."""
import asyncio
import multiprocessing

barrier = None


def init(b):
    global barrier
    barrier = b


async def fetch(job, part):
    await asyncio.sleep(0.2 + 0.1 * part)
    return job * 10 + part


async def work(job):
    tasks = [asyncio.create_task(fetch(job, part), name="fetch-%d-%d" % (job, part)) for part in range(2)]
    return sum(await asyncio.gather(*tasks))


def job(n):
    # Both workers must arrive here: one job each.
    barrier.wait(timeout=60)
    return asyncio.run(work(n))


async def summary(results):
    await asyncio.sleep(0.05)
    print("results:", results)


def main():
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2, initializer=init, initargs=(ctx.Barrier(2),))
    results = pool.map(job, range(2), chunksize=1)
    pool.close()
    pool.join()
    asyncio.run(summary(results))


if __name__ == "__main__":
    main()

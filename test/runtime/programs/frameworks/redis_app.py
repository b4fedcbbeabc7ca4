"""A job queue on redis.asyncio, in one program: a producer pushes jobs, three workers pop them
(BLPOP) and store and publish their results, a listener follows the results channel (pub/sub).
The redis-server is local (127.0.0.1, its port is the first argument); the program exits by itself."""
import asyncio
import sys

import redis.asyncio as redis

PORT = int(sys.argv[1])
N = 30


async def producer(r):
    for i in range(N):
        await r.rpush("jobs", i)  # PUSH


async def worker(r, results):
    while True:
        _, job = await r.blpop("jobs", timeout=5)  # POP
        if job == b"stop":
            return
        value = int(job) ** 2
        await r.set("result:%s" % job.decode(), value)  # SET
        await r.publish("done", job)  # PUBLISH
        results.append(value)


async def listener(r, seen, ready):
    async with r.pubsub() as ps:
        await ps.subscribe("done")  # SUBSCRIBE
        ready.set()
        while len(seen) < N:
            msg = await ps.get_message(ignore_subscribe_messages=True, timeout=1.0)  # LISTEN
            if msg is not None:
                seen.append(msg["data"])


async def main():
    r = redis.Redis(host="127.0.0.1", port=PORT)
    await r.delete("jobs")  # CONNECT
    results, seen, ready = [], [], asyncio.Event()
    follow = asyncio.create_task(listener(r, seen, ready))  # LISTENER
    await ready.wait()  # READY
    workers = [asyncio.create_task(worker(r, results)) for _ in range(3)]  # WORKERS
    await producer(r)  # PRODUCE
    for _ in workers:
        await r.rpush("jobs", "stop")
    await asyncio.gather(*workers)  # JOIN
    await asyncio.wait_for(follow, 10)  # WAIT_LISTENER
    values = await r.mget(["result:%d" % i for i in range(N)])  # MGET
    print(len(results), len(seen), sum(int(v) for v in values))
    await r.close()


asyncio.run(main())

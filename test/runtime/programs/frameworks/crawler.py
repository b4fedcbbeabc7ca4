"""A queue-based crawler: workers take URLs from an asyncio.Queue, fetch pages from a local
server over streams, and queue the links they find."""
import asyncio
import re

PAGES = {"/": ["/a", "/b"], "/a": ["/a1", "/b"], "/b": ["/b1"], "/a1": [], "/b1": ["/"]}


async def serve(reader, writer):
    line = await reader.readline()
    path = line.split()[1].decode()
    body = " ".join('<a href="%s">' % p for p in PAGES.get(path, []))
    writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + body.encode())
    await writer.drain()
    writer.close()


async def fetch(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # CONNECT
    writer.write(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
    body = await reader.read()  # READ
    writer.close()
    return re.findall(r'href="([^"]+)"', body.decode())


async def worker(port, queue, seen, order):
    while True:
        path = await queue.get()  # QUEUE_GET
        try:
            for link in await fetch(port, path):  # FETCH
                if link not in seen:
                    seen.add(link)
                    await queue.put(link)
            order.append(path)
        finally:
            queue.task_done()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    queue = asyncio.Queue()
    seen = {"/"}
    order = []
    await queue.put("/")
    workers = [asyncio.create_task(worker(port, queue, seen, order)) for _ in range(3)]  # WORKERS
    await queue.join()  # JOIN
    for w in workers:
        w.cancel()  # CANCEL
    await asyncio.gather(*workers, return_exceptions=True)
    server.close()
    await server.wait_closed()
    print(sorted(order))


asyncio.run(main())

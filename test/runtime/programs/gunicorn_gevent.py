"""gunicorn with 2 gevent workers serving a local client; the client stops the server when done."""
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.request

from gunicorn.app.base import BaseApplication

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
WORKERS = 2
# Each worker leaves a file here once booted: the client stops the server only when all are up.
# (gunicorn's master sends SIGTERM to its workers: one still booting has the master's handler
# then, the signal is lost and it runs until the graceful timeout kills it.)
BOOTED = tempfile.mkdtemp(prefix="gunicorn-booted-")


def booted(worker):
    open(os.path.join(BOOTED, str(os.getpid())), "w").close()


def app(environ, start_response):
    import gevent
    gevent.sleep(0.005)  # L:app-sleep
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class Server(BaseApplication):
    def __init__(self, port):
        self.port = port
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", "127.0.0.1:%d" % self.port)
        self.cfg.set("workers", WORKERS)
        self.cfg.set("post_worker_init", booted)
        self.cfg.set("worker_class", "gevent")
        self.cfg.set("loglevel", "warning")
        # (time for a worker to finish on a loaded machine: a worker killed at the end would
        # make gunicorn log a warning that an unhurried run does not)
        self.cfg.set("graceful_timeout", 30)

    def load(self):
        return app


def client(port, results):
    url = "http://127.0.0.1:%d/" % port
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            time.sleep(0.05)
    for _ in range(REQUESTS):
        with urllib.request.urlopen(url, timeout=10) as r:
            results.append(r.read())
    deadline = time.monotonic() + 60
    while len(os.listdir(BOOTED)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.02)
    for name in os.listdir(BOOTED):
        os.unlink(os.path.join(BOOTED, name))
    os.rmdir(BOOTED)
    os.kill(os.getpid(), signal.SIGTERM)  # gunicorn: graceful stop


def main():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    results = []
    master = os.getpid()
    threading.Thread(target=client, args=(port, results), daemon=True).start()
    try:
        Server(port).run()
    except SystemExit:
        # A worker (a fork of this process) ends with SystemExit out of run() too: let it end
        # the way gunicorn means it to, without printing (whether a worker printed before the
        # master stopped it depended on timing).
        if os.getpid() != master:
            raise
    print("responses", len(results), set(results))


if __name__ == "__main__":
    main()

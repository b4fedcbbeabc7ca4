# gevent socket I/O after monkey.patch_all(): accept, connect, a send that waits for the peer
# (the payload is larger than the socket buffers) and recv.
from gevent import monkey; monkey.patch_all()
import socket
import gevent

PAYLOAD = b'x' * (8 * 1024 * 1024)


def serve(listener):
    conn, _ = listener.accept()
    conn.sendall(PAYLOAD)
    conn.close()


def fetch(port):
    c = socket.create_connection(('127.0.0.1', port))
    got = 0
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        got += len(chunk)
        gevent.sleep(0)
    c.close()
    return got


listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(1)
port = listener.getsockname()[1]
s = gevent.spawn(serve, listener)
f = gevent.spawn(fetch, port)
gevent.joinall([s, f])
print('received', f.value)

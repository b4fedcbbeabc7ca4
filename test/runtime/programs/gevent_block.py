# A greenlet that blocks the hub: time.sleep without monkey-patching holds every other greenlet.
import time
import gevent


def ticker():
    for _ in range(3):
        gevent.sleep(0.01)


def hog():
    gevent.sleep(0.01)
    time.sleep(0.3)
    return 'done'


a = gevent.spawn(ticker)
b = gevent.spawn(hog)
gevent.joinall([a, b])
print(b.value)

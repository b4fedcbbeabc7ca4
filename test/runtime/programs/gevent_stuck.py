# gevent greenlets that can never go on: a and b join each other (the receivers are subscripts),
# c waits on an AsyncResult and d on an Event that nobody sets. main gives up after a timeout.
import gevent
from gevent.event import AsyncResult, Event

box = {}


def a():
    gevent.sleep(0.01)
    box['b'].join()


def b():
    gevent.sleep(0.01)
    box['a'].join()


ar = AsyncResult()
ev = Event()


def c():
    ar.get()


def d():
    ev.wait()


box['a'] = gevent.spawn(a)
box['b'] = gevent.spawn(b)
g3 = gevent.spawn(c)
g4 = gevent.spawn(d)
gevent.joinall([box['a'], box['b'], g3, g4], timeout=1.0)
print("done")

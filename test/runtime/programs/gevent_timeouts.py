# gevent.Timeout: one fires (the guarded call is too slow), one is cleared in time.
import gevent
from gevent import Timeout


def slow():
    gevent.sleep(5)
    return 'slow'


def fast():
    gevent.sleep(0.01)
    return 'fast'


def guarded(fn, secs):
    try:
        with Timeout(secs):
            return fn()
    except Timeout:
        return 'timed out'


a = gevent.spawn(guarded, slow, 0.05)
b = gevent.spawn(guarded, fast, 1.0)
gevent.joinall([a, b])
print(a.value, b.value)

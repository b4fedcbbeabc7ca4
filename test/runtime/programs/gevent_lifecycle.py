# gevent: a kill, a failing greenlet, spawn_later, a Pool, and a non-zero exit code.
import sys
import gevent
from gevent.pool import Pool


def forever():
    while True:
        gevent.sleep(0.5)


def boom(n):
    gevent.sleep(0.01)
    raise ValueError('boom %d' % n)


def work(i):
    gevent.sleep(0.02 * i)
    return i * i


k = gevent.spawn(forever)
gevent.sleep(0.05)
k.kill()
f = gevent.spawn(boom, 7)
f.join()
later = gevent.spawn_later(0.1, work, 3)
later.join()
pool = Pool(2)
print(sorted(pool.map(work, range(4))))
print(k.dead, repr(f.exception), later.value)
sys.exit(3)

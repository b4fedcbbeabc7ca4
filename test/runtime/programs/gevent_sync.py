# gevent synchronisation: what each greenlet waits on (event, queue, lock, result, a group).
import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import BoundedSemaphore
from gevent.pool import Group
from gevent.queue import Queue

ready = Event()
q = Queue()
lock = BoundedSemaphore(1)
result = AsyncResult()


def waiter():
    ready.wait()
    item = q.get()
    gevent.sleep(0)
    with lock:
        gevent.sleep(0.01)
    return item


def holder():
    with lock:
        ready.set()
        q.put('item')
        gevent.sleep(0.02)
    result.set(42)


def reader():
    return result.get()


group = Group()
w = group.spawn(waiter)
w.name = 'the-waiter'
group.spawn(holder)
group.spawn(reader)
group.join()
empty = Queue()
try:
    empty.get(timeout=0.01)
except Exception as e:
    print(type(e).__name__)
print(w.value, result.get())

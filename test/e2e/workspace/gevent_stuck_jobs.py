# Two gevent workers that join each other (a deadlock), and a greenlet waiting on an AsyncResult
# that nobody sets. main gives up after a timeout, so the program ends by itself.
import gevent
from gevent.event import AsyncResult

workers = {}
reply = AsyncResult()


def fetcher():
    gevent.sleep(0.01)
    workers['parser'].join()


def parser():
    gevent.sleep(0.01)
    workers['fetcher'].join()


def listener():
    reply.get()


workers['fetcher'] = gevent.spawn(fetcher)
workers['parser'] = gevent.spawn(parser)
waiter = gevent.spawn(listener)
gevent.joinall([workers['fetcher'], workers['parser'], waiter], timeout=1.0)
print("gave up")

"""Which modules the greenlet hooks wait for (importing gevent early would change the program's
monkey-patching order, so the setup runs right after the program imports each of them)."""

_WATCHED = ("greenlet", "gevent", "gevent.pool", "gevent.lock", "gevent.event", "gevent.queue")
_applied = set()  # the watched modules our setup ran for

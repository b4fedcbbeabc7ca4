# Two greenlets take the same two locks in opposite order: each holds one and waits for the other's
# (a lock-order deadlock). main gives up after a timeout. The lock type is the first argument:
# gevent's Semaphore, BoundedSemaphore, RLock, or threading's Lock / RLock under monkey.patch_all.
import sys

KIND = sys.argv[1] if len(sys.argv) > 1 else "rlock"
if KIND.startswith("threading"):
    from gevent import monkey
    monkey.patch_all()
import threading  # noqa: E402

import gevent  # noqa: E402
from gevent.lock import BoundedSemaphore, RLock, Semaphore  # noqa: E402

MAKE = {"semaphore": Semaphore, "bounded": BoundedSemaphore, "rlock": RLock,
        "threading.Lock": threading.Lock, "threading.RLock": threading.RLock}[KIND]


def transfer(first, second):
    with first:
        gevent.sleep(0.01)
        with second:
            print("never")


accounts = MAKE()
ledger = MAKE()
left = gevent.spawn(transfer, accounts, ledger)
left.name = "left"
right = gevent.spawn(transfer, ledger, accounts)
right.name = "right"
done = gevent.joinall([left, right], timeout=1.0)
print("finished: %d of 2" % len(done))

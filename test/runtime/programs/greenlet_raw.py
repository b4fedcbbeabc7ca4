# Plain greenlets: a ping-pong, one that fails into its parent, one killed with throw().
import sys
from greenlet import greenlet, getcurrent, GreenletExit

main = getcurrent()


def ping(n):
    for i in range(n):
        print('ping', i)
        n = pong.switch(i)
    return 'ping done'


def pong(i):
    while True:
        print('pong', i)
        i = pinger.switch(i + 1)


def failing():
    main.switch('first')
    raise KeyError('lost')


def victim():
    try:
        main.switch()
    except GreenletExit:
        print('victim exits')
        raise


pinger = greenlet(ping)
pong = greenlet(pong)
print(pinger.switch(3))
f = greenlet(failing)
print(f.switch())
try:
    f.switch()
except KeyError as e:
    print('caught', repr(e))
v = greenlet(victim)
v.switch()
v.throw()
print(v.dead)
sys.exit(0)

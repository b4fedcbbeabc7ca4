"""Blocking steps: a greenlet step that held the hub past --block-ms, and the sampler thread that
names the line it was running."""
import sys
from time import perf_counter_ns as _ns

_rec = None
_st = None


def _block(st, tid, start, now, fallback=None):
    """A step that kept the hub (and every other greenlet) waiting longer than --block-ms, with
    the line sampled while it overran, else the line where it switched away."""
    site = st.block_sites.pop(start, fallback)
    st.block_sites.clear()
    _rec.emit('{"type":"block","task":%d,"ts":%d,"dur":%d,"site":%s}'
              % (tid, start, now - start, "null" if site is None else site))


def _start_sampler(st):
    """While a greenlet step overruns the block threshold, read the line it is running (the
    step's own end would only show where it finally switched away). Runs on the recorder's
    writer thread, a real thread started before gevent's monkey-patching, waking right after
    the running step would overrun (about once per threshold while steps are short)."""
    st.sampler = True
    block_ns = st.block_us * 1000
    period = max(0.002, min(0.1, st.block_us / 1e6))
    target = st.thread
    sampled = 0  # the step start last sampled (an idle hub is sampled once, not every tick)

    def tick():
        nonlocal sampled
        if not st.active:
            return None
        top = None
        try:
            start_ns = st.cur_start
            left = block_ns - (_ns() - start_ns)
            if left > 0:
                return left / 1e9 + 0.001
            if start_ns == sampled:
                return None
            sampled = start_ns
            top = sys._current_frames().get(target)
            if top is None or start_ns != st.cur_start:
                return None
            # The hub waiting for events (or running its own callbacks) has no user frame.
            site = _rec.site_of_frame(top)
            if site is not None:
                st.block_sites[(start_ns - st.t0) // 1000] = site
        except Exception:
            pass
        finally:
            top = None
        return None

    _rec.add_ticker(tick, period)

"""A small async service and its pytest-asyncio tests (run traced as `python -m asynctrace -m pytest`)."""
import asyncio

import pytest
import pytest_asyncio


class Inventory:
    def __init__(self):
        self.items = {}
        self.lock = asyncio.Lock()

    async def add(self, name, qty):
        async with self.lock:  # LOCK
            await asyncio.sleep(0.001)  # STORE
            self.items[name] = self.items.get(name, 0) + qty

    async def slow_lookup(self, name):
        await asyncio.sleep(0.5)  # SLOW
        return self.items.get(name)


@pytest_asyncio.fixture
async def inventory():
    inv = Inventory()
    await inv.add("tea", 1)  # FIXTURE
    yield inv


@pytest.mark.asyncio
async def test_concurrent_adds(inventory):
    await asyncio.gather(*(inventory.add("tea", 1) for _ in range(5)))  # GATHER
    assert inventory.items["tea"] == 6


@pytest.mark.asyncio
async def test_lookup_times_out(inventory):
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(inventory.slow_lookup("tea"), 0.05)  # WAIT_FOR


@pytest.mark.asyncio
async def test_pipeline(inventory):
    q = asyncio.Queue()

    async def consume():
        while (item := await q.get()) is not None:  # GET
            await inventory.add(item, 1)

    consumer = asyncio.create_task(consume())  # CONSUMER
    await asyncio.sleep(0.01)  # the consumer waits on the empty queue
    for name in ("a", "b", "c"):
        await q.put(name)
    await q.put(None)
    await consumer  # JOIN
    assert sorted(inventory.items) == ["a", "b", "c", "tea"]

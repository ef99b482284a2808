"""The project's DataLoader (resolvers/loaders.py): load_many answers in key order, in
one batch, and fails as gather fails; a field cancelled while it waits does not cancel
the load for the others that wait for the same key; `held` gives what a completed
load holds, and nothing for a load still running or one that failed (the field awaits
it again and reports the failure at its own path)."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.loaders import NOT_HELD, Loader, held


def _loader(batches: list, fail: set | None = None) -> Loader:
    async def load(keys):
        batches.append(list(keys))
        await asyncio.sleep(0)
        if fail and fail & set(keys):
            raise RuntimeError("batch failed")
        return [k * 10 for k in keys]

    return Loader(load_fn=load)


async def test_load_many_answers_in_key_order_in_one_batch():
    batches: list = []
    loader = _loader(batches)
    first, second = await asyncio.gather(loader.load_many([3, 1, 2]), loader.load_many([2, 4]))
    assert first == [30, 10, 20] and second == [20, 40]
    assert batches == [[3, 1, 2, 4]]
    assert await loader.load_many([]) == []


async def test_load_many_fails_as_gather_does():
    loader = _loader([], fail={2})
    with pytest.raises(RuntimeError, match="batch failed"):
        await loader.load_many([1, 2])


async def test_held_only_after_a_load_completed():
    loader = _loader([])
    assert held(loader, 1) is NOT_HELD  # never asked
    pending = loader.load(1)
    assert held(loader, 1) is NOT_HELD  # asked, not answered yet
    assert await pending == 10
    assert held(loader, 1) == 10
    loader.prime(5, None)
    assert held(loader, 5) is None  # a key that names nothing holds None


async def test_a_failed_load_is_not_held():
    loader = _loader([], fail={1})
    with pytest.raises(RuntimeError):
        await loader.load(1)
    assert held(loader, 1) is NOT_HELD


@pytest.mark.parametrize("how", ["load", "load_many"])
async def test_a_cancelled_waiter_leaves_the_load_to_the_others(how):
    batches: list = []
    loader = _loader(batches)

    async def ask():
        return await (loader.load(1) if how == "load" else loader.load_many([1, 2]))

    cancelled, other = asyncio.ensure_future(ask()), asyncio.ensure_future(ask())
    await asyncio.sleep(0)  # both wait for the batch
    cancelled.cancel()
    assert await other == (10 if how == "load" else [10, 20])
    assert cancelled.cancelled() and batches == [[1] if how == "load" else [1, 2]]
    assert held(loader, 1) == 10

import pytest

from tests.api.client import make_client


@pytest.fixture
async def api(db_url):
    client = make_client(db_url)
    yield client
    await client.close()


@pytest.fixture
async def world(api):
    from tests.api.world import build_world

    return await build_world(api)

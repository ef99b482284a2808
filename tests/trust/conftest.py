import pytest

from tests.databases import postgres_url


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server the model test creates its scratch database on."""
    return postgres_url()

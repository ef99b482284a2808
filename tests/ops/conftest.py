import pytest

from tests.databases import postgres_url


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server the operations tests create their scratch databases on."""
    return postgres_url()

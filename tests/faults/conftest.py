import pytest

from tests.databases import PG_ENV, postgres_url


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server the fault tests create their scratch databases on."""
    url = postgres_url()
    if url is None:
        pytest.skip(f"needs PostgreSQL: set {PG_ENV} (CI always does)")
    return url

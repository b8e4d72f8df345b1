import pytest

from tests.factories import UserFactory, region_tree


@pytest.fixture
def regions(db):
    return region_tree()


@pytest.fixture
def make_user(db, regions):
    """make_user("社区经办人", region="community11") → a user of that role in that region."""

    def _make(*roles: str, region: str | None = "community11", **kwargs):
        return UserFactory(roles=list(roles), region=regions[region] if region else None, **kwargs)

    return _make

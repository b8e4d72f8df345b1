import importlib

import pytest

from tests.factories import UserFactory, region_tree


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """Transactional tests (run last by pytest-django) flush the database after each test, wiping rows
    that data migrations created: the role groups and the working-day calendar. Put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from core.accounts.roles import sync_role_groups
    from core.workflow.models import CalendarDay

    if not Group.objects.filter(name="科长").exists():
        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0)
        sync_role_groups(Group, Permission)
    if not CalendarDay.objects.exists():
        importlib.import_module("core.workflow.migrations.0003_seed_calendar").seed(apps, None)


@pytest.fixture
def regions(db):
    return region_tree()


@pytest.fixture
def make_user(db, regions):
    """make_user("社区经办人", region="community11") → a user of that role in that region."""

    def _make(*roles: str, region: str | None = "community11", **kwargs):
        return UserFactory(roles=list(roles), region=regions[region] if region else None, **kwargs)

    return _make

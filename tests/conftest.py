import contextlib
import datetime
import importlib

import pytest

from tests.factories import UserFactory, region_tree

# The data migrations that seed benefit types, standards, (local) parameters and facility kinds, in
# migration order (each idempotent): put back after a transactional test's flush, like the rows below.
DATA_SEEDERS = [
    ("assistance.migrations.0001_benefit_types_and_parameters", "seed"),
    ("assistance.migrations.0008_classified_parameters_temp_amounts", "seed"),
    ("assistance.migrations.0009_asset_limit_parameters", "seed"),
    ("assistance.migrations.0012_low_income_register", "seed"),
    ("assistance.migrations.0013_tekun_lifecycle", "seed"),
    ("assistance.migrations.0014_delegated_confirmation_pre_stop", "seed"),
    ("core.visits.migrations.0002_visit_parameters", "seed"),
    ("core.staff.migrations.0003_social_work_target", "seed"),
    ("core.facilities.migrations.0002_seed_kinds", "seed_kinds"),
]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database rolls back after a test, a cached figure would
    not (the dashboard's counts are cached per scope and day)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """Transactional tests (run last by pytest-django) flush the database after each test, wiping rows
    that data migrations created: the role groups, the sections, the working-day calendar, benefit types,
    standards, parameters and facility kinds. Put them back."""
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

    from core.accounts.models import Section
    from core.accounts.roles import sync_role_groups
    from core.benefits.models import Parameter
    from core.workflow.models import CalendarDay

    if not Group.objects.filter(name="科长").exists():
        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0)
        sync_role_groups(Group, Permission)
    if not Section.objects.exists():
        importlib.import_module("core.accounts.migrations.0005_section_sectionrole").seed_sections(apps, None)
    if not CalendarDay.objects.exists():
        importlib.import_module("core.workflow.migrations.0003_seed_calendar").seed(apps, None)
    if not Parameter.objects.exists():
        for module, function in DATA_SEEDERS:
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def regions(db):
    return region_tree()


@pytest.fixture
def make_user(db, regions):
    """make_user("社区经办人", region="community11") → a user of that role in that region."""

    def _make(*roles: str, region: str | None = "community11", **kwargs):
        return UserFactory(roles=list(roles), region=regions[region] if region else None, **kwargs)

    return _make


class Clock:
    """The code under test's "now", moved by whole days: `timezone.now()` — and with it
    `timezone.localdate()` and every auto_now/auto_now_add field — reads `days` away from the real time.
    A flow can so be entered, visited and posted some days ago and its 公示 finished today."""

    def __init__(self, monkeypatch):
        from django.utils import timezone

        self._real_now = timezone.now
        monkeypatch.setattr(timezone, "now", self._now)
        self.offset = datetime.timedelta(0)

    def _now(self):
        return self._real_now() + self.offset

    def shift(self, days: int = 0) -> None:
        """From now on, "now" is `days` days from the real time (0: the real time again)."""
        self.offset = datetime.timedelta(days=days)

    @contextlib.contextmanager
    def days_ago(self, days: int):
        """Inside the block, "now" is `days` days before the real time."""
        previous = self.offset
        self.shift(-days)
        try:
            yield
        finally:
            self.offset = previous


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)

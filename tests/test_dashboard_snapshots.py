"""The dashboard's figures kept in the database (core.portal.dashboard.scope_figures, issue 14 item 6): a
restart or an emptied cache does not make the next user wait for every panel; an expired snapshot is shown
with its time while a task takes it again; a new day, or a scope seen for the first time, computes."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.portal.dashboard import _PROVIDERS, register_scope_figures, scope_figures
from core.portal.models import FiguresSnapshot
from core.portal.tasks import refresh_scope_figures
from core.registry.querysets import user_scope_prefix

NAME = "test_counted"


@pytest.fixture
def counted():
    """A registered provider that counts its calls and returns the scope it was asked for."""
    calls = []

    def provider(user, today):
        calls.append((user.pk, today))
        return {"call": len(calls), "scope": user.region.code if user.region else ""}

    register_scope_figures(NAME, provider, 300)
    yield calls
    _PROVIDERS.pop(NAME, None)


def _figures(user, today=None):
    return scope_figures(user, today or timezone.localdate(), [NAME])[NAME]


def test_snapshot_outlives_the_cache_and_serves_in_one_query(counted, make_user, django_assert_num_queries):
    chief = make_user("科长", region="district")
    first = _figures(chief)
    assert first.value["call"] == 1 and len(counted) == 1
    cache.clear()  # a restart, or Redis emptied
    with django_assert_num_queries(1):
        again = _figures(chief)
    assert again.value == first.value and again.computed_at == first.computed_at and len(counted) == 1
    with django_assert_num_queries(0):  # put back in the cache for the rest of its 5 minutes
        assert _figures(chief).value == first.value


def test_each_scope_keeps_its_own_figures(counted, make_user):
    street1 = _figures(make_user("街道审核员", region="street1"))
    street2 = _figures(make_user("街道审核员", region="street2"))
    assert street1.value["scope"] != street2.value["scope"] and len(counted) == 2
    # A second user of street 1 shares its figures (they depend on the scope only).
    assert _figures(make_user("街道审核员", region="street1")).value == street1.value
    assert FiguresSnapshot.objects.count() == 2


def test_expired_snapshot_shown_while_a_task_takes_it_again(
    counted, make_user, django_capture_on_commit_callbacks
):
    chief = make_user("科长", region="district")
    first = _figures(chief)
    old = timezone.now() - datetime.timedelta(minutes=6)
    FiguresSnapshot.objects.update(computed_at=old)
    cache.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        shown = _figures(chief)
        # A second request meanwhile (the expired snapshot is not put in the cache) asks for no second task.
        assert _figures(chief).value == first.value
    assert shown.value == first.value and shown.computed_at == old and len(counted) == 1
    assert len(callbacks) == 1
    callbacks[0]()  # the task (Celery eager here; a worker in production)
    assert len(counted) == 2
    snapshot = FiguresSnapshot.objects.get()
    assert snapshot.figures().value["call"] == 2 and snapshot.computed_at > old
    cache.clear()
    assert _figures(chief).value["call"] == 2


def test_a_new_day_computes_and_the_task_prunes_past_days(counted, make_user):
    chief = make_user("科长", region="district")
    today = timezone.localdate()
    _figures(chief, today - datetime.timedelta(days=3))
    _figures(chief, today)
    assert len(counted) == 2 and FiguresSnapshot.objects.count() == 2
    assert refresh_scope_figures([NAME], chief.pk, today.isoformat()) == [NAME]
    assert list(FiguresSnapshot.objects.values_list("day", flat=True)) == [today]
    inactive = make_user("科长", region="district", is_active=False)
    assert refresh_scope_figures([NAME], inactive.pk, today.isoformat()) == []


def test_dashboard_says_when_its_figures_were_taken(client, make_user):
    chief = make_user("科长", region="district")
    client.force_login(chief)
    page = client.get(reverse("dashboard")).content.decode()
    taken = FiguresSnapshot.objects.order_by("computed_at").first().computed_at
    assert f"统计为 {timezone.localtime(taken):%H:%M} 的数字" in page
    # A user without a region sees no figures (and none computed or kept for "everything").
    count = FiguresSnapshot.objects.count()
    nobody = make_user("社区经办人", region=None)
    client.force_login(nobody)
    page = client.get(reverse("dashboard")).content.decode()
    assert "统计为" not in page and FiguresSnapshot.objects.count() == count


def test_a_snapshot_that_cannot_be_read_back_is_computed_again(counted, make_user):
    """A snapshot kept by an earlier release whose classes changed since (a deploy during the day)."""
    chief = make_user("科长", region="district")
    _figures(chief)
    FiguresSnapshot.objects.update(value=b"\x80\x04\x95not a pickle")
    cache.clear()
    assert _figures(chief).value["call"] == 2 and len(counted) == 2
    assert FiguresSnapshot.objects.get().figures().value["call"] == 2


def test_the_morning_warm_up_computes_the_scopes_seen_yesterday(counted, make_user):
    from core.portal.tasks import warm_dashboard_figures

    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    street1, street2 = make_user("街道审核员", region="street1"), make_user("街道审核员", region="street2")
    gone = make_user("社区经办人", region="community22")
    for user in (street1, street2, gone):
        _figures(user, yesterday)
    already = _figures(street1, today)  # street 1 was seen today already
    gone.is_active = False
    gone.save()
    assert warm_dashboard_figures() == 1  # street 2 only
    kept = {s.scope: s for s in FiguresSnapshot.objects.filter(day=today)}
    scope1, scope2 = user_scope_prefix(street1), user_scope_prefix(street2)
    assert set(kept) == {scope1, scope2}
    assert kept[scope1].computed_at == already.computed_at
    assert kept[scope2].computed_for == street2
    cache.clear()
    calls = len(counted)
    assert (
        _figures(street2).value["scope"] == street2.region.code and len(counted) == calls
    )  # read, not computed
    assert warm_dashboard_figures() == 0  # nothing left to do


def test_a_user_without_a_region_never_sees_the_figures_kept_for_everything(client, make_user, regions):
    """The superuser's scope is everything (prefix ""), a user without a region nothing (None): before the
    snapshots both read the headline counts under one "all" key, so whoever came second saw the first's."""
    from tests.factories import household_with_members

    household_with_members(regions["community11"], size=3)
    admin = make_user(region=None, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("dashboard")).content.decode()
    assert '辖区家庭（户）</div><div class="display-6">1<' in page
    assert '辖区在册人员（人）</div><div class="display-6">3<' in page
    nobody = make_user("社区经办人", region=None)
    client.force_login(nobody)
    page = client.get(reverse("dashboard")).content.decode()
    assert '辖区家庭（户）</div><div class="display-6">0<' in page
    assert '辖区在册人员（人）</div><div class="display-6">0<' in page
    assert "统计为" not in page

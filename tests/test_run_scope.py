"""Payment runs and the data scope (issue 12, item 4).

A run is one per benefit type and month for every region; its lines carry their region code. Locking
needs a 科长 whose scope holds every line of the run (a city-level 科长 for a run across districts), and
every total a user sees of a run — list, detail, the recalculation message — sums the lines in their scope."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.accounts.models import Section
from core.accounts.templatetags.ui import money
from core.benefits import services
from core.benefits.calculators import FixedStandardCalculator, register_calculator
from core.benefits.exceptions import RunOutsideScope
from core.benefits.models import BenefitType, PaymentLine, PaymentRun, Standard
from core.registry.models import Region
from tests.factories import household_with_members, region_tree

MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
REFUSAL = "本批次含有您数据范围以外的发放记录"


@register_calculator("run_scope_fixed")
@register_calculator("run_scope_local")
class ScopeFixedCalculator(FixedStandardCalculator):
    label = "测试定额"


def benefit(code: str) -> BenefitType:
    bt = BenefitType.objects.create(
        code=code, name="测试定额", section=Section.objects.get(code="assistance")
    )
    for tier, amount in (("A", "100"), ("B", "300.5")):
        Standard.objects.create(
            benefit_type=bt, tier=tier, amount=Decimal(amount), effective_from=datetime.date(2020, 1, 1)
        )
    return bt


def entitle(bt: BenefitType, region, tier: str) -> None:
    household = household_with_members(region, size=1)
    services.entitlement_create(
        benefit_type=bt,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=MARCH,
        params={"tier": tier},
        actor=None,
    )


@pytest.fixture
def two_districts(regions):
    """A run of March with lines in two districts: 220106 (street 1: 100 + 100 + 300.5; street 2: 300.5)
    and 220107 (100 + 100)."""
    other = region_tree("220107000000")
    bt = benefit("run_scope_fixed")
    for region, tier in (
        (regions["community11"], "A"),
        (regions["community11"], "A"),
        (regions["community12"], "B"),
        (regions["community21"], "B"),
        (other["community11"], "A"),
        (other["community12"], "A"),
    ):
        entitle(bt, region, tier)
    run = services.payment_run_recalculate(benefit_type=bt, month=MARCH)
    assert run.total_amount == Decimal("1001.00")
    return run, other


@pytest.fixture
def district_chief(make_user):
    return make_user("科长", region="district")


def _city_user(make_user):
    """A 科长 of the section whose region is the city (长春市): their scope holds both districts."""
    user = make_user("科长", region="district")
    user.region = Region.objects.get(code="220100000000")
    user.save(update_fields=["region"])
    return user


def street_totals(run: PaymentRun, prefix: str) -> dict:
    return PaymentLine.objects.filter(run=run, region_code__startswith=prefix).aggregate(
        paid=Count("pk", filter=~Q(amount=0)), total=Sum("amount")
    )


# --- locking ---------------------------------------------------------------------------------------


def test_a_district_chief_cannot_lock_a_run_across_districts(two_districts, district_chief):
    run, _ = two_districts
    assert not services.can_lock(run, district_chief)
    assert services.lock_offer(run, district_chief).startswith(REFUSAL)
    with pytest.raises(RunOutsideScope) as refused:
        services.payment_run_lock(run=run, actor=district_chief)
    # The message names who may lock it: the region holding every line (the city).
    assert str(refused.value) == f"{REFUSAL}，须由长春市的科长锁定"
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.DRAFT


def test_the_lock_page_refuses_the_district_chief_with_the_reason(client, two_districts, district_chief):
    run, _ = two_districts
    client.force_login(district_chief)
    url = reverse("benefits:run_lock", args=[run.pk])
    page = client.get(url)
    assert page.status_code == 403
    assert REFUSAL in page.content.decode()
    assert client.post(url).status_code == 403
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.DRAFT
    # The run's page shows the lock button disabled, with the reason, and no link to the lock page.
    content = client.get(reverse("benefits:run_detail", args=[run.pk])).content.decode()
    assert f"{REFUSAL}，须由长春市的科长锁定" in content
    assert "disabled" in content
    assert url not in content


def test_a_city_level_chief_locks_the_run(client, two_districts, make_user):
    run, _ = two_districts
    chief = _city_user(make_user)
    assert services.can_lock(run, chief)
    client.force_login(chief)
    detail = client.get(reverse("benefits:run_detail", args=[run.pk])).content.decode()
    assert reverse("benefits:run_lock", args=[run.pk]) in detail and REFUSAL not in detail
    assert client.post(reverse("benefits:run_lock", args=[run.pk])).status_code == 302
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.LOCKED
    assert run.locked_by == chief


def test_a_district_chief_locks_a_run_all_in_the_district(regions, district_chief):
    bt = benefit("run_scope_local")
    entitle(bt, regions["community11"], "A")
    entitle(bt, regions["community21"], "B")
    run = services.payment_run_recalculate(benefit_type=bt, month=MARCH)
    assert services.can_lock(run, district_chief)
    assert services.payment_run_lock(run=run, actor=district_chief).status == PaymentRun.Status.LOCKED


# --- totals follow the viewer's scope --------------------------------------------------------------------


def test_run_pages_show_a_street_reviewer_the_totals_of_their_street(client, two_districts, make_user):
    run, _ = two_districts
    reviewer = make_user("街道审核员", region="street1")
    street = street_totals(run, "220106001")
    assert (street["paid"], street["total"]) == (3, Decimal("500.50"))
    client.force_login(reviewer)

    detail = client.get(reverse("benefits:run_detail", args=[run.pk]))
    totals = detail.context["summary"]["totals"]
    assert (totals.line_count, totals.total_amount, totals.whole_run) == (3, street["total"], False)
    content = detail.content.decode()
    assert "您数据范围内发放笔数" in content and "¥500.50" in content
    assert "¥1,001.00" not in content  # the run-wide total

    listing = client.get(reverse("benefits:run_list"))
    [(listed, totals)] = listing.context["rows"]
    assert listed == run
    assert (totals.line_count, totals.total_amount, totals.whole_run) == (3, street["total"], False)
    content = listing.content.decode()
    assert "¥500.50" in content and "¥1,001.00" not in content
    assert "只计您数据范围内" in content


def test_a_city_level_user_sees_the_run_totals(client, two_districts, make_user):
    run, _ = two_districts
    client.force_login(_city_user(make_user))
    [(_, totals)] = client.get(reverse("benefits:run_list")).context["rows"]
    assert (totals.line_count, totals.total_amount, totals.whole_run) == (6, Decimal("1001.00"), True)
    detail = client.get(reverse("benefits:run_detail", args=[run.pk]))
    assert detail.context["summary"]["totals"].total_amount == run.total_amount
    assert "批次发放笔数" in detail.content.decode()


def test_the_recalculation_message_counts_the_actors_scope(client, two_districts, make_user):
    run, _ = two_districts
    client.force_login(make_user("科室经办人", region="district"))
    response = client.post(reverse("benefits:run_recalculate", args=[run.pk]), follow=True)
    district = street_totals(run, "220106")
    page = response.content.decode()
    assert f"您数据范围内发放 {district['paid']} 笔，合计 {money(district['total'])}" in page
    # Money in the message to the fen, as everywhere it is shown (not "¥313.330000000000")
    assert re.search(r"合计 ¥[\d,]+\.\d\d（其中补发/扣回净额 -?¥[\d,]+\.\d\d）", page)


def test_run_list_query_count_does_not_grow_with_runs(client, two_districts, make_user):
    """One aggregate for the page, however many runs it shows (a street reviewer: no run is whole)."""
    run, _ = two_districts
    client.force_login(make_user("街道审核员", region="street1"))
    url = reverse("benefits:run_list")
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    services.payment_run_recalculate(benefit_type=run.benefit_type, month=APRIL)
    assert queries() == one

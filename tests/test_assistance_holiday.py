"""Holiday one-off payment (flow 7): one line per active 低保 household and 特困 person, idempotent on rerun,
a locked run untouched; set-based; the page's permission."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistance.holiday import services
from core.accounts.sections import has_section_role
from core.benefits.exceptions import PaymentRunLocked
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.benefits.services import entitlement_end, payment_run_lock
from tests.factories import household_with_members

D = datetime.date
MONTH = D(2027, 1, 1)
TITLE = "2027年元旦春节一次性生活补贴"


@pytest.fixture
def people(make_user):
    return {
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "clerk": make_user("社区经办人", region="community11"),
    }


START = D(2024, 1, 1)


def _entitle(code: str, *, household=None, person=None, start=START) -> Entitlement:
    holder = household or person.household
    return Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code=code),
        household=household,
        person=person,
        region_code=holder.region_code,
        area_type=holder.area_type,
        start_month=start,
        params={"tier": "分散供养"} if code == "tekun_basic" else {},
    )


def _world(regions, n: int = 1) -> dict:
    """Per block: two 低保 households (two streets), one 特困 person, and the ones left out — a 低保 that
    ended before the month, one that starts after it, a suspended one, a 残疾人补贴 recipient."""
    world: dict[str, list] = {"dibao": [], "tekun": [], "out": []}
    for _ in range(n):
        for region in ("community11", "community21"):
            world["dibao"].append(
                _entitle("dibao", household=household_with_members(regions[region], size=3))
            )
        tekun = household_with_members(regions["community12"], size=1).head
        world["tekun"].append(_entitle("tekun_basic", person=tekun))
        ended = _entitle("dibao", household=household_with_members(regions["community11"], size=1))
        entitlement_end(entitlement=ended, last_month=D(2026, 12, 1), reason="收入超过低保标准")
        later = _entitle(
            "dibao", household=household_with_members(regions["community11"], size=1), start=D(2027, 2, 1)
        )
        suspended = _entitle("dibao", household=household_with_members(regions["community22"], size=1))
        Entitlement.objects.filter(pk=suspended.pk).update(status=Entitlement.Status.SUSPENDED)
        disabled = household_with_members(regions["community11"], size=1).head
        world["out"] += [ended, later, suspended, _entitle("disability_living", person=disabled)]
    return world


def _run(actor, **kwargs):
    data = {
        "month": MONTH,
        "title": TITLE,
        "household_amount": Decimal("500"),
        "person_amount": Decimal("300"),
    }
    return services.holiday_payment_run(actor=actor, **{**data, **kwargs})


def test_lines_and_total(people, regions):
    world = _world(regions)
    run = _run(people["section"])
    assert run.kind == PaymentRun.Kind.ONE_OFF and run.title == TITLE and run.month == MONTH
    assert run.benefit_type.code == "holiday_allowance" and not run.benefit_type.is_monthly
    lines = {line.entitlement_id: line for line in PaymentLine.objects.filter(run=run)}
    assert set(lines) == {e.pk for e in world["dibao"] + world["tekun"]}
    for e in world["dibao"]:
        line = lines[e.pk]
        assert line.amount == Decimal("500.00") and line.household_id == e.household_id
        assert line.line_type == PaymentLine.LineType.ONE_OFF and line.for_month == MONTH
        assert line.region_code == e.region_code
    tekun = lines[world["tekun"][0].pk]
    assert tekun.amount == Decimal("300.00") and tekun.person_id == world["tekun"][0].person_id
    assert tekun.household_id == world["tekun"][0].person.household_id
    assert run.line_count == 3 and run.total_amount == Decimal("1300.00")
    assert run.calculated_by == people["section"] and run.status == PaymentRun.Status.DRAFT


def test_person_amount_defaults_to_the_household_amount(people, regions):
    _world(regions)
    run = _run(people["section"], person_amount=None)
    assert run.total_amount == Decimal("1500.00")


def test_rerun_replaces_the_draft_lines(people, regions):
    _world(regions)
    first = _run(people["section"])
    first_ids = set(PaymentLine.objects.filter(run=first).values_list("entitlement_id", flat=True))
    again = _run(people["chief"], household_amount=Decimal("600"))
    assert again.pk == first.pk
    assert PaymentRun.objects.filter(kind=PaymentRun.Kind.ONE_OFF).count() == 1
    assert set(PaymentLine.objects.filter(run=again).values_list("entitlement_id", flat=True)) == first_ids
    assert again.line_count == 3 and again.total_amount == Decimal("1500.00")
    # Rerunning with the same input gives the same lines
    same = _run(people["chief"], household_amount=Decimal("600"))
    assert same.total_amount == again.total_amount and PaymentLine.objects.filter(run=same).count() == 3
    # Another title in the same month is another run
    other = _run(people["section"], title="2027年春节慰问金")
    assert other.pk != first.pk


def test_locked_run_never_changes(people, regions):
    _world(regions)
    run = _run(people["section"])
    payment_run_lock(run=run, actor=people["chief"])
    before = list(PaymentLine.objects.filter(run=run).order_by("id").values_list("id", "amount"))
    household_with_members(regions["community11"], size=1)
    _entitle("dibao", household=household_with_members(regions["community11"], size=1))
    with pytest.raises(PaymentRunLocked, match="已锁定"):
        _run(people["section"], household_amount=Decimal("800"))
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.LOCKED and run.total_amount == Decimal("1300.00")
    assert list(PaymentLine.objects.filter(run=run).order_by("id").values_list("id", "amount")) == before


def test_bad_input_is_refused(people, regions):
    _world(regions)
    with pytest.raises(ValidationError) as err:
        _run(people["section"], title=" ", household_amount=Decimal("-1"), person_amount=Decimal("20000"))
    assert set(err.value.message_dict) == {"title", "household_amount", "person_amount"}
    assert not PaymentRun.objects.exists()


def test_query_count_does_not_grow(people, regions):
    def count(n: int) -> int:
        PaymentLine.objects.all().delete()
        PaymentRun.objects.all().delete()
        Entitlement.objects.all().delete()
        _world(regions, n)
        # Created on first use and the user's permission, role and section caches: not part of the comparison
        services.holiday_benefit_type()
        people["section"].has_perm(services.PERMISSION)
        has_section_role(people["section"], "assistance")
        with CaptureQueriesContext(connection) as ctx:
            run = _run(people["section"])
        assert run.line_count == 3 * n
        return len(ctx.captured_queries)

    # bulk_create batches of 2000: 5 and 30 blocks give the same number of statements
    assert count(5) == count(30)


def test_page_creates_the_run_and_lists_it(client, people, regions):
    _world(regions)
    url = reverse("assistance:holiday_payment")
    client.force_login(people["section"])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"title": TITLE, "month": "2027-01", "household_amount": "500", "person_amount": ""}
    )
    run = PaymentRun.objects.get(kind=PaymentRun.Kind.ONE_OFF)
    assert response.status_code == 302 and response["Location"] == reverse(
        "benefits:run_detail", args=[run.pk]
    )
    assert run.total_amount == Decimal("1500.00")
    # Shown in the payment run list and with its lines
    assert TITLE in client.get(reverse("benefits:run_list")).content.decode()
    detail = client.get(reverse("benefits:run_detail", args=[run.pk]))
    assert detail.status_code == 200 and "一次性" in detail.content.decode()
    assert TITLE in client.get(url).content.decode()
    # A bad amount is shown beside the field, nothing changes
    response = client.post(url, {"title": TITLE, "month": "2027-01", "household_amount": "0"})
    assert response.status_code == 400 and "每户金额须大于0" in response.content.decode()
    # The lock is respected by the page too
    payment_run_lock(run=run, actor=people["chief"])
    response = client.post(url, {"title": TITLE, "month": "2027-01", "household_amount": "900"})
    assert response.status_code == 400 and "已锁定" in response.content.decode()


def test_page_permission(client, people):
    client.force_login(people["clerk"])
    assert client.get(reverse("assistance:holiday_payment")).status_code == 403
    assert client.post(reverse("assistance:holiday_payment"), {"title": TITLE}).status_code == 403
    assert not PaymentRun.objects.exists()

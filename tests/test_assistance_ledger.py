"""保障对象台账 (assistance:ledger): categories, status tabs, filters, scope, sort, export, query bound."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.benefits.months import add_months
from core.benefits.services import entitlement_create
from core.registry.models import Person
from tests.factories import household_with_members

URL = reverse("assistance:ledger")


def _month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def _plain(household):
    """Members who belong to no 人群 group (adults, not disabled, not ill)."""
    Person.objects.filter(household=household).update(
        birth_date=datetime.date(1985, 1, 1), disability_grade=None, serious_illness=False
    )
    return household


def _entitlement(household=None, *, person=None, code="dibao", area_type=None, amount=None, **fields):
    region_code = household.region_code if household else person.region_code
    e = entitlement_create(
        benefit_type=BenefitType.objects.get(code=code),
        household=household,
        person=person,
        region_code=region_code,
        area_type=area_type or (household.area_type if household else "urban"),
        start_month=fields.pop("start_month", add_months(_month(), -3)),
    )
    if fields:
        Entitlement.objects.filter(pk=e.pk).update(**fields)
        e.refresh_from_db()
    if amount is not None:
        run, _ = PaymentRun.objects.get_or_create(
            benefit_type=e.benefit_type, month=_month(), kind=PaymentRun.Kind.MONTHLY
        )
        PaymentLine.objects.create(
            run=run,
            entitlement=e,
            household=household,
            person=person,
            region_code=e.region_code,
            for_month=_month(),
            covered_persons=2,
            amount=Decimal(amount),
        )
    return e


def _ids(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return [r.entitlement.pk for r in response.context["rows"]]


@pytest.fixture
def district_client(client, make_user):
    client.force_login(make_user("科室经办人", region="district"))
    return client


def test_status_tabs(district_client, regions):
    month = _month()
    active = _entitlement(_plain(household_with_members(regions["community11"])))
    future = _entitlement(household_with_members(regions["community11"]), start_month=add_months(month, 2))
    suspended = _entitlement(household_with_members(regions["community11"]), status="suspended")
    ended = _entitlement(household_with_members(regions["community11"]), status="ended")
    lapsed = _entitlement(household_with_members(regions["community11"]), end_month=add_months(month, -1))
    assert _ids(district_client) == [active.pk]
    assert _ids(district_client, tab="active") == [active.pk]
    assert _ids(district_client, tab="suspended") == [suspended.pk]
    assert set(_ids(district_client, tab="ended")) == {ended.pk, lapsed.pk}
    assert future.pk not in _ids(district_client, tab="ended")


def test_area_type_and_region_filters(district_client, regions):
    urban = _entitlement(household_with_members(regions["community11"]))
    rural = _entitlement(household_with_members(regions["community22"]))
    other = _entitlement(household_with_members(regions["community21"]))
    assert _ids(district_client, area_type="rural") == [rural.pk]
    assert set(_ids(district_client, area_type="urban")) == {urban.pk, other.pk}
    assert set(_ids(district_client, street=regions["street2"].code)) == {rural.pk, other.pk}
    assert _ids(district_client, community=regions["community21"].code) == [other.pk]


def test_group_filters(district_client, regions):
    plain = _entitlement(_plain(household_with_members(regions["community11"], size=2)))
    h_old = _plain(household_with_members(regions["community11"], size=2))
    h_old.members.filter(pk=h_old.head_id).update(birth_date=datetime.date(1950, 3, 1))
    old = _entitlement(h_old)
    h_minor = _plain(household_with_members(regions["community11"], size=3))
    h_minor.members.exclude(pk=h_minor.head_id).update(birth_date=timezone.localdate().replace(year=2018))
    minor = _entitlement(h_minor)
    h_disabled = _plain(household_with_members(regions["community11"], size=2))
    h_disabled.members.exclude(pk=h_disabled.head_id).update(disability_grade=2)
    disabled = _entitlement(h_disabled)
    h_ill = _plain(household_with_members(regions["community11"], size=2))
    h_ill.members.exclude(pk=h_ill.head_id).update(serious_illness=True)
    ill = _entitlement(h_ill)
    assert _ids(district_client, group="elderly") == [old.pk]
    assert _ids(district_client, group="minor") == [minor.pk]
    assert _ids(district_client, group="disabled") == [disabled.pk]
    assert _ids(district_client, group="ill") == [ill.pk]
    assert len(_ids(district_client)) == 5
    assert plain.pk in _ids(district_client, group="nonsense")


def test_amount_range_and_missing_line(district_client, regions):
    low = _entitlement(household_with_members(regions["community11"]), amount="300.00")
    high = _entitlement(household_with_members(regions["community11"]), amount="900.00")
    none = _entitlement(household_with_members(regions["community11"]))
    assert set(_ids(district_client)) == {low.pk, high.pk, none.pk}
    assert _ids(district_client, amount_min="500") == [high.pk]
    assert _ids(district_client, amount_max="500") == [low.pk]
    assert _ids(district_client, amount_min="200", amount_max="1000", sort="amount") == [low.pk, high.pk]
    response = district_client.get(URL)
    assert "—" in response.content.decode()
    # A line of another month is not this month's amount.
    run = PaymentRun.objects.create(
        benefit_type=none.benefit_type, month=add_months(_month(), -1), kind=PaymentRun.Kind.MONTHLY
    )
    PaymentLine.objects.create(
        run=run, entitlement=none, region_code=none.region_code, for_month=run.month, amount=Decimal(600)
    )
    assert _ids(district_client, amount_min="500") == [high.pk]


def test_sort_whitelisted(district_client, regions):
    a = _entitlement(household_with_members(regions["community11"], number="H90000001"), amount="500")
    b = _entitlement(household_with_members(regions["community11"], number="H90000002"), amount="100")
    assert _ids(district_client, sort="number") == [a.pk, b.pk]
    assert _ids(district_client, sort="-number") == [b.pk, a.pk]
    assert _ids(district_client, sort="amount") == [b.pk, a.pk]
    assert _ids(district_client, sort="-amount") == [a.pk, b.pk]
    assert _ids(district_client, sort="id; DROP TABLE x") == [a.pk, b.pk]


def test_person_category_and_search(district_client, regions):
    household = household_with_members(regions["community11"], number="H91000001")
    person = household.head
    tekun = _entitlement(person=person, code="tekun_basic", amount="1200")
    _entitlement(household_with_members(regions["community11"]))  # dibao, another category
    assert _ids(district_client, category="tekun_basic") == [tekun.pk]
    assert _ids(district_client, category="tekun_basic", q=person.id_number) == [tekun.pk]
    assert _ids(district_client, category="tekun_basic", q=person.id_number[:10]) == []
    assert _ids(district_client, category="tekun_basic", q=person.name) == [tekun.pk]
    assert _ids(district_client, category="tekun_basic", q="H91000001") == [tekun.pk]
    body = district_client.get(URL, {"category": "tekun_basic"}).content.decode()
    assert person.id_number not in body  # masked


def test_scope_other_street_sees_nothing(client, make_user, regions):
    _entitlement(household_with_members(regions["community11"]))
    client.force_login(make_user("社区经办人", region="community21"))
    assert _ids(client) == []
    assert _ids(client, tab="ended") == []
    response = client.get(URL, {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1


def test_export_current_filter(district_client, regions):
    rural = _entitlement(household_with_members(regions["community22"]), amount="456.50")
    _entitlement(household_with_members(regions["community11"]), amount="300")
    response = district_client.get(URL, {"area_type": "rural", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("街道", "社区", "户编号", "户主/享受人", "身份证号码", "城乡")
    assert "保障人数" in rows[0] and "本月金额（元）" in rows[0]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    head = rural.household.head
    assert row["户编号"] == rural.household.number
    assert row["街道"] == "测试街道2" and row["社区"] == "测试村2-2"
    assert row["城乡"] == "农村"
    assert row["身份证号码"] != head.id_number and "*" in row["身份证号码"]
    assert row["身份证号码"][-4:] == head.id_number[-4:]
    assert Decimal(str(row["本月金额（元）"])) == Decimal("456.50")
    assert row["保障人数"] == 2


def test_query_count_bounded(district_client, regions):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = district_client.get(URL, {"group": "elderly", "sort": "-amount"})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["rows"])

    def add(n):
        for i in range(n):
            household = household_with_members(regions[("community11", "community22")[i % 2]])
            household.members.filter(pk=household.head_id).update(birth_date=datetime.date(1950, 1, 1))
            _entitlement(household, amount=str(100 + i) if i % 3 else None)

    add(5)
    small, rows = count()
    assert rows == 5
    add(35)
    large, rows = count()
    assert rows == 40
    assert small == large
    tekun_person = household_with_members(regions["community11"]).head
    _entitlement(person=tekun_person, code="tekun_basic")
    with CaptureQueriesContext(connection) as ctx:
        district_client.get(URL, {"category": "tekun_basic"})
    assert len(ctx.captured_queries) == small


def test_permission_required(client, make_user):
    client.force_login(make_user("系统管理员", region="district"))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "xlsx"}).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302

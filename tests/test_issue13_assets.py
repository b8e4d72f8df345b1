"""Issue 13 item 3: 财产 limits (DOMAIN.md "财产 (assets) (local)") checked with the income at the assessment
and the review, each limit exceeded named with its figures; the limits are dated Parameters."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistance import rules
from assistance.asset_limits import asset_limits_check
from core.benefits.models import Parameter
from core.registry.choices import AssetKind
from core.registry.models import AssetRecord, IncomeRecord, Person
from core.registry.services import asset_record_add
from tests.factories import household_with_members

D = datetime.date
CHECKED = D(2024, 2, 1)  # the asset records' 核查日期
ON = D(2024, 3, 15)  # urban 低保 standard 600 元 (seed 004), 24 months → 14,400 元 per capita


def _household(regions, size=2, wage="400"):
    household = household_with_members(regions["community11"], size=size)
    IncomeRecord.objects.create(
        household=household, kind="wage", monthly_amount=Decimal(wage), period_start=D(2024, 1, 1)
    )
    return household


def _asset(household, kind, value, *, on=CHECKED, **fields):
    return AssetRecord.objects.create(
        household=household, kind=kind, value=Decimal(value), recorded_on=on, **fields
    )


def _assess(household, on=ON):
    result = rules.assess_categories(household, list(Person.objects.filter(household=household)), on)
    return {a.code: a for a in result}


def _check(household, on=ON):
    return asset_limits_check([household], on)[household.pk]


@pytest.mark.django_db
def test_financial_assets_over_24_months_of_the_standard_are_named(regions):
    household = _household(regions)
    _asset(household, AssetKind.DEPOSIT, "20000")
    _asset(household, AssetKind.SECURITIES, "10000")  # 30,000 / 2 = 15,000 > 600 × 24 = 14,400

    check = _check(household)
    assert [limit.code for limit in check.exceeded] == ["financial"]
    text = "家庭人均金融资产（现金、存款、有价证券）15,000.00 元，超过标准 600.00 元×24 个月＝14,400.00 元"
    assert check.texts == [text]

    result = _assess(household)
    assert result["dibao"].fits is False  # income 200 < 600, but the assets exceed
    assert text in result["dibao"].reason and "不符合低保条件" in result["dibao"].reason
    assert result["dibao"].limits == (text,)


@pytest.mark.django_db
def test_financial_assets_at_the_limit_are_within(regions):
    household = _household(regions)
    _asset(household, AssetKind.DEPOSIT, "28800")  # 14,400 per capita: at the limit, not above
    assert _check(household).within
    result = _assess(household)
    assert result["dibao"].fits is True
    assert (
        "已登记家庭财产未超过规定（人均金融资产 14,400.00 元，上限 14,400.00 元）" in result["dibao"].reason
    )
    assert result["dibao"].limits == ()


@pytest.mark.django_db
def test_no_assets_recorded_says_so(regions):
    household = _household(regions)
    result = _assess(household)
    assert result["dibao"].fits is True
    assert "尚未登记家庭财产" in result["dibao"].reason


@pytest.mark.django_db
def test_a_second_home_is_named(regions):
    household = _household(regions)
    _asset(household, AssetKind.HOUSE, "300000", description="自住房")
    assert _check(household).within
    _asset(household, AssetKind.HOUSE, "200000", description="商铺楼上住房")
    check = _check(household)
    assert check.texts == ["家庭拥有住房 2 套，超过规定（不得拥有自住房以外的住房）"]
    assert _assess(household)["dibao"].limits == tuple(check.texts)


@pytest.mark.django_db
def test_a_vehicle_above_the_limit_is_named_unless_needed_for_a_disability(regions):
    household = _household(regions)
    _asset(household, AssetKind.VEHICLE, "50000", description="旧面包车")  # at the limit: allowed
    _asset(household, AssetKind.VEHICLE, "80000", description="残疾人代步车", for_disability=True)
    assert _check(household).within
    _asset(household, AssetKind.VEHICLE, "80000.50", description="轿车")
    check = _check(household)
    assert check.texts == [
        "机动车（轿车）价值 80,000.50 元，超过 50,000.00 元（残疾人功能性补偿代步车辆除外）"
    ]
    assert check.exceeded[0].code == "vehicle"


@pytest.mark.django_db
def test_a_business_above_the_capital_limit_is_named(regions):
    household = _household(regions)
    _asset(household, AssetKind.BUSINESS, "5000", description="小卖部", registered_capital=Decimal("100000"))
    assert _check(household).within
    _asset(
        household, AssetKind.BUSINESS, "5000", description="商贸公司", registered_capital=Decimal("150000")
    )
    check = _check(household)
    assert check.texts == ["登记注册的经营实体（商贸公司）注册资本 150,000.00 元，超过 100,000.00 元"]


@pytest.mark.django_db
def test_edge_and_tekun_are_refused_for_assets_too(regions):
    # one person aged 74, no counted income: 特困 and 低保 on income, but a second home
    household = household_with_members(regions["community11"], size=1)
    Person.objects.filter(household=household).update(birth_date=D(1950, 1, 1))
    _asset(household, AssetKind.HOUSE, "1")
    _asset(household, AssetKind.HOUSE, "1")
    result = _assess(household)
    assert result["tekun"].fits is False
    assert "家庭拥有住房 2 套" in result["tekun"].reason and result["tekun"].limits
    assert result["dibao_edge"].fits is False and result["dibao_edge"].limits

    # per capita 700: 低保边缘 on income, over the financial limit
    edge = _household(regions, size=2, wage="1400")
    _asset(edge, AssetKind.DEPOSIT, "40000")
    result = _assess(edge)
    assert result["dibao_edge"].fits is False
    assert "超过标准 600.00 元×24 个月" in result["dibao_edge"].reason


@pytest.mark.django_db
def test_a_parameter_change_takes_effect_from_its_date(regions):
    household = _household(regions)
    _asset(household, AssetKind.DEPOSIT, "30000")  # 15,000 per capita
    Parameter.objects.filter(key="assets.financial_months", effective_from=D(2021, 7, 1)).update(
        effective_to=D(2024, 3, 31)
    )
    Parameter.objects.create(
        key="assets.financial_months",
        name="人均金融资产上限",
        value=Decimal("30"),
        effective_from=D(2024, 4, 1),
    )
    assert not _check(household, D(2024, 3, 31)).within
    april = _check(household, D(2024, 4, 1))
    assert april.within and april.financial_limit == Decimal("18000")
    assert _assess(household, D(2024, 4, 1))["dibao"].fits is True


@pytest.mark.django_db
def test_an_asset_counts_from_its_check_date(regions):
    household = _household(regions)
    _asset(household, AssetKind.VEHICLE, "90000", on=D(2024, 4, 1))
    assert _check(household, D(2024, 3, 31)).within
    assert not _check(household, D(2024, 4, 1)).within


@pytest.mark.django_db
def test_the_check_is_set_based(regions):
    def households(n):
        made = []
        for _ in range(n):
            household = _household(regions)
            _asset(household, AssetKind.DEPOSIT, "1000")
            _asset(household, AssetKind.VEHICLE, "60000")
            made.append(household.pk)
        return made

    few = households(2)
    with CaptureQueriesContext(connection) as two:
        asset_limits_check(few, ON)
    many = few + households(10)
    with CaptureQueriesContext(connection) as twelve:
        checks = asset_limits_check(many, ON)
    assert len(twelve.captured_queries) == len(two.captured_queries)
    assert all(not checks[pk].within for pk in many)


@pytest.mark.django_db
def test_asset_entry_takes_the_flags_and_refuses_them_on_other_kinds(regions, make_user):
    household = _household(regions)
    clerk = make_user("社区经办人", region="community11")
    with pytest.raises(ValidationError) as refused:
        asset_record_add(
            household=household,
            kind=AssetKind.DEPOSIT,
            value="100",
            recorded_on=D(2024, 2, 1),
            actor=clerk,
            for_disability=True,
            registered_capital="5",
        )
    assert refused.value.message_dict == {
        "for_disability": ["只有机动车可标记为残疾人功能性补偿代步车辆"],
        "registered_capital": ["只有经营性资产可填写注册资本"],
    }
    assert not AssetRecord.objects.exists()

    client = Client()
    client.force_login(clerk)
    url = reverse("registry:asset_add", args=[household.pk])
    page = client.get(url)
    assert "残疾人功能性补偿代步车辆" in page.content.decode() and "注册资本" in page.content.decode()
    response = client.post(
        url,
        {
            "kind": AssetKind.VEHICLE,
            "value": "90000",
            "recorded_on": "2024-02-01",
            "description": "残疾人代步车",
            "for_disability": "on",
            **_token(page),
        },
    )
    assert response.status_code == 302, response.content.decode()
    vehicle = AssetRecord.objects.get()
    assert vehicle.for_disability is True
    assert _check(household).within
    detail = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "残疾人代步车辆" in detail


def _token(page) -> dict:
    """The one-time form token the page rendered (core/forms_once.py)."""
    match = re.search(r'name="(form_token)" value="([^"]+)"', page.content.decode())
    return {match.group(1): match.group(2)} if match else {}

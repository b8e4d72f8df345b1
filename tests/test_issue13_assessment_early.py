"""Issue 13 item 7: the assessment speaks early — the proposed amount and the eligibility result (with any
财产 limit exceeded) on the 低保 page at investigation, street review and confirmation; an investigation
that finds 不符合 warns before the 公示 and goes on only on an explicit 已知悉 (refusal stays possible); a
低保 application for someone in 特困, or a 特困 application in a 低保 household, warns of the overlap."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.case_types import DibaoStatus
from assistance.models import Investigation
from assistance.tekun import services as tekun_services
from core.benefits.models import BenefitType
from core.benefits.months import month_start
from core.benefits.services import entitlement_create
from core.registry.choices import AssetKind
from core.registry.models import AssetRecord, IncomeRecord, Person
from core.workflow.models import Case, TransitionLog
from tests.factories import PersonFactory, household_with_members

D = datetime.date
ACK = "已知悉评估结果为不符合条件，仍继续办理"


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
    }


@pytest.fixture
def household(regions):
    # 2 members, wage 400: per capita 200 < 600 → 补差 (600 − 200) × 2 = 800 元
    household = household_with_members(regions["community11"], size=2)
    IncomeRecord.objects.create(
        household=household, kind="wage", monthly_amount=Decimal("400"), period_start=D(2020, 1, 1)
    )
    return household


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user, application) -> str:
    response = _client(user).get(reverse("assistance:dibao_detail", args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _proposal(page: str) -> str:
    start = page.index('id="proposal"')
    return page[start : page.index("</div>\n  </div>", start)]


def _create(household, actor):
    return services.dibao_application_create(
        household=household, actor=actor, promise_signed=True, authorisation_signed=True
    )


def _investigate(application, people, result=Investigation.EconomicCheck.ELIGIBLE):
    services.investigation_record(
        application=application,
        actor=people["clerk"],
        visit_date=timezone.localdate(),
        visitors=[people["clerk"], people["clerk_b"]],
        findings="家庭2人，户主打零工。",
        economic_check_result=result,
    )


def _status(application) -> str:
    return Case.objects.get(pk=application.pk).status


def test_proposal_and_eligibility_at_investigation_street_review_and_confirmation(people, household, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])

    # 入户调查, as the community caseworker
    proposal = _proposal(_page(people["clerk"], application))
    assert "按现行标准拟保障" in proposal and "800.00" in proposal
    assert "评估结果" in proposal and "符合低保条件" in proposal and "不符合" not in proposal

    _investigate(application, people)
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=timezone.localdate(), place="社区公示栏"
    )
    clock.shift(0)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    assert _status(application) == DibaoStatus.STREET_REVIEW

    # 街道审核, as the street reviewer
    page = _page(people["reviewer"], application)
    assert "800.00" in _proposal(page) and "符合低保条件" in _proposal(page)
    assert 'id="assessment"' in page and "最低生活保障" in page

    services.dibao_street_review(application=application, actor=people["reviewer"])
    assert _status(application) == DibaoStatus.CHIEF_CONFIRMATION

    # 科长确认, as the chief — with an asset recorded since, the result turns and names the limit
    AssetRecord.objects.create(
        household=household, kind=AssetKind.VEHICLE, value=Decimal("120000"), recorded_on=timezone.localdate()
    )
    page = _page(people["chief"], application)
    proposal = _proposal(page)
    assert "不符合低保条件" in proposal and "800.00" not in proposal
    limit = "机动车价值 120,000.00 元，超过 50,000.00 元（残疾人功能性补偿代步车辆除外）"
    assert limit in proposal
    assert f"超过财产限额：{limit}" in page  # the assessment card names it too


def test_an_ineligible_investigation_warns_and_goes_on_only_when_acknowledged(people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people, result=Investigation.EconomicCheck.INELIGIBLE)
    clerk = _client(people["clerk"])
    detail = reverse("assistance:dibao_detail", args=[application.pk])

    page = clerk.get(detail).content.decode()
    assert 'id="notice-warning"' in page
    assert "入户调查的家庭经济状况核对结果为“收入或财产超出规定”" in page
    assert 'name="acknowledge"' in page and ACK in page

    notice = reverse("assistance:dibao_notice", args=[application.pk])
    start = {
        "action": "start",
        "start_date": timezone.localdate().isoformat(),
        "days": "7",
        "place": "公示栏",
    }
    response = clerk.post(notice, start, follow=True)
    assert f"请勾选“{ACK}”后再发布公示" in response.content.decode()
    assert _status(application) == DibaoStatus.INVESTIGATION

    clerk.post(notice, {**start, "acknowledge": "1"})
    assert _status(application) == DibaoStatus.PUBLICITY
    log = TransitionLog.objects.get(case_id=application.pk, transition="acknowledge_ineligible")
    assert log.actor == people["clerk"] and "收入或财产超出规定" in log.comment


def test_an_assessment_that_finds_the_household_not_eligible_warns_too(people, household):
    IncomeRecord.objects.create(
        household=household, kind="wage", monthly_amount=Decimal("2000"), period_start=D(2020, 1, 1)
    )  # per capita 1,200 ≥ 600
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)  # the check said 符合, the registry says otherwise
    page = _page(people["clerk"], application)
    assert 'id="notice-warning"' in page
    assert "按现有家庭信息评估不符合所申请类别的条件" in page and "不低于低保标准" in page


def test_an_eligible_investigation_goes_on_without_a_warning(people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    page = _page(people["clerk"], application)
    assert 'id="notice-start"' in page and 'id="notice-warning"' not in page
    response = _client(people["clerk"]).post(
        reverse("assistance:dibao_notice", args=[application.pk]),
        {"action": "start", "start_date": timezone.localdate().isoformat(), "days": "7", "place": "公示栏"},
    )
    assert response.status_code == 302
    assert _status(application) == DibaoStatus.PUBLICITY
    assert not TransitionLog.objects.filter(
        case_id=application.pk, transition="acknowledge_ineligible"
    ).exists()


def _grant(code, *, household, person=None):
    return entitlement_create(
        benefit_type=BenefitType.objects.get(code=code),
        person=person,
        household=None if person is not None else household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=month_start(timezone.localdate()),
    )


def test_dibao_for_a_household_with_a_tekun_member_warns_of_the_overlap(people, household):
    member = Person.objects.filter(household=household).order_by("pk").last()
    clerk = _client(people["clerk"])
    create = reverse("assistance:dibao_create") + f"?household={household.pk}"
    assert "正在享受特困人员救助供养" not in clerk.get(create).content.decode()

    _grant("tekun_basic", household=household, person=member)
    page = clerk.get(create).content.decode()
    assert "create-warning" in page
    assert f"家庭成员{member.name}" in page and "正在享受特困人员救助供养" in page
    assert "登记申请" in page  # a warning, not a refusal

    application = _create(household, people["clerk"])
    page = _page(people["clerk"], application)
    assert "flow-warning" in page and f"家庭成员{member.name}" in page


def test_tekun_for_a_member_of_a_dibao_household_warns_of_the_overlap(people, regions):
    household = household_with_members(regions["community11"], size=1)
    elder = PersonFactory(household=household, birth_date=D(timezone.localdate().year - 70, 1, 1))
    clerk = _client(people["clerk"])
    create = reverse("assistance:tekun_create") + f"?person={elder.pk}"
    assert "正在享受最低生活保障" not in clerk.get(create).content.decode()

    _grant("dibao", household=household)
    page = clerk.get(create).content.decode()
    assert "create-warning" in page and "申请人所在家庭正在享受最低生活保障" in page

    application = tekun_services.tekun_application_create(
        person=elder, actor=people["clerk"], promise_signed=True, authorisation_signed=True
    )
    page = clerk.get(reverse("assistance:tekun_detail", args=[application.pk])).content.decode()
    assert "flow-warning" in page and "须对家庭低保进行复核" in page

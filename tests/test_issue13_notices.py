"""Issue 13 item 13: decision notices (PDF) of 特困, 临时救助, 两项补贴 and the 低保 dynamic review, each
refusal/reduction/stop with its reasons and every notice with the appeal rights; and the 送达 (delivery)
date recorded on the case (core.workflow DecisionDelivery), dates checked, nothing saved when refused.

Each case is decided through the flows' own services (the helpers of their test modules); the PDFs are
read back with pypdf and their fonts listed with `pdffonts` (an embedded Noto CJK font)."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assistance import bases
from assistance import services as dibao_services
from assistance.disability import services as disability_services
from assistance.models import DibaoReview, DisabilitySubsidy
from assistance.review import services as review_services
from assistance.review.prenotice import stop_prenotice_issue, stop_prenotice_response_record
from assistance.temporary import services as temp_services
from core.benefits.models import BenefitType, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standard_in_force
from core.benefits.services import entitlement_create, payment_run_recalculate
from core.registry.choices import IncomeKind
from core.workflow.models import DecisionDelivery, TransitionLog
from core.workflow.services import decision_delivery_record
from tests.factories import household_with_members
from tests.test_assistance_disability import _apply, _dibao_household, _disabled
from tests.test_assistance_disability import _to_chief as _disability_to_chief
from tests.test_assistance_pdf import _to_chief as _dibao_to_chief
from tests.test_assistance_review import _household, _income
from tests.test_assistance_tekun import _create as _tekun_create
from tests.test_assistance_tekun import _investigate, _person, _publicise_and_pass
from tests.test_assistance_tekun import _move as _tekun_move
from tests.test_assistance_temporary import _create as _temp_create
from tests.test_assistance_temporary import _move as _temp_move
from tests.test_assistance_temporary import _propose_amount

APPEAL = ("60日内", "行政复议", "6个月内", "行政诉讼")


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11", display_name="张经办"),
        "clerk_b": make_user("社区经办人", region="community11", display_name="李经办"),
        "reviewer": make_user("街道审核员", region="street1", display_name="王审核"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district", display_name="赵科长"),
        "leader": make_user("局领导", region="district"),
        "admin": make_user("系统管理员", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
    }


def _pdf(client, name: str, pk: int, tmp_path) -> str:
    """The notice's text (pypdf), after checking that every CJK font of it is embedded (pdffonts)."""
    response = client.get(reverse(f"assistance:{name}_decision_pdf", args=[pk]))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(response.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    reader = PdfReader(io.BytesIO(response.content))
    # Lines broken by the layout are joined: a phrase may wrap.
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def _has_appeal_rights(text: str) -> None:
    for words in APPEAL:
        assert words in text, words


# -- 特困 ------------------------------------------------------------------------------------------------


def _tekun_to_confirmation(people, regions, clock):
    household = household_with_members(regions["community11"], size=1)
    elder = _person(household, age=70)
    clock.shift(-10)
    application = _tekun_create(elder, people["clerk"])
    _tekun_move(application, "accept", people["clerk"])
    _investigate(application, people["reviewer"])
    _publicise_and_pass(application, people["clerk"], clock)
    return application


def test_tekun_approval_notice(client, people, regions, clock, tmp_path):
    application = _tekun_to_confirmation(people, regions, clock)
    _tekun_move(application, "approve", people["chief"], "符合特困人员认定条件")
    application.refresh_from_db()
    start = add_months(month_start(timezone.localdate()), 1)
    assert application.start_month == start

    client.force_login(people["clerk"])
    text = _pdf(client, "tekun", application.pk, tmp_path)
    assert "特困人员救助供养批准决定书" in text
    assert application.case.number in text and application.person.name in text
    assert "分散供养" in text and "全自理" in text
    # Urban 分散供养 780.00 and 全自理 care fee at the demo standards, from next month
    basic = Decimal("780.00")
    care = standard_in_force(
        BenefitType.objects.get(code="tekun_care"),
        application.household.area_type,
        application.self_care_tier,
        start,
    ).amount
    assert f"{basic:.2f}" in text and f"{care:.2f}" in text and f"{basic + care:.2f}" in text
    assert f"{start.year}年{start.month}月起" in text
    _has_appeal_rights(text)
    assert "长春市绿园区民政局" in text

    # The decided case's page links the notice and offers the delivery form
    page = client.get(reverse("assistance:tekun_detail", args=[application.pk])).content.decode()
    assert reverse("assistance:tekun_decision_pdf", args=[application.pk]) in page
    assert "打印批准决定书" in page and 'id="delivery-form"' in page


def test_tekun_refusal_notice_and_scope(client, people, regions, clock, tmp_path):
    application = _tekun_to_confirmation(people, regions, clock)
    # No notice before the decision
    client.force_login(people["clerk"])
    assert client.get(reverse("assistance:tekun_decision_pdf", args=[application.pk])).status_code == 404
    _tekun_move(
        application, "refuse", people["chief"], "经调查，申请人之子有赡养能力，不符合特困人员认定条件"
    )

    text = _pdf(client, "tekun", application.pk, tmp_path)
    assert "特困人员救助供养不予批准决定书" in text
    assert "不予批准理由" in text and "申请人之子有赡养能力" in text
    _has_appeal_rights(text)

    # Out of the user's region: 404 like a missing record; no permission: 403
    url = reverse("assistance:tekun_decision_pdf", args=[application.pk])
    client.force_login(people["clerk21"])
    assert client.get(url).status_code == 404
    client.force_login(people["admin"])
    assert client.get(url).status_code == 403
    client.force_login(people["leader"])
    assert client.get(url).status_code == 200


# -- 临时救助 --------------------------------------------------------------------------------------------


def test_temp_approval_and_refusal_notices(client, people, regions, tmp_path):
    person = household_with_members(regions["community11"], size=2).head
    temp = _temp_create(person, people["clerk"])
    _temp_move(temp, "accept", people["clerk"])
    _propose_amount(temp, people["clerk"], Decimal("987.65"))
    temp_services.temp_advance_record(
        temp=temp, actor=people["clerk"], given_on=timezone.localdate(), amount=Decimal("300.00")
    )
    _temp_move(temp, "submit_township", people["clerk"])
    _temp_move(temp, "township_approve", people["reviewer"], "同意救助")
    temp.refresh_from_db()
    assert temp.approved and temp.approved_amount == Decimal("987.65")

    client.force_login(people["reviewer"])
    text = _pdf(client, "temp", temp.pk, tmp_path)
    assert "临时救助批准决定书" in text
    assert "987.65" in text and "火灾等灾害" in text and "急难型" in text
    assert "300.00" in text and "687.65" in text  # 先行救助 and what is paid now
    _has_appeal_rights(text)

    other = household_with_members(regions["community11"], size=1).head
    refused = _temp_create(other, people["clerk"], kind="expense", cause="medical")
    _temp_move(refused, "accept", people["clerk"])
    _propose_amount(refused, people["clerk"], Decimal("500.00"))
    _temp_move(refused, "submit_township", people["clerk"])
    _temp_move(refused, "township_refuse", people["reviewer"], "医疗费用已由医疗救助全额报销，无剩余负担")
    text = _pdf(client, "temp", refused.pk, tmp_path)
    assert "临时救助不予批准决定书" in text
    assert "已由医疗救助全额报销" in text and "不予批准理由" in text
    _has_appeal_rights(text)
    client.force_login(people["clerk21"])
    assert client.get(reverse("assistance:temp_decision_pdf", args=[refused.pk])).status_code == 404


# -- 两项补贴 --------------------------------------------------------------------------------------------


def test_disability_notice_per_subsidy_with_partial_refusal(client, people, regions, clock, tmp_path):
    clock.shift(-10)
    # Grade 2 on a 低保 household, no long-term care: 生活补贴 granted, 护理补贴 refused with its reason
    household = _dibao_household(regions["community11"])
    person = _disabled(household.members.order_by("pk").last(), 2)
    application = _apply(person, people["clerk"], long_term_care=False)
    _disability_to_chief(application, people, clock)
    application = disability_services.disability_approve(
        application=application, actor=people["chief"], comment="同意"
    )
    assert application.living_entitlement_id and not application.care_entitlement_id

    client.force_login(people["clerk"])
    text = _pdf(client, "disability", application.pk, tmp_path)
    assert "残疾人两项补贴批准决定书" in text
    labels = dict(DisabilitySubsidy.choices)
    assert labels["living"] in text and labels["care"] in text
    assert "二级" in text  # the grade
    start = month_start(application.applied_on)
    assert f"{start.year}年{start.month}月" in text
    living_amount = (
        payment_run_recalculate(benefit_type=application.living_entitlement.benefit_type, month=start)
        .lines.get(entitlement=application.living_entitlement)
        .amount
    )
    assert f"{living_amount:.2f}元" in text
    # The refused subsidy with the reason the approval recorded
    reason = application.eligibility["care"]["reason"]
    assert "不予批准理由" in text and "".join(reason.split()) in text
    _has_appeal_rights(text)


def test_disability_refusal_notice(client, people, regions, tmp_path):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.members.order_by("pk").last(), 1)
    application = _apply(person, people["clerk"])
    disability_services.disability_application_accept(application=application, actor=people["clerk"])
    disability_services.disability_refuse(
        application=application, actor=people["chief"], reasons="残疾人证已注销，不符合补贴条件"
    )
    client.force_login(people["chief"])
    text = _pdf(client, "disability", application.pk, tmp_path)
    assert "残疾人两项补贴不予批准决定书" in text and "残疾人证已注销" in text
    _has_appeal_rights(text)


# -- 低保动态复核 ----------------------------------------------------------------------------------------


def paid_household(region, clerk):
    """A household of two adults (urban, 600 元/月) with a wage of 400: approved seven months ago on the
    basis of that income (assistance.bases), paid (600 − 200) × 2 = 800.00 this month."""
    dibao = BenefitType.objects.get(code="dibao")
    today = timezone.localdate()
    household = _household(region)
    _income(household, clerk, IncomeKind.WAGE, "400", household.head)
    start = add_months(month_start(today), -7)
    basis = bases.bases_from_facts({household.pk: None}, start, label=bases.LABEL_APPROVAL, start=start)
    entitlement = entitlement_create(
        benefit_type=dibao,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=start,
        params={bases.BASES_KEY: [basis[household.pk]]},
    )
    run = payment_run_recalculate(benefit_type=dibao, month=month_start(today))
    assert PaymentLine.objects.get(run=run, entitlement=entitlement).amount == Decimal("800.00")
    return household, entitlement


@pytest.fixture
def review(regions, people):
    """The review of a household paid 800.00 this month (paid_household), opened by the schedule."""
    paid_household(regions["community11"], people["clerk"])
    (opened,) = review_services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=people["section"])
    return opened


def _decide(review, people, outcome, reasons):
    review_services.dibao_review_decide(
        review=review,
        actor=people["clerk"],
        findings="入户核查家庭收入情况",
        outcome=outcome,
        reasons=reasons,
    )
    if (
        outcome == DibaoReview.Outcome.STOP
    ):  # 拟停保告知 first (issue 13 item 12); the household waives its statement
        stop_prenotice_issue(review=review, actor=people["clerk"])
        stop_prenotice_response_record(review=review, actor=people["clerk"], response="waived")
    review_services.dibao_review_submit(review=review, actor=people["clerk"])
    review_services.dibao_review_confirm(review=review, actor=people["chief"], comment="同意")
    review.refresh_from_db()
    return review


def test_review_decrease_notice(client, people, review, tmp_path):
    spouse = review.household.members.exclude(pk=review.household.head_id).get()
    review_services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.WAGE,
        monthly_amount=Decimal("200"),
        period_start=datetime.date(2020, 1, 1),
        person=spouse,
    )
    client.force_login(people["clerk"])
    url = reverse("assistance:review_decision_pdf", args=[review.pk])
    assert client.get(url).status_code == 404  # not confirmed yet
    review = _decide(review, people, DibaoReview.Outcome.DECREASE, "配偶新增务工收入每月200元")
    assert (review.previous_amount, review.new_amount) == (Decimal("800.00"), Decimal("600.00"))

    text = _pdf(client, "review", review.pk, tmp_path)
    assert "最低生活保障减发决定书" in text
    assert "800.00" in text and "600.00" in text
    month = review.effective_month
    assert f"{month.year}年{month.month}月起" in text
    assert "配偶新增务工收入每月200元" in text and "决定理由" in text
    _has_appeal_rights(text)
    page = client.get(reverse("assistance:review_detail", args=[review.pk])).content.decode()
    assert url in page and "打印减发决定书" in page

    client.force_login(people["clerk21"])
    assert client.get(url).status_code == 404


def test_review_stop_notice(client, people, review, tmp_path):
    review_services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.PENSION_EMPLOYEE,
        monthly_amount=Decimal("2000"),
        period_start=datetime.date(2020, 1, 1),
    )
    review = _decide(review, people, DibaoReview.Outcome.STOP, "家庭月人均收入超过低保标准")
    client.force_login(people["chief"])
    text = _pdf(client, "review", review.pk, tmp_path)
    assert "最低生活保障停发决定书" in text and "停发" in text
    assert "800.00" in text and "家庭月人均收入超过低保标准" in text
    # It says the household was told beforehand, and what it answered
    assert "告知及陈述申辩" in text and "陈述申辩期至" in text and "明确表示无异议" in text
    _has_appeal_rights(text)


# -- 送达 -------------------------------------------------------------------------------------------------


def _refused_temp(people, regions):
    person = household_with_members(regions["community11"], size=1).head
    temp = _temp_create(person, people["clerk"])
    _temp_move(temp, "accept", people["clerk"])
    _propose_amount(temp, people["clerk"], Decimal("500.00"))
    _temp_move(temp, "submit_township", people["clerk"])
    _temp_move(temp, "township_refuse", people["reviewer"], "家庭财产足以应对本次困难")
    temp.refresh_from_db()
    return temp


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_delivery_recorded_on_the_page_and_printed(client, people, regions, tmp_path):
    temp = _refused_temp(people, regions)
    url = reverse("assistance:temp_delivery", args=[temp.pk])
    today = timezone.localdate()
    client.force_login(people["clerk"])
    response = client.post(
        url, {"delivered_on": today.isoformat(), "method": "direct", "recipient": temp.person.name}
    )
    assert response.status_code == 302 and response["Location"].endswith("#delivery")
    delivery = DecisionDelivery.objects.get(case_id=temp.pk)
    assert delivery.delivered_on == today and delivery.method == "direct"
    assert delivery.document_label == "临时救助不予批准决定书" and delivery.recorded_by == people["clerk"]
    assert delivery.region_code == temp.case.region_code
    assert TransitionLog.objects.filter(case_id=temp.pk, transition="deliver").exists()

    page = client.get(reverse("assistance:temp_detail", args=[temp.pk])).content.decode()
    assert "已于" in page and "直接送达" in page and 'id="delivery-form"' not in page
    text = _pdf(client, "temp", temp.pk, tmp_path)
    assert f"送达记录：{today.year}年{today.month}月{today.day}日直接送达" in text

    # Recorded once
    response = client.post(url, {"delivered_on": today.isoformat(), "method": "mail", "recipient": "某某"})
    assert any("已于" in m and "登记送达" in m for m in _messages(response))
    assert DecisionDelivery.objects.filter(case_id=temp.pk).count() == 1


def test_delivery_bad_dates_are_refused_in_chinese_and_nothing_is_saved(client, people, regions):
    temp = _refused_temp(people, regions)
    url = reverse("assistance:temp_delivery", args=[temp.pk])
    today = timezone.localdate()
    decided = timezone.localdate(temp.decided_at)
    client.force_login(people["clerk"])
    cases = [
        ((today + datetime.timedelta(days=1)).isoformat(), "送达日期不能晚于今天"),
        ((decided - datetime.timedelta(days=1)).isoformat(), "送达日期不能早于决定日期"),
        ("9999-12-31", "送达日期"),
        ("", "送达日期"),
    ]
    for day, message in cases:
        response = client.post(url, {"delivered_on": day, "method": "direct", "recipient": "张三"})
        assert response.status_code == 302
        assert any(message in m for m in _messages(response)), (day, _messages(response))
    response = client.post(url, {"delivered_on": today.isoformat(), "method": "pigeon", "recipient": " "})
    assert any("送达方式" in m and "受送达人" in m for m in _messages(response))
    assert not DecisionDelivery.objects.exists()
    assert not TransitionLog.objects.filter(case_id=temp.pk, transition="deliver").exists()

    # The service refuses the same, whoever calls it
    with pytest.raises(ValidationError) as error:
        decision_delivery_record(
            case=temp.case,
            document="decision",
            document_label="临时救助不予批准决定书",
            decided_on=decided,
            delivered_on=decided - datetime.timedelta(days=3),
            method="mail",
            recipient="张三",
            actor=people["clerk"],
        )
    assert "不能早于决定日期" in str(error.value)
    assert not DecisionDelivery.objects.exists()


def test_delivery_scope_and_permission(client, people, regions):
    temp = _refused_temp(people, regions)
    url = reverse("assistance:temp_delivery", args=[temp.pk])
    data = {"delivered_on": timezone.localdate().isoformat(), "method": "mail", "recipient": "张三"}
    client.force_login(people["clerk21"])
    assert client.post(url, data).status_code == 404  # another street's case
    client.force_login(people["leader"])
    assert client.post(url, data).status_code == 403  # 局领导 reads only
    client.force_login(people["clerk"])
    assert client.get(url).status_code == 405
    # An undecided case has no notice to deliver
    open_case = _temp_create(household_with_members(regions["community11"], size=1).head, people["clerk"])
    assert client.post(reverse("assistance:temp_delivery", args=[open_case.pk]), data).status_code == 404
    assert not DecisionDelivery.objects.exists()
    # The service checks scope itself
    with pytest.raises(ValidationError, match="不在您的数据范围内"):
        decision_delivery_record(
            case=temp.case,
            document="decision",
            document_label="临时救助不予批准决定书",
            decided_on=timezone.localdate(),
            delivered_on=timezone.localdate(),
            method="mail",
            recipient="张三",
            actor=people["clerk21"],
        )


def test_dibao_and_other_flows_offer_the_delivery(client, people, review):
    """The 低保 review page, once confirmed, posts its delivery to its own URL."""
    review = _decide(review, people, DibaoReview.Outcome.KEEP, "家庭情况无变化")
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:review_detail", args=[review.pk])).content.decode()
    assert reverse("assistance:review_delivery", args=[review.pk]) in page
    assert "打印复核结果通知书" in page
    response = client.post(
        reverse("assistance:review_delivery", args=[review.pk]),
        {"delivered_on": timezone.localdate().isoformat(), "method": "left", "recipient": "户主"},
    )
    assert response.status_code == 302
    assert DecisionDelivery.objects.get(case_id=review.pk).document_label == "最低生活保障复核结果通知书"


def test_dibao_decision_delivery_printed_on_the_notice(client, people, regions, clock):
    application = _dibao_to_chief(people, regions, clock)
    dibao_services.dibao_refuse(
        application=application, actor=people["chief"], reasons="家庭人均收入超过低保标准"
    )
    household = application.household
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert reverse("assistance:dibao_delivery", args=[application.pk]) in page
    today = timezone.localdate()
    client.post(
        reverse("assistance:dibao_delivery", args=[application.pk]),
        {
            "delivered_on": today.isoformat(),
            "method": "mail",
            "recipient": household.head.name,
            "note": "EMS1234",
        },
    )
    delivery = DecisionDelivery.objects.get(case_id=application.pk)
    assert delivery.document_label == "最低生活保障不予批准决定书" and delivery.note == "EMS1234"
    response = client.get(reverse("assistance:dibao_decision_pdf", args=[application.pk]))
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    assert f"送达记录：{today.year}年{today.month}月{today.day}日邮寄送达" in text

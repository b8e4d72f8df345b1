"""Issue 13 items 11 and 12.

Item 11, 委托乡镇/街道确认: a dated Parameter per case type (delegation.dibao) decides on the day of the move
whether the street confirms 低保 (a 街道审核员 who did not review it) or the section's 科长; the district
then draws a reproducible, recorded monthly sample of the streets' approvals (delegation.sample_rate) and
records 符合/不符合 for each, 不符合 opening a dynamic review.

Item 12, 拟停保: a review's 停发 is told to the household first (拟停保告知, period
review.stop_notice_working_days in working days); the 科长 cannot confirm the 停发 before the period ends
or the household's response is recorded; the 告知书 prints with embedded CJK fonts."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assistance import services
from assistance.case_types import DELEGATION_PARAMETER, DIBAO, DibaoStatus
from assistance.delegation import services as delegation
from assistance.delegation.models import DelegationCheck, DelegationSample
from assistance.models import DibaoReview
from assistance.review import prenotice
from assistance.review import services as review_services
from assistance.review.case_types import ReviewStatus
from assistance.review.models import StopPreNotice
from core.benefits.models import Parameter
from core.benefits.months import add_months, month_start
from core.registry.choices import IncomeKind
from core.workflow import services as workflow_services
from core.workflow.calendar import add_working_days
from core.workflow.engine import get_case_type
from core.workflow.models import Case, TransitionLog
from core.workflow.services import TransitionError, can_transition
from tests.factories import household_with_members
from tests.test_assistance_dibao_flow import _create, _to_street_review
from tests.test_issue13_notices import paid_household

D = datetime.date


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street1"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
    }


def _delegate(value: str, effective_from: D) -> None:
    """The district's decision, dated: delegation.dibao = value from `effective_from`."""
    Parameter.objects.filter(key=DELEGATION_PARAMETER, effective_to__isnull=True).update(
        effective_to=effective_from - datetime.timedelta(days=1)
    )
    Parameter.objects.create(
        key=DELEGATION_PARAMETER, name="委托街道确认低保", value=Decimal(value), effective_from=effective_from
    )


def _at_confirmation(regions, people, clock):
    clock.shift(-10)
    application = _create(household_with_members(regions["community11"], size=2), people["clerk"])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    return application


# -- item 11: who confirms follows the dated parameter ---------------------------------------------------


def test_delegation_follows_the_parameter_on_the_day(db):
    """The seeded value is 0 (the 科长 confirms); a district decision dated later hands the step to the
    street from that day only."""
    approve = DIBAO.transition("approve")
    today = timezone.localdate()
    assert approve.on(today).roles == ("科长",)
    later = today + datetime.timedelta(days=30)
    _delegate("1", later)
    assert approve.on(today).roles == ("科长",)
    assert approve.on(today).permission == "workflow.approve_case"
    delegated = approve.on(later)
    assert delegated.roles == ("街道审核员",) and delegated.permission == "workflow.review_case"
    assert delegated.parameter_in_force == (DELEGATION_PARAMETER, Decimal("1.0000"))
    street_review = DIBAO.transition("street_review")
    assert street_review.on(today).assignee_role == "科长"
    assert street_review.on(later).assignee_role == "街道审核员"
    # The declaration itself is unchanged (the snapshot of tests/test_case_type_declarations.py holds).
    assert approve.roles == ("科长",) and approve.by_parameter is not None


def test_street_confirms_when_delegated(regions, people, clock):
    _delegate("1", timezone.localdate() - datetime.timedelta(days=30))
    application = _at_confirmation(regions, people, clock)
    case = Case.objects.get(pk=application.pk)
    # The case waits for a street confirmer, not the 科长.
    assert case.assignee_role == "街道审核员" and case.current_step == "街道确认（委托）"
    # Wrong role: the 科长 no longer confirms.
    allowed, reason = can_transition(case, "approve", people["chief"])
    assert not allowed and "街道审核员" in reason
    with pytest.raises(TransitionError, match="由街道审核员办理"):
        services.dibao_approve(application=application, actor=people["chief"])
    # Maker-checker still holds: the reviewer who did the street review cannot confirm.
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_approve(application=application, actor=people["reviewer"])
    # Another 街道审核员 confirms; the log records the parameter that gave the step to the street.
    decision = services.dibao_approve(application=application, actor=people["reviewer2"])
    assert decision.approved and decision.entitlement is not None
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.APPROVED
    log = TransitionLog.objects.get(case_id=application.pk, transition="approve")
    assert log.actor == people["reviewer2"]
    assert log.data["by_parameter"] == {"key": DELEGATION_PARAMETER, "value": "1"}


def test_chief_confirms_when_not_delegated(regions, people, clock):
    application = _at_confirmation(regions, people, clock)
    case = Case.objects.get(pk=application.pk)
    assert case.assignee_role == "科长"
    with pytest.raises(TransitionError, match="您没有执行"):
        services.dibao_approve(application=application, actor=people["reviewer2"])
    services.dibao_approve(application=application, actor=people["chief"])
    log = TransitionLog.objects.get(case_id=application.pk, transition="approve")
    assert log.data["by_parameter"] == {"key": DELEGATION_PARAMETER, "value": "0"}


# -- item 11: the district's sample ----------------------------------------------------------------------


def test_sample_is_reproducible_from_its_seed():
    ids = list(range(100, 140))
    first = delegation.sample_case_ids(ids, seed=12345, rate=Decimal("0.1"))
    assert len(first) == 4
    assert delegation.sample_case_ids(list(reversed(ids)), seed=12345, rate=Decimal("0.1")) == first
    assert delegation.sample_case_ids(ids, seed=54321, rate=Decimal("0.1")) != first
    # A few approvals still give one case to check; none give none.
    assert len(delegation.sample_case_ids([7, 8], seed=1, rate=Decimal("0.1"))) == 1
    assert delegation.sample_case_ids([], seed=1, rate=Decimal("0.1")) == []


def _street_approved_last_month(regions, people, clock, count: int) -> list[int]:
    """`count` applications confirmed by the street in the last month (the clock set back to it)."""
    last_month = add_months(month_start(timezone.localdate()), -1)
    days_back = (timezone.localdate() - (last_month + datetime.timedelta(days=14))).days
    _delegate("1", last_month - datetime.timedelta(days=60))
    ids = []
    for _ in range(count):
        clock.shift(-days_back - 10)
        application = _create(household_with_members(regions["community11"], size=2), people["clerk"])
        services.dibao_application_accept(application=application, actor=people["clerk"])
        from tests.test_assistance_dibao_flow import _investigate

        _investigate(application, people)
        services.dibao_notice_start(
            application=application,
            actor=people["clerk"],
            start_date=timezone.localdate(),
            place="社区公示栏",
        )
        clock.shift(-days_back)
        services.dibao_notice_finish(application=application, actor=people["clerk"])
        services.dibao_street_review(application=application, actor=people["reviewer"])
        services.dibao_approve(application=application, actor=people["reviewer2"])
        ids.append(application.pk)
    clock.shift(0)
    return ids


def test_draw_records_the_sample_and_drawing_again_gives_it_back(regions, people, clock):
    ids = _street_approved_last_month(regions, people, clock, 3)
    last_month = add_months(month_start(timezone.localdate()), -1)
    # Only the 科长 draws.
    with pytest.raises(ValidationError, match="科长"):
        delegation.delegation_sample_draw(month=last_month, actor=people["reviewer2"])
    # Not a month still running.
    with pytest.raises(ValidationError, match="已结束月份"):
        delegation.delegation_sample_draw(month=timezone.localdate(), actor=people["chief"])
    sample = delegation.delegation_sample_draw(month=last_month, actor=people["chief"])
    assert sample.population == 3 and sample.rate == Decimal("0.1000") and sample.seed
    checks = list(sample.checks.order_by("case_id"))
    assert len(checks) == 1 and checks[0].case_id in ids
    assert checks[0].confirmed_by == people["reviewer2"] and checks[0].region_code.startswith("2201")
    # Recorded and reproducible: drawing again returns the same sample; the seed redraws the same cases.
    again = delegation.delegation_sample_draw(month=last_month, actor=people["chief"])
    assert again.pk == sample.pk and DelegationSample.objects.count() == 1
    assert delegation.sample_redrawn(sample) == [c.case_id for c in checks]


def test_result_nonconforming_opens_a_review(regions, people, clock):
    _street_approved_last_month(regions, people, clock, 1)
    last_month = add_months(month_start(timezone.localdate()), -1)
    sample = delegation.delegation_sample_draw(month=last_month, actor=people["chief"])
    (check,) = sample.checks.all()
    with pytest.raises(ValidationError) as error:
        delegation.delegation_check_record(
            check=check, actor=people["chief"], result="nonconforming", note=""
        )
    assert "不符合的情形" in str(error.value)
    recorded = delegation.delegation_check_record(
        check=check, actor=people["chief"], result="nonconforming", note="家庭有未申报的经营收入"
    )
    assert recorded.review is not None and recorded.checked_by == people["chief"]
    review = DibaoReview.objects.get(pk=recorded.review_id)
    assert review.is_open and review.case.status == ReviewStatus.REVIEWING
    # Due in review.change_working_days (15) working days, not the day it was opened (overdue tomorrow)
    assert review.due_on == add_working_days(timezone.localdate(), 15) > timezone.localdate()
    assert (
        "委托确认抽查不符合：家庭有未申报的经营收入"
        in review.case.transitions.get(transition="create").comment
    )
    with pytest.raises(ValidationError, match="已登记"):
        delegation.delegation_check_record(check=check, actor=people["chief"], result="conforming")
    # Ordering the review is no entering or investigating it: the 科长 may still confirm its outcome,
    # while the caseworker who entered its findings may not.
    create = review.case.transitions.get(transition="create")
    assert create.kind == "order" and create.actor == people["chief"]
    confirm = get_case_type(review.case.case_type).transition("confirm")
    assert people["chief"].pk not in workflow_services._maker_checker_users(review.case, confirm)
    review_services.dibao_review_decide(
        review=review, actor=people["clerk"], findings="入户核查", outcome="keep", reasons="收入无变化"
    )
    makers = workflow_services._maker_checker_users(review.case, confirm)
    assert people["clerk"].pk in makers and people["chief"].pk not in makers


def test_sample_pages(client, regions, people, clock):
    _street_approved_last_month(regions, people, clock, 2)
    last_month = add_months(month_start(timezone.localdate()), -1)
    client.force_login(people["chief"])
    response = client.post(reverse("assistance:delegation_draw"), {"month": last_month.isoformat()})
    assert response.status_code == 302
    check = DelegationCheck.objects.get()
    # The same month again (a second tab, a double click): told it was drawn, nothing drawn again
    again = client.post(reverse("assistance:delegation_draw"), {"month": last_month.isoformat()})
    assert again.status_code == 400 and "同一月份只抽取一次" in again.content.decode()
    assert "（已抽取）" in client.get(reverse("assistance:delegation_draw")).content.decode()
    assert DelegationSample.objects.count() == 1 and DelegationCheck.objects.count() == 1
    page = client.get(reverse("assistance:delegation_checks_list")).content.decode()
    assert "委托街道确认低保抽查" in page and check.case.number in page and "待登记" in page
    response = client.post(
        reverse("assistance:delegation_check", args=[check.pk]), {"result": "conforming", "note": ""}
    )
    assert response.status_code == 302
    assert DelegationCheck.objects.get().get_result_display() == "符合"
    # A street reviewer sees the sampled case of its street but may not draw.
    client.force_login(people["reviewer2"])
    assert client.get(reverse("assistance:delegation_checks_list")).status_code == 200
    response = client.post(reverse("assistance:delegation_draw"), {"month": last_month.isoformat()})
    assert "委托确认抽查由社会救助科科长办理" in response.content.decode()
    # Out of scope: a community of the other street sees no sampled case of this one.
    client.force_login(people["clerk21"])
    assert client.get(reverse("assistance:delegation_check", args=[check.pk])).status_code == 404


# -- item 12: 拟停保 ----------------------------------------------------------------------------------------


@pytest.fixture
def stop_review(regions, people):
    """A review of a household paid 800.00 whose new pension puts it above the line: outcome 停发."""
    paid_household(regions["community11"], people["clerk"])
    (review,) = review_services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=people["section"])
    review_services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.PENSION_EMPLOYEE,
        monthly_amount=Decimal("2000"),
        period_start=D(2020, 1, 1),
    )
    review_services.dibao_review_decide(
        review=review,
        actor=people["clerk"],
        findings="户主退休领取养老金",
        outcome=DibaoReview.Outcome.STOP,
        reasons="家庭月人均收入超过低保标准",
    )
    return review


def test_stop_needs_the_prenotice_and_its_deadline(stop_review, people, clock):
    review = stop_review
    # No submission of a 停发 before the household is told.
    with pytest.raises(TransitionError, match="拟停保告知"):
        review_services.dibao_review_submit(review=review, actor=people["clerk"])
    notice = prenotice.stop_prenotice_issue(review=review, actor=people["clerk"])
    today = timezone.localdate()
    assert notice.issued_on == today and notice.working_days == 7
    assert notice.deadline == add_working_days(today, 7)
    review_services.dibao_review_submit(review=review, actor=people["clerk"])
    # The 科长 may not confirm before the deadline: a Chinese message naming it.
    with pytest.raises(TransitionError, match="陈述申辩期至.*止") as error:
        review_services.dibao_review_confirm(review=review, actor=people["chief"])
    assert f"{notice.deadline.year}年{notice.deadline.month}月{notice.deadline.day}日" in str(error.value)
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CHIEF_CONFIRMATION
    # On the deadline still refused; the day after, confirmed (no response recorded = none).
    clock.shift((notice.deadline - today).days)
    allowed, _ = can_transition(Case.objects.get(pk=review.pk), "confirm", people["chief"])
    assert not allowed
    clock.shift((notice.deadline - today).days + 1)
    review_services.dibao_review_confirm(review=review, actor=people["chief"])
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CONFIRMED


def test_response_recorded_lets_the_chief_confirm(stop_review, people):
    review = stop_review
    prenotice.stop_prenotice_issue(review=review, actor=people["clerk"], reasons="家庭月人均收入2000元")
    review_services.dibao_review_submit(review=review, actor=people["clerk"])
    with pytest.raises(ValidationError) as error:
        prenotice.stop_prenotice_response_record(
            review=review, actor=people["clerk"], response="statement", statement="养老金需用于医疗"
        )
    assert "处理意见" in str(error.value)
    notice = prenotice.stop_prenotice_response_record(
        review=review,
        actor=people["clerk"],
        response="statement",
        statement="养老金需用于医疗",
        consideration="医疗支出可申请医疗救助，不影响低保收入核算，维持停发",
    )
    assert notice.response == StopPreNotice.Response.STATEMENT and notice.responded_on == timezone.localdate()
    log = review.case.transitions.get(transition="prenotice_response")
    assert "养老金需用于医疗" in log.comment and "维持停发" in log.comment
    review_services.dibao_review_confirm(review=review, actor=people["chief"])
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CONFIRMED


def test_prenotice_pdf_and_page(client, stop_review, people, tmp_path):
    review = stop_review
    client.force_login(people["clerk"])
    url = reverse("assistance:review_prenotice_issue", args=[review.pk])
    response = client.post(url, {"reasons": "家庭月人均收入超过低保标准"})
    assert response.status_code == 302
    notice = StopPreNotice.objects.get(review=review)
    # The issue page again (back button, second tab): the detail with what was done, not a second form
    again = client.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith("#prenotice")
    assert "“发出拟停保告知”已办理或当前不需要办理" in again.content.decode()
    assert client.post(url, {"reasons": "再次"}).status_code == 302
    assert StopPreNotice.objects.filter(review=review).count() == 1
    page = client.get(reverse("assistance:review_detail", args=[review.pk])).content.decode()
    assert "拟停保告知" in page and "陈述申辩期限" in page and "等待家庭意见" in page
    response = client.get(reverse("assistance:review_prenotice_pdf", args=[review.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    path = tmp_path / "prenotice.pdf"
    path.write_bytes(response.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    deadline = f"{notice.deadline.year}年{notice.deadline.month}月{notice.deadline.day}日"
    assert "最低生活保障拟停发告知书" in text and review.case.number in text
    assert "800.00" in text and "家庭月人均收入超过低保标准" in text
    assert "陈述和申辩" in text and deadline in text
    # A pre-notice is no decision: no appeal rights printed.
    assert "行政复议" not in text
    # Another street's caseworker: 404.
    client.force_login(people["clerk21"])
    assert client.get(reverse("assistance:review_prenotice_pdf", args=[review.pk])).status_code == 404

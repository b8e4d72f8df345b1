"""低保审核确认 (flows 1 and 2): application → 受理 → 入户调查 → 公示 (with an objection and a new 公示) →
街道审核 → 科长确认 → entitlement from the next month → monthly payment run. Plus the refusals."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.case_types import DibaoStatus
from assistance.models import AssistanceApplication, Decision, Investigation
from core.benefits import calculators
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.registry.models import IncomeRecord
from core.registry.services import income_record_add, person_move
from core.workflow.models import Case, PublicNotice, TransitionLog
from core.workflow.services import TransitionError
from tests.factories import household_with_members

D = datetime.date


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
        "leader": make_user("局领导", region="district"),
    }


@pytest.fixture
def dibao_calculator(monkeypatch):
    """The 低保 calculator is assistance/calculators.py's; until it is registered, a fixed-standard stand-in
    lets the payment run be exercised (removed again after the test)."""
    if calculators.calculator_class("dibao") is None:

        class StandIn(calculators.FixedStandardCalculator):
            label = "低保（测试替身）"

        monkeypatch.setitem(calculators._CALCULATORS, "dibao", StandIn)
    return calculators.calculator_class("dibao")


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=2)


def _create(household, actor, **kwargs):
    defaults = {"promise_signed": True, "authorisation_signed": True, "staff_relative": False}
    return services.dibao_application_create(household=household, actor=actor, **{**defaults, **kwargs})


def _status(application) -> str:
    return Case.objects.get(pk=application.pk).status


def _investigate(application, people, **kwargs):
    data = {
        "visit_date": timezone.localdate(),
        "visitors": [people["clerk"], people["clerk_b"]],
        "findings": "家庭2人，户主无固定收入，住房为公租房，无车辆。",
        "economic_check_result": Investigation.EconomicCheck.ELIGIBLE,
    }
    return services.investigation_record(application=application, actor=people["clerk"], **{**data, **kwargs})


def _to_street_review(application, people, clock):
    """受理 → 入户调查 → 公示 on the clock's day (the test set it some days back) → today, the 公示 passed
    (no objection) → 街道审核."""
    today = timezone.localdate()
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=today, place="社区公示栏"
    )
    clock.shift(0)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    assert _status(application) == DibaoStatus.STREET_REVIEW


def test_full_flow_with_objection_to_payment_run(people, household, dibao_calculator, clock):
    this_month = month_start(timezone.localdate())  # confirmed today
    clock.shift(-10)  # entered, accepted, visited and posted ten days ago
    today = timezone.localdate()
    clerk = people["clerk"]

    # Given an application with signed 告知承诺 and 核对授权
    application = _create(household, clerk)
    assert _status(application) == DibaoStatus.REGISTERED
    assert set(application.members.all()) == set(household.members.all())

    # 受理 starts the clock
    services.dibao_application_accept(application=application, actor=clerk)
    case = Case.objects.get(pk=application.pk)
    assert case.status == DibaoStatus.INVESTIGATION
    assert case.accepted_on == today
    assert case.due_date is not None and case.assignee_role == "社区经办人"

    # No 公示 before the home visit; one visitor is not enough
    with pytest.raises(TransitionError, match="未完成入户调查"):
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=today, place="社区公示栏"
        )
    with pytest.raises(ValidationError, match="不少于2名"):
        _investigate(application, people, visitors=[clerk])
    _investigate(application, people)

    # 公示 → an objection sends the case back to investigation
    first = services.dibao_notice_start(
        application=application, actor=clerk, start_date=today, place="社区公示栏"
    )
    assert _status(application) == DibaoStatus.PUBLICITY
    services.dibao_notice_object(application=application, actor=clerk, objection="群众反映申请人有经营性收入")
    first.refresh_from_db()
    assert first.status == PublicNotice.Status.OBJECTED
    assert _status(application) == DibaoStatus.INVESTIGATION

    # A new 公示 needs a new investigation
    with pytest.raises(TransitionError, match="尚未重新入户调查"):
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=today, place="社区公示栏"
        )
    _investigate(application, people, findings="经核实，经营性收入已于申请前停止，异议不成立。")
    second = services.dibao_notice_start(
        application=application, actor=clerk, start_date=today, place="社区公示栏"
    )
    first.refresh_from_db()
    assert first.closed_at is not None  # the objected 公示 that ran out was closed first
    assert second.pk != first.pk

    # Ten days later: 公示期满无异议 → 街道审核 → 科长确认
    clock.shift(0)
    services.dibao_notice_finish(application=application, actor=clerk)
    assert _status(application) == DibaoStatus.STREET_REVIEW
    services.dibao_street_review(application=application, actor=people["reviewer"], comment="同意")
    case.refresh_from_db()
    assert case.status == DibaoStatus.CHIEF_CONFIRMATION
    assert case.assignee_role == "科长"

    decision = services.dibao_approve(application=application, actor=people["chief"], comment="符合低保条件")

    # Then: the entitlement runs from the month after confirmation and is paid in that month's run
    next_month = add_months(this_month, 1)
    assert decision.approved and decision.start_month == next_month
    entitlement = Entitlement.objects.get(case_id=application.pk)
    assert entitlement.household_id == household.pk
    assert entitlement.start_month == next_month
    assert entitlement.region_code == household.region_code
    assert decision.entitlement_id == entitlement.pk
    case.refresh_from_db()
    assert case.status == DibaoStatus.APPROVED and not case.is_open
    assert not AssistanceApplication.objects.get(pk=application.pk).is_open

    dibao = BenefitType.objects.get(code="dibao")
    run = payment_run_recalculate(benefit_type=dibao, month=next_month, actor=people["chief"])
    line = PaymentLine.objects.get(run=run, entitlement=entitlement)
    assert line.household_id == household.pk
    assert line.amount > 0
    if decision.monthly_amount is not None:
        assert decision.monthly_amount == line.amount
    # Nothing is paid for the month of confirmation itself
    this_run = payment_run_recalculate(benefit_type=dibao, month=this_month)
    assert not PaymentLine.objects.filter(run=this_run, entitlement=entitlement).exists()

    # The timeline tells the whole story
    names = list(TransitionLog.objects.filter(case_id=application.pk).values_list("transition", flat=True))
    assert names[:3] == ["create", "accept", "investigation_record"]
    assert "reinvestigate" in names and names[-1] == "approve"
    # The household now receives 低保: a second application is refused at entry (no double payment)
    with pytest.raises(ValidationError, match="该家庭已在享受最低生活保障，不能重复申请"):
        _create(household, clerk)


def test_maker_checker_refuses_the_reviewer_as_approver(
    people, household, dibao_calculator, clock, make_user
):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    _to_street_review(application, people, clock)
    # The street review is the street reviewer's step: a 科长 alone is refused, by role
    with pytest.raises(TransitionError, match="由街道审核员办理"):
        services.dibao_street_review(application=application, actor=people["chief"])
    # Someone holding both roles who did the street review may not confirm the same case
    both = make_user("街道审核员", "科长", region="district")
    services.dibao_street_review(application=application, actor=both)
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_approve(application=application, actor=both)
    assert _status(application) == DibaoStatus.CHIEF_CONFIRMATION
    assert not Entitlement.objects.filter(case_id=application.pk).exists()
    services.dibao_approve(application=application, actor=people["chief2"])
    assert _status(application) == DibaoStatus.APPROVED


def test_an_investigator_may_not_confirm(people, household, dibao_calculator, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people, visitors=[people["clerk"], people["chief"]])
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=timezone.localdate(), place="社区公示栏"
    )
    clock.shift(0)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    services.dibao_street_review(application=application, actor=people["reviewer"])
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_approve(application=application, actor=people["chief"])


def test_amount_is_explained_line_by_line(client, people, household, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    decision = services.dibao_approve(application=application, actor=people["chief"])
    # Computed by the registered 低保 calculator, the same computation as the payment run's
    assert decision.monthly_amount is not None and decision.monthly_amount > 0
    steps = dict(calculators.explanation_steps(decision.explanation))
    assert "低保标准" in steps
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert "金额计算说明" in page and "低保标准" in page


def test_approval_refused_when_income_is_above_the_standard(people, household, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    income_record_add(
        household=household,
        kind="wage",
        monthly_amount="5000",
        period_start=D(2020, 1, 1),
        actor=people["clerk"],
        person=household.head,
    )
    with pytest.raises(TransitionError, match="人均收入不低于低保标准"):
        services.dibao_approve(application=application, actor=people["chief"])
    assert _status(application) == DibaoStatus.CHIEF_CONFIRMATION
    assert not Entitlement.objects.filter(case_id=application.pk).exists()
    assert not Decision.objects.filter(application_id=application.pk).exists()


def test_single_member_cover_lists_the_covered_person(people, household, clock):
    # 单人保 (issue 13 item 2): a 低保边缘 household (the spouse earns 1,400: per capita 700) and a covered
    # member who meets the condition (a serious illness).
    head = household.head
    head.serious_illness = True
    head.save(update_fields=["serious_illness"])
    spouse = household.members.exclude(pk=head.pk).get()
    IncomeRecord.objects.create(
        household=household, person=spouse, kind="wage", monthly_amount=1400, period_start=D(2020, 1, 1)
    )
    clock.shift(-10)
    application = _create(household, people["clerk"], members=[head])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    decision = services.dibao_approve(application=application, actor=people["chief"])
    assert decision.entitlement.params["covered_person_ids"] == [head.pk]


def test_missing_promise_or_authorisation_refused_and_nothing_saved(people, household):
    before = (Case.objects.count(), AssistanceApplication.objects.count(), TransitionLog.objects.count())
    with pytest.raises(ValidationError) as exc:
        _create(household, people["clerk"], promise_signed=False)
    assert "告知承诺书" in exc.value.message_dict["promise_signed"][0]
    with pytest.raises(ValidationError) as exc:
        _create(household, people["clerk"], authorisation_signed=False)
    assert "授权书" in exc.value.message_dict["authorisation_signed"][0]
    after = (Case.objects.count(), AssistanceApplication.objects.count(), TransitionLog.objects.count())
    assert before == after


def test_second_open_application_and_busy_member_refused(people, household, regions):
    first = _create(household, people["clerk"])
    with pytest.raises(ValidationError, match="已有正在办理的低保申请"):
        _create(household, people["clerk"])
    # A member who moved to another household is still covered by the first open application
    other = household_with_members(regions["community11"], size=1)
    mover = household.members.exclude(pk=household.head_id).get()
    person_move(
        person=mover, to_household=other, relation="other", date=timezone.localdate(), actor=people["clerk"]
    )
    with pytest.raises(ValidationError, match=f"{mover.name}已在其他正在办理的申请"):
        _create(other, people["clerk"])
    assert AssistanceApplication.objects.filter(household=other).count() == 0
    # Withdrawing the first frees both
    services.dibao_application_withdraw(application=first, actor=people["clerk"], reason="申请人书面撤回")
    assert _create(other, people["clerk"]).household_id == other.pk


def test_notice_shorter_than_seven_days_refused(people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    with pytest.raises(TransitionError, match="不得少于7天"):
        services.dibao_notice_start(
            application=application,
            actor=people["clerk"],
            start_date=timezone.localdate(),
            days=6,
            place="社区公示栏",
        )
    # The move to 公示 was rolled back with the refused notice
    assert _status(application) == DibaoStatus.INVESTIGATION
    assert not PublicNotice.objects.filter(case_id=application.pk).exists()


def test_notice_must_run_its_course_before_review(people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=timezone.localdate(), place="社区公示栏"
    )
    with pytest.raises(TransitionError, match="期满后方可结束"):
        services.dibao_notice_finish(application=application, actor=people["clerk"])
    assert _status(application) == DibaoStatus.PUBLICITY


def test_staff_relative_needs_a_district_level_visit(people, household):
    application = _create(household, people["clerk"], staff_relative=True)
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    start = timezone.localdate()
    with pytest.raises(TransitionError, match="区级入户核查"):
        services.dibao_notice_start(
            application=application, actor=people["clerk"], start_date=start, place="公示栏"
        )
    with pytest.raises(ValidationError, match="区民政局工作人员"):
        _investigate(application, people, district_visit=True)
    _investigate(application, people, district_visit=True, visitors=[people["clerk"], people["section"]])
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=start, place="公示栏"
    )
    assert _status(application) == DibaoStatus.PUBLICITY


def test_refusal_needs_written_reasons(people, household, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    with pytest.raises(TransitionError, match="须填写意见"):
        services.dibao_refuse(application=application, actor=people["chief"], reasons=" ")
    decision = services.dibao_refuse(
        application=application, actor=people["chief"], reasons="家庭人均收入高于当地低保标准"
    )
    assert not decision.approved and decision.reasons == "家庭人均收入高于当地低保标准"
    # The application records its decision as every flow's does (core.workflow.services.record_decide).
    application.refresh_from_db()
    assert application.approved is False and application.reasons == decision.reasons
    assert application.decided_by == people["chief"] and application.decided_at is not None
    assert _status(application) == DibaoStatus.REFUSED
    assert not Entitlement.objects.filter(case_id=application.pk).exists()
    assert not Decision.objects.get(pk=decision.pk).application.is_open


def test_out_of_scope_users_cannot_touch_an_application(people, household, regions):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    outsider = people["clerk21"]
    with pytest.raises(TransitionError, match="数据范围"):
        _investigate(application, {**people, "clerk": outsider})
    with pytest.raises(ValidationError, match="数据范围"):
        _create(household_with_members(regions["community11"], size=1), outsider)


# --- views ------------------------------------------------------------------------------------------


def _url(name, *args):
    return reverse(f"assistance:{name}", args=args)


def test_views_out_of_scope_is_404(client, people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    client.force_login(people["clerk21"])
    assert client.get(_url("dibao_detail", application.pk)).status_code == 404
    assert client.get(_url("dibao_investigation", application.pk)).status_code == 404
    assert client.post(_url("dibao_notice", application.pk), {"action": "finish"}).status_code == 404
    assert client.get(_url("dibao_create"), {"household": household.pk}).status_code == 404
    response = client.get(_url("dibao_list"))
    assert response.status_code == 200
    assert application.case.number not in response.content.decode()


def test_views_create_investigate_and_detail(client, people, household, dibao_calculator, clock):
    clerk = people["clerk"]
    client.force_login(clerk)
    clock.shift(-21)  # entered, accepted, visited and posted three weeks ago
    response = client.get(_url("dibao_create"), {"household": household.pk})
    assert response.status_code == 200 and "告知承诺书" in response.content.decode()

    # Without the signed 告知承诺 the form comes back with the error beside the field
    members = [p.pk for p in household.members.all()]
    data = {
        "members": members,
        "categories": ["dibao"],
        "applied_on": timezone.localdate().isoformat(),
        "poverty_cause": "illness",
    }
    response = client.post(f"{_url('dibao_create')}?household={household.pk}", data)
    assert response.status_code == 400
    assert "须签署告知承诺书" in response.content.decode()
    assert not AssistanceApplication.objects.exists()

    data.update(promise_signed="on", authorisation_signed="on", poverty_cause="")
    response = client.post(f"{_url('dibao_create')}?household={household.pk}", data)
    assert response.status_code == 400 and "主要致贫原因" in response.content.decode()
    assert not AssistanceApplication.objects.exists()

    data.update(poverty_cause="illness")
    response = client.post(f"{_url('dibao_create')}?household={household.pk}", data)
    application = AssistanceApplication.objects.get()
    assert application.poverty_cause == "illness"
    assert (
        response.status_code == 302 and response["Location"] == _url("dibao_detail", application.pk) + "#next"
    )
    page = client.get(_url("dibao_detail", application.pk)).content.decode()
    assert "救助类别评估" in page and "最低生活保障" in page
    assert 'id="proposal"' not in page  # nothing is proposed before 受理

    # 受理 on the application page lands on the 办理 card, where the 入户调查 form is
    response = client.post(_url("dibao_transition", application.pk), {"name": "accept", "comment": ""})
    assert (
        response.status_code == 302 and response["Location"] == _url("dibao_detail", application.pk) + "#next"
    )
    assert _status(application) == DibaoStatus.INVESTIGATION
    page = client.get(_url("dibao_detail", application.pk)).content.decode()
    assert _url("dibao_investigation", application.pk) in page.split('id="next"')[1]
    assert client.get(_url("dibao_investigation", application.pk)).status_code == 200

    response = client.post(
        _url("dibao_investigation", application.pk),
        {
            "visit_date": timezone.localdate().isoformat(),
            "visitors": [clerk.pk, people["clerk_b"].pk],
            "findings": "入户核实，家庭情况属实。",
            "economic_check_result": "eligible",
        },
    )
    assert response.status_code == 302
    assert application.investigations.count() == 1

    start = timezone.localdate().isoformat()
    client.post(
        _url("dibao_notice", application.pk),
        {"action": "start", "start_date": start, "days": "7", "place": "公示栏"},
    )
    clock.shift(0)  # today: the 公示 has run its course (a new login: the old session has expired)
    client.force_login(clerk)
    client.post(_url("dibao_notice", application.pk), {"action": "finish"})
    assert _status(application) == DibaoStatus.STREET_REVIEW
    services.dibao_street_review(application=application, actor=people["reviewer"])
    services.dibao_approve(application=application, actor=people["chief"])

    client.force_login(people["leader"])
    response = client.get(_url("dibao_detail", application.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert "确认批准" in page and "入户核实，家庭情况属实。" in page and "公示期满无异议" in page
    # The generic case page sends the user to the application page
    response = client.get(reverse("workflow:case_detail", args=[application.pk]))
    assert response.status_code == 302 and response["Location"] == _url("dibao_detail", application.pk)


def test_list_filters_and_bounded_queries(client, people, regions, django_assert_max_num_queries):
    for _ in range(3):
        _create(household_with_members(regions["community11"], size=1), people["clerk"])
    other = _create(household_with_members(regions["community12"], size=1), people["reviewer"])
    client.force_login(people["reviewer"])
    with django_assert_max_num_queries(12):
        response = client.get(_url("dibao_list"))
    assert response.status_code == 200
    assert response.content.decode().count("badge text-bg-primary") == 4
    response = client.get(_url("dibao_list"), {"community": regions["community12"].code})
    page = response.content.decode()
    assert other.case.number in page and page.count("badge text-bg-primary") == 1
    response = client.get(_url("dibao_list"), {"status": DibaoStatus.APPROVED})
    assert "没有符合条件的记录" in response.content.decode()
    assert client.get(_url("dibao_entitlements")).status_code == 200


def test_list_export_keeps_filter_and_scope(client, people, regions):
    import io

    from openpyxl import load_workbook

    mine = _create(household_with_members(regions["community11"], size=1), people["clerk"])
    _create(household_with_members(regions["community12"], size=1), people["reviewer"])
    _create(household_with_members(regions["community21"], size=1), people["clerk21"])
    client.force_login(people["reviewer"])
    response = client.get(_url("dibao_list"), {"community": regions["community11"].code, "export": "xlsx"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][0] == "案件编号"
    assert [r[0] for r in rows[1:]] == [mine.case.number]


def test_detail_page_shows_time_limit_with_bounded_queries(
    client, people, household, django_assert_max_num_queries
):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    client.force_login(people["clerk"])
    # A fixed bound (it does not grow with members): the page assesses every category, the 财产 limits
    # included, and computes the basis a confirmation would fix (assistance.bases).
    with django_assert_max_num_queries(40):
        response = client.get(_url("dibao_detail", application.pk))
    page = response.content.decode()
    assert "受理后30个工作日内" in page


def test_database_refuses_a_second_open_application(people, household):
    from django.db import IntegrityError, transaction

    first = _create(household, people["clerk"])
    case = Case.objects.create(
        number="DB-TEST-1",
        case_type="dibao",
        applicant_name="测试",
        region=household.region,
        region_code=household.region_code,
        status=DibaoStatus.REGISTERED,
        created_by=people["clerk"],
        updated_by=people["clerk"],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AssistanceApplication.objects.create(
            case=case,
            household=household,
            region_code=household.region_code,
            applied_on=first.applied_on,
            created_by=people["clerk"],
        )


def test_chief_confirms_through_the_case_page(client, people, household, clock):
    clock.shift(-10)
    application = _create(household, people["clerk"])
    _to_street_review(application, people, clock)
    services.dibao_street_review(application=application, actor=people["reviewer"])
    client.force_login(people["chief"])
    page = client.get(_url("dibao_detail", application.pk)).content.decode()
    assert "确认批准" in page and "不予批准" in page
    response = client.post(_url("dibao_transition", application.pk), {"name": "approve", "comment": "同意"})
    assert response.status_code == 302
    assert _status(application) == DibaoStatus.APPROVED
    assert Decision.objects.get(application_id=application.pk).entitlement is not None


def test_application_documents_are_attached_to_the_case(client, people, household, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    application = _create(household, people["clerk"])
    client.force_login(people["clerk"])
    scan = SimpleUploadedFile("承诺书.pdf", b"%PDF-1.4\n% scan\n", content_type="application/pdf")
    response = client.post(
        _url("dibao_attachment_upload", application.pk), {"doc_type": "promise", "file": scan}
    )
    assert response.status_code == 302
    page = client.get(_url("dibao_detail", application.pk)).content.decode()
    assert "承诺书.pdf" in page
    client.force_login(people["clerk21"])
    assert client.get(_url("dibao_attachment_upload", application.pk)).status_code == 404


# --- the flow on the case-flow kit ------------------------------------------------------------------------


def _household_960(region):
    """Urban standard 600; head aged 45 earning 300, a child aged 10: (600 − 150) × 2 + 10 % × 600 = 960."""
    from decimal import Decimal

    from core.registry.choices import IncomeKind, Relation
    from core.registry.models import IncomeRecord, Membership
    from tests.factories import HouseholdFactory, PersonFactory

    today = timezone.localdate()
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    head = PersonFactory(
        household=household, relation=Relation.HEAD, birth_date=today.replace(year=today.year - 45, day=1)
    )
    child = PersonFactory(
        household=household, relation=Relation.CHILD, birth_date=today.replace(year=today.year - 10, day=1)
    )
    for person in (head, child):
        Membership.objects.create(
            person=person, household=household, relation=person.relation, joined_on=D(2020, 1, 1)
        )
    household.head = head
    household.save(update_fields=["head"])
    IncomeRecord.objects.create(
        household=household,
        person=head,
        kind=IncomeKind.WAGE,
        monthly_amount=Decimal("300"),
        period_start=D(2020, 1, 1),
    )
    return household


def _proposal(client, application) -> str:
    page = client.get(_url("dibao_detail", application.pk)).content.decode()
    if 'id="proposal"' not in page:
        return ""
    return page.split('id="proposal"')[1].split('id="next"')[0]


def test_proposed_amount_shown_at_investigation_review_and_approval(client, people, regions, clock):
    household = _household_960(regions["community11"])
    clerk = people["clerk"]
    with clock.days_ago(10):
        application = _create(household, clerk)
        client.force_login(clerk)
        assert _proposal(client, application) == ""  # nothing proposed before 受理
        services.dibao_application_accept(application=application, actor=clerk)
        # At the investigation: the amount the calculator gives the household, step by step
        card = _proposal(client, application)
        assert "¥960.00" in card and "补差" in card and "分类施保" in card
        _investigate(application, people)
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    services.dibao_notice_finish(application=application, actor=clerk)

    client.force_login(people["reviewer"])
    assert "¥960.00" in _proposal(client, application)  # at the street review
    services.dibao_street_review(application=application, actor=people["reviewer"])
    client.force_login(people["chief"])
    assert "¥960.00" in _proposal(client, application)  # at the 科长's confirmation

    # The confirmation grants what was proposed; a closed case proposes nothing
    response = client.post(_url("dibao_transition", application.pk), {"name": "approve", "comment": "同意"})
    assert response.status_code == 302
    assert str(Decision.objects.get(application_id=application.pk).monthly_amount) == "960.00"
    assert _proposal(client, application) == ""


def test_send_back_belongs_to_the_step_role(client, people, household, clock):
    clerk = people["clerk"]
    back = {"name": "send_back", "comment": "收入材料不全，请补充调查"}
    with clock.days_ago(20):
        application = _create(household, clerk)
        services.dibao_application_accept(application=application, actor=clerk)
        _investigate(application, people)
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    with clock.days_ago(10):
        services.dibao_notice_finish(application=application, actor=clerk)

        # At the street review the 科长 cannot send the case back, and the page says why
        client.force_login(people["chief"])
        page = client.get(_url("dibao_detail", application.pk)).content.decode()
        panel = page.split('id="next"')[1]
        assert "退回重新调查</button>" in panel and "disabled" in panel
        client.post(_url("dibao_transition", application.pk), back)
        assert _status(application) == DibaoStatus.STREET_REVIEW

        # The street reviewer can, and the case goes back to the investigation
        client.force_login(people["reviewer"])
        response = client.post(_url("dibao_transition", application.pk), back)
        assert response["Location"] == _url("dibao_detail", application.pk) + "#next"
        assert _status(application) == DibaoStatus.INVESTIGATION
        log = TransitionLog.objects.filter(case_id=application.pk).latest("at", "id")
        assert log.transition == "send_back"

        _investigate(application, people, findings="补充调查：经营性收入已停止。")
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    services.dibao_notice_finish(application=application, actor=clerk)
    services.dibao_street_review(application=application, actor=people["reviewer"])

    # At the 科长's confirmation it is the 科长's (chief_send_back), not the street reviewer's
    chief_back = {"name": "chief_send_back", "comment": "请核实经营性收入"}
    client.force_login(people["reviewer"])
    client.post(_url("dibao_transition", application.pk), chief_back)
    assert _status(application) == DibaoStatus.CHIEF_CONFIRMATION
    client.force_login(people["chief"])
    client.post(_url("dibao_transition", application.pk), chief_back)
    assert _status(application) == DibaoStatus.INVESTIGATION
    log = TransitionLog.objects.filter(case_id=application.pk).latest("at", "id")
    assert (log.transition, log.comment) == ("chief_send_back", "请核实经营性收入")


def test_notice_moves_are_not_taken_through_the_action_panel(client, people, household):
    application = _create(household, people["clerk"])
    services.dibao_application_accept(application=application, actor=people["clerk"])
    _investigate(application, people)
    client.force_login(people["clerk"])
    response = client.post(_url("dibao_transition", application.pk), {"name": "publicize", "comment": ""})
    assert response.status_code == 302
    assert _status(application) == DibaoStatus.INVESTIGATION  # no 公示 opened, no move
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("公示" in m for m in messages)


def test_entitlement_list_filters_and_exports_in_scope(client, people, regions):
    import io

    from openpyxl import load_workbook

    dibao = BenefitType.objects.get(code="dibao")

    def entitlement(region, head_name):
        household = household_with_members(regions[region], size=1)
        household.head.name = head_name
        household.head.save(update_fields=["name"])
        return Entitlement.objects.create(
            benefit_type=dibao,
            household=household,
            region_code=household.region_code,
            area_type=household.area_type,
            start_month=D(2026, 1, 1),
        )

    mine = entitlement("community11", '=HYPERLINK("http://x","点我")')
    other = entitlement("community12", "王其他")
    entitlement("community21", "赵外街")
    client.force_login(people["reviewer"])
    page = client.get(_url("dibao_entitlements")).content.decode()
    assert mine.household.number in page and other.household.number in page
    assert "赵外街" not in page  # another street's
    page = client.get(_url("dibao_entitlements"), {"community": regions["community11"].code}).content.decode()
    assert mine.household.number in page and other.household.number not in page
    page = client.get(_url("dibao_entitlements"), {"q": "王其他"}).content.decode()
    assert other.household.number in page and mine.household.number not in page

    response = client.get(
        _url("dibao_entitlements"), {"community": regions["community11"].code, "export": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("户编号", "户主")
    assert [r[0] for r in rows[1:]] == [mine.household.number]
    assert sheet.cell(row=2, column=2).data_type == "s"  # the formula-looking name stays text

"""临时救助 (flow 4; 国发〔2014〕47号, 民发〔2018〕23号): the amount is decided in 元 to the fen (a multiple of the
monthly urban 低保 standard, 600 in the demo, only helps fill it), decided by the township up to its limit
(急难 ≤ 1,000 元, 支出 ≤ 6 × 600 = 3,600 元) and by the district one fen above; the cap is the Parameter
temp.max_standard_multiple × the standard; once per person and cause per year; 先行救助; a one-off line in the month's one-off run."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistance.models import TempAssistanceCase
from assistance.temporary import services
from assistance.temporary.case_types import TempStatus
from core.benefits.models import BenefitType, Entitlement, Parameter, PaymentLine, PaymentRun, Standard
from core.benefits.months import month_start
from core.benefits.services import payment_run_lock
from core.workflow.calendar import add_working_days
from core.workflow.models import Case, TransitionLog
from core.workflow.services import TransitionError
from reports.payment_roster import roster_lines
from tests.factories import household_with_members

TOWNSHIP = TempAssistanceCase.Level.TOWNSHIP
DISTRICT = TempAssistanceCase.Level.DISTRICT


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer_b": make_user("街道审核员", region="street1"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
        "admin": make_user("系统管理员", region="district"),
    }


@pytest.fixture
def person(regions):
    return household_with_members(regions["community11"], size=2).head


def _create(person, actor, **kwargs):
    data = {"kind": "emergency", "cause": "fire", "cause_detail": "住房失火，衣物被褥等生活用品全部烧毁。"}
    return services.temp_case_create(person=person, actor=actor, **{**data, **kwargs})


def _status(temp) -> str:
    return Case.objects.get(pk=temp.pk).status


def _move(temp, name, actor, comment=""):
    return services.temp_transition(temp=temp, name=name, actor=actor, comment=comment)


def _propose(temp, actor, multiple):
    return services.temp_proposal_record(
        temp=temp, actor=actor, standard_multiple=multiple, findings="经入户核实，家中无其他收入来源。"
    )


def _propose_amount(temp, actor, amount):
    return services.temp_proposal_record(
        temp=temp, actor=actor, amount=amount, findings="经入户核实，家中无其他收入来源。"
    )


def _accept_and_propose(temp, people, multiple):
    _move(temp, "accept", people["clerk"])
    return _propose(temp, people["clerk"], multiple)


@pytest.mark.parametrize(
    ("kind", "cause", "multiple", "amount", "level"),
    [
        ("emergency", "fire", "1.5", "900.00", TOWNSHIP),
        ("emergency", "accident", "1.66", "996.00", TOWNSHIP),
        ("emergency", "sudden_illness", "1.67", "1002.00", DISTRICT),
        ("expense", "medical", "6", "3600.00", TOWNSHIP),
        ("expense", "education", "6.01", "3606.00", DISTRICT),
    ],
)
def test_amount_and_approval_level(people, person, kind, cause, multiple, amount, level):
    temp = _create(person, people["clerk"], kind=kind, cause=cause)
    proposal = _accept_and_propose(temp, people, multiple)
    temp.refresh_from_db()
    assert proposal.standard == Decimal("600")
    assert temp.proposed_amount == Decimal(amount)
    assert temp.approval_level == level
    assert "600.00" in proposal.explanation and amount.split(".")[0] in proposal.explanation.replace(",", "")


def test_amount_from_a_multiple_uses_the_standard_in_force_to_the_fen(people, person):
    # A new urban standard of 612.50 from yesterday: 1.5 × 612.50 = 918.75 元 — to the fen (issue 13
    # item 5: 临时救助 is decided and paid in 元 to the fen; it was rounded to 919 元 before);
    # the 支出型 township limit follows it: 6 × 612.50 = 3,675
    dibao = BenefitType.objects.get(code="dibao")
    Standard.objects.create(
        benefit_type=dibao,
        area_type="urban",
        amount=Decimal("612.50"),
        effective_from=timezone.localdate() - datetime.timedelta(days=1),
    )
    temp = _create(person, people["clerk"])
    proposal = _accept_and_propose(temp, people, "1.5")
    assert proposal.standard == Decimal("612.50") and proposal.amount == Decimal("918.75")
    other = _create(
        household_with_members(person.household.region, size=1).head,
        people["clerk"],
        kind="expense",
        cause="medical",
    )
    proposal = _accept_and_propose(other, people, "6")
    assert proposal.amount == Decimal("3675.00") and proposal.level == TOWNSHIP
    assert proposal.limit == Decimal("3675.00")


def test_township_path_pays_once_in_a_one_off_run(people, person):
    month = month_start(timezone.localdate())
    temp = _create(person, people["clerk"])
    _accept_and_propose(temp, people, "1.5")  # 900 ≤ 1,000

    # Within the township's limit: the district path is closed
    with pytest.raises(TransitionError, match="由乡镇（街道）审批"):
        _move(temp, "submit_district", people["clerk"])
    _move(temp, "submit_township", people["clerk"])
    case = Case.objects.get(pk=temp.pk)
    assert case.status == TempStatus.TOWNSHIP_APPROVAL and case.assignee_role == "街道审核员"
    _move(temp, "township_approve", people["reviewer"], "同意救助")

    # Then: a one-month entitlement and a one-off line in this month's one-off run
    temp.refresh_from_db()
    assert temp.approved is True and temp.approved_amount == Decimal("900.00")
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert temp.decided_by == people["reviewer"] and temp.decided_at is not None
    entitlement = Entitlement.objects.get(case_id=temp.pk)
    assert entitlement.benefit_type.code == "temp_assistance"
    assert entitlement.start_month == entitlement.end_month == month
    assert entitlement.params["amount"] == "900.00"
    line = temp.payment_line
    assert line.entitlement_id == entitlement.pk and line.line_type == PaymentLine.LineType.ONE_OFF
    assert line.amount == Decimal("900.00") and line.person_id == person.pk and line.for_month == month
    run = line.run
    assert (
        run.kind == PaymentRun.Kind.ONE_OFF and run.month == month and run.status == PaymentRun.Status.DRAFT
    )
    assert run.line_count == 1 and run.total_amount == Decimal("900.00")

    # A second approval the same month joins the same run; the roster lists both
    other = household_with_members(person.household.region, size=1).head
    temp2 = _create(other, people["clerk"], kind="expense", cause="medical")
    _accept_and_propose(temp2, people, "3")
    services.temp_submit(temp=temp2, actor=people["clerk"])
    _move(temp2, "township_approve", people["reviewer"])
    run.refresh_from_db()
    assert run.line_count == 2 and run.total_amount == Decimal("2700.00")
    roster = roster_lines(people["chief"], run)
    assert roster.line_count == 2

    # Once locked, the next approval opens a new one-off run
    payment_run_lock(run=run, actor=people["chief"])
    third = household_with_members(person.household.region, size=1).head
    temp3 = _create(third, people["clerk"])
    _accept_and_propose(temp3, people, "1")
    _move(temp3, "submit_township", people["clerk"])
    _move(temp3, "township_approve", people["reviewer"])
    temp3.refresh_from_db()
    assert temp3.payment_line.run_id != run.pk
    assert temp3.payment_line.run.status == PaymentRun.Status.DRAFT


def test_district_path_above_the_limit(people, person):
    temp = _create(person, people["clerk"])
    _accept_and_propose(temp, people, "2")  # 1,200 > 1,000
    with pytest.raises(TransitionError, match="须报区民政局审批"):
        _move(temp, "submit_township", people["clerk"])
    services.temp_submit(temp=temp, actor=people["clerk"])
    case = Case.objects.get(pk=temp.pk)
    assert case.status == TempStatus.DISTRICT_APPROVAL and case.assignee_role == "科长"
    # The township cannot decide it
    with pytest.raises(TransitionError, match="权限"):
        _move(temp, "approve", people["reviewer"])
    _move(temp, "approve", people["chief"], "同意")
    temp.refresh_from_db()
    assert temp.approved and temp.payment_line.amount == Decimal("1200.00")
    # Decision within 15 working days of acceptance: every step's limit is the same deadline
    deadline = add_working_days(timezone.localdate(), 15)
    assert services.decision_deadline(temp) == deadline == case.due_date


def test_same_person_same_cause_same_year_is_refused_with_earlier_case(people, person):
    first = _create(person, people["clerk"])
    second = _create(person, people["clerk"])
    second.refresh_from_db()
    assert second.earlier_case_id == first.pk
    assert _status(second) == TempStatus.REFUSED and second.approved is False
    assert first.case.number in second.reasons and "一年内只救助一次" in second.reasons
    log = TransitionLog.objects.get(case_id=second.pk, transition="reject_duplicate")
    assert first.case.number in log.comment

    # Another cause the same year is a new case; a withdrawn case does not count
    third = _create(person, people["clerk"], cause="accident")
    assert third.earlier_case_id is None and _status(third) == TempStatus.REGISTERED
    _move(third, "withdraw", people["clerk"], "申请人撤回")
    fourth = _create(person, people["clerk"], cause="accident")
    assert fourth.earlier_case_id is None and _status(fourth) == TempStatus.REGISTERED
    # An earlier year does not count
    last_year = _create(
        household_with_members(person.household.region, size=1).head,
        people["clerk"],
        applied_on=datetime.date(timezone.localdate().year - 1, 6, 1),
    )
    assert last_year.year == timezone.localdate().year - 1


def test_advance_help_recorded_and_deducted_from_the_payment(people, person):
    today = timezone.localdate()
    temp = _create(
        person,
        people["clerk"],
        is_advance=True,
        advance_given_on=today - datetime.timedelta(days=2),
        advance_amount="500",
    )
    assert temp.is_advance and temp.advance_amount == Decimal("500")
    assert TransitionLog.objects.filter(case_id=temp.pk, transition="temp_advance").exists()
    with pytest.raises(TransitionError, match="已登记先行救助"):
        services.temp_advance_record(temp=temp, actor=people["clerk"], given_on=today, amount="100")

    _accept_and_propose(temp, people, "1.5")
    _move(temp, "submit_township", people["clerk"])
    _move(temp, "township_approve", people["reviewer"])
    temp.refresh_from_db()
    assert temp.approved_amount == Decimal("900.00")
    assert temp.payment_line.amount == Decimal("400.00")
    assert any("先行救助" in step[0] for step in temp.payment_line.explanation["steps"])

    # Recorded later on an open case; bad input changes nothing
    other = _create(household_with_members(person.household.region, size=1).head, people["clerk"])
    for amount in ("-100", "0", ""):
        with pytest.raises(ValidationError, match="先行救助金额"):
            services.temp_advance_record(temp=other, actor=people["clerk"], given_on=today, amount=amount)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.temp_advance_record(
            temp=other, actor=people["clerk"], given_on=today + datetime.timedelta(days=1), amount="100"
        )
    other.refresh_from_db()
    assert not other.is_advance and other.advance_amount is None
    services.temp_advance_record(temp=other, actor=people["clerk"], given_on=today, amount="300")
    other.refresh_from_db()
    assert other.is_advance and other.advance_amount == Decimal("300.00")


def test_maker_checker_at_the_township(people, person):
    temp = _create(person, people["clerk"])
    _move(temp, "accept", people["clerk"])
    _propose(temp, people["reviewer"], "1")  # the street reviewer enters the proposal…
    _move(temp, "submit_township", people["clerk"])
    with pytest.raises(TransitionError, match="审批分离"):
        _move(temp, "township_approve", people["reviewer"])  # …so may not approve it
    assert _status(temp) == TempStatus.TOWNSHIP_APPROVAL
    assert not Entitlement.objects.filter(case_id=temp.pk).exists()
    _move(temp, "township_approve", people["reviewer_b"])
    assert _status(temp) == TempStatus.APPROVED


def test_bad_input_changes_nothing(people, person):
    before = Case.objects.count()
    with pytest.raises(ValidationError) as exc:
        _create(person, people["clerk"], kind="expense", cause="fire", cause_detail=" ")
    assert exc.value.message_dict["cause"] == ["“火灾等灾害”不属于支出型临时救助"]
    assert exc.value.message_dict["cause_detail"] == ["请填写困难情况说明"]
    with pytest.raises(ValidationError, match="先行救助金额须大于0"):
        _create(
            person,
            people["clerk"],
            is_advance=True,
            advance_given_on=timezone.localdate(),
            advance_amount="-5",
        )
    with pytest.raises(ValidationError, match="不在您的数据范围内"):
        _create(person, people["clerk21"])
    assert Case.objects.count() == before

    temp = _create(person, people["clerk"])
    with pytest.raises(TransitionError, match="不能登记拟救助金额"):
        _propose(temp, people["clerk"], "1")  # not accepted yet
    _move(temp, "accept", people["clerk"])
    logs = TransitionLog.objects.filter(case_id=temp.pk).count()
    for multiple, message in (("-1", "倍数须大于0"), ("abc", "倍数格式不正确"), ("1.234", "最多两位小数")):
        with pytest.raises(ValidationError, match=message):
            _propose(temp, people["clerk"], multiple)
    with pytest.raises(ValidationError, match="请填写调查核实情况"):
        services.temp_proposal_record(temp=temp, actor=people["clerk"], standard_multiple="1", findings="")
    temp.refresh_from_db()
    assert temp.proposed_amount is None and temp.approval_level == ""
    assert TransitionLog.objects.filter(case_id=temp.pk).count() == logs
    with pytest.raises(TransitionError, match="尚未登记"):
        _move(temp, "submit_township", people["clerk"])

    # A refusal needs written reasons
    _propose(temp, people["clerk"], "1")
    _move(temp, "submit_township", people["clerk"])
    with pytest.raises(TransitionError, match="须填写意见"):
        _move(temp, "township_refuse", people["reviewer"], "")
    _move(temp, "township_refuse", people["reviewer"], "已获得保险理赔，基本生活未陷入困境")
    temp.refresh_from_db()
    assert temp.approved is False and "保险理赔" in temp.reasons
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert temp.decided_by == people["reviewer"] and temp.decided_at is not None
    assert not Entitlement.objects.filter(case_id=temp.pk).exists()


# --- views ----------------------------------------------------------------------------------------


def test_views_flow_list_export_and_scope(client, people, person):
    client.force_login(people["clerk"])
    create = reverse("assistance:temp_create")
    assert client.get(create).status_code == 200
    assert client.get(create, {"household": person.household_id}).status_code == 200
    data = {
        "person": person.pk,
        "kind": "emergency",
        "cause": "fire",
        "applied_on": timezone.localdate().isoformat(),
        "cause_detail": "住房失火",
    }
    bad = client.post(f"{create}?person={person.pk}", {**data, "cause": "medical"})
    assert bad.status_code == 400 and "不属于急难型" in bad.content.decode()
    assert client.post(f"{create}?person={person.pk}", data).status_code == 302
    temp = TempAssistanceCase.objects.get(person=person)
    transition = reverse("assistance:temp_transition", args=[temp.pk])
    client.post(transition, {"name": "accept"})
    proposal = reverse("assistance:temp_proposal", args=[temp.pk])
    assert client.get(proposal).status_code == 200
    bad = client.post(proposal, {"standard_multiple": "-2", "findings": "核实"})
    assert bad.status_code == 400 and "倍数须大于0" in bad.content.decode()
    assert client.post(proposal, {"standard_multiple": "1", "findings": "核实属实"}).status_code == 302
    advance = reverse("assistance:temp_advance", args=[temp.pk])
    bad = client.post(advance, {"given_on": timezone.localdate().isoformat(), "amount": "-1"})
    assert bad.status_code == 400 and "先行救助金额须大于0" in bad.content.decode()
    client.post(transition, {"name": "submit_township"})
    assert _status(temp) == TempStatus.TOWNSHIP_APPROVAL

    client.force_login(people["reviewer"])
    page = client.get(reverse("assistance:temp_detail", args=[temp.pk])).content.decode()
    assert "乡镇（街道）审批同意" in page
    client.post(transition, {"name": "township_approve"})
    assert _status(temp) == TempStatus.APPROVED
    page = client.get(reverse("assistance:temp_detail", args=[temp.pk])).content.decode()
    assert "批准救助" in page and "一次性发放" in page

    url = reverse("assistance:temp_list")
    listing = client.get(url, {"kind": "emergency", "approval_level": "township"}).content.decode()
    assert temp.case.number in listing
    assert temp.case.number not in client.get(url, {"kind": "expense"}).content.decode()
    export = client.get(url, {"kind": "emergency", "export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")

    detail = reverse("assistance:temp_detail", args=[temp.pk])
    # The generic case page sends the user to the flow's own page, where every step's form is.
    case_page = client.get(reverse("workflow:case_detail", args=[temp.pk]))
    assert case_page.status_code == 302 and case_page["Location"] == detail
    client.force_login(people["clerk"])
    household_page = client.get(
        reverse("registry:household_detail", args=[person.household_id])
    ).content.decode()
    assert f"{reverse('assistance:temp_create')}?household=" in household_page

    # Out of scope: 404; no permission: 403
    client.force_login(people["clerk21"])
    assert client.get(detail).status_code == 404
    assert client.post(transition, {"name": "withdraw", "comment": "x"}).status_code == 404
    client.force_login(people["admin"])
    assert client.get(detail).status_code == 403
    assert client.get(url).status_code == 403


def test_detail_page_guides_each_step(client, people, person):
    """After each action the caseworker lands on the case page at the next step: the form buttons of the
    step, the proposed amount with how it was found, and every refused action with its reason."""
    client.force_login(people["clerk"])
    create = reverse("assistance:temp_create")
    data = {
        "person": person.pk,
        "kind": "emergency",
        "cause": "fire",
        "applied_on": timezone.localdate().isoformat(),
        "cause_detail": "住房失火",
    }
    response = client.post(f"{create}?person={person.pk}", data)
    temp = TempAssistanceCase.objects.get(person=person)
    detail = reverse("assistance:temp_detail", args=[temp.pk])
    assert response["Location"] == f"{detail}#next"
    transition = reverse("assistance:temp_transition", args=[temp.pk])
    client.post(transition, {"name": "accept"})

    # Before the proposal: the step is offered, 报批 is shown disabled with the reason
    page = client.get(detail).content.decode()
    assert reverse("assistance:temp_proposal", args=[temp.pk]) in page
    assert reverse("assistance:temp_advance", args=[temp.pk]) in page
    assert "disabled>报乡镇（街道）审批</button>" in page
    assert "尚未登记调查核实情况和拟救助金额" in page
    assert "同年同因不予重复救助" not in page  # taken by the create service only

    response = client.post(
        reverse("assistance:temp_proposal", args=[temp.pk]),
        {"standard_multiple": "1.5", "findings": "核实属实"},
    )
    assert response["Location"] == f"{detail}#proposal"
    response = client.post(
        reverse("assistance:temp_advance", args=[temp.pk]),
        {"given_on": timezone.localdate().isoformat(), "amount": "300"},
    )
    assert response["Location"] == f"{detail}#advance"
    page = client.get(detail).content.decode()
    # The proposal card: 600 元/月 × 1.5 = 900 元, 300 已先行救助, 600 to pay after approval
    assert "拟救助金额（一次性）" in page and "¥900.00" in page and "¥600.00/月" in page
    assert "900.00 元（约为城市低保标准 600.00 元/月的 1.5 倍）" in page
    assert "批准后另行发放" in page
    # 先行救助 is recorded once: no longer offered
    assert reverse("assistance:temp_advance", args=[temp.pk]) not in page


def test_same_cause_application_is_refused_with_a_warning(client, people, person):
    _create(person, people["clerk"])
    client.force_login(people["clerk"])
    data = {
        "person": person.pk,
        "kind": "emergency",
        "cause": "fire",
        "applied_on": timezone.localdate().isoformat(),
        "cause_detail": "再次失火",
    }
    response = client.post(f"{reverse('assistance:temp_create')}?person={person.pk}", data, follow=True)
    page = response.content.decode()
    assert "同一救助对象同一原因一年内只救助一次" in page and "alert-warning" in page
    assert "请办理受理" not in page
    assert "不予救助" in page  # the decision block with the written reasons


def test_export_writes_formula_looking_names_as_text(client, people, person):
    from io import BytesIO

    from openpyxl import load_workbook

    person.name = '=HYPERLINK("http://x","点我")'
    person.save(update_fields=["name"])
    temp = _create(
        person, people["clerk"], is_advance=True, advance_given_on=timezone.localdate(), advance_amount="200"
    )
    client.force_login(people["clerk"])
    response = client.get(reverse("assistance:temp_list"), {"export": "xlsx"})
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert "先行救助金额（元）" in header and "同年同因前次救助" in header
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert temp.case.number in [c.value for c in cells]
    assert person.name in [c.value for c in cells]


def test_list_query_count_does_not_grow_with_rows(client, people, person):
    client.force_login(people["clerk"])
    url = reverse("assistance:temp_list")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _create(household_with_members(person.household.region, size=1).head, people["clerk"])
    one = count()
    for _ in range(4):
        _create(household_with_members(person.household.region, size=1).head, people["clerk"])
    assert count() == one <= 12


# --- amounts in 元 to the fen (issue 13 item 5) --------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cause", "amount", "level"),
    [
        ("emergency", "fire", "1000.00", TOWNSHIP),  # at the 急难型 limit 1,000 元
        ("emergency", "fire", "1000.01", DISTRICT),  # one fen above
        ("expense", "medical", "3600.00", TOWNSHIP),  # at 6 × 600 = 3,600 元
        ("expense", "medical", "3600.01", DISTRICT),
    ],
)
def test_level_follows_the_decided_amount_at_the_limit(people, person, kind, cause, amount, level):
    temp = _create(person, people["clerk"], kind=kind, cause=cause)
    _move(temp, "accept", people["clerk"])
    proposal = _propose_amount(temp, people["clerk"], amount)
    temp.refresh_from_db()
    assert temp.proposed_amount == Decimal(amount) and temp.approval_level == level
    assert proposal.level == level
    # …and the case goes to that level only
    services.temp_submit(temp=temp, actor=people["clerk"])
    expected = TempStatus.TOWNSHIP_APPROVAL if level == TOWNSHIP else TempStatus.DISTRICT_APPROVAL
    assert _status(temp) == expected


def test_an_amount_with_fen_is_decided_and_paid_to_the_fen(people, person):
    temp = _create(person, people["clerk"])
    _move(temp, "accept", people["clerk"])
    proposal = _propose_amount(temp, people["clerk"], "987.65")
    # 987.65 ÷ 600 = 1.646… → shown as about 1.65 × the standard, never used to decide
    assert proposal.amount == Decimal("987.65") and proposal.multiple == Decimal("1.65")
    assert "987.65 元（约为城市低保标准 600.00 元/月的 1.65 倍）" in proposal.explanation
    _move(temp, "submit_township", people["clerk"])
    _move(temp, "township_approve", people["reviewer"], "同意")
    temp.refresh_from_db()
    assert temp.approved_amount == Decimal("987.65")
    assert temp.payment_line.amount == Decimal("987.65")
    assert Entitlement.objects.get(case_id=temp.pk).params["amount"] == "987.65"
    assert temp.payment_line.run.total_amount == Decimal("987.65")


def test_the_amount_wins_over_the_multiple_and_one_is_needed(people, person):
    temp = _create(person, people["clerk"])
    _move(temp, "accept", people["clerk"])
    with pytest.raises(ValidationError) as exc:
        services.temp_proposal_record(temp=temp, actor=people["clerk"], findings="核实")
    assert "请填写拟救助金额" in exc.value.message_dict["amount"][0]
    for bad, message in (
        ("12.345", "拟救助金额最多两位小数"),
        ("0", "拟救助金额须大于0"),
        ("x", "格式不正确"),
    ):
        with pytest.raises(ValidationError, match=message):
            _propose_amount(temp, people["clerk"], bad)
    temp.refresh_from_db()
    assert temp.proposed_amount is None
    proposal = services.temp_proposal_record(
        temp=temp, actor=people["clerk"], amount="850.50", standard_multiple="3", findings="核实"
    )
    assert proposal.amount == Decimal("850.50")


def test_the_cap_is_the_parameter_on_the_decision_date(people, person):
    today = timezone.localdate()
    # Seeded: 100 × 600 = 60,000 元
    temp = _create(person, people["clerk"])
    _move(temp, "accept", people["clerk"])
    with pytest.raises(ValidationError, match="100 倍（60,000.00 元）"):
        _propose_amount(temp, people["clerk"], "60000.01")
    assert _propose_amount(temp, people["clerk"], "60000.00").level == DISTRICT

    # The bureau lowers the cap to 2 × the standard from today, and to 1 × from tomorrow: today 1,200 is
    # the cap (tomorrow's value is not read yet)
    Parameter.objects.create(
        key="temp.max_standard_multiple", name="上限", value=Decimal("2"), effective_from=today
    )
    Parameter.objects.create(
        key="temp.max_standard_multiple",
        name="上限",
        value=Decimal("1"),
        effective_from=today + datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="2 倍（1,200.00 元）"):
        _propose_amount(temp, people["clerk"], "1200.01")
    with pytest.raises(ValidationError, match="2 倍"):
        _propose(temp, people["clerk"], "2.01")  # the helper's amount is capped too
    assert _propose_amount(temp, people["clerk"], "1200.00").amount == Decimal("1200.00")
    temp.refresh_from_db()
    assert temp.proposed_amount == Decimal("1200.00")


def test_proposal_form_takes_an_amount_in_yuan(client, people, person):
    temp = _create(person, people["clerk"])
    _move(temp, "accept", people["clerk"])
    client.force_login(people["clerk"])
    url = reverse("assistance:temp_proposal", args=[temp.pk])
    page = client.get(url).content.decode()
    assert 'name="amount"' in page and 'name="standard_multiple"' in page
    assert "城市低保月标准 600.00 元/月" in page and "急难型乡镇（街道）审批上限 1,000.00 元/人" in page
    bad = client.post(url, {"amount": "1000.001", "findings": "核实"})
    assert bad.status_code == 400
    assert client.post(url, {"amount": "1000.01", "findings": "核实属实"}).status_code == 302
    temp.refresh_from_db()
    assert temp.proposed_amount == Decimal("1000.01") and temp.approval_level == DISTRICT
    page = client.get(reverse("assistance:temp_detail", args=[temp.pk])).content.decode()
    assert "¥1,000.01" in page and "约为标准的" in page


def test_a_street_recalculation_leaves_a_line_a_case_points_at(people, person):
    """A 临时救助 case keeps its payment line (PROTECT): a street's part of a monthly run whose lines include
    one a case points at is refused, and the run keeps every line it had (core.benefits.services
    `_delete_draft_lines`, by the part's line ids)."""
    from django.db.models import ProtectedError

    from core.benefits.services import payment_run_recalculate_part, payment_run_start_parts
    from tests.factories import dibao_entitlement

    # Given a month's 低保 run calculated street by street, one of whose lines a case points at
    month = month_start(timezone.localdate())
    entitlement = dibao_entitlement(person.household, month)
    dibao = entitlement.benefit_type
    run, parts = payment_run_start_parts(benefit_type=dibao, month=month)
    for part in parts:
        payment_run_recalculate_part(run_id=run.pk, part=part)
    line = PaymentLine.objects.get(run=run, entitlement=entitlement)
    before = sorted(PaymentLine.objects.filter(run=run).values_list("pk", "amount"))
    temp = _create(person, people["clerk"])
    TempAssistanceCase.objects.filter(pk=temp.pk).update(payment_line=line)
    (street,) = [part for part in parts if any(person.household.region_code.startswith(s) for s in part)]

    # When that street is recalculated again, then the reference stops it and nothing is deleted
    with pytest.raises(ProtectedError):
        payment_run_recalculate_part(run_id=run.pk, part=street)
    assert sorted(PaymentLine.objects.filter(run=run).values_list("pk", "amount")) == before
    temp.refresh_from_db()
    assert temp.payment_line_id == line.pk

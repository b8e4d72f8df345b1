"""Issue 13 item 9 — a 特困 person's life after approval (assistance/tekun/lifecycle.py, 民发〔2021〕43号):
care-tier re-assessment on a change (10 working days, new tier from the next month by decision), the yearly
review, termination by decision for each legal reason with its printed 终止决定书, minors re-judged at 16
and 18 (the 年满18周岁 life event now has a subscriber), 集中供养 in a facility of the register paid to the
institution, and the care agreement of 分散供养."""

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

from assistance.models import (
    SupportMode,
    TekunCareAgreement,
    TekunTask,
    TekunTaskKind,
    TekunTaskOutcome,
    TekunTermination,
    TekunTerminationReason,
)
from assistance.tekun import lifecycle, services
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standard_in_force
from core.benefits.services import payment_run_recalculate
from core.facilities.models import Facility, FacilityKind
from core.registry.choices import AssessmentKind, Relation, SelfCare
from core.registry.facts import assessment_record
from core.registry.services import life_events_detect_birthdays
from core.workflow.calendar import add_working_days
from core.workflow.services import TransitionError
from reports.payment_roster import ROW_FIELDS, roster_queryset
from tests.factories import PersonFactory, household_with_members

ALL_CAN = {"eat": True, "dress": True, "bed": True, "toilet": True, "walk": True, "bathe": True}


def _items(impossible: int) -> dict[str, bool]:
    return {k: i >= impossible for i, k in enumerate(ALL_CAN)}


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street2"),
        "chief": make_user("科长", region="district"),
        "clerk22": make_user("社区经办人", region="community22"),
    }


def _person(household, *, age: int, relation: str = Relation.OTHER, **kwargs):
    birth = datetime.date(timezone.localdate().year - age, 1, 1)
    return PersonFactory(household=household, relation=relation, birth_date=birth, **kwargs)


def _supported(people, person, clock, *, mode=SupportMode.DISPERSED, facility=None, items=None):
    """The 特困 flow to approval: 受理, 调查核实, 公示 (adults; ten days ago) or straight to confirmation
    (minors), 科长确认. Returns the approved application."""
    clerk, reviewer, chief = people["clerk"], people["reviewer"], people["chief"]
    clock.shift(-10)
    application = services.tekun_application_create(
        person=person, actor=clerk, promise_signed=True, authorisation_signed=True
    )
    services.tekun_transition(application=application, name="accept", actor=clerk)
    services.tekun_investigation_record(
        application=application,
        actor=reviewer,
        investigated_on=timezone.localdate(),
        unable_to_work_reason="未满16周岁" if application.is_minor else "年满60周岁",
        no_income_source=True,
        no_supporter=True,
        self_care_items=items or ALL_CAN,
        support_mode=mode,
        facility=facility,
        findings="无收入，无法定义务人。",
    )
    if application.is_minor:
        clock.shift(0)
        services.tekun_transition(application=application, name="submit_minor", actor=reviewer)
    else:
        services.tekun_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
        clock.shift(0)
        services.tekun_notice_finish(application=application, actor=clerk)
    services.tekun_transition(application=application, name="approve", actor=chief, comment="符合条件")
    application.refresh_from_db()
    assert application.approved is True
    return application


@pytest.fixture
def elder(regions):
    return _person(household_with_members(regions["community11"], size=1), age=70)


def _line(code: str, month: datetime.date, entitlement) -> PaymentLine | None:
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=month)
    return PaymentLine.objects.filter(run=run, entitlement=entitlement, line_type="regular").first()


# -- 1. care-tier re-assessment -------------------------------------------------------------------------


def test_reported_change_reassessed_within_ten_working_days_changes_tier_from_next_month(
    client, people, elder, clock
):
    application = _supported(people, elder, clock)
    care = application.care_entitlement
    next_month = add_months(month_start(timezone.localdate()), 1)
    clerk = people["clerk"]

    # Bad input: Chinese errors, nothing saved
    with pytest.raises(ValidationError) as exc:
        lifecycle.tekun_reassessment_open(application=application, actor=clerk, reason="  ")
    assert exc.value.message_dict["reason"] == ["请填写变化情况"]
    assert not TekunTask.objects.exists()

    task = lifecycle.tekun_reassessment_open(application=application, actor=clerk, reason="中风后卧床")
    today = timezone.localdate()
    assert task.kind == TekunTaskKind.REASSESSMENT and task.is_open
    assert task.due_on == add_working_days(today, 10)
    with pytest.raises(ValidationError, match="已有正在办理的生活自理能力重新评估"):
        lifecycle.tekun_reassessment_open(application=application, actor=clerk, reason="再次报告")

    # Overdue shown on the to-do list once its limit has passed
    client.force_login(clerk)
    url = reverse("assistance:tekun_tasks_list")
    assert elder.name not in client.get(url, {"state": "overdue"}).content.decode()
    clock.shift(20)
    client.force_login(clerk)  # the session idled out over the 20 days
    page = client.get(url, {"state": "overdue"}).content.decode()
    assert elder.name in page and "已超期" in page
    clock.shift(0)

    # Five of six items impossible: 全护理 from the next month, by decision (dated, not the approval's tier)
    with pytest.raises(ValidationError) as exc:
        lifecycle.tekun_reassessment_record(
            task=task, actor=clerk, assessed_on=today, self_care_items={"eat": False}, finding=""
        )
    assert "须填写全部六项" in exc.value.message_dict["self_care_items"][0]
    assert "finding" in exc.value.message_dict
    task.refresh_from_db()
    assert task.is_open
    result = lifecycle.tekun_reassessment_record(
        task=task, actor=clerk, assessed_on=today, self_care_items=_items(5), finding="入户评估"
    )
    assert (result.previous, result.tier, result.from_month) == ("全自理", "全护理", next_month)
    assert "优先安排集中供养" in result.warning
    care.refresh_from_db()
    assert care.params["tier"] == "全自理"  # the approval's tier is kept
    assert care.params["tiers"] == [
        {"from": next_month.isoformat(), "tier": "全护理", "case": application.case.number, "task": task.pk}
    ]
    task.refresh_from_db()
    assert not task.is_open and task.outcome == TekunTaskOutcome.TIER_CHANGED

    line = _line("tekun_care", next_month, care)
    full_care = standard_in_force(care.benefit_type, care.area_type, "全护理", next_month).amount
    assert line.amount == full_care and line.amount != Decimal("0")
    assert "全护理" in line.explanation["change_cause"]
    # The month after: still 全护理, no change flagged
    later = _line("tekun_care", add_months(next_month, 1), care)
    assert later.amount == full_care and "change_cause" not in later.explanation


def test_registry_assessment_that_disagrees_opens_a_reassessment(people, elder, clock):
    application = _supported(people, elder, clock)
    today = timezone.localdate()
    assert lifecycle.tekun_care_changes_detect(on_date=today, actor=people["clerk"]) == []
    assessment_record(
        person=elder,
        kind=AssessmentKind.TEKUN_SELF_CARE,
        level=SelfCare.PARTIAL,
        assessor="张评估",
        assessor_org="区评估中心",
        assessed_on=today,
        actor=people["clerk"],
    )
    opened = lifecycle.tekun_care_changes_detect(on_date=today, actor=people["clerk"])
    assert [t.application_id for t in opened] == [application.pk]
    assert "半护理" in opened[0].reason and opened[0].due_on == add_working_days(today, 10)
    # Idempotent; out of scope sees nothing
    assert lifecycle.tekun_care_changes_detect(on_date=today, actor=people["clerk"]) == []
    assert lifecycle.tekun_care_changes_detect(on_date=today, actor=people["clerk22"]) == []


# -- 2. yearly review ----------------------------------------------------------------------------------


def test_yearly_review_due_list_opens_once_and_restarts_from_the_review(client, people, elder, clock):
    application = _supported(people, elder, clock)
    clerk = people["clerk"]
    assert lifecycle.tekun_reviews_due(clerk, timezone.localdate()) == []

    clock.shift(380)  # a year after the first month paid
    today = timezone.localdate()
    client.force_login(clerk)
    due = lifecycle.tekun_reviews_due(clerk, today)
    assert [d.application_id for d in due] == [application.pk]
    assert lifecycle.tekun_reviews_due(people["reviewer2"], today) == []  # another street

    client.force_login(clerk)
    page = client.get(reverse("assistance:tekun_schedule")).content.decode()
    assert elder.name in page and "已到期" in page
    client.post(reverse("assistance:tekun_schedule"), {"action": "reviews"})
    task = TekunTask.objects.get(kind=TekunTaskKind.YEARLY_REVIEW)
    assert task.application_id == application.pk and task.is_open
    assert lifecycle.tekun_reviews_open(actor=clerk, on_date=today) == []  # idempotent
    assert lifecycle.tekun_reviews_due(clerk, today) == []

    # The record page: scope (404 in another street), Chinese errors, then the review concluded
    url = reverse("assistance:tekun_task_detail", args=[task.pk])
    client.force_login(people["reviewer2"])
    assert client.get(url).status_code == 404
    client.force_login(clerk)
    bad = client.post(url, {"reviewed_on": today.isoformat(), "finding": ""})
    assert bad.status_code == 400 and "请填写复核情况" in bad.content.decode()
    task.refresh_from_db()
    assert task.is_open
    assert (
        client.post(url, {"reviewed_on": today.isoformat(), "finding": "仍无收入，继续供养"}).status_code
        == 302
    )
    task.refresh_from_db()
    assert not task.is_open and task.outcome == TekunTaskOutcome.CONTINUED
    # Next review a year after this one
    assert lifecycle.tekun_reviews_due(clerk, today) == []
    clock.shift(380 + 370)
    assert [d.application_id for d in lifecycle.tekun_reviews_due(clerk, timezone.localdate())] == [
        application.pk
    ]


# -- 3. termination by decision ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason", [r for r in TekunTerminationReason.values if r != TekunTerminationReason.MINOR_AGE]
)
def test_termination_for_each_reason_ends_both_entitlements(people, elder, clock, reason):
    application = _supported(people, elder, clock)
    start = application.start_month
    effective = add_months(start, 1)
    termination = lifecycle.tekun_terminate(
        application=application,
        actor=people["chief"],
        reason=reason,
        details="经入户核实。",
        effective_month=effective,
    )
    assert termination.number.startswith("TKZZ")
    for entitlement in (application.basic_entitlement, application.care_entitlement):
        entitlement.refresh_from_db()
        assert entitlement.end_month == start and entitlement.status == Entitlement.Status.ENDED
        assert TekunTerminationReason(reason).label in entitlement.end_reason
    assert _line("tekun_basic", effective, application.basic_entitlement) is None
    assert _line("tekun_basic", start, application.basic_entitlement).amount > 0


def test_termination_refusals_and_printed_decision(client, people, elder, clock, tmp_path):
    application = _supported(people, elder, clock)
    effective = add_months(application.start_month, 1)
    # Only the 科长 decides
    with pytest.raises(TransitionError, match="没有作出终止救助供养决定的权限"):
        lifecycle.tekun_terminate(
            application=application,
            actor=people["clerk"],
            reason="income",
            details="x",
            effective_month=effective,
        )
    # Bad input: every error in Chinese, nothing saved
    client.force_login(people["chief"])
    url = reverse("assistance:tekun_terminate", args=[application.pk])
    bad = client.post(
        url, {"reason": "", "details": "", "effective_month": application.start_month.strftime("%Y-%m")}
    )
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "请选择终止原因" in text and "请填写终止理由" in text and "终止月份应晚于起始发放月份" in text
    assert not TekunTermination.objects.exists()
    application.basic_entitlement.refresh_from_db()
    assert application.basic_entitlement.end_month is None

    response = client.post(
        url,
        {
            "reason": "income",
            "details": "其子女就业后月收入6000元，具备赡养能力，家庭收入超过特困供养标准。",
            "effective_month": effective.strftime("%Y-%m"),
        },
    )
    assert response.status_code == 302
    termination = TekunTermination.objects.get(application=application)
    with pytest.raises(TransitionError, match="已终止"):
        lifecycle.tekun_terminate(
            application=application,
            actor=people["chief"],
            reason="death",
            details="x",
            effective_month=effective,
        )
    # The 终止 link opened again (back button, a second tab): the decision, not a form refused on submit
    again = client.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith(
        reverse("assistance:tekun_detail", args=[application.pk]) + "#lifecycle"
    )
    again_text = again.content.decode()
    assert termination.number in again_text and "打印终止决定书" in again_text
    assert "作出终止决定" not in again_text
    stale = client.post(
        url, {"reason": "death", "details": "x", "effective_month": effective.strftime("%Y-%m")}
    )
    assert stale.status_code == 302 and TekunTermination.objects.filter(application=application).count() == 1

    # The 终止决定书: reasons, month, appeal rights, Chinese with embedded CJK fonts
    client.force_login(people["clerk"])
    pdf = client.get(reverse("assistance:tekun_termination_pdf", args=[application.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).replace(
        "\n", ""
    )
    for expected in (
        "特困人员终止救助供养决定书",
        termination.number,
        elder.name,
        "收入和财产状况不再符合特困人员认定条件",
        "具备赡养能力",
        f"{effective.year}年{effective.month}月",
        "行政复议",
        "行政诉讼",
    ):
        assert expected in words, expected
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    path = tmp_path / "termination.pdf"
    path.write_bytes(pdf.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto" in line and "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)
    # Another street: 404
    client.force_login(people["reviewer2"])
    assert client.get(reverse("assistance:tekun_termination_pdf", args=[application.pk])).status_code == 404


# -- 4. minors re-judged at 16 and 18 ------------------------------------------------------------------


def test_minor_rejudged_at_16_and_at_18_through_the_life_event(people, regions, clock):
    household = household_with_members(regions["community11"], size=2)
    child = _person(household, age=15, relation=Relation.CHILD)
    application = _supported(people, child, clock, mode=SupportMode.CENTRALISED, facility=_facility(regions))
    assert application.is_minor
    clerk = people["clerk"]
    birth = child.birth_date
    assert lifecycle.tekun_minors_detect(on_date=timezone.localdate(), actor=clerk) == []

    # 16: tekun.minor_age — no longer unable to work by age: a re-judgement, support continues to 18
    sixteen = datetime.date(birth.year + 16, 1, 1)
    clock.shift((sixteen - timezone.localdate()).days + 3)
    opened = lifecycle.tekun_minors_detect(on_date=timezone.localdate(), actor=clerk)
    assert len(opened) == 1 and opened[0].data == {"age": 16} and "年满16周岁" in opened[0].reason
    assert lifecycle.tekun_minors_detect(on_date=timezone.localdate(), actor=clerk) == []
    lifecycle.tekun_rejudgement_record(task=opened[0], actor=clerk, in_school=False, finding="初中在读")
    opened[0].refresh_from_db()
    assert opened[0].outcome == TekunTaskOutcome.CONTINUED
    assert lifecycle.tekun_minors_detect(on_date=timezone.localdate(), actor=clerk) == []
    # Terminating as "年满18周岁" before 18 is refused
    with pytest.raises(ValidationError, match="未满18周岁"):
        lifecycle.tekun_terminate(
            application=application,
            actor=people["chief"],
            reason=TekunTerminationReason.MINOR_AGE,
            details="x",
            effective_month=add_months(month_start(timezone.localdate()), 1),
        )

    # 18: the registry's birthday detector publishes 年满18周岁; the subscriber opens the re-judgement
    eighteen = datetime.date(birth.year + 18, 1, 1)
    clock.shift((eighteen - timezone.localdate()).days + clock.offset.days + 2)
    today = timezone.localdate()
    life_events_detect_birthdays(on_date=today)
    task = TekunTask.objects.get(application=application, kind=TekunTaskKind.MINOR_REJUDGEMENT, is_open=True)
    assert task.data == {"age": 18} and "年满18周岁" in task.reason
    # Not in school: refused here, to be terminated by decision
    with pytest.raises(ValidationError) as exc:
        lifecycle.tekun_rejudgement_record(task=task, actor=clerk, in_school=False, finding="已辍学")
    assert "请办理终止" in exc.value.message_dict["in_school"][0]
    # In school: proof and a date within tekun.school_continue_months (12)
    with pytest.raises(ValidationError) as exc:
        lifecycle.tekun_rejudgement_record(
            task=task,
            actor=clerk,
            in_school=True,
            school_proof="",
            school_until=today + datetime.timedelta(days=500),
            finding="高中在读",
        )
    assert set(exc.value.message_dict) == {"school_proof", "school_until"}
    until = today + datetime.timedelta(days=200)
    lifecycle.tekun_rejudgement_record(
        task=task,
        actor=clerk,
        in_school=True,
        school_proof="区第一高级中学高三在读证明",
        school_until=until,
        finding="高中在读",
    )
    task.refresh_from_db()
    assert (
        task.outcome == TekunTaskOutcome.CONTINUED_SCHOOL and task.data["school_until"] == until.isoformat()
    )
    # When the school continuation runs out: re-judged again
    clock.shift(clock.offset.days + 201)
    again = lifecycle.tekun_minors_detect(on_date=timezone.localdate(), actor=clerk)
    assert len(again) == 1 and "期满" in again[0].reason


# -- 5. 集中供养 in a facility, paid to the institution --------------------------------------------------


def _facility(regions, name="东昌区特困人员供养服务中心"):
    return Facility.objects.create(
        kind=FacilityKind.objects.get(code="tekun_institution"),
        name=name,
        region=regions["street1"],
        region_code=regions["street1"].code,
        address="正阳街1号",
        operator_type="public",
    )


def test_centralised_support_names_a_facility_and_pays_it(people, regions, clock):
    household = household_with_members(regions["community11"], size=1)
    household.bank_account = "6222020200001234567"
    household.account_holder = "户主本人"
    household.save()
    elder = _person(household, age=75)
    application = services.tekun_application_create(
        person=elder, actor=people["clerk"], promise_signed=True, authorisation_signed=True
    )
    services.tekun_transition(application=application, name="accept", actor=people["clerk"])
    with pytest.raises(ValidationError) as exc:
        services.tekun_investigation_record(
            application=application,
            actor=people["reviewer"],
            investigated_on=timezone.localdate(),
            unable_to_work_reason="年满60周岁",
            no_income_source=True,
            no_supporter=True,
            self_care_items=ALL_CAN,
            support_mode=SupportMode.CENTRALISED,
            facility=None,
            institution_name="随便写的敬老院",
            findings="x",
        )
    assert exc.value.message_dict["facility"] == ["集中供养须选择供养机构（服务设施登记中的机构）"]
    application.refresh_from_db()
    assert application.investigated_on is None and application.facility_id is None

    facility = _facility(regions)
    approved = _supported(
        people, _person(household, age=80), clock, mode=SupportMode.CENTRALISED, facility=facility
    )
    assert approved.facility_id == facility.pk and approved.institution_name == facility.name
    basic = approved.basic_entitlement
    assert basic.params["payee"] == facility.name and basic.params["payee_facility"] == facility.pk

    run = payment_run_recalculate(benefit_type=basic.benefit_type, month=approved.start_month)
    rows = [dict(zip(ROW_FIELDS, row, strict=True)) for row in roster_queryset(people["chief"], run)]
    row = next(r for r in rows if r["recipient_name"] == approved.person.name)
    assert row["account_holder"] == facility.name
    assert not row["bank_account"] and not row["bank_name"]  # never the household's own account
    # The care fee stays the person's own (household account)
    care_run = payment_run_recalculate(
        benefit_type=approved.care_entitlement.benefit_type, month=approved.start_month
    )
    care_rows = [dict(zip(ROW_FIELDS, r, strict=True)) for r in roster_queryset(people["chief"], care_run)]
    assert (
        next(r for r in care_rows if r["recipient_name"] == approved.person.name)["account_holder"]
        == "户主本人"
    )


# -- 6. care agreement of 分散供养 ----------------------------------------------------------------------


def test_care_agreement_recorded_listed_and_scoped(client, people, elder, regions, clock):
    application = _supported(people, elder, clock, items=_items(2))
    today = timezone.localdate()
    client.force_login(people["clerk"])
    url = reverse("assistance:tekun_care_agreement", args=[application.pk])
    data = {
        "carer_name": "李照料",
        "carer_relation": "侄子",
        "carer_phone": "13900001111",
        "services": "日常起居照料、代购生活用品、陪同就医",
        "frequency": "每日上门一次",
        "signed_on": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
    }
    bad = client.post(
        url, {**data, "carer_phone": "abc", "valid_until": (today - datetime.timedelta(days=1)).isoformat()}
    )
    text = bad.content.decode()
    assert bad.status_code == 400 and "联系电话只能包含数字" in text and "有效期不能早于签订日期" in text
    assert not TekunCareAgreement.objects.exists()
    assert client.post(url, data).status_code == 302
    agreement = TekunCareAgreement.objects.get()
    assert (agreement.carer_name, agreement.frequency, agreement.region_code) == (
        "李照料",
        "每日上门一次",
        application.region_code,
    )
    page = client.get(reverse("assistance:tekun_detail", args=[application.pk])).content.decode()
    assert "李照料" in page and "每日上门一次" in page
    listing = client.get(reverse("assistance:tekun_care_agreements_list")).content.decode()
    assert "李照料" in listing
    client.force_login(people["reviewer2"])
    assert "李照料" not in client.get(reverse("assistance:tekun_care_agreements_list")).content.decode()
    assert client.get(url).status_code in (403, 404)

    # Only for 分散供养
    centralised = _supported(
        people,
        _person(household_with_members(regions["community11"], size=1), age=82),
        clock,
        mode=SupportMode.CENTRALISED,
        facility=_facility(regions),
    )
    with pytest.raises(TransitionError, match="适用于分散供养"):
        lifecycle.tekun_care_agreement_record(
            application=centralised,
            actor=people["clerk"],
            **{**data, "signed_on": today, "valid_until": today},
        )


def test_daily_task_opens_the_due_to_dos_once(people, elder, clock):
    from assistance.tekun.tasks import tekun_daily_checks

    application = _supported(people, elder, clock)
    clock.shift(380)
    today = timezone.localdate().isoformat()
    assert tekun_daily_checks(today, people["clerk"].pk) == {"reviews": 1, "minors": 0, "care": 0}
    assert tekun_daily_checks(today, people["clerk"].pk) == {"reviews": 0, "minors": 0, "care": 0}
    assert TekunTask.objects.get(kind=TekunTaskKind.YEARLY_REVIEW).application_id == application.pk


def test_death_recorded_first_still_gets_its_termination_decision(people, elder, clock):
    from core.registry.services import person_record_death

    application = _supported(people, elder, clock)
    effective = add_months(application.start_month, 1)
    today = timezone.localdate()
    person_record_death(person=elder, death_date=today, actor=people["clerk"])
    # Other reasons: the support has already ended
    with pytest.raises(TransitionError, match="未在享受特困人员救助供养"):
        lifecycle.tekun_terminate(
            application=application,
            actor=people["chief"],
            reason="income",
            details="x",
            effective_month=effective,
        )
    termination = lifecycle.tekun_terminate(
        application=application,
        actor=people["chief"],
        reason=TekunTerminationReason.DEATH,
        details="经核实已死亡，有死亡医学证明。",
        effective_month=effective,
    )
    application.basic_entitlement.refresh_from_db()
    # Ending never extends: the entitlement keeps the end the recorded death gave it
    assert termination.reason == "death"
    assert application.basic_entitlement.end_month == month_start(today)

"""特困人员认定 (flow 3, 民发〔2021〕43号): 受理 → 调查核实 (six-item self-care assessment) → 公示 (adults only)
→ 科长确认 → two entitlements from the next month, paid as separate lines. Orphan children are refused and
pointed to children's welfare. Amounts are the demo standards (core/portal/demo_data.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistance.models import SupportMode, TekunApplication
from assistance.tekun import services
from assistance.tekun.case_types import TekunStatus
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.facilities.models import Facility, FacilityKind
from core.registry.choices import Relation
from core.workflow.calendar import add_working_days
from core.workflow.models import Case, PublicNotice, TransitionLog
from core.workflow.services import TransitionError
from tests.factories import PersonFactory, household_with_members

ALL_CAN = {"eat": True, "dress": True, "bed": True, "toilet": True, "walk": True, "bathe": True}


def _items(impossible: int) -> dict[str, bool]:
    keys = list(ALL_CAN)
    return {k: i >= impossible for i, k in enumerate(keys)}


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk22": make_user("社区经办人", region="community22"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street2"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
        "admin": make_user("系统管理员", region="district"),
    }


def _person(household, *, age: int, relation: str = Relation.OTHER, **kwargs):
    birth = datetime.date(timezone.localdate().year - age, 1, 1)  # `age` full years all year round
    return PersonFactory(household=household, relation=relation, birth_date=birth, **kwargs)


@pytest.fixture
def elder(regions):
    """A 70-year-old in an urban household (community 1-1)."""
    household = household_with_members(regions["community11"], size=1)
    return _person(household, age=70)


def _institution(regions, kind: str, name: str) -> Facility:
    """An institution of the facility register (集中供养 names one, issue 13 item 9)."""
    return Facility.objects.create(
        kind=FacilityKind.objects.get(code=kind),
        name=name,
        region=regions["street1"],
        region_code=regions["street1"].code,
        address="东昌区民政路1号",
        operator_type="public",
    )


def _create(person, actor, **kwargs):
    defaults = {"promise_signed": True, "authorisation_signed": True}
    return services.tekun_application_create(person=person, actor=actor, **{**defaults, **kwargs})


def _status(application) -> str:
    return Case.objects.get(pk=application.pk).status


def _investigate(application, actor, **kwargs):
    data = {
        "investigated_on": timezone.localdate(),
        "unable_to_work_reason": "年满60周岁",
        "no_income_source": True,
        "no_supporter": True,
        "self_care_items": ALL_CAN,
        "support_mode": SupportMode.DISPERSED,
        "institution_name": "",
        "findings": "独居，无子女，无固定收入，住房为自有平房。",
    }
    return services.tekun_investigation_record(application=application, actor=actor, **{**data, **kwargs})


def _move(application, name, actor, comment=""):
    return services.tekun_transition(application=application, name=name, actor=actor, comment=comment)


def _publicise_and_pass(application, actor, clock):
    """公示 posted on the clock's day (the test set it some days back), then finished today, its 7 days run."""
    services.tekun_notice_start(
        application=application, actor=actor, start_date=timezone.localdate(), place="社区公示栏"
    )
    clock.shift(0)
    services.tekun_notice_finish(application=application, actor=actor)


def _run_lines(month):
    """{benefit code: [lines]} of the monthly runs of both 特困 benefit types for `month`."""
    result = {}
    for code in ("tekun_basic", "tekun_care"):
        run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=month)
        result[code] = list(PaymentLine.objects.filter(run=run, amount__gt=0))
    return result


def test_adult_flow_with_notice_to_two_payment_lines(people, elder, clock):
    next_month = add_months(month_start(timezone.localdate()), 1)  # confirmed today
    clock.shift(-10)  # entered, accepted, investigated and posted ten days ago
    today = timezone.localdate()

    # Given a 70-year-old's application: the register already shows the reason he cannot work
    application = _create(elder, people["clerk"])
    assert _status(application) == TekunStatus.REGISTERED
    assert not application.is_minor
    assert application.unable_to_work_reason.startswith("年满60周岁")

    # 受理 → the township investigates within 15 working days
    _move(application, "accept", people["clerk"])
    case = Case.objects.get(pk=application.pk)
    assert case.status == TekunStatus.INVESTIGATION
    assert case.accepted_on == today and case.assignee_role == "街道审核员"
    assert case.due_date == add_working_days(today, 15)
    with pytest.raises(TransitionError, match="未登记调查核实结果"):
        services.tekun_notice_start(
            application=application, actor=people["clerk"], start_date=today, place="公示栏"
        )

    # Two of six items impossible → 半护理; at home → a warning (institution first), not a refusal
    result = _investigate(application, people["reviewer"], self_care_items=_items(2))
    assert result.tier == "半护理"
    assert any("优先安排集中供养" in w for w in result.warnings)

    # 公示 7 days → 科长确认
    _publicise_and_pass(application, people["clerk"], clock)
    case.refresh_from_db()
    assert case.status == TekunStatus.CONFIRMATION and case.assignee_role == "科长"

    _move(application, "approve", people["chief"], "符合特困人员认定条件")

    # Then: two entitlements from the next month, tiers = support mode and self-care tier
    application.refresh_from_db()
    assert application.approved is True and not application.is_open
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert application.decided_by == people["chief"] and application.decided_at is not None
    assert application.start_month == next_month
    basic, care = application.basic_entitlement, application.care_entitlement
    assert basic.benefit_type.code == "tekun_basic" and basic.params["tier"] == "分散供养"
    assert care.benefit_type.code == "tekun_care" and care.params["tier"] == "半护理"
    assert basic.person_id == care.person_id == elder.pk
    assert basic.start_month == care.start_month == next_month

    # The next month's runs pay urban 分散供养 780 and 半护理 313.33 as separate lines
    lines = _run_lines(next_month)
    assert [(line.entitlement_id, line.amount) for line in lines["tekun_basic"]] == [
        (basic.pk, Decimal("780.00"))
    ]
    assert [(line.entitlement_id, line.amount) for line in lines["tekun_care"]] == [
        (care.pk, Decimal("313.33"))
    ]
    assert all(line.person_id == elder.pk for line in lines["tekun_basic"] + lines["tekun_care"])
    # Nothing for the month of confirmation itself
    assert not _run_lines(month_start(today))["tekun_basic"]

    names = list(TransitionLog.objects.filter(case_id=application.pk).values_list("transition", flat=True))
    assert names[:3] == ["create", "accept", "tekun_investigation"]
    assert "publicize" in names and names[-1] == "approve"

    # A supported person cannot apply again
    with pytest.raises(ValidationError, match="已纳入特困人员救助供养"):
        _create(elder, people["clerk"])


def test_minor_goes_to_confirmation_without_notice(people, regions):
    household = household_with_members(regions["community11"], size=2)
    child = _person(household, age=10, relation=Relation.CHILD)
    application = _create(child, people["clerk"])
    assert application.is_minor

    _move(application, "accept", people["clerk"])
    _investigate(
        application,
        people["reviewer"],
        unable_to_work_reason="未满16周岁",
        self_care_items=_items(5),
        support_mode=SupportMode.CENTRALISED,
        facility=_institution(regions, "child_welfare_institution", "东昌区儿童福利院"),
    )
    # No 公示 for a minor (民发〔2021〕43号 第十七条)
    with pytest.raises(TransitionError, match="未成年人"):
        services.tekun_notice_start(
            application=application, actor=people["clerk"], start_date=timezone.localdate(), place="公示栏"
        )
    assert _status(application) == TekunStatus.INVESTIGATION

    _move(application, "submit_minor", people["reviewer"])
    assert _status(application) == TekunStatus.CONFIRMATION
    _move(application, "approve", people["chief"])

    application.refresh_from_db()
    assert application.basic_entitlement.params["tier"] == "集中供养"
    assert application.care_entitlement.params["tier"] == "全护理"
    lines = _run_lines(application.start_month)
    assert [line.amount for line in lines["tekun_basic"]] == [Decimal("1100.00")]
    assert [line.amount for line in lines["tekun_care"]] == [Decimal("626.67")]
    assert not TransitionLog.objects.filter(case_id=application.pk, transition="publicize").exists()


def test_adult_cannot_skip_the_notice(people, elder):
    application = _create(elder, people["clerk"])
    _move(application, "accept", people["clerk"])
    _investigate(application, people["reviewer"])
    with pytest.raises(TransitionError, match="须经公示"):
        _move(application, "submit_minor", people["reviewer"])
    assert _status(application) == TekunStatus.INVESTIGATION


@pytest.mark.parametrize(
    ("impossible", "tier", "amount"),
    [
        (0, "全自理", "188.00"),
        (1, "半护理", "313.33"),
        (3, "半护理", "313.33"),
        (4, "全护理", "626.67"),
        (6, "全护理", "626.67"),
    ],
)
def test_self_care_tier_sets_the_care_entitlement(people, regions, impossible, tier, amount):
    # A rural household (village 2-2): 分散供养 533
    household = household_with_members(regions["community22"], size=1)
    child = _person(household, age=12, relation=Relation.GRANDCHILD)
    application = _create(child, people["clerk22"])
    _move(application, "accept", people["clerk22"])
    _investigate(application, people["reviewer2"], self_care_items=_items(impossible))
    _move(application, "submit_minor", people["reviewer2"])
    _move(application, "approve", people["chief"])

    application.refresh_from_db()
    assert application.self_care_tier == tier
    assert application.care_entitlement.params["tier"] == tier
    lines = _run_lines(application.start_month)
    assert [line.amount for line in lines["tekun_basic"]] == [Decimal("533.00")]
    assert [line.amount for line in lines["tekun_care"]] == [Decimal(amount)]


def test_orphan_child_is_refused_with_pointer_to_child_welfare(people, regions):
    cases_before = Case.objects.count()
    # Both registered parents (head and spouse) are dead
    household = household_with_members(regions["community11"], size=2)
    for parent in household.members.all():
        parent.death_date = datetime.date(2024, 3, 1)
        parent.save(update_fields=["death_date"])
    child = _person(household, age=9, relation=Relation.CHILD)
    with pytest.raises(ValidationError, match="儿童福利") as exc:
        _create(child, people["clerk"])
    assert "孤儿基本生活保障" in str(exc.value)

    # Declared on the form (parents untraceable), the register showing nothing
    other = household_with_members(regions["community11"], size=2)
    child2 = _person(other, age=15, relation=Relation.CHILD)
    with pytest.raises(ValidationError, match="孤儿"):
        _create(child2, people["clerk"], is_orphan=True)
    # A child with a living parent is not an orphan; nothing was saved for the refused ones
    assert _create(child2, people["clerk"]).is_minor
    assert Case.objects.count() == cases_before + 1
    assert not TekunApplication.objects.filter(person=child).exists()


def test_objection_sends_back_to_investigation(people, elder, clock):
    clock.shift(-10)
    today = timezone.localdate()
    application = _create(elder, people["clerk"])
    _move(application, "accept", people["clerk"])
    _investigate(application, people["reviewer"])
    services.tekun_notice_start(
        application=application, actor=people["clerk"], start_date=today, place="公示栏"
    )
    assert _status(application) == TekunStatus.PUBLICITY
    services.tekun_notice_object(
        application=application, actor=people["clerk"], objection="群众反映其子女有赡养能力"
    )
    assert _status(application) == TekunStatus.INVESTIGATION

    # A new 公示 needs a new investigation
    with pytest.raises(TransitionError, match="尚未重新调查核实"):
        services.tekun_notice_start(
            application=application, actor=people["clerk"], start_date=today, place="公示栏"
        )
    # The re-investigation finds a supporter able to support: the chief must refuse, not approve
    _investigate(application, people["reviewer"], no_supporter=False, findings="其子在外地工作，有稳定收入。")
    _publicise_and_pass(application, people["clerk"], clock)
    with pytest.raises(TransitionError, match="不符合特困人员认定条件"):
        _move(application, "approve", people["chief"])
    assert _status(application) == TekunStatus.CONFIRMATION
    with pytest.raises(TransitionError, match="须填写意见"):
        _move(application, "refuse", people["chief"], "  ")
    _move(application, "refuse", people["chief"], "其子有赡养能力，不符合特困人员认定条件")
    application.refresh_from_db()
    assert application.approved is False and "赡养能力" in application.reasons
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert application.decided_by == people["chief"] and application.decided_at is not None
    assert not Entitlement.objects.filter(case_id=application.pk).exists()


def test_maker_checker_refuses_the_investigator_as_approver(people, elder, make_user, clock):
    both = make_user("科长", "街道审核员", region="district")
    clock.shift(-10)
    application = _create(elder, people["clerk"])
    _move(application, "accept", people["clerk"])
    _investigate(application, both)
    _publicise_and_pass(application, people["clerk"], clock)
    with pytest.raises(TransitionError, match="审批分离"):
        _move(application, "approve", both)
    assert not Entitlement.objects.filter(case_id=application.pk).exists()
    _move(application, "approve", people["chief"])
    assert _status(application) == TekunStatus.APPROVED


def test_bad_investigation_input_changes_nothing(people, elder):
    application = _create(elder, people["clerk"])
    _move(application, "accept", people["clerk"])
    logs = TransitionLog.objects.filter(case_id=application.pk).count()
    with pytest.raises(ValidationError) as exc:
        _investigate(
            application,
            people["reviewer"],
            unable_to_work_reason="",
            no_supporter=None,
            self_care_items={"eat": True, "dress": False},
            support_mode=SupportMode.CENTRALISED,
            facility=None,
            findings="",
        )
    errors = exc.value.message_dict
    assert errors["unable_to_work_reason"] == ["请填写无劳动能力情形（如年满60周岁、残疾等级等）"]
    assert "须填写全部六项" in errors["self_care_items"][0]
    assert errors["facility"] == ["集中供养须选择供养机构（服务设施登记中的机构）"]
    assert {"no_supporter", "findings"} <= set(errors)
    application.refresh_from_db()
    assert application.self_care_tier == "" and application.investigated_on is None
    assert TransitionLog.objects.filter(case_id=application.pk).count() == logs

    # Unsigned documents and a second open application are refused at entry
    with pytest.raises(ValidationError, match="告知承诺书"):
        _create(elder, people["clerk"], promise_signed=False)
    with pytest.raises(ValidationError, match="正在办理"):
        _create(elder, people["clerk"])
    # A clerk of another street does not see the person
    with pytest.raises(ValidationError, match="不在您的数据范围内"):
        _create(elder, people["clerk21"])


# --- views ----------------------------------------------------------------------------------------


def test_views_list_filter_export_and_scope(client, people, elder):
    application = _create(elder, people["clerk"])
    client.force_login(people["clerk"])
    url = reverse("assistance:tekun_list")
    page = client.get(url, {"status": "open"})
    assert page.status_code == 200 and application.case.number in page.content.decode()
    assert application.case.number not in client.get(url, {"support_mode": "centralised"}).content.decode()
    export = client.get(url, {"status": "open", "export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")

    detail = reverse("assistance:tekun_detail", args=[application.pk])
    assert client.get(detail).status_code == 200
    # The generic case page shows the 特困 block; the household page offers "申请特困"
    # The generic case page sends the user to the flow's own page, where every step's form is.
    case_page = client.get(reverse("workflow:case_detail", args=[application.pk]))
    assert case_page.status_code == 302
    assert case_page["Location"] == reverse("assistance:tekun_detail", args=[application.pk])
    household_page = client.get(
        reverse("registry:household_detail", args=[elder.household_id])
    ).content.decode()
    assert (
        "申请特困" in household_page and f"{reverse('assistance:tekun_create')}?household=" in household_page
    )
    # Out of scope: 404; no permission: 403
    client.force_login(people["clerk21"])
    assert client.get(detail).status_code == 404
    assert (
        client.post(
            reverse("assistance:tekun_transition", args=[application.pk]), {"name": "accept"}
        ).status_code
        == 404
    )
    client.force_login(people["admin"])
    assert client.get(detail).status_code == 403
    assert _status(application) == TekunStatus.REGISTERED


def test_views_create_investigate_and_act(client, people, elder, regions, clock):
    clock.shift(-10)  # entered, accepted, investigated and posted ten days ago
    client.force_login(people["clerk"])
    create = reverse("assistance:tekun_create")
    assert client.get(create, {"household": elder.household_id}).status_code == 200
    response = client.post(
        f"{create}?person={elder.pk}",
        {"person": elder.pk, "applied_on": timezone.localdate().isoformat(), "promise_signed": "on"},
    )
    assert response.status_code == 400 and "核对授权书" in response.content.decode()
    response = client.post(
        f"{create}?person={elder.pk}",
        {
            "person": elder.pk,
            "applied_on": timezone.localdate().isoformat(),
            "promise_signed": "on",
            "authorisation_signed": "on",
        },
    )
    application = TekunApplication.objects.get(person=elder)
    assert response.status_code == 302
    client.post(reverse("assistance:tekun_transition", args=[application.pk]), {"name": "accept"})
    assert _status(application) == TekunStatus.INVESTIGATION

    client.force_login(people["reviewer"])
    form_url = reverse("assistance:tekun_investigation", args=[application.pk])
    assert client.get(form_url).status_code == 200
    data = {
        "investigated_on": timezone.localdate().isoformat(),
        "unable_to_work_reason": "年满60周岁",
        "no_income_source": "1",
        "no_supporter": "1",
        "support_mode": "centralised",
        "facility": str(_institution(regions, "elder_institution", "东昌区社会福利中心").pk),
        "findings": "无子女，无收入。",
        **{f"care_{k}": "1" for k in ALL_CAN},
    }
    bad = client.post(form_url, {**data, "care_bathe": ""})
    assert bad.status_code == 400 and "须填写全部六项" in bad.content.decode()
    assert client.post(form_url, data).status_code == 302
    application.refresh_from_db()
    assert application.self_care_tier == "全自理" and application.institution_name == "东昌区社会福利中心"

    client.force_login(people["clerk"])
    notice = reverse("assistance:tekun_notice", args=[application.pk])
    # A start before the investigation would let the 公示 be finished at once: refused.
    client.post(notice, {"action": "start", "start_date": "2020-01-01", "days": "7", "place": "社区公示栏"})
    assert not PublicNotice.objects.filter(case_id=application.pk).exists()
    start = timezone.localdate().isoformat()
    client.post(notice, {"action": "start", "start_date": start, "days": "7", "place": "社区公示栏"})
    client.post(notice, {"action": "finish"})  # not before its last day
    assert _status(application) == TekunStatus.PUBLICITY
    clock.shift(0)  # today: the 公示 has run its course (a new login: the old session has expired)
    client.force_login(people["clerk"])
    client.post(notice, {"action": "finish"})
    assert _status(application) == TekunStatus.CONFIRMATION
    client.force_login(people["chief"])
    page = client.get(reverse("assistance:tekun_detail", args=[application.pk])).content.decode()
    assert "确认批准" in page and "不予批准" in page
    client.post(reverse("assistance:tekun_transition", args=[application.pk]), {"name": "approve"})
    assert _status(application) == TekunStatus.APPROVED
    page = client.get(reverse("assistance:tekun_detail", args=[application.pk])).content.decode()
    assert "确认批准" in page and "基本生活费（集中供养）" in page and "1,100.00" in page


def test_list_query_count_does_not_grow_with_rows(client, people, regions):
    client.force_login(people["clerk"])
    url = reverse("assistance:tekun_list")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _create(_person(household_with_members(regions["community11"], size=1), age=75), people["clerk"])
    one = count()
    for _ in range(4):
        _create(_person(household_with_members(regions["community11"], size=1), age=75), people["clerk"])
    assert count() == one <= 12

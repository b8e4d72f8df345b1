"""One active entitlement per benefit type per beneficiary (issue 10, part 3): a second 低保 application
for an approved household was accepted and approved, and the next run paid the household twice.

Refused at entry (低保, 特困, 两项补贴), again at approval, in entitlement_create, and by the database (the
conditional unique constraints on Entitlement), also when two grants race."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assistance import services as dibao_services
from assistance.case_types import DibaoStatus
from assistance.disability import services as disability_services
from assistance.models import Decision, DisabilitySubsidy, Investigation, SupportMode
from assistance.tekun import services as tekun_services
from assistance.tekun.case_types import TekunStatus
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.services import entitlement_create, entitlement_end, payment_run_recalculate
from core.registry.choices import Relation
from core.workflow.models import Case
from core.workflow.services import TransitionError, can_transition
from tests.concurrency import race_two
from tests.factories import PersonFactory, household_with_members

DIBAO_TWICE = "该家庭已在享受最低生活保障，不能重复认定"


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
    return household_with_members(regions["community11"], size=2)


def _this_month():
    return month_start(timezone.localdate())


def _grant(code: str, *, household=None, person=None, start=None, **kwargs) -> Entitlement:
    """An entitlement granted through the service (as an approval does)."""
    holder = household or person.household
    return entitlement_create(
        benefit_type=BenefitType.objects.get(code=code),
        household=household,
        person=person,
        region_code=holder.region_code,
        area_type=holder.area_type,
        start_month=start or add_months(_this_month(), 1),
        **kwargs,
    )


def _dibao_to_chief(household, people, clock):
    """A 低保 application entered, visited and posted ten days ago; today its 公示 has run and the street
    has reviewed it: it waits for the 科长."""
    clerk = people["clerk"]
    with clock.days_ago(10):
        application = dibao_services.dibao_application_create(
            household=household, actor=clerk, promise_signed=True, authorisation_signed=True
        )
        dibao_services.dibao_application_accept(application=application, actor=clerk)
        dibao_services.investigation_record(
            application=application,
            actor=clerk,
            visit_date=timezone.localdate(),
            visitors=[clerk, people["clerk_b"]],
            findings="家庭2人，无固定收入，住房为公租房。",
            economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
        )
        dibao_services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    dibao_services.dibao_notice_finish(application=application, actor=clerk)
    dibao_services.dibao_street_review(application=application, actor=people["reviewer"], comment="同意")
    return application


# --- at entry ---------------------------------------------------------------------------------------


def test_dibao_application_of_a_covered_household_is_refused_at_entry(people, household):
    _grant("dibao", household=household)
    with pytest.raises(ValidationError) as refused:
        dibao_services.dibao_application_create(
            household=household, actor=people["clerk"], promise_signed=True, authorisation_signed=True
        )
    assert refused.value.message_dict == {"household": ["该家庭已在享受最低生活保障，不能重复申请"]}
    assert not Case.objects.exists()


def test_a_household_whose_dibao_ends_this_month_may_apply_again(people, household):
    ended = _grant("dibao", household=household, start=add_months(_this_month(), -6))
    entitlement_end(entitlement=ended, last_month=_this_month(), reason="动态复核停发")
    application = dibao_services.dibao_application_create(
        household=household, actor=people["clerk"], promise_signed=True, authorisation_signed=True
    )
    assert application.household_id == household.pk


def test_tekun_application_of_a_supported_person_is_refused_even_while_suspended(people, regions):
    person = household_with_members(regions["community11"], size=1).head
    support = _grant("tekun_basic", person=person, params={"tier": "分散供养"})
    Entitlement.objects.filter(pk=support.pk).update(status=Entitlement.Status.SUSPENDED)
    with pytest.raises(ValidationError, match="已纳入特困人员救助供养，不能重复申请"):
        tekun_services.tekun_application_create(
            person=person, actor=people["clerk"], promise_signed=True, authorisation_signed=True
        )


def test_disability_subsidy_already_received_is_refused_at_entry(people, regions):
    person = household_with_members(regions["community11"], size=1).head
    _grant("disability_living", person=person, start=add_months(_this_month(), -3))
    with pytest.raises(ValidationError) as refused:
        disability_services.disability_application_create(
            person=person,
            actor=people["clerk"],
            subsidies=[DisabilitySubsidy.LIVING, DisabilitySubsidy.CARE],
            cert_no="22010619700101000011",
            cert_generation=3,
            disability_category="physical",
            disability_grade=1,
            long_term_care=True,
        )
    assert refused.value.message_dict == {
        "subsidies": [f"{person.name}已在享受困难残疾人生活补贴，不能重复申请"]
    }


# --- at approval ------------------------------------------------------------------------------------


def test_dibao_approval_is_refused_when_the_household_was_covered_meanwhile(people, household, clock):
    application = _dibao_to_chief(household, people, clock)
    # Meanwhile the household was granted 低保 on another decision.
    _grant("dibao", household=household)
    case = Case.objects.get(pk=application.pk)
    assert can_transition(case, "approve", people["chief"]) == (False, DIBAO_TWICE)
    with pytest.raises(TransitionError, match=DIBAO_TWICE):
        dibao_services.dibao_approve(application=application, actor=people["chief"], comment="同意")
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.CHIEF_CONFIRMATION
    assert Entitlement.objects.filter(household=household).count() == 1
    assert not Decision.objects.filter(application_id=application.pk).exists()


def test_tekun_approval_is_refused_when_the_person_was_supported_meanwhile(people, regions):
    household = household_with_members(regions["community11"], size=2)
    child = PersonFactory(
        household=household,
        relation=Relation.CHILD,
        birth_date=timezone.localdate().replace(year=timezone.localdate().year - 10, month=1, day=1),
    )
    application = tekun_services.tekun_application_create(
        person=child, actor=people["clerk"], promise_signed=True, authorisation_signed=True
    )
    tekun_services.tekun_transition(application=application, name="accept", actor=people["clerk"])
    tekun_services.tekun_investigation_record(
        application=application,
        actor=people["reviewer"],
        investigated_on=timezone.localdate(),
        unable_to_work_reason="未满16周岁",
        no_income_source=True,
        no_supporter=True,
        self_care_items={k: True for k in ("eat", "dress", "bed", "toilet", "walk", "bathe")},
        support_mode=SupportMode.DISPERSED,
        findings="父母均无劳动能力，无其他收入。",
    )
    tekun_services.tekun_transition(application=application, name="submit_minor", actor=people["reviewer"])
    _grant("tekun_basic", person=child, params={"tier": "集中供养"})
    with pytest.raises(TransitionError, match=f"{child.name}已在享受特困人员基本生活费，不能重复认定"):
        tekun_services.tekun_transition(application=application, name="approve", actor=people["chief"])
    assert Case.objects.get(pk=application.pk).status == TekunStatus.CONFIRMATION
    assert Entitlement.objects.filter(person=child).count() == 1


# --- the service and the database -------------------------------------------------------------------


def test_entitlement_create_refuses_overlapping_months_and_allows_one_offs(household):
    _grant("dibao", household=household)
    with pytest.raises(ValidationError, match=DIBAO_TWICE):
        _grant("dibao", household=household, start=add_months(_this_month(), 5))
    # Overlapping months of a fixed-term grant, which the constraint does not see, are refused too.
    with pytest.raises(ValidationError, match=DIBAO_TWICE):
        _grant("dibao", household=household, start=_this_month(), end_month=add_months(_this_month(), 2))
    # A one-off benefit (临时救助) may be granted again in the same month.
    person = household.head
    for _ in range(2):
        _grant("temp_assistance", person=person, start=_this_month(), end_month=_this_month())
    assert Entitlement.objects.filter(person=person, benefit_type__code="temp_assistance").count() == 2


def test_the_database_refuses_a_second_open_entitlement(household):
    dibao = BenefitType.objects.get(code="dibao")
    common = {
        "benefit_type": dibao,
        "region_code": household.region_code,
        "area_type": household.area_type,
        "start_month": _this_month(),
    }
    Entitlement.objects.create(household=household, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(household=household, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(household=household, status=Entitlement.Status.SUSPENDED, **common)
    # Ended and fixed-term ones are outside the constraint (the services check their months).
    Entitlement.objects.create(household=household, status=Entitlement.Status.ENDED, **common)
    Entitlement.objects.create(household=household, end_month=_this_month(), **common)
    person = household.head
    Entitlement.objects.create(
        person=person, **{**common, "benefit_type": BenefitType.objects.get(code="tekun_basic")}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            person=person, **{**common, "benefit_type": BenefitType.objects.get(code="tekun_basic")}
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_grants_make_one_entitlement_and_the_other_the_chinese_error(regions):
    """The second grant checks while the first is inserted but not committed, so both pass the check; the
    second insert waits on the unique index, fails when the first commits, and says why in Chinese."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    benefit, _ = BenefitType.objects.get_or_create(
        code="integrity_dibao", defaults={"name": "最低生活保障", "is_monthly": True}
    )
    household = household_with_members(regions["community11"], size=2)
    month = add_months(_this_month(), 1)

    def grant():
        return entitlement_create(
            benefit_type=benefit,
            household=household,
            region_code=household.region_code,
            area_type=household.area_type,
            start_month=month,
        )

    outcomes = race_two(grant)

    assert isinstance(outcomes["first"], Entitlement), outcomes
    assert isinstance(outcomes["second"], ValidationError), outcomes
    assert outcomes["second"].messages == [DIBAO_TWICE]
    assert Entitlement.objects.filter(household=household).count() == 1


# --- end to end: the double payment ---------------------------------------------------------------


def test_two_dibao_applications_for_one_household_pay_it_once(people, household, clock):
    """Two 低保 applications for one household, each driven as far as the rules allow; the next month's
    run has one regular line for the household."""

    def apply_and_approve():
        application = _dibao_to_chief(household, people, clock)
        dibao_services.dibao_approve(application=application, actor=people["chief"], comment="同意")

    apply_and_approve()
    with pytest.raises((ValidationError, TransitionError)) as refused:
        apply_and_approve()
    assert "该家庭已在享受最低生活保障，不能重复" in " ".join(
        getattr(refused.value, "messages", [str(refused.value)])
    )

    next_month = add_months(_this_month(), 1)
    run = payment_run_recalculate(
        benefit_type=BenefitType.objects.get(code="dibao"), month=next_month, actor=people["chief"]
    )
    lines = PaymentLine.objects.filter(run=run, household=household, line_type=PaymentLine.LineType.REGULAR)
    assert lines.count() == 1 and lines.get().amount > 0
    assert Entitlement.objects.filter(household=household, benefit_type__code="dibao").count() == 1

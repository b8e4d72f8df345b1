"""Separation of duties and sections, declared once in the case engine (Transition.roles, CaseType.section):
whoever entered, investigated or street-reviewed a case takes no later review or approval step of it; a step
belongs to its role; a district role acts only in its section; every refusal says why."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.case_types import DibaoStatus
from assistance.models import Investigation
from core.workflow.models import Case
from core.workflow.services import TransitionError, can_transition, transition_choices
from tests.factories import household_with_members


@pytest.fixture
def time_machine(monkeypatch):
    """`time_machine.move_to(day)`: from then on `timezone.localdate()` answers `day` (the 公示 must have
    hung its days before it can be finished)."""
    from django.utils import timezone as tz

    class Machine:
        def move_to(self, day: datetime.date) -> None:
            monkeypatch.setattr(tz, "localdate", lambda *args, **kwargs: day)

    return Machine()


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
        "chief_eldercare": make_user("科长", region="district", sections=["eldercare"]),
        "chief_nosection": make_user("科长", region="district", sections=[]),
    }


def _application(regions, actor):
    household = household_with_members(regions["community11"], size=2)
    return services.dibao_application_create(
        household=household, actor=actor, promise_signed=True, authorisation_signed=True, staff_relative=False
    )


def _investigate_and_publicize(application, investigator, companion):
    """受理, 入户调查 and a finished 公示, all by `investigator` (with a companion on the visit)."""
    services.dibao_application_accept(application=application, actor=investigator)
    services.investigation_record(
        application=application,
        actor=investigator,
        visit_date=timezone.localdate(),
        visitors=[investigator, companion],
        findings="家庭2人，无固定收入。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
    )
    services.dibao_notice_start(
        application=application, actor=investigator, start_date=timezone.localdate(), place="社区公示栏"
    )
    notice = application.case.notices.get()
    tomorrow = notice.end_date + datetime.timedelta(days=1)
    return tomorrow


def _case(application) -> Case:
    return Case.objects.get(pk=application.pk)


@pytest.mark.django_db
def test_the_investigator_is_refused_as_street_reviewer(regions, people, time_machine):
    reviewer = people["reviewer"]
    # A street reviewer who entered and investigated the case himself (street staff may enter cases) …
    application = _application(regions, reviewer)
    after = _investigate_and_publicize(application, reviewer, people["clerk"])
    time_machine.move_to(after)
    services.dibao_notice_finish(application=application, actor=reviewer)
    case = _case(application)
    assert case.status == DibaoStatus.STREET_REVIEW

    # … may not review it: the refusal names the rule
    allowed, reason = can_transition(case, "street_review", reviewer)
    assert not allowed and "审批分离" in reason
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_street_review(application=application, actor=reviewer)
    # another street reviewer may
    services.dibao_street_review(application=application, actor=people["reviewer2"])
    assert _case(application).status == DibaoStatus.CHIEF_CONFIRMATION


@pytest.mark.django_db
def test_steps_belong_to_their_roles_and_sections(regions, people, time_machine):
    application = _application(regions, people["clerk"])
    after = _investigate_and_publicize(application, people["clerk"], people["clerk_b"])
    time_machine.move_to(after)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    case = _case(application)

    # A 科长 holds workflow.review_case, but the street review is the street reviewer's step
    allowed, reason = can_transition(case, "street_review", people["chief"])
    assert not allowed and reason == "“街道审核通过”由街道审核员办理，您不能办理"

    services.dibao_street_review(application=application, actor=people["reviewer"])
    case = _case(application)
    assert case.status == DibaoStatus.CHIEF_CONFIRMATION

    # The street reviewer cannot send back a case waiting for the 科长 (nor approve it)
    with pytest.raises(TransitionError, match="由科长办理"):
        services.dibao_send_back(application=application, actor=people["reviewer"], reason="再看看")
    allowed, reason = can_transition(case, "chief_send_back", people["reviewer"])
    assert not allowed and "由科长办理" in reason

    # A 科长 of another section (养老服务科), or of none, cannot approve a 社会救助 case
    for chief in (people["chief_eldercare"], people["chief_nosection"]):
        allowed, reason = can_transition(case, "approve", chief)
        assert not allowed and reason == "您不是社会救助科的科长，不能办理“确认批准”"
        with pytest.raises(TransitionError, match="社会救助科"):
            services.dibao_approve(application=application, actor=chief)

    # Every action in the panel says why it is refused; the 社会救助科 科长 may approve
    choices = dict((t.name, reason) for t, reason in transition_choices(case, people["chief_eldercare"]))
    assert choices and all(choices.values())
    services.dibao_approve(application=application, actor=people["chief"])
    assert _case(application).status == DibaoStatus.APPROVED


@pytest.mark.django_db
def test_the_detail_page_shows_disabled_actions_with_the_reason(
    client, regions, people, time_machine, make_user
):
    application = _application(regions, people["clerk"])
    after = _investigate_and_publicize(application, people["clerk"], people["clerk_b"])
    time_machine.move_to(after)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    services.dibao_street_review(application=application, actor=people["reviewer"])

    # A 养老服务科 科长 who is also a street reviewer sees the page (street roles are general) …
    chief_and_reviewer = make_user("科长", "街道审核员", region="district", sections=["eldercare"])
    client.force_login(chief_and_reviewer)
    page = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    # … with the 科长's actions disabled and the reason beside them
    assert "您不是社会救助科的科长，不能办理“确认批准”" in page
    assert "disabled" in page


@pytest.mark.django_db
def test_a_home_visitor_is_refused_as_street_reviewer_and_approver(regions, people, time_machine, make_user):
    # The street reviewer went on the home visit (a visitor, not the one who recorded it) …
    application = _application(regions, people["clerk"])
    after = _investigate_and_publicize(application, people["clerk"], people["reviewer"])
    time_machine.move_to(after)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    case = _case(application)
    allowed, reason = can_transition(case, "street_review", people["reviewer"])
    assert not allowed and "审批分离" in reason
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_street_review(application=application, actor=people["reviewer"])
    services.dibao_street_review(application=application, actor=people["reviewer2"])
    # … and a visitor holding the 科长 role may neither approve nor refuse it
    visiting_chief = make_user("科长", "社区经办人", region="district")
    from assistance.models import Investigation

    Investigation.objects.get(application=application).visitors.add(visiting_chief)
    case = _case(application)
    for name in ("approve", "refuse"):
        allowed, reason = can_transition(case, name, visiting_chief)
        assert not allowed and "审批分离" in reason

"""The case-flow kit's pages as a caseworker meets them: the 公示 card during the notice, the picker, and
the overdue rule of the 台账 (never overdue while a 公示 hangs), on the 低保 flow."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.models import Investigation
from core.workflow.models import Case
from tests.factories import household_with_members


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
    }


def _in_publicity(regions, people):
    household = household_with_members(regions["community11"], size=2)
    application = services.dibao_application_create(
        household=household,
        actor=people["clerk"],
        promise_signed=True,
        authorisation_signed=True,
        staff_relative=False,
    )
    services.dibao_application_accept(application=application, actor=people["clerk"])
    services.investigation_record(
        application=application,
        actor=people["clerk"],
        visit_date=timezone.localdate(),
        visitors=[people["clerk"], people["clerk_b"]],
        findings="家庭2人，无固定收入。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
    )
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=timezone.localdate(), place="社区公示栏"
    )
    return application


@pytest.mark.django_db
def test_during_the_notice_the_finish_is_disabled_with_its_first_day(client, regions, people):
    application = _in_publicity(regions, people)
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    first_day = application.case.notices.get().end_date + datetime.timedelta(days=1)
    label = f"{first_day.year}年{first_day.month}月{first_day.day}日"
    assert f"公示期未满，{label}起可办理" in page
    assert f"公示进行中：有异议的，在下方“公示”栏登记；{label}起可在该栏办理公示期满。" in page
    assert "异议内容（登记后退回调查核实）" in page


@pytest.mark.django_db
def test_a_case_in_publicity_is_not_overdue_on_the_list_or_its_page(client, regions, people):
    application = _in_publicity(regions, people)
    # the step's time limit passed while the 公示 still hangs (e.g. the notice was posted late)
    Case.objects.filter(pk=application.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=2))
    client.force_login(people["clerk"])
    listing = client.get(reverse("assistance:dibao_list")).content.decode()
    detail = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert application.case.number in listing
    assert "已超期" not in listing and "已超期" not in detail


@pytest.mark.django_db
def test_the_picker_asks_for_a_query(client, regions, people):
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_create"), {"q": ""}).content.decode()
    assert "请输入户编号或户主姓名后再查找" in page
    page = client.get(reverse("assistance:dibao_create"), {"q": "\x00"}).content.decode()
    assert "查询条件含有无效字符" in page


@pytest.mark.django_db
def test_a_household_with_an_application_in_hand_is_told_before_the_form(client, regions, people):
    application = _in_publicity(regions, people)
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_create"), {"household": application.household_id})
    text = page.content.decode()
    assert f"该家庭已有正在办理的低保申请（{application.case.number}），不能重复申请" in text
    assert 'class="btn btn-primary" disabled' in text


@pytest.mark.django_db
def test_a_refused_filter_exports_nothing_and_says_why(client, regions, people):
    _in_publicity(regions, people)
    client.force_login(people["clerk"])
    response = client.get(reverse("assistance:dibao_list"), {"q": "\x00", "export": "xlsx"})
    assert response.status_code == 200 and "spreadsheetml" not in response["Content-Type"]
    assert "查询条件" in response.content.decode()


@pytest.mark.django_db
def test_the_action_panel_reads_the_makers_once(regions, people, make_user, monkeypatch):
    """The separation-of-duties facts (log rows, home visitors) are read once for the whole panel, not once
    per review or approval button."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone as tz

    from core.workflow.services import transition_choices

    application = _in_publicity(regions, people)
    last_day = application.case.notices.get().end_date
    monkeypatch.setattr(tz, "localdate", lambda *a, **k: last_day + datetime.timedelta(days=1))
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    services.dibao_street_review(application=application, actor=make_user("街道审核员", region="street1"))
    case = Case.objects.get(pk=application.pk)
    with CaptureQueriesContext(connection) as queries:
        choices = transition_choices(case, make_user("科长", region="district"))
    assert {t.name for t, _ in choices} >= {"approve", "refuse"}
    visitor_reads = [q for q in queries.captured_queries if "investigation_visitors" in q["sql"]]
    assert len(visitor_reads) == 1

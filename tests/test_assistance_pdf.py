"""低保 printed documents (issue 4, "PDF documents"): the 审批表 and the 决定书 (批准 with the amount
explained line by line, 不予批准 with the reasons and the right to appeal). Chinese must render: the text
read back with pypdf holds the Chinese words and `pdffonts` lists an embedded Noto CJK font."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assistance import services
from assistance.models import Investigation
from core.benefits.models import BenefitType
from core.benefits.months import add_months, month_start
from core.registry.choices import IncomeKind
from core.registry.services import income_record_add
from tests.factories import household_with_members


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11", display_name="张经办"),
        "clerk_b": make_user("社区经办人", region="community11", display_name="李经办"),
        "reviewer": make_user("街道审核员", region="street1", display_name="王审核"),
        "chief": make_user("科长", region="district", display_name="赵科长"),
        "leader": make_user("局领导", region="district"),
        "admin": make_user("系统管理员", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
    }


def _to_chief(people, regions, clock, *, wage="300"):
    """Entered, accepted, visited and posted ten days ago; today the 公示 is finished and the street
    reviews: the case waits for the 科长."""
    household = household_with_members(regions["community11"], size=1)
    income_record_add(
        household=household,
        kind=IncomeKind.WAGE,
        monthly_amount=wage,
        period_start=datetime.date(2020, 1, 1),
        person=household.head,
        actor=people["clerk"],
    )
    with clock.days_ago(10):
        application = services.dibao_application_create(
            household=household, actor=people["clerk"], promise_signed=True, authorisation_signed=True
        )
        services.dibao_application_accept(application=application, actor=people["clerk"])
        services.investigation_record(
            application=application,
            actor=people["clerk"],
            visit_date=timezone.localdate(),
            visitors=[people["clerk"], people["clerk_b"]],
            findings="单人户，灵活就业，月收入约300元",
            economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
        )
        services.dibao_notice_start(
            application=application,
            actor=people["clerk"],
            start_date=timezone.localdate(),
            place="社区公示栏",
        )
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    services.dibao_street_review(application=application, actor=people["reviewer"], comment="同意上报")
    return application


def _text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response) if response.streaming else response.content
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(tmp_path, response) -> str:
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    path = tmp_path / "doc.pdf"
    path.write_bytes(response.content)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def test_approved_form_and_decision(client, people, regions, tmp_path, clock):
    application = _to_chief(people, regions, clock)
    decision = services.dibao_approve(application=application, actor=people["chief"], comment="同意批准")
    start = add_months(month_start(timezone.localdate()), 1)
    assert decision.start_month == start
    client.force_login(people["clerk"])

    form = client.get(reverse("assistance:dibao_form_pdf", args=[application.pk]))
    text = _text(form)
    for words in (
        "最低生活保障审核确认审批表",
        application.case.number,
        "家庭成员",
        "工资性收入",
        "入户调查",
        "单人户，灵活就业",
        "公示期满无异议",
        "批准",
        "街道审核通过",
        "确认批准",
        "张经办",
        "王审核",
        "赵科长",
    ):
        assert words in text, words
    # The 公示 printed as posted: 7 days from ten days ago, the first day included.
    posted = timezone.localdate() - datetime.timedelta(days=10)
    last = posted + datetime.timedelta(days=6)
    period = f"{posted.year}年{posted.month}月{posted.day}日至{last.year}年{last.month}月{last.day}日"
    assert period in "".join(text.split())
    # Only the masked ID number is printed.
    assert application.household.head.id_number not in text
    fonts = _fonts(tmp_path, form)
    assert "Noto-Serif-CJK" in fonts
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded

    notice = client.get(reverse("assistance:dibao_decision_pdf", args=[application.pk]))
    text = _text(notice)
    assert "最低生活保障批准决定书" in text
    assert f"{start.year}年{start.month}月起" in text
    assert f"{decision.monthly_amount:.2f}" in text
    assert "月人均收入" in text and "低保标准" in text  # the amount explained line by line
    assert "行政复议" in text and "行政诉讼" in text
    assert "长春市绿园区民政局" in text


def test_refusal_notice_has_reasons_and_appeal(client, people, regions, tmp_path, clock):
    application = _to_chief(people, regions, clock)
    services.dibao_refuse(
        application=application, actor=people["chief"], reasons="经核查，申请人名下有机动车一辆，超过财产规定"
    )
    client.force_login(people["reviewer"])
    response = client.get(reverse("assistance:dibao_decision_pdf", args=[application.pk]))
    text = _text(response)
    assert "最低生活保障不予批准决定书" in text
    assert "名下有机动车一辆" in text
    assert "60日内" in text and "行政复议" in text and "6个月内" in text and "行政诉讼" in text
    assert any(" yes " in line for line in _fonts(tmp_path, response).splitlines() if "CJK" in line)


def test_scope_permission_and_no_decision_yet(client, people, regions, clock):
    application = _to_chief(people, regions, clock)
    client.force_login(people["clerk"])
    # The form prints at any step; the decision notice only once decided.
    assert "科长确认" in _text(client.get(reverse("assistance:dibao_form_pdf", args=[application.pk])))
    assert client.get(reverse("assistance:dibao_decision_pdf", args=[application.pk])).status_code == 404
    client.force_login(people["clerk21"])
    assert client.get(reverse("assistance:dibao_form_pdf", args=[application.pk])).status_code == 404
    client.force_login(people["admin"])
    assert client.get(reverse("assistance:dibao_form_pdf", args=[application.pk])).status_code == 403
    # The application page offers the buttons.
    client.force_login(people["clerk"])
    page = client.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert reverse("assistance:dibao_form_pdf", args=[application.pk]) in page
    assert reverse("assistance:dibao_decision_pdf", args=[application.pk]) not in page
    assert BenefitType.objects.filter(code="dibao").exists()

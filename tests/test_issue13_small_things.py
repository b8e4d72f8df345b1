"""Issue 13, "Small things a new user tripped on": each fix with a test that fails without it."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from assistance import services as assistance_services
from core.accounts.navigation import _SECTIONS
from core.benefits.models import BenefitType, Entitlement, PaymentRun, Standard
from core.portal import demo_data
from core.workflow.models import Case
from tests.factories import household_with_members


@pytest.fixture
def chief(make_user):
    return make_user("科长", region="district")


def _case(number, case_type, status, region, user):
    return Case.objects.create(
        number=number,
        case_type=case_type,
        applicant_name="张三",
        region=region,
        region_code=region.code,
        status=status,
        created_by=user,
        updated_by=user,
    )


def _options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_case_search_filter_names_roles_in_chinese_and_each_status_once(client, chief, regions):
    dibao = _case("DB-T-1", "dibao", "chief_confirmation", regions["community11"], chief)
    tekun = _case("TK-T-1", "tekun", "confirmation", regions["community11"], chief)
    other = _case("DB-T-2", "dibao", "investigation", regions["community11"], chief)
    client.force_login(chief)
    html = client.get(reverse("workflow:case_list")).content.decode()
    roles = _options(html, "assignee_role")
    assert ("社区经办人", "社区经办人") in roles and ("科长", "科长") in roles
    assert not any(re.search(r"[A-Za-z]", label) for _, label in roles)
    labels = [label for _, label in _options(html, "status")]
    assert labels.count("科长确认") == 1 and len(labels) == len(set(labels))

    # 科长确认 finds every case type's confirmation step
    html = client.get(reverse("workflow:case_list"), {"status": "科长确认"}).content.decode()
    assert dibao.number in html and tekun.number in html and other.number not in html
    # a status code (an older link) still filters
    html = client.get(reverse("workflow:case_list"), {"status": "confirmation"}).content.decode()
    assert tekun.number in html and dibao.number not in html


def test_standards_name_a_clean_chinese_source(db):
    for row in demo_data.STANDARDS:
        source = row[-1]
        assert not re.search(r"demo|seed", source, re.I), source
    assert not Standard.objects.filter(source__iregex=r"demo|seed").exists()
    assert Standard.objects.filter(benefit_type__code="dibao", source=demo_data.SOURCE_DIBAO).exists()


def test_a_one_off_run_says_one_off_once(client, chief):
    PaymentRun.objects.create(
        benefit_type=BenefitType.objects.get(code="temp_assistance"),
        month=datetime.date(2026, 11, 1),
        kind=PaymentRun.Kind.ONE_OFF,
        title="临时救助2026年11月一次性发放",
    )
    client.force_login(chief)
    html = client.get(reverse("benefits:run_list")).content.decode()
    assert "临时救助2026年11月一次性发放" in html
    assert html.count("一次性发放") == 1 + html.count('<option value="one_off">一次性发放')


def test_the_two_entitlement_pages_are_named_for_what_they_list(client, chief):
    client.force_login(chief)
    entitlements = client.get(reverse("assistance:dibao_entitlements")).content.decode()
    ledger = client.get(reverse("assistance:ledger")).content.decode()
    assert "低保保障家庭及审批案件" in entitlements and "低保保障对象台账" not in entitlements
    assert "保障对象台账" in ledger
    labels = [item.label for item in _SECTIONS["assistance"].items]
    assert "低保保障家庭及审批案件" in labels and "保障对象台账" in labels
    assert len(labels) == len(set(labels))


def test_dashboard_counts_low_income_households_in_hu_as_in_force_this_month(client, chief, regions):
    dibao = BenefitType.objects.get(code="dibao")
    this_month = timezone.localdate().replace(day=1)
    for start in (this_month, this_month + datetime.timedelta(days=32)):
        home = household_with_members(regions["community11"], size=2)
        Entitlement.objects.create(
            benefit_type=dibao,
            household=home,
            region_code=home.region_code,
            area_type=home.area_type,
            start_month=start.replace(day=1),
        )
    client.force_login(chief)
    html = client.get(reverse("dashboard")).content.decode()
    assert "人/户" not in html
    assert re.search(r"最低生活保障</span><span>1 户</span>", html), html[html.find("辖区在保情况") :][:800]


def test_upload_forms_say_the_allowed_types_and_size(client, make_user, regions, settings):
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    clerk = make_user("社区经办人", region="community11")
    application = assistance_services.dibao_application_create(
        household=household_with_members(regions["community11"], size=2),
        actor=clerk,
        promise_signed=True,
        authorisation_signed=True,
        staff_relative=False,
    )
    client.force_login(clerk)
    html = client.get(reverse("assistance:dibao_attachment_upload", args=[application.pk])).content.decode()
    assert "支持 pdf、jpg、jpeg、png" in html and "单个文件不超过 10 MB" in html


def test_coverage_target_is_labelled_with_the_compared_year(client, chief):
    client.force_login(chief)
    html = client.get(reverse("assistance:disability_comparison"), {"month": "2026-11"}).content.decode()
    assert "2026年目标：100%" in html and "2025年目标" not in html


def test_the_approval_form_has_no_page_of_footer_only_and_names_fit(client, make_user, regions, clock):
    import io

    from pypdf import PdfReader

    from assistance import services
    from tests.test_assistance_pdf import _to_chief

    people = {
        "clerk": make_user("社区经办人", region="community11", display_name="欧阳经办员"),
        "clerk_b": make_user("社区经办人", region="community11", display_name="李经办"),
        "reviewer": make_user("街道审核员", region="street1", display_name="司马审核员"),
        "chief": make_user("科长", region="district", display_name="诸葛科长"),
    }
    application = _to_chief(people, regions, clock)
    services.dibao_approve(application=application, actor=people["chief"], comment="同意批准")
    client.force_login(people["clerk"])
    response = client.get(reverse("assistance:dibao_form_pdf", args=[application.pk]))
    pages = PdfReader(io.BytesIO(response.content)).pages
    for page in pages:
        text = re.sub(r"\s+", "", page.extract_text())
        body = re.sub(r"第\d+页共\d+页|最低生活保障审核确认审批表|[^\d月]{0,10}民政局", "", text)
        assert len(body) > 40, (len(pages), text)
    text = "".join(page.extract_text() for page in pages)
    for name in ("欧阳经办员", "司马审核员", "诸葛科长"):
        assert name in text, name  # on one line of the 经办人 column, not broken


def test_the_approval_form_never_ends_on_a_page_of_the_closing_note_only(client, make_user, regions, clock):
    """However long the log, the last page holds some of its rows with the closing note."""
    import io

    from pypdf import PdfReader

    from core.workflow.services import case_log_action
    from tests.test_assistance_pdf import _to_chief

    people = {
        "clerk": make_user("社区经办人", region="community11", display_name="张经办"),
        "clerk_b": make_user("社区经办人", region="community11", display_name="李经办"),
        "reviewer": make_user("街道审核员", region="street1", display_name="王审核"),
        "chief": make_user("科长", region="district", display_name="赵科长"),
    }
    application = _to_chief(people, regions, clock)
    client.force_login(people["clerk"])
    url = reverse("assistance:dibao_form_pdf", args=[application.pk])
    for extra in range(24):
        case_log_action(
            case=application.case,
            name="note",
            label="补充材料",
            actor=people["clerk"],
            comment=f"补充材料第{extra}份",
        )
        pages = PdfReader(io.BytesIO(client.get(url).content)).pages
        last = re.sub(r"\s+", "", pages[-1].extract_text())
        body = re.sub(r"第\d+页共\d+页|最低生活保障审核确认审批表|[^\d月]{0,10}民政局|本表由.*?。", "", last)
        assert len(body) > 10, (extra, len(pages), last)

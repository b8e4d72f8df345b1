"""Issue 13 item 14: the 公示名单 shows household size, the proposed monthly amount and the 监督电话; a
separate 保障对象张榜名单 of the households and persons receiving 低保/特困 now, names partly masked, scoped
like the 公示名单."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assistance import services
from assistance.models import Investigation
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.benefits.months import add_months, month_start
from core.registry.choices import IncomeKind, Relation
from core.registry.masking import mask_name
from core.registry.models import IncomeRecord, Membership, Person
from reports.notices import notice_groups, posted_groups
from tests.factories import HouseholdFactory, PersonFactory, household_with_members

D = datetime.date


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return "".join(text.split())


def _assert_cjk_embedded(content: bytes, tmp_path) -> None:
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(content)
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto" in line and "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk), fonts  # the "emb" column


def _household_960(region, head_name="张三丰"):
    """Urban standard 600; head aged 45 earning 300, a child aged 10: (600 − 150) × 2 + 10 % × 600 = 960."""
    today = timezone.localdate()
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    head = PersonFactory(
        household=household,
        relation=Relation.HEAD,
        name=head_name,
        birth_date=today.replace(year=today.year - 45, day=1),
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


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "clerk21": make_user("社区经办人", region="community21"),
        "reviewer": make_user("街道审核员", region="street1"),
        "yl_chief": make_user("科长", region="district", sections=["eldercare"]),
    }


def _in_notice(household, people):
    clerk = people["clerk"]
    application = services.dibao_application_create(
        household=household, actor=clerk, promise_signed=True, authorisation_signed=True, staff_relative=False
    )
    services.dibao_application_accept(application=application, actor=clerk)
    services.investigation_record(
        application=application,
        actor=clerk,
        visit_date=timezone.localdate(),
        visitors=[clerk, people["clerk_b"]],
        findings="家庭2人，户主打零工，无车辆。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
    )
    services.dibao_notice_start(
        application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
    )
    return application


# ---------------------------------------------------------------------------------------------------
# 公示名单
# ---------------------------------------------------------------------------------------------------


def test_notice_list_shows_household_size_amount_and_complaint_phone(client, people, regions, tmp_path):
    regions["district"].complaint_phone = "0431-12345678"
    regions["district"].save()
    application = _in_notice(_household_960(regions["community11"]), people)
    client.force_login(people["clerk"])

    response = client.get(reverse("reports:notice_list_pdf"), {"community": regions["community11"].code})

    text = _text(response)
    for words in (
        "公示名单",
        application.case.number,
        "张三丰",
        "2人",
        "960.00",
        "监督电话：0431-12345678",
        "家庭人口",
    ):
        assert words in text, words
    _assert_cjk_embedded(response.content, tmp_path)


def test_street_phone_wins_and_no_phone_leaves_the_line_out(client, people, regions):
    _in_notice(_household_960(regions["community11"]), people)
    client.force_login(people["clerk"])
    text = _text(client.get(reverse("reports:notice_list_pdf")))
    assert "监督电话" not in text and "民政局反映。" in text  # no number: the line is left out

    regions["district"].complaint_phone = "0431-12345678"
    regions["district"].save()
    regions["street1"].complaint_phone = "0431-87651234"
    regions["street1"].save()
    text = _text(client.get(reverse("reports:notice_list_pdf")))
    assert "监督电话：0431-87651234" in text and "0431-12345678" not in text


def test_notice_figures_are_set_based(people, regions, django_assert_max_num_queries):
    for i in range(3):
        _in_notice(_household_960(regions["community11"], head_name=f"李{i}明"), people)
    with django_assert_max_num_queries(30) as few:
        groups = notice_groups(people["clerk"])
    assert [r.figures.monthly_amount for r in groups[0].notices] == [Decimal("960.00")] * 3
    for i in range(5):
        _in_notice(_household_960(regions["community11"], head_name=f"王{i}华"), people)
    with django_assert_max_num_queries(len(few.captured_queries)):
        groups = notice_groups(people["clerk"])
    assert len(groups[0].notices) == 8
    assert {r.figures.household_size for r in groups[0].notices} == {2}


# ---------------------------------------------------------------------------------------------------
# 保障对象张榜名单
# ---------------------------------------------------------------------------------------------------


def _paid(benefit_code: str, *, household=None, person=None, amount: str, covered: int, month=None):
    """An entitlement in force this month with its regular line in this month's monthly run."""
    month = month or month_start(timezone.localdate())
    benefit_type = BenefitType.objects.get(code=benefit_code)
    beneficiary_household = household or person.household
    entitlement = Entitlement.objects.create(
        benefit_type=benefit_type,
        household=household,
        person=person,
        region_code=beneficiary_household.region_code,
        area_type=beneficiary_household.area_type,
        start_month=add_months(month, -3),
    )
    run, _ = PaymentRun.objects.get_or_create(
        benefit_type=benefit_type,
        month=month,
        kind=PaymentRun.Kind.MONTHLY,
        defaults={"title": f"{benefit_type.name}{month:%Y%m}"},
    )
    PaymentLine.objects.create(
        run=run,
        entitlement=entitlement,
        household=household,
        person=person,
        region_code=entitlement.region_code,
        line_type=PaymentLine.LineType.REGULAR,
        for_month=month,
        covered_persons=covered,
        base_amount=Decimal(amount),
        amount=Decimal(amount),
    )
    return entitlement


@pytest.fixture
def beneficiaries(regions):
    dibao_home = household_with_members(regions["community11"], size=3)
    Person.objects.filter(pk=dibao_home.head_id).update(name="欧阳小明")
    _paid("dibao", household=dibao_home, amount="1234.50", covered=3)
    tekun_home = household_with_members(regions["community11"], size=1)
    Person.objects.filter(pk=tekun_home.head_id).update(name="赵老汉")
    tekun_person = Person.objects.get(pk=tekun_home.head_id)
    _paid("tekun_basic", person=tekun_person, amount="1100.00", covered=1)
    _paid("tekun_care", person=tekun_person, amount="230.00", covered=1)
    ended_home = household_with_members(regions["community11"], size=2)
    Person.objects.filter(pk=ended_home.head_id).update(name="钱停保")
    ended = _paid("dibao", household=ended_home, amount="500.00", covered=2)
    Entitlement.objects.filter(pk=ended.pk).update(
        end_month=add_months(month_start(timezone.localdate()), -1)
    )
    other = household_with_members(regions["community21"], size=2)
    Person.objects.filter(pk=other.head_id).update(name="孙外街")
    _paid("dibao", household=other, amount="800.00", covered=2)
    return {"dibao": dibao_home, "tekun": tekun_person}


def test_posted_list_masks_names_with_size_and_amount(client, people, regions, beneficiaries, tmp_path):
    regions["district"].complaint_phone = "0431-12345678"
    regions["district"].save()
    client.force_login(people["clerk"])

    response = client.get(reverse("reports:posted_list_pdf"), {"community": regions["community11"].code})

    text = _text(response)
    for words in (
        "社会救助保障对象名单",
        "测试街道1测试社区1-1",
        "欧**明",
        "3人",
        "1,234.50",
        "赵*汉",
        "1,330.00",
    ):
        assert words in text, words
    assert "监督电话：0431-12345678" in text and "第1页共1页" in text
    # full names never printed; an ended entitlement and another street's household are absent
    for absent in ("欧阳小明", "赵老汉", "钱停保", "钱*保", "孙外街", "孙*街", "800.00"):
        assert absent not in text, absent
    _assert_cjk_embedded(response.content, tmp_path)


def test_posted_list_is_scoped(client, people, regions, beneficiaries):
    client.force_login(people["clerk21"])
    assert (
        client.get(reverse("reports:posted_list_pdf"), {"community": regions["community11"].code}).status_code
        == 404
    )
    text = _text(client.get(reverse("reports:posted_list_pdf")))
    assert "孙*街" in text and "欧**明" not in text and "赵*汉" not in text
    # district staff of another section see none of 社会救助's beneficiaries
    assert posted_groups(people["yl_chief"]) == []


def test_posted_list_amounts_and_sizes(people, beneficiaries):
    (group,) = posted_groups(people["clerk"])
    rows = {r.category: r for r in group.rows}
    assert (rows["低保"].household_size, rows["低保"].covered, rows["低保"].monthly_amount) == (
        3,
        3,
        Decimal("1234.50"),
    )
    assert (rows["特困"].household_size, rows["特困"].covered, rows["特困"].monthly_amount) == (
        1,
        1,
        Decimal("1330.00"),
    )
    assert group.total_amount == Decimal("2564.50") and group.persons == 4


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_posted_list_as_a_report_job(people, beneficiaries, media, django_capture_on_commit_callbacks):
    from reports.models import ReportJob
    from reports.services import report_request

    with django_capture_on_commit_callbacks(execute=True):
        job = report_request(report_type="posted_list", params={"community": ""}, actor=people["clerk"])
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.filename.startswith("保障对象张榜名单")


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张三丰", "张*丰"), ("欧阳小明", "欧**明"), ("李", "*"), ("", "")]
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked

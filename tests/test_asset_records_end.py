"""Issue 13 item 3, follow-up: an asset record ends (处置/注销日期) instead of counting forever, the 财产 limits
count only the records held on the day, ending one is a household change (a 变化核查 for a covered 低保
household), and the 低保 confirmation is refused over a limit.

Urban 低保标准 600 元/月 (seed), 24 months → 14,400 元 per capita; 机动车 above 50,000 元 exceeds."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.asset_limits import asset_limits_check
from assistance.case_types import DibaoStatus
from assistance.models import Decision, Investigation
from core.benefits.models import ChangeCheck
from core.registry.choices import AssetKind
from core.registry.models import AssetRecord, IncomeRecord
from core.registry.services import asset_record_add, asset_record_end
from core.workflow.models import Case
from core.workflow.services import TransitionError
from tests.factories import dibao_entitlement, household_with_members

D = datetime.date
CHECKED = D(2026, 1, 10)
LATER = D(2026, 3, 10)


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "clerk21": make_user("社区经办人", region="community21"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
    }


def _household(regions, wage="400"):
    household = household_with_members(regions["community11"], size=2)
    IncomeRecord.objects.create(
        household=household,
        person=household.head,
        kind="wage",
        monthly_amount=Decimal(wage),
        period_start=D(2020, 1, 1),
    )
    return household


def _add(household, actor, kind, value, on=CHECKED, **fields):
    return asset_record_add(
        household=household, kind=kind, value=value, recorded_on=on, actor=actor, **fields
    )


def _check(household, on):
    return asset_limits_check([household], on)[household.pk]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token(page) -> dict:
    match = re.search(r'name="(form_token)" value="([^"]+)"', page.content.decode())
    return {match.group(1): match.group(2)} if match else {}


# --- ending a record --------------------------------------------------------------------------------------


def test_ending_a_record_keeps_it_with_its_history(regions, people):
    household = _household(regions)
    car = _add(household, people["clerk"], AssetKind.VEHICLE, "80000", description="轿车")
    ended = asset_record_end(record=car, on_date=LATER, reason="车辆已出售", actor=people["clerk"])

    car.refresh_from_db()
    assert ended.pk == car.pk and car.disposed_on == LATER and car.disposal_reason == "车辆已出售"
    assert AssetRecord.objects.filter(pk=car.pk).exists()  # never deleted
    history = list(car.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[0].disposed_on is None and history[1].disposed_on == LATER
    assert history[1].history_user == people["clerk"]


def test_ending_a_record_refuses_bad_dates_a_missing_reason_and_a_second_end(regions, people):
    household = _household(regions)
    clerk = people["clerk"]
    deposit = _add(household, clerk, AssetKind.DEPOSIT, "1000")

    with pytest.raises(ValidationError) as refused:
        asset_record_end(record=deposit, on_date=D(2026, 1, 9), reason="", actor=clerk)
    assert refused.value.message_dict == {
        "on_date": ["处置/注销日期不能早于核查日期（2026-01-10）"],
        "reason": ["请填写处置/注销原因"],
    }
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        asset_record_end(record=deposit, on_date=tomorrow, reason="已支取", actor=clerk)
    assert refused.value.message_dict == {"on_date": ["处置/注销日期不能晚于今天"]}
    with pytest.raises(ValidationError) as refused:
        asset_record_end(record=deposit, on_date=None, reason="已支取", actor=clerk)
    assert refused.value.message_dict == {"on_date": ["请填写处置/注销日期"]}
    deposit.refresh_from_db()
    assert deposit.disposed_on is None

    # Ended on its own 核查日期 (entered by mistake): allowed, then never counted.
    asset_record_end(record=deposit, on_date=CHECKED, reason="重复登记", actor=clerk)
    with pytest.raises(ValidationError, match="已于2026-01-10处置/注销，不能重复注销"):
        asset_record_end(record=deposit, on_date=LATER, reason="再次注销", actor=clerk)
    deposit.refresh_from_db()
    assert deposit.disposed_on == CHECKED and deposit.disposal_reason == "重复登记"


def test_ending_a_record_out_of_scope_is_refused(regions, people):
    household = _household(regions)
    car = _add(household, people["clerk"], AssetKind.VEHICLE, "80000")
    with pytest.raises(PermissionDenied):
        asset_record_end(record=car, on_date=LATER, reason="车辆已出售", actor=people["clerk21"])
    car.refresh_from_db()
    assert car.disposed_on is None

    # The page of a household outside the user's region is a 404.
    url = reverse("registry:asset_end", args=[household.pk, car.pk])
    assert _client(people["clerk21"]).get(url).status_code == 404
    # The 科长 reads the registry but edits no asset record.
    assert _client(people["chief"]).get(url).status_code == 403


# --- the limits count only the records held on the day ----------------------------------------------------


def test_a_deposit_re_recorded_after_ending_the_old_one_counts_once(regions, people):
    household = _household(regions)
    clerk = people["clerk"]
    old = _add(household, clerk, AssetKind.DEPOSIT, "20000", person=household.head)
    # Re-recorded at a later check without ending the old one: counted twice, 40,000 / 2 > 14,400.
    new = _add(household, clerk, AssetKind.DEPOSIT, "20000", on=LATER, person=household.head)
    assert _check(household, LATER).exceeded[0].code == "financial"
    assert _check(household, LATER).financial_per_capita == Decimal("20000")

    asset_record_end(record=old, on_date=LATER, reason="重新核查登记", actor=clerk)
    check = _check(household, LATER)
    assert check.within and check.financial_per_capita == Decimal("10000") and check.recorded == 1
    # Before the second check the old record still counts, alone.
    before = _check(household, D(2026, 3, 9))
    assert before.recorded == 1 and before.financial_per_capita == Decimal("10000")
    assert new.disposed_on is None


def test_a_new_record_may_end_the_one_it_supersedes(regions, people):
    household = _household(regions)
    clerk = people["clerk"]
    old = _add(household, clerk, AssetKind.DEPOSIT, "20000", person=household.head)
    new = _add(household, clerk, AssetKind.DEPOSIT, "25000", on=LATER, person=household.head, replaces=old)
    old.refresh_from_db()
    assert old.disposed_on == LATER and "重新核查登记" in old.disposal_reason
    assert _check(household, LATER).financial_per_capita == Decimal("12500")
    assert new.disposed_on is None

    # Only a held record of the same kind and owner, not checked later than the new one.
    car = _add(household, clerk, AssetKind.VEHICLE, "10000")
    with pytest.raises(ValidationError) as refused:
        _add(household, clerk, AssetKind.DEPOSIT, "1", on=LATER, replaces=car)
    assert refused.value.message_dict == {"replaces": ["只能注销同一所有人的同类财产记录"]}
    with pytest.raises(ValidationError) as refused:
        _add(household, clerk, AssetKind.DEPOSIT, "1", on=LATER, person=household.head, replaces=old)
    assert refused.value.message_dict == {"replaces": ["所选财产记录已于2026-03-10处置/注销"]}
    with pytest.raises(ValidationError) as refused:
        _add(household, clerk, AssetKind.DEPOSIT, "1", on=D(2026, 3, 1), person=household.head, replaces=new)
    assert refused.value.message_dict == {
        "replaces": ["新记录的核查日期不能早于所注销记录的核查日期（2026-03-10）"]
    }
    other = _household(regions)
    foreign = _add(other, clerk, AssetKind.DEPOSIT, "1")
    with pytest.raises(ValidationError) as refused:
        _add(household, clerk, AssetKind.DEPOSIT, "1", on=LATER, replaces=foreign)
    assert refused.value.message_dict == {"replaces": ["所选财产记录不属于本家庭"]}
    assert AssetRecord.objects.filter(household=household).count() == 3


def test_a_car_disposed_of_no_longer_counts(regions, people):
    household = _household(regions)
    car = _add(household, people["clerk"], AssetKind.VEHICLE, "80000", description="轿车")
    assert not _check(household, LATER).within
    asset_record_end(record=car, on_date=LATER, reason="车辆已出售", actor=people["clerk"])
    assert _check(household, LATER).within and _check(household, LATER).recorded == 0
    # The day before the sale it was still held.
    assert [x.code for x in _check(household, D(2026, 3, 9)).exceeded] == ["vehicle"]


# --- the household page -----------------------------------------------------------------------------------


def test_the_household_page_shows_doubles_and_ends_a_record(regions, people):
    household = _household(regions)
    clerk = people["clerk"]
    old = _add(household, clerk, AssetKind.DEPOSIT, "20000", person=household.head)
    _add(household, clerk, AssetKind.DEPOSIT, "20000", on=LATER, person=household.head)
    client = _client(clerk)
    detail_url = reverse("registry:household_detail", args=[household.pk])
    page = client.get(detail_url).content.decode()
    assert "data-asset-duplicates" in page and page.count("可能重复</span>") == 2
    assert "40,000.00" in page  # the two held records summed: what the limits count

    end_url = reverse("registry:asset_end", args=[household.pk, old.pk])
    assert f'href="{end_url}"' in page
    form = client.get(end_url)
    assert form.status_code == 200 and "处置/注销原因" in form.content.decode()
    refused = client.post(end_url, {"on_date": "2026-01-01", "reason": "重新核查登记", **_token(form)})
    assert refused.status_code == 400
    assert "处置/注销日期不能早于核查日期（2026-01-10）" in refused.content.decode()
    form = client.get(end_url)
    done = client.post(end_url, {"on_date": "2026-03-10", "reason": "重新核查登记", **_token(form)})
    assert done.status_code == 302
    old.refresh_from_db()
    assert old.disposed_on == LATER

    page = client.get(detail_url).content.decode()
    assert "data-asset-duplicates" not in page and "可能重复</span>" not in page
    assert "已处置/注销" in page and "重新核查登记" in page
    assert f'href="{end_url}"' not in page  # an ended record offers no second end
    # The history of the page names the change.
    assert "处置/注销日期" in page


def test_the_recheck_link_prefills_the_form_and_ends_the_old_record(regions, people):
    household = _household(regions)
    clerk = people["clerk"]
    old = _add(household, clerk, AssetKind.DEPOSIT, "20000", person=household.head, description="工行存款")
    client = _client(clerk)
    url = reverse("registry:asset_add", args=[household.pk])
    form = client.get(f"{url}?replaces={old.pk}")
    html = form.content.decode()
    assert re.search(rf'<option value="{old.pk}" selected>', html)
    assert 'value="工行存款"' in html
    response = client.post(
        url,
        {
            "kind": AssetKind.DEPOSIT,
            "person": household.head.pk,
            "value": "21000",
            "recorded_on": "2026-03-10",
            "description": "工行存款",
            "replaces": old.pk,
            **_token(form),
        },
    )
    assert response.status_code == 302, response.content.decode()
    old.refresh_from_db()
    assert old.disposed_on == LATER
    assert AssetRecord.objects.filter(household=household, disposed_on__isnull=True).get().value == Decimal(
        "21000"
    )


# --- a household change -----------------------------------------------------------------------------------


def test_ending_an_asset_of_a_covered_household_opens_a_change_check(regions, people):
    household = _household(regions)
    car = _add(household, people["clerk"], AssetKind.VEHICLE, "30000", description="旧面包车")
    entitlement = dibao_entitlement(household, D(2026, 1, 1))
    assert not ChangeCheck.objects.exists()
    asset_record_end(record=car, on_date=LATER, reason="车辆已报废", actor=people["clerk"])
    check = ChangeCheck.objects.get(entitlement=entitlement)
    assert check.status == ChangeCheck.Status.OPEN
    what = check.changes[0]["what"]
    assert (
        what.startswith("财产处置/注销：机动车 30,000.00 元") and "2026-03-10起不再持有：车辆已报废" in what
    )
    assert check.changes[0]["by"] == str(people["clerk"])


# --- the 低保 confirmation --------------------------------------------------------------------------------


def _to_chief(household, people, clock):
    clerk = people["clerk"]
    with clock.days_ago(10):
        application = services.dibao_application_create(
            household=household, actor=clerk, promise_signed=True, authorisation_signed=True
        )
        services.dibao_application_accept(application=application, actor=clerk)
        services.investigation_record(
            application=application,
            actor=clerk,
            visit_date=timezone.localdate(),
            visitors=[clerk, people["clerk_b"]],
            findings="家庭2人，户主务工。",
            economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
        )
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    services.dibao_notice_finish(application=application, actor=clerk)
    services.dibao_street_review(application=application, actor=people["reviewer"], comment="同意")
    return application


def test_the_confirmation_is_refused_over_a_limit_naming_it_and_allowed_once_corrected(
    regions, people, clock
):
    household = _household(regions)
    recorded = timezone.localdate() - datetime.timedelta(days=30)
    car = _add(household, people["clerk"], AssetKind.VEHICLE, "80000", on=recorded, description="轿车")
    application = _to_chief(household, people, clock)
    limit = "机动车（轿车）价值 80,000.00 元，超过 50,000.00 元（残疾人功能性补偿代步车辆除外）"

    with pytest.raises(TransitionError) as refused:
        services.dibao_approve(application=application, actor=people["chief"], comment="同意")
    assert "家庭财产超过规定，不能确认批准" in str(refused.value) and limit in str(refused.value)
    assert not Decision.objects.filter(application=application).exists()
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.CHIEF_CONFIRMATION
    # The 科长's page says why before anyone clicks.
    page = _client(people["chief"]).get(reverse("assistance:dibao_detail", args=[application.pk]))
    assert limit in page.content.decode()

    # The caseworker records that the car was sold: the confirmation goes through.
    asset_record_end(record=car, on_date=timezone.localdate(), reason="车辆已出售", actor=people["clerk"])
    decision = services.dibao_approve(application=application, actor=people["chief"], comment="同意")
    assert decision.approved and decision.entitlement is not None


def test_the_confirmation_within_the_limits_is_allowed(regions, people, clock):
    household = _household(regions)
    recorded = timezone.localdate() - datetime.timedelta(days=30)
    _add(
        household, people["clerk"], AssetKind.DEPOSIT, "28800", on=recorded
    )  # 14,400 per capita: at the limit
    application = _to_chief(household, people, clock)
    decision = services.dibao_approve(application=application, actor=people["chief"], comment="同意")
    assert decision.approved


def test_over_a_limit_the_chief_may_still_refuse(regions, people, clock):
    household = _household(regions)
    recorded = timezone.localdate() - datetime.timedelta(days=30)
    _add(household, people["clerk"], AssetKind.DEPOSIT, "40000", on=recorded)
    application = _to_chief(household, people, clock)
    with pytest.raises(TransitionError, match="家庭人均金融资产（现金、存款、有价证券）20,000.00 元"):
        services.dibao_approve(application=application, actor=people["chief"], comment="同意")
    decision = services.dibao_refuse(
        application=application, actor=people["chief"], reasons="家庭人均金融资产超过规定"
    )
    assert decision.approved is False

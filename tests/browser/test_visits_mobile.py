"""探访关爱 on a phone (issue 11 part 1, "Must hold"): a community caseworker opens the overdue list on a
390×844 screen, taps a person into the visit entry page, records a telephone visit with a need and a
follow-up, and the month's coverage rate of the community on the coverage page moves from 0% to 50%."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from core.registry.models import Membership
from core.visits import services
from core.visits.models import Enrollment, Visit
from tests.browser.conftest import login
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium_browser, live_server):
    # A phone's screen size and touch; not `is_mobile` (Chromium would then zoom the page out to the
    # width of the widest element instead of laying it out at 390 px).
    context = chromium_browser.new_context(
        locale="zh-CN", viewport=PHONE, device_scale_factor=3, has_touch=True
    )
    context.set_default_timeout(15000)
    pg = context.new_page()
    pg.base_url = live_server.url
    pg.csp_violations = []
    pg.on(
        "console",
        lambda message: "Content Security Policy" in message.text and pg.csp_violations.append(message.text),
    )
    yield pg
    context.close()
    assert not pg.csp_violations, f"Content-Security-Policy violations: {pg.csp_violations}"


def _elder(region, name):
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    person = PersonFactory(
        household=household, relation="head", name=name, birth_date=datetime.date(1940, 4, 1)
    )
    Membership.objects.create(
        person=person, household=household, relation="head", joined_on=datetime.date(2020, 1, 1)
    )
    household.head = person
    household.save(update_fields=["head"])
    return person


def _rate(page, community_code: str) -> str:
    page.goto(page.base_url + "/visits/coverage/?programme=elder_special")
    row = page.locator(
        f"[data-coverage=community] tr[data-region='{community_code}'][data-programme='elder_special']"
    )
    return row.locator("[data-rate]").inner_text()


def test_a_caseworker_records_a_visit_on_a_phone_and_coverage_moves(phone, make_user, regions):
    # Transactional tests flush what the data migrations created: put the visit parameters back.
    importlib.import_module("core.visits.migrations.0002_visit_parameters").seed(apps, None)
    clerk = make_user("社区经办人", region="community11", username="sq_phone")
    community = regions["community11"]
    today = timezone.localdate()
    joined = (today.replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    wang = _elder(community, "王秀兰")
    li = _elder(community, "李德福")
    services.enrollment_create(
        persons=[wang, li], programme_code="elder_special", joined_on=joined, actor=clerk
    )
    assert Enrollment.objects.filter(next_due_on__lt=today).count() == 2  # both overdue

    login(phone, "sq_phone")
    assert _rate(phone, community.code).startswith("0.0%")

    phone.goto(phone.base_url + "/visits/overdue/")
    phone.get_by_role("link", name="王秀兰").click()
    phone.wait_for_url("**/visits/persons/*/visit/")
    # One column that fits the screen, large touch targets.
    form = phone.locator(".visit-entry").bounding_box()
    assert form["x"] >= 0 and form["x"] + form["width"] <= PHONE["width"]
    # The whole page, header included, keeps to the screen: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save = phone.get_by_role("button", name="保存探访记录")
    box = save.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300

    phone.locator("label", has_text="电话").click()
    phone.locator("textarea[name=findings]").fill("老人腿脚不便，独自在家，情绪尚可。")
    phone.locator("label", has_text="高").click()
    phone.locator("label", has_text="医疗").click()
    phone.locator("textarea[name=follow_up]").fill("联系家庭医生上门")
    phone.locator("input[name=follow_up_due]").fill((today + datetime.timedelta(days=7)).isoformat())
    save.click()
    phone.wait_for_url("**/visits/records/*/")
    assert "已登记王秀兰的探访" in phone.content()

    made = Visit.objects.get(person=wang)
    assert (made.visited_on, made.way, made.risk_level, made.needs) == (today, "phone", "high", ["medical"])
    assert list(made.visitors.values_list("username", flat=True)) == ["sq_phone"]
    assert _rate(phone, community.code).startswith("50.0%")

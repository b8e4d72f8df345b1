"""The run's page shows 50 lines and loads a line's 计算过程 only when its row is opened (htmx, under the
Content-Security-Policy); without JavaScript the row's 详情 link shows it in full."""

import pytest

from core.benefits import services
from tests.browser.conftest import login
from tests.test_benefits_engine import MARCH, FixedCalculator, fixed, person_entitlement  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lines_explanation_is_loaded_when_its_row_is_opened(page, make_user, regions, fixed):  # noqa: F811
    make_user("科长", region="district", username="kz_lines")
    person_entitlement(fixed, regions["community11"], tier="B")
    run = services.payment_run_recalculate(benefit_type=fixed, month=MARCH)

    login(page, "kz_lines")
    page.goto(page.base_url + f"/benefits/runs/{run.pk}/")
    row = page.locator("tbody details").first
    body = row.locator(".line-explanation")
    assert "正在读取计算过程" in body.text_content()  # nothing rendered until asked for
    row.locator("summary").click()
    body.locator(".explanation").wait_for()
    text = body.inner_text()
    assert "档次" in text and "B" in text and "正在读取" not in text
    # Closing and opening again does not ask twice (hx-trigger "toggle once").
    requests = []
    page.on("request", lambda request: "/explanation/" in request.url and requests.append(request.url))
    row.locator("summary").click()
    row.locator("summary").click()
    page.wait_for_timeout(300)
    assert requests == []

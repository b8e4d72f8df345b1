"""The pages keep working under the Content-Security-Policy (no inline script, handler or style): htmx
posts a reveal with its CSRF header and swaps the answer in, Bootstrap opens the user menu, a data-print
button prints, a data-confirm form asks before it posts. The page fixture fails any test whose pages
report a policy violation on the console."""

import pytest

from tests.browser.conftest import login
from tests.factories import household_with_members

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_htmx_bootstrap_print_and_confirm_work_under_the_policy(page, make_user, regions):
    make_user("科长", region="district", username="kz_csp")
    household = household_with_members(regions["community11"], size=1)
    person = household.head
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")

    login(page, "kz_csp")
    response = page.goto(page.base_url + f"/registry/households/{household.pk}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    # htmx: the reveal is an hx-post carrying the CSRF token from hx-headers; the full number comes back.
    pii = page.locator(f"#pii-person-{person.pk}")
    assert person.id_number not in pii.inner_text()
    pii.get_by_role("button", name="查看完整信息").click()
    page.locator(f"#pii-person-{person.pk}").get_by_text("已记录查阅").wait_for()
    assert person.id_number in page.locator(f"#pii-person-{person.pk}").inner_text()

    # Bootstrap's JavaScript: the user menu opens.
    page.locator(".app-header [data-bs-toggle=dropdown]").click()
    page.get_by_role("link", name="修改密码").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="修改密码").wait_for(state="hidden")

    # data-print (was onclick="window.print()").
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1

    # data-confirm (was onsubmit="return confirm(…)"): dismissing the question keeps the form unposted.
    page.goto(page.base_url + "/benefits/runs/")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("#create-month").fill("2026-01")
    page.get_by_role("button", name="生成/重新计算").click()
    assert asked and "确定计算所选待遇该月的发放批次吗" in asked[0]
    assert page.url == page.base_url + "/benefits/runs/"

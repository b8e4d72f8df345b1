"""两步验证 (issue 12, item 13): with OTP_REQUIRED a 科长, 局领导 or 系统管理员 enters a TOTP code after the
password, binding a device first if none; other roles, and everyone with OTP_REQUIRED off, sign in as
before."""

import time

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import PrivilegeChange

PASSWORD = "Passw0rd-2026"
pytestmark = pytest.mark.django_db
required = override_settings(OTP_REQUIRED=True)


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    """The device's current code, as the phone app shows it (offset in steps: another step's code)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """A code the device refuses now (not in the accepted window of ±tolerance steps)."""
    right = {code_for(device, offset=d) for d in range(-device.tolerance, device.tolerance + 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def password_login(client, username: str, next_url: str = "/"):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD, "next": next_url})


@required
def test_chief_without_device_is_sent_to_binding_and_cannot_open_pages(client, make_user):
    make_user("科长", username="chief")
    response = password_login(client, "chief")
    assert response.status_code == 302
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/bind/")
    # Other pages too, and the verify page sends on to binding while no device is bound.
    assert client.get("/accounts/password/")["Location"].startswith("/accounts/otp/bind/")
    assert client.get("/accounts/otp/")["Location"].startswith("/accounts/otp/bind/")
    page = client.get("/accounts/otp/bind/?next=/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "绑定动态口令" in text
    assert "otpauth://totp/" in text
    assert "<svg" in text
    device = TOTPDevice.objects.get(user__username="chief")
    assert not device.confirmed


@required
def test_binding_with_a_correct_code_verifies_the_session(client, make_user):
    make_user("科长", username="chief")
    password_login(client, "chief")
    client.get("/accounts/otp/bind/")
    device = TOTPDevice.objects.get(user__username="chief")
    response = client.post("/accounts/otp/bind/", {"code": code_for(device), "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    # Bound: a later sign-in asks for the code, never for binding again.
    client.post("/accounts/logout/")
    password_login(client, "chief")
    assert client.get("/")["Location"].startswith("/accounts/otp/?")
    assert client.get("/accounts/otp/bind/")["Location"].startswith("/accounts/otp/?")


@required
def test_binding_refuses_a_wrong_code(client, make_user):
    make_user("局领导", username="leader")
    password_login(client, "leader")
    client.get("/accounts/otp/bind/")
    device = TOTPDevice.objects.get(user__username="leader")
    response = client.post("/accounts/otp/bind/", {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").status_code == 302


def bound_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)


@required
def test_chief_with_device_must_enter_the_code(client, make_user):
    device = bound_device(make_user("科长", username="chief"))
    response = password_login(client, "chief", "/accounts/password/")
    assert response["Location"] == "/accounts/password/"
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/?next=")
    page = client.get(response["Location"])
    assert "两步验证" in page.content.decode()
    response = client.post("/accounts/otp/", {"code": code_for(device), "next": "/accounts/password/"})
    assert response["Location"] == "/accounts/password/"
    assert client.get("/accounts/password/").status_code == 200
    assert client.get("/").status_code == 200


@required
def test_wrong_codes_are_refused_in_chinese_and_five_end_the_sign_in(client, make_user):
    device = bound_device(make_user("系统管理员", username="admin1"))
    password_login(client, "admin1")
    wrong = wrong_code_for(device)
    response = client.post("/accounts/otp/", {"code": wrong})
    assert response.status_code == 200
    assert "动态口令不正确，还可再试 4 次" in response.content.decode()
    response = client.post("/accounts/otp/", {"code": "12ab"})
    assert "动态口令是 6 位数字" in response.content.decode()
    for _ in range(2):
        response = client.post("/accounts/otp/", {"code": wrong})
        assert response.status_code == 200
        assert client.get("/").status_code == 302
    response = client.post("/accounts/otp/", {"code": wrong})  # the fifth
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/login/")
    assert "动态口令连续输错 5 次" in page.content.decode()
    # Even the right code is of no use now: the sign-in is gone.
    response = client.post("/accounts/otp/", {"code": code_for(device)})
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/")["Location"].startswith("/accounts/login/")


@required
def test_device_throttling_refuses_quick_retries(client, make_user):
    device = bound_device(make_user("科长", username="chief"))
    password_login(client, "chief")
    client.post("/accounts/otp/", {"code": wrong_code_for(device)})
    # django-otp's throttle: right after a failure, even the right code waits (the delay doubles).
    response = client.post("/accounts/otp/", {"code": code_for(device)})
    assert "尝试过于频繁" in response.content.decode()
    time.sleep(1.1)
    assert client.post("/accounts/otp/", {"code": code_for(device)})["Location"] == "/"


@required
def test_community_caseworker_signs_in_without_a_code(client, make_user):
    make_user("社区经办人", username="worker")
    password_login(client, "worker")
    assert client.get("/").status_code == 200
    assert not TOTPDevice.objects.exists()


@override_settings(OTP_REQUIRED=False)
def test_nobody_is_asked_when_not_required(client, make_user):
    bound_device(make_user("科长", username="chief"))
    password_login(client, "chief")
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    make_user("系统管理员", username="admin1")
    password_login(client, "admin1")
    assert client.get("/").status_code == 200


@required
def test_administrator_resets_a_device_recorded_as_privilege_change(client, make_user):
    chief = make_user("科长", username="chief")
    bound_device(chief)
    admin_user = make_user("系统管理员", username="admin1", is_staff=True, region="district")
    admin_device = bound_device(admin_user)
    password_login(client, "admin1")
    client.post("/accounts/otp/", {"code": code_for(admin_device)})
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_otp_devices", "_selected_action": [chief.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "已重置 1 个用户的动态口令" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=chief).exists()
    change = PrivilegeChange.objects.get(user=chief, what="动态口令")
    assert change.actor == admin_user
    assert change.via == PrivilegeChange.Via.ADMIN
    # The chief's next sign-in binds a new device.
    client.post("/accounts/logout/")
    password_login(client, "chief")
    assert client.get("/")["Location"].startswith("/accounts/otp/bind/")


@pytest.mark.parametrize(("env", "expected"), [({}, "True"), ({"DJANGO_OTP_REQUIRED": "false"}, "False")])
def test_production_requires_two_factor_unless_turned_off(env, expected):
    from tests.test_deploy_settings import production_env, run_python

    code = "import django; django.setup(); from django.conf import settings; print(settings.OTP_REQUIRED)"
    result = run_python(code, production_env(**env))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.django_db
def test_the_binding_page_shows_no_menu_before_the_code(client, make_user, settings):
    settings.OTP_REQUIRED = True
    chief = make_user("科长", region="district")
    client.force_login(chief)
    page = client.get(reverse("accounts:otp_bind")).content.decode()
    assert "绑定动态口令" in page
    assert "低保申请" not in page  # the bureau menu is not offered before the sign-in is complete

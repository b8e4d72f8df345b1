"""两步验证: two-factor sign-in with a time-based code (TOTP, django-otp) for the roles that approve,
lock payment runs and administer users (settings.OTP_REQUIRED_ROLES) and superusers, when
settings.OTP_REQUIRED is on (production's default).

After the password (the ordinary login page), OTPRequiredMiddleware sends such a user to one page until
the session is verified: 两步验证 (enter the code of the bound device) or, with none bound yet,
绑定动态口令 (scan the QR code or type the secret into an authenticator app, confirm with a first
code). settings.OTP_CODE_FAILURE_LIMIT wrong codes in one sign-in end the session; django-otp's own
throttling (a delay doubling with each failure, kept on the device) slows guessing across sessions.
An administrator resets a lost device in the user admin (重置动态口令, recorded as a 权限变更记录)."""

import base64
import logging

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger("core.accounts.two_factor")

FAILURES = "_otp_failures"  # session key: wrong codes entered in this sign-in
VERIFY = "accounts:otp_verify"
BIND = "accounts:otp_bind"


def otp_required_for(user) -> bool:
    """Whether `user` must sign in with a code (when settings.OTP_REQUIRED is on)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=settings.OTP_REQUIRED_ROLES).exists()


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_step(user) -> str:
    """The URL name of the page `user` must pass before any other (VERIFY or BIND), or "" when none."""
    if not user.is_authenticated or getattr(user, "is_verified", lambda: False)():
        return ""
    if not otp_required_for(user):
        return ""
    return VERIFY if confirmed_device(user) else BIND


class CodeForm(forms.Form):
    code = forms.CharField(
        label="动态口令",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg text-center",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
        error_messages={"required": "请输入动态口令"},
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError("动态口令是 6 位数字")
        return code


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _go(request, step: str):
    """Redirect to the step still owed (or on to `next` when none)."""
    if not step:
        return redirect(_next_url(request))
    return redirect(f"{reverse(step)}?{urlencode({'next': _next_url(request)})}")


def _refuse(request, form: CodeForm, reason: str):
    """Count a wrong code: the form shows why and the tries left; the last one ends the session."""
    failures = request.session.get(FAILURES, 0) + 1
    limit = settings.OTP_CODE_FAILURE_LIMIT
    logger.warning("wrong one-time code for %s (%d of %d)", request.user.get_username(), failures, limit)
    if failures >= limit:
        logout(request)
        messages.error(request, f"动态口令连续输错 {limit} 次，本次登录已作废，请重新登录。")
        return redirect(settings.LOGIN_URL)
    request.session[FAILURES] = failures
    form.add_error("code", f"{reason}，还可再试 {limit - failures} 次。")
    return None


def _passed(request, device: TOTPDevice):
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(FAILURES, None)
    return redirect(_next_url(request))


def _code_problem(form: CodeForm, device: TOTPDevice) -> str:
    """Why a submitted code is refused, or "" when it is right (the device then records its use)."""
    if not form.is_valid():
        return form.errors["code"][0]
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return "尝试过于频繁，请稍等片刻后输入新的动态口令"
    if not device.verify_token(form.cleaned_data["code"]):
        return "动态口令不正确"
    return ""


@require_http_methods(["GET", "POST"])
def verify(request):
    """两步验证: the code of the user's bound device."""
    step = pending_step(request.user)
    if step != VERIFY:
        return _go(request, step)
    device = confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if form.is_bound:
        problem = _code_problem(form, device)
        if not problem:
            return _passed(request, device)
        ended = _refuse(request, form, problem)
        if ended is not None:
            return ended
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def bind(request):
    """绑定动态口令: a user who must use two-factor sign-in and has no device yet binds one."""
    step = pending_step(request.user)
    if step != BIND:
        return _go(request, step)
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="动态口令", confirmed=False)
    form = CodeForm(request.POST or None)
    if form.is_bound:
        problem = _code_problem(form, device)
        if not problem:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
            logger.info("one-time password device bound for %s", request.user.get_username())
            messages.success(request, "动态口令已绑定，以后登录时请输入手机上显示的 6 位数字。")
            return _passed(request, device)
        ended = _refuse(request, form, problem)
        if ended is not None:
            return ended
    secret = base64.b32encode(device.bin_key).decode()
    svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    context = {
        "form": form,
        "next": _next_url(request),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": device.config_url,
        "qr_svg": mark_safe(svg.to_string(encoding="unicode")),  # noqa: S308 — generated by qrcode, no user input
    }
    return render(request, "accounts/otp_bind.html", context)


@transaction.atomic
def reset_devices(*, actor, user) -> bool:
    """Remove `user`'s devices (a lost phone): the next sign-in binds a new one. Recorded as a
    权限变更记录. False when the user had none."""
    from . import services
    from .models import PrivilegeChange

    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    if not deleted:
        return False
    services.privilege_change_record(
        actor=actor,
        via=PrivilegeChange.Via.ADMIN,
        what="动态口令",
        old="已绑定",
        new="已重置（下次登录时重新绑定）",
        user=user,
    )
    return True

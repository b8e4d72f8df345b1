import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

OPEN_PREFIXES = ("/accounts/login/", "/static/", "/admin/login/", "/healthz")


class LoginRequiredMiddleware:
    """Every page needs a login except the login page, static files and the health check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
        return self.get_response(request)


REFRESHED = "_refreshed"  # the session key holding the time of its last save (epoch seconds)


class SessionIdleRefreshMiddleware:
    """Keep the idle expiry sliding (SESSION_COOKIE_AGE after the last request) without writing the
    session on every request: it is saved when it changed or when its last refresh is older than
    SESSION_REFRESH_SECONDS, so the session ends between AGE − REFRESH and AGE after the last request.

    SESSION_SAVE_EVERY_REQUEST made every page an UPDATE of django_session and a COMMIT — 95–160 ms on
    a busy disk, the largest part of the web tier's p99 (benchmarks/README.md)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(REFRESHED, 0)) >= settings.SESSION_REFRESH_SECONDS:
                session[REFRESHED] = now  # marks the session modified: SessionMiddleware saves it
        return response


def stamp_session_on_login(sender, request, user, **kwargs) -> None:
    """A login saves the session anyway: stamp it then, so the first page after it writes nothing."""
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED] = int(time.time())


OTP_OPEN_PREFIXES = ("/accounts/otp/", "/accounts/logout/", "/static/", "/healthz")


class OTPRequiredMiddleware:
    """With settings.OTP_REQUIRED, a signed-in user who needs two-factor sign-in (core.accounts.two_factor)
    and has not entered a code in this session sees only the 两步验证 page (a bound device) or the
    绑定动态口令 page (none yet) — every other page redirects there. After django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.OTP_REQUIRED and not request.path.startswith(OTP_OPEN_PREFIXES):
            from .two_factor import pending_step

            step = pending_step(request.user)
            if step:
                return redirect_to_login(request.get_full_path(), reverse(step), "next")
        return self.get_response(request)

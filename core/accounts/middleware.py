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

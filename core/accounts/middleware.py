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

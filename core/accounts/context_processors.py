from django.conf import settings

from .navigation import navigation_for


def shell(request):
    """What the page layout needs on every page: the bureau's name and the user's navigation."""
    user = getattr(request, "user", None)
    return {
        "BUREAU_NAME": settings.BUREAU_NAME,
        "SYSTEM_NAME": settings.SYSTEM_NAME,
        "nav_sections": navigation_for(user) if user is not None and user.is_authenticated else [],
    }

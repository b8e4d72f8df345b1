from django.conf import settings

from .models import SectionRole
from .navigation import navigation_for
from .sections import DISTRICT_ROLES


def shell(request):
    """What the page layout needs on every page: the bureau's name and the user's navigation."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if signed_in and settings.OTP_REQUIRED and request.path.startswith("/accounts/otp/"):
        from .two_factor import pending_step

        # Before the code is entered every link would lead back here: the 两步验证 pages show no menu.
        signed_in = not pending_step(user)
    return {
        "BUREAU_NAME": settings.BUREAU_NAME,
        "SYSTEM_NAME": settings.SYSTEM_NAME,
        "nav_sections": navigation_for(user) if signed_in else [],
        "user_sections": _section_labels(user) if signed_in else [],
    }


def _section_labels(user) -> list[str]:
    """The sections a district user works in, as shown in the user menu ("社会救助科科长")."""
    if not user.has_role(*DISTRICT_ROLES):
        return []
    rows = SectionRole.objects.filter(user=user, section__is_active=True).values_list("section__name", "role")
    return [f"{name}{role}" for name, role in rows]

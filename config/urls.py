from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

admin.site.site_header = f"{settings.SYSTEM_NAME} · 系统管理"
admin.site.site_title = settings.SYSTEM_NAME
admin.site.index_title = "系统管理"

urlpatterns = [
    path("healthz", lambda request: HttpResponse("ok"), name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("core.accounts.urls")),
    path("registry/", include("core.registry.urls")),
    path("workflow/", include("core.workflow.urls")),
    path("benefits/", include("core.benefits.urls")),
    path("visits/", include("core.visits.urls")),
    path("facilities/", include("core.facilities.urls")),
    path("staff/", include("core.staff.urls")),
    path("assistance/", include("assistance.urls")),
    path("reports/", include("reports.urls")),
    path("", include("core.portal.urls")),
]

handler403 = "core.accounts.views.permission_denied"
handler404 = "core.accounts.views.page_not_found"
handler500 = "core.accounts.views.server_error"

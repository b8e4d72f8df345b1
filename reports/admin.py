from django.contrib import admin

from .models import ReportJob


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "requested_by",
        "region_code",
        "status",
        "progress",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "report_type"]
    search_fields = ["title", "requested_by__username", "requested_by__display_name"]
    readonly_fields = [f.name for f in ReportJob._meta.fields]

    def has_add_permission(self, request):
        return False

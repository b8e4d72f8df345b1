from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AccessLog, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "region", "role_list", "is_active", "last_login")
    list_filter = ("is_active", "groups", "region__level")
    search_fields = ("username", "display_name", "phone", "region__name", "region__code")
    autocomplete_fields = ("region",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("display_name", "job_title", "phone", "email")}),
        ("数据范围与角色", {"fields": ("region", "groups", "is_active", "is_staff", "is_superuser")}),
        ("其他权限", {"classes": ("collapse",), "fields": ("user_permissions",)}),
        ("登录记录", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "display_name", "region", "groups", "password1", "password2")}),
    )

    @admin.display(description="角色")
    def role_list(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region").prefetch_related("groups")


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action", "person", "household", "fields", "record_count", "ip_address")
    list_filter = ("action", "at")
    search_fields = ("user__username", "user__display_name", "person__name", "household__number", "detail")
    date_hierarchy = "at"
    list_select_related = ("user", "person", "household")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

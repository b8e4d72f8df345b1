from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.admin_mixins import ReadOnlyAdminMixin

from .models import AccessLog, Section, SectionRole, User


class SectionRoleInline(admin.TabularInline):
    """The district roles (科室经办人, 科长) the user holds, section by section. The role's group must be
    given too (数据范围与角色): the group grants the permissions, this row says in which section."""

    model = SectionRole
    fk_name = "user"
    fields = ("section", "role", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")
    extra = 0
    verbose_name = "科室角色"
    verbose_name_plural = "科室角色（科室经办人、科长所在的业务科室）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section", "created_by")


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active", "member_count")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("sort_order", "code")

    @admin.display(description="科室人员")
    def member_count(self, obj):
        return obj.roles.values("user").distinct().count()

    def get_readonly_fields(self, request, obj=None):
        # Case types and benefit types name their section by code: renaming it would orphan them.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = (SectionRoleInline,)
    list_display = (
        "username",
        "display_name",
        "region",
        "role_list",
        "section_list",
        "is_active",
        "last_login",
    )
    list_filter = ("is_active", "groups", "section_roles__section", "region__level")
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

    @admin.display(description="业务科室")
    def section_list(self, obj):
        return "、".join(f"{r.section.name}{r.role}" for r in obj.section_roles.all())

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("region")
            .prefetch_related("groups", "section_roles__section")
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not SectionRole:
            return super().save_formset(request, form, formset, change)
        for section_role in formset.save(commit=False):
            if section_role.pk is None:
                section_role.created_by = request.user
            section_role.save()
        for section_role in formset.deleted_objects:
            section_role.delete()
        formset.save_m2m()
        return None


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "action", "person", "household", "fields", "record_count", "ip_address")
    list_filter = ("action", "at")
    search_fields = ("user__username", "user__display_name", "person__name", "household__number", "detail")
    date_hierarchy = "at"
    list_select_related = ("user", "person", "household")

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.admin_mixins import ReadOnlyAdminMixin
from core.registry.querysets import user_scope_prefix

from . import services, two_factor
from .models import AccessLog, PiiGrantRequest, PrivilegeChange, Section, SectionRole, User
from .selectors import access_logs_visible_to, users_visible_to


def _own_account(request, obj) -> bool:
    """A non-superuser administrator looking at its own account: its privileges are not its to change."""
    return obj is not None and obj.pk == request.user.pk and not request.user.is_superuser


def _refuse_pii_additions(field: str):
    """A form clean method for `field` (user_permissions, permissions): a non-superuser administrator may
    not add a personal-data permission there (it takes a second administrator's approval)."""

    def clean(self):
        new = self.cleaned_data[field]
        old = list(getattr(self.instance, field).all()) if self.instance.pk else []
        added = services.pii_added(old, new)
        if added:
            raise services.pii_refusal(added)
        return new

    return clean


def _refuse_pii_roles(self):
    """The user form's groups: a non-superuser administrator may not put a user into a role that holds a
    personal-data permission (科室经办人, 科长, 局领导) — that takes a second administrator's approval."""
    new = self.cleaned_data["groups"]
    old = list(self.instance.groups.all()) if self.instance.pk else []
    added = services.pii_roles_added(old, new)
    if added:
        raise services.pii_role_refusal(added)
    return new


def _record_form_changes(request, form, fields: dict[str, str], **target) -> None:
    """Record every privilege field the admin form changed (权限变更记录), old → new."""
    for name, label in fields.items():
        if name in form.changed_data:
            old = form.initial.get(name)
            field = form.fields[name]
            if isinstance(field, ModelChoiceField) and not isinstance(field, ModelMultipleChoiceField):
                old = field.queryset.model._default_manager.filter(pk=old).first() if old else None
            services.privilege_change_record(
                actor=request.user,
                via=PrivilegeChange.Via.ADMIN,
                what=label,
                old=services.describe(old),
                new=services.describe(form.cleaned_data.get(name)),
                **target,
            )


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

    # An administrator's own section roles are not its to change.
    def has_add_permission(self, request, obj=None):
        return not _own_account(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _own_account(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _own_account(request, obj) and super().has_delete_permission(request, obj)


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
    actions = ("reset_otp_devices",)

    @admin.action(description="重置动态口令（手机丢失或更换，下次登录时重新绑定）", permissions=["change"])
    def reset_otp_devices(self, request, queryset):
        done = [user for user in queryset if two_factor.reset_devices(actor=request.user, user=user)]
        if done:
            names = "、".join(user.get_username() for user in done)
            self.message_user(request, f"已重置 {len(done)} 个用户的动态口令：{names}", messages.SUCCESS)
        else:
            self.message_user(request, "所选用户都没有绑定动态口令", messages.WARNING)

    @admin.display(description="角色")
    def role_list(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    @admin.display(description="业务科室")
    def section_list(self, obj):
        return "、".join(f"{r.section.name}{r.role}" for r in obj.section_roles.all())

    # Privilege fields: recorded when changed; on its own account a non-superuser administrator changes
    # none of them, and only a superuser makes a superuser (it holds every personal-data permission).
    PRIVILEGE_FIELDS = {
        "is_superuser": "超级用户",
        "is_staff": "管理后台权限",
        "region": "所属区划（数据范围）",
        "groups": "角色",
        "user_permissions": "其他权限",
    }

    def get_queryset(self, request):
        # Scoped by region like every other record: the users of the administrator's district.
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            queryset = queryset.filter(pk__in=users_visible_to(request.user).values("pk"))
        return queryset.select_related("region").prefetch_related("groups", "section_roles__section")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        locked = list(self.PRIVILEGE_FIELDS) if _own_account(request, obj) else ["is_superuser"]
        return fields + [name for name in locked if name not in fields]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.is_superuser:
            return form
        cleaners = {}
        if "user_permissions" in form.base_fields:
            cleaners["clean_user_permissions"] = _refuse_pii_additions("user_permissions")
        if "groups" in form.base_fields:
            cleaners["clean_groups"] = _refuse_pii_roles
        return type(form.__name__, (form,), cleaners) if cleaners else form

    def user_change_password(self, request, id, form_url=""):
        # Setting the password of an account that opens personal data would let the administrator sign in
        # as it: refused (services.password_reset_refusal); every password an administrator sets is recorded.
        user = self.get_object(request, unquote(id))
        if user is not None:
            refusal = services.password_reset_refusal(actor=request.user, user=user)
            if refusal:
                raise PermissionDenied(refusal)
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and user is not None:
            services.privilege_change_record(
                actor=request.user,
                via=PrivilegeChange.Via.ADMIN,
                what="密码",
                old="",
                new="由管理员重设",
                user=user,
            )
        return response

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only a region inside the administrator's scope can be assigned.
        if db_field.name == "region" and not request.user.is_superuser:
            prefix = user_scope_prefix(request.user)
            regions = db_field.remote_field.model.objects
            kwargs["queryset"] = regions.none() if prefix is None else regions.filter(code__startswith=prefix)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _record_form_changes(request, form, self.PRIVILEGE_FIELDS, user=form.instance)

    def save_formset(self, request, form, formset, change):
        if formset.model is not SectionRole:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        before = services.describe(list(user.section_roles.select_related("section")))
        for section_role in formset.save(commit=False):
            if section_role.pk is None:
                section_role.created_by = request.user
            section_role.save()
        for section_role in formset.deleted_objects:
            section_role.delete()
        formset.save_m2m()
        after = services.describe(list(user.section_roles.select_related("section")))
        if after != before:
            services.privilege_change_record(
                actor=request.user,
                via=PrivilegeChange.Via.ADMIN,
                what="科室角色",
                old=before,
                new=after,
                user=user,
            )
        return None


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
# django-otp's device admin shows each device's secret key: devices are reset from the user list instead.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """Roles (角色). A non-superuser administrator changes no role it holds, adds no personal-data
    permission to any role (that takes a second administrator's approval), and every change of a role's
    permissions is recorded."""

    def has_change_permission(self, request, obj=None):
        if (
            obj is not None
            and not request.user.is_superuser
            and request.user.groups.filter(pk=obj.pk).exists()
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if (
            obj is not None
            and not request.user.is_superuser
            and request.user.groups.filter(pk=obj.pk).exists()
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.is_superuser or "permissions" not in form.base_fields:
            return form
        return type(form.__name__, (form,), {"clean_permissions": _refuse_pii_additions("permissions")})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _record_form_changes(request, form, {"permissions": "角色权限"}, group=form.instance)


@admin.register(PrivilegeChange)
class PrivilegeChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor", "via", "user", "group", "what", "old_value", "new_value", "detail")
    list_filter = ("via", "what", "at")
    search_fields = ("actor__username", "user__username", "user__display_name", "group__name", "detail")
    date_hierarchy = "at"
    list_select_related = ("actor", "user", "group")

    def get_queryset(self, request):
        return PrivilegeChange.objects.visible_to(request.user)


@admin.register(PiiGrantRequest)
class PiiGrantRequestAdmin(admin.ModelAdmin):
    """个人信息权限申请: one administrator asks, another approves (批准) or rejects (驳回) from the list."""

    list_display = (
        "requested_at",
        "user",
        "group",
        "role",
        "permission",
        "reason",
        "requested_by",
        "status",
        "decided_by",
    )
    list_filter = ("status",)
    list_select_related = ("user", "group", "role", "permission", "requested_by", "decided_by")
    # A permission for a user or a role; or a user's joining a role that holds one (加入角色).
    fields = ("user", "group", "permission", "role", "reason")
    autocomplete_fields = ("user",)
    actions = ("approve", "reject")

    def get_queryset(self, request):
        return PiiGrantRequest.objects.visible_to(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("accounts.approve_piigrantrequest")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "permission":
            kwargs["queryset"] = services.pii_permissions()
        elif db_field.name == "role":
            kwargs["queryset"] = services.pii_roles()
        elif db_field.name == "user":
            kwargs["queryset"] = users_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        def clean(self):
            data = super(form_class, self).clean()
            problem = services.pii_grant_request_problem(
                actor=request.user,
                permission=data.get("permission"),
                user=data.get("user"),
                group=data.get("group"),
                role=data.get("role"),
            )
            if problem:
                raise ValidationError(problem)
            return data

        form_class = type(form.__name__, (form,), {"clean": clean})
        return form_class

    def save_model(self, request, obj, form, change):
        created = services.pii_grant_request(
            actor=request.user,
            permission=obj.permission,
            user=obj.user,
            group=obj.group,
            role=obj.role,
            reason=obj.reason,
        )
        obj.pk = created.pk
        obj.requested_by = created.requested_by
        obj.requested_at = created.requested_at
        obj.region_code = created.region_code
        obj._state.adding = False

    def _decide(self, request, queryset, service, done: str) -> None:
        count = 0
        for grant_request in queryset.filter(status=PiiGrantRequest.Status.PENDING):
            try:
                service(grant_request=grant_request, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{grant_request}：{error.messages[0]}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"已{done} {count} 份申请", messages.SUCCESS)

    @admin.action(description="批准所选申请", permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, services.pii_grant_approve, "批准")

    @admin.action(description="驳回所选申请", permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, services.pii_grant_reject, "驳回")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "action", "person", "household", "fields", "record_count", "ip_address")
    list_filter = ("action", "at")
    search_fields = ("user__username", "user__display_name", "person__name", "household__number", "detail")
    date_hierarchy = "at"
    list_select_related = ("user", "person", "household")

    def get_queryset(self, request):
        # Scoped by region like the access-log page: reveals and exports of the viewer's district only.
        return access_logs_visible_to(request.user)

"""Users, their region (data scope) and roles, and the personal-data access log."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone

from core.fields import prefix_index, ref, user_ref
from core.registry.querysets import ScopedQuerySet, user_scope_prefix


class Role(models.TextChoices):
    """Roles are Django groups created by a data migration; these are their names."""

    COMMUNITY_CASEWORKER = "社区经办人"
    STREET_REVIEWER = "街道审核员"
    SECTION_CASEWORKER = "科室经办人"
    SECTION_CHIEF = "科长"
    BUREAU_LEADER = "局领导"
    SYSTEM_ADMIN = "系统管理员"


class User(AbstractUser):
    region = models.ForeignKey(
        "registry.Region",
        verbose_name="所属区划（数据范围）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="用户只能查看和办理本区划及下级区划的业务数据",
    )
    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    job_title = models.CharField("职务", max_length=50, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def scope_prefix(self) -> str | None:
        return user_scope_prefix(self)

    def has_role(self, *roles: str) -> bool:
        names = self._role_names()
        return any(r in names for r in roles)

    def _role_names(self) -> set[str]:
        if not hasattr(self, "_role_cache"):
            self._role_cache = set(self.groups.values_list("name", flat=True))
        return self._role_cache

    @property
    def role_names(self) -> list[str]:
        return sorted(self._role_names())


class Section(models.Model):
    """A section of the bureau (业务科室: 社会救助科, 养老服务科 …). Data, not code: seeded by a migration,
    edited in the admin. Case types and benefit types name their section by `code`; district roles
    (科室经办人, 科长) are held in a section (SectionRole)."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "业务科室"
        verbose_name_plural = "业务科室"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class SectionRole(models.Model):
    """A district role (科室经办人 or 科长) held in one section. The role's permissions still come from the
    user's group; this row says in which section they apply. A user may hold roles in several sections."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="section_roles"
    )
    section = models.ForeignKey(
        Section, verbose_name="业务科室", on_delete=models.PROTECT, related_name="roles"
    )
    role = models.CharField(
        "角色",
        max_length=20,
        choices=[(r, r) for r in (Role.SECTION_CASEWORKER.value, Role.SECTION_CHIEF.value)],
    )
    created_by = user_ref("设置人", optional=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "科室角色"
        verbose_name_plural = "科室角色"
        ordering = ["section__sort_order", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "section", "role"], name="section_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.section} {self.role}"


# 网络安全法 第二十一条: network logs are kept no less than six months. The access log's rows are never
# changed, and none younger than this is deleted (by code, a command or the admin).
ACCESS_LOG_RETENTION_DAYS = 180


def _access_log_cutoff():
    return timezone.now() - datetime.timedelta(days=ACCESS_LOG_RETENTION_DAYS)


class AccessLogQuerySet(ScopedQuerySet):
    """Bulk update/delete would bypass the model's guards: rows never change, and only rows older than
    ACCESS_LOG_RETENTION_DAYS may be deleted (archiving after the retention period)."""

    def update(self, **kwargs):
        raise PermissionDenied("个人信息查阅记录不可修改")

    def delete(self):
        if self.filter(at__gte=_access_log_cutoff()).exists():
            raise PermissionDenied(f"个人信息查阅记录须保存至少 {ACCESS_LOG_RETENTION_DAYS} 天，不可删除")
        return super().delete()


class AccessLog(models.Model):
    """Every reveal of full personal data, and every export that carries it (个人信息查阅记录). Written
    once, kept at least ACCESS_LOG_RETENTION_DAYS days (AccessLogQuerySet, save, delete)."""

    class Action(models.TextChoices):
        REVEAL = "reveal", "查看完整信息"
        EXPORT = "export", "导出完整信息"

    user = user_ref("操作人")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    person = ref("registry.Person", "涉及人员", optional=True)
    household = ref("registry.Household", "涉及家庭", optional=True)
    fields = models.CharField("查看内容", max_length=200)
    detail = models.CharField("说明", max_length=300, blank=True)
    record_count = models.PositiveIntegerField("记录数", default=1)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    # Scoped like every other record, by the region of what was seen: the person's or household's
    # region code for a reveal, the report job's scope for an export. Administrators see the rows of
    # their district only (visible_to).
    region_code = models.CharField("区划代码", max_length=12, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "个人信息查阅记录"
        verbose_name_plural = "个人信息查阅记录"
        ordering = ["-at"]
        indexes = [prefix_index("region_code", "accesslog_region_prefix_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("个人信息查阅记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.at is None or self.at >= _access_log_cutoff():
            raise PermissionDenied(f"个人信息查阅记录须保存至少 {ACCESS_LOG_RETENTION_DAYS} 天，不可删除")
        return super().delete(*args, **kwargs)


class SubmittedForm(models.Model):
    """A rendered form's token, recorded when the form is first submitted successfully, so that a double
    submit or a retried POST does not save twice (core.forms_once). Kept about two days."""

    token = models.CharField("表单令牌", max_length=64)
    user = user_ref("提交人", on_delete=models.CASCADE)
    created_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    result_url = models.CharField("结果页面", max_length=500, blank=True)

    class Meta:
        verbose_name = "已提交表单"
        verbose_name_plural = "已提交表单"
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="submitted_form_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class PrivilegeScopedQuerySet(models.QuerySet):
    def visible_to(self, user) -> PrivilegeScopedQuerySet:
        """Rows about users of the viewer's scope; rows about a role (group) concern every district and
        are seen by every administrator."""
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        if prefix == "":
            return self
        return self.filter(models.Q(region_code__startswith=prefix) | models.Q(group__isnull=False))


class PrivilegeChange(models.Model):
    """权限变更记录: every change of a user's superuser or staff status, roles (groups), section roles or
    permissions, and of a role's permissions — who, when, through what, the old and the new value."""

    class Via(models.TextChoices):
        ADMIN = "admin", "管理后台"
        APPROVAL = "approval", "审批"
        COMMAND = "command", "命令行"

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = user_ref("操作人", optional=True)
    detail = models.CharField("说明", max_length=300, blank=True)
    via = models.CharField("途径", max_length=10, choices=Via.choices)
    user = user_ref("被变更用户", optional=True)
    group = ref("auth.Group", "被变更角色", optional=True)
    what = models.CharField("变更内容", max_length=50)
    old_value = models.TextField("原值", blank=True)
    new_value = models.TextField("新值", blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True)

    objects = PrivilegeScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "权限变更记录"
        verbose_name_plural = "权限变更记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user or self.group} {self.what} {self.at:%Y-%m-%d %H:%M}"


class PiiGrantRequest(models.Model):
    """个人信息权限申请: a personal-data permission (查看完整个人信息) given to a user or a role, or a user's
    joining a role that holds one (科室经办人, 科长, 局领导), takes a second administrator's approval (or the
    command line, grant_pii_access)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待批准"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    permission = ref("auth.Permission", "权限", optional=True)
    user = user_ref("授予用户", optional=True)
    group = ref("auth.Group", "授予角色", optional=True)
    role = ref("auth.Group", "加入角色", optional=True)
    reason = models.CharField("申请理由", max_length=300)
    requested_by = user_ref("申请人")
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = user_ref("审批人", optional=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True)

    objects = PrivilegeScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "个人信息权限申请"
        verbose_name_plural = "个人信息权限申请"
        ordering = ["-requested_at"]
        permissions = [("approve_piigrantrequest", "批准个人信息权限申请")]
        constraints = [
            # A permission for a user or for a role, or a user's joining a role.
            models.CheckConstraint(
                condition=models.Q(
                    permission__isnull=False, user__isnull=False, group__isnull=True, role__isnull=True
                )
                | models.Q(
                    permission__isnull=False, user__isnull=True, group__isnull=False, role__isnull=True
                )
                | models.Q(
                    permission__isnull=True, user__isnull=False, group__isnull=True, role__isnull=False
                ),
                name="piigrantrequest_what",
            ),
        ]

    def __str__(self) -> str:
        if self.role_id:
            return f"{self.user}：加入角色“{self.role}”"
        return f"{self.user or self.group}：{self.permission.name}"

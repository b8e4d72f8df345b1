"""Who may change whose privileges, and the record of every change (权限变更记录).

The 系统管理员 administers users, but never its own privileges: superuser status is given on the command
line only (it holds every permission), and a personal-data permission (查看完整个人信息) is given to a
user or a role by a second administrator's approval of a request (PiiGrantRequest) or on the command line
(`grant_pii_access`). Every change of roles, section roles, groups and permissions is recorded with who
made it, when, and the old and the new value."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from .models import PiiGrantRequest, PrivilegeChange, User
from .selectors import users_visible_to

# The permissions that open full ID numbers, phones and bank accounts (个人信息).
PII_PERMISSIONS = ("registry.view_full_personal_data",)

PII_REFUSED = (
    "“{names}”属于个人信息权限，管理员不能在此直接授予：请在“个人信息权限申请”中提出申请，"
    "由另一名管理员批准，或由运维人员使用命令 grant_pii_access 授予。"
)


def pii_permissions() -> QuerySet[Permission]:
    query = Q(pk__in=[])
    for name in PII_PERMISSIONS:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


def pii_roles() -> QuerySet[Group]:
    """The roles (groups) that hold a personal-data permission: joining one gives it."""
    return Group.objects.filter(permissions__in=pii_permissions()).distinct()


def pii_roles_added(old: Iterable[Group], new: Iterable[Group]) -> list[Group]:
    """The roles in `new` that `old` lacked and that hold a personal-data permission."""
    pii = set(pii_roles().values_list("pk", flat=True))
    old_pks = {g.pk for g in old}
    return [g for g in new if g.pk in pii and g.pk not in old_pks]


PII_ROLE_REFUSED = (
    "角色“{names}”含个人信息权限（查看完整个人信息），管理员不能在此直接授予：请在“个人信息权限申请”中"
    "提出加入该角色的申请，由另一名管理员批准，或由运维人员使用命令 grant_pii_access --role 授予。"
)


def pii_role_refusal(added: list[Group]) -> ValidationError:
    return ValidationError(PII_ROLE_REFUSED.format(names="、".join(g.name for g in added)))


def holds_pii(user: User) -> bool:
    """Whether `user` can open personal data: a superuser, or a PII permission of its own or of a role
    (whether or not the account is active — an administrator must not be able to wake it up either)."""
    if user.is_superuser:
        return True
    pii = pii_permissions()
    return (
        user.user_permissions.filter(pk__in=pii).exists()
        or Group.objects.filter(user=user, permissions__in=pii).exists()
    )


def password_reset_refusal(*, actor: User, user: User) -> str:
    """Why `actor` may not set `user`'s password in the admin, or "": an administrator who set the
    password of an account that opens personal data could sign in as it. Superusers may (they hold
    every permission already); such users change their own password, or operations staff run
    `manage.py changepassword` on the server."""
    if actor.is_superuser or not holds_pii(user):
        return ""
    return (
        f"用户 {user.get_username()} 可查看完整个人信息，为防止冒用，管理员不能在此重设其密码："
        "请本人在“修改密码”中修改，或由运维人员在服务器上执行 manage.py changepassword。"
    )


def pii_added(old: Iterable[Permission], new: Iterable[Permission]) -> list[Permission]:
    """The personal-data permissions in `new` that `old` lacked."""
    pii = set(pii_permissions().values_list("pk", flat=True))
    old_pks = {p.pk for p in old}
    return [p for p in new if p.pk in pii and p.pk not in old_pks]


def pii_refusal(added: list[Permission]) -> ValidationError:
    return ValidationError(PII_REFUSED.format(names="、".join(p.name for p in added)))


def describe(value) -> str:
    """A privilege value as the record shows it: 是/否, or the names of roles and permissions."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Model):
        return str(value)
    names = []
    for item in value:
        if isinstance(item, Permission):
            names.append(f"{item.content_type.app_label}.{item.codename}")
        else:
            names.append(str(item))
    return "、".join(sorted(names))


def privilege_change_record(
    *,
    actor: User | None,
    via: str,
    what: str,
    old: str,
    new: str,
    user: User | None = None,
    group: Group | None = None,
    detail: str = "",
) -> PrivilegeChange:
    region = getattr(user, "region", None)
    return PrivilegeChange.objects.create(
        actor=actor,
        detail=detail[:300],
        via=via,
        user=user,
        group=group,
        what=what,
        old_value=old,
        new_value=new,
        region_code=region.code if region is not None else "",
    )


def _holds(permission: Permission, *, user: User | None, group: Group | None) -> bool:
    if user is not None:
        return user.user_permissions.filter(pk=permission.pk).exists()
    return group.permissions.filter(pk=permission.pk).exists()


def pii_grant_request_problem(
    *,
    actor: User,
    permission: Permission | None,
    user: User | None,
    group: Group | None,
    role: Group | None = None,
) -> str | None:
    """Why `actor` may not ask for `permission` for this user or role, or for `user` to join `role`, or
    None."""
    if role is not None:
        if user is None or group is not None or permission is not None:
            return "加入角色的申请只填写用户和要加入的角色"
        if not pii_roles().filter(pk=role.pk).exists():
            return f"角色“{role.name}”不含个人信息权限，无需申请，请直接在用户页面设置"
    elif (user is None) == (group is None):
        return "请选择授予的用户或角色之一"
    elif permission is None or not pii_permissions().filter(pk=permission.pk).exists():
        return "只有个人信息权限需要申请，其他权限请在用户或角色页面设置"
    if user is not None and not users_visible_to(actor).filter(pk=user.pk).exists():
        return "该用户不在您的管理范围内"
    if role is not None and user.groups.filter(pk=role.pk).exists():
        return f"该用户已经属于角色“{role.name}”"
    if role is None and _holds(permission, user=user, group=group):
        return "该用户或角色已经具有此权限"
    pending = PiiGrantRequest.objects.filter(
        permission=permission, user=user, group=group, role=role, status=PiiGrantRequest.Status.PENDING
    )
    if pending.exists():
        return "已有一份相同的申请待批准"
    return None


@transaction.atomic
def pii_grant_request(
    *,
    actor: User,
    permission: Permission | None,
    reason: str,
    user: User | None = None,
    group: Group | None = None,
    role: Group | None = None,
) -> PiiGrantRequest:
    problem = pii_grant_request_problem(actor=actor, permission=permission, user=user, group=group, role=role)
    if problem:
        raise ValidationError(problem)
    region = getattr(user, "region", None)
    return PiiGrantRequest.objects.create(
        permission=permission,
        user=user,
        group=group,
        role=role,
        reason=reason,
        requested_by=actor,
        region_code=region.code if region is not None else "",
    )


def pii_approve_problem(*, grant_request: PiiGrantRequest, actor: User) -> str | None:
    """Why `actor` may not approve this request, or None. The approver is a second administrator: not
    the one who asked, and not one who would gain the permission (the user, or a member of the role)."""
    if grant_request.status != PiiGrantRequest.Status.PENDING:
        return "该申请已处理"
    if not (actor.is_superuser or actor.has_perm("accounts.approve_piigrantrequest")):
        return "您没有批准个人信息权限申请的权限"
    if grant_request.requested_by_id == actor.pk:
        return "申请须由另一名管理员批准，不能批准自己提出的申请"
    if grant_request.user_id == actor.pk:
        return "不能批准授予自己的权限"
    if grant_request.group_id and actor.groups.filter(pk=grant_request.group_id).exists():
        return "您属于该角色，不能批准授予该角色的权限"
    if grant_request.user_id and not users_visible_to(actor).filter(pk=grant_request.user_id).exists():
        return "该用户不在您的管理范围内"
    return None


@transaction.atomic
def pii_grant_approve(*, grant_request: PiiGrantRequest, actor: User) -> PiiGrantRequest:
    row = PiiGrantRequest.objects.select_for_update().get(pk=grant_request.pk)
    problem = pii_approve_problem(grant_request=row, actor=actor)
    if problem:
        raise ValidationError(problem)
    detail = f"{row.requested_by.username} 申请，{actor.username} 批准：{row.reason}"
    if row.role_id:
        pii_role_grant(
            user=row.user, role=row.role, actor=actor, via=PrivilegeChange.Via.APPROVAL, detail=detail
        )
    else:
        pii_grant(
            permission=row.permission,
            user=row.user,
            group=row.group,
            actor=actor,
            via=PrivilegeChange.Via.APPROVAL,
            detail=detail,
        )
    row.status = PiiGrantRequest.Status.APPROVED
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at"])
    return row


@transaction.atomic
def pii_grant_reject(*, grant_request: PiiGrantRequest, actor: User) -> PiiGrantRequest:
    row = PiiGrantRequest.objects.select_for_update().get(pk=grant_request.pk)
    if row.status != PiiGrantRequest.Status.PENDING:
        raise ValidationError("该申请已处理")
    row.status = PiiGrantRequest.Status.REJECTED
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at"])
    return row


@transaction.atomic
def pii_grant(
    *,
    permission: Permission,
    user: User | None = None,
    group: Group | None = None,
    actor: User | None,
    via: str,
    detail: str = "",
    revoke: bool = False,
) -> PrivilegeChange | None:
    """Give (or with `revoke` take away) a personal-data permission, recorded. Callers are the approval
    of a request and the command line; the admin forms refuse PII additions."""
    if not pii_permissions().filter(pk=permission.pk).exists():
        raise ValidationError("只能授予个人信息权限")
    if (user is None) == (group is None):
        raise ValidationError("请选择授予的用户或角色之一")
    holder = user.user_permissions if user is not None else group.permissions
    old = list(holder.all())
    if (permission in old) != revoke:
        return None
    if revoke:
        holder.remove(permission)
    else:
        holder.add(permission)
    return privilege_change_record(
        actor=actor,
        via=via,
        what="其他权限" if user is not None else "角色权限",
        old=describe(old),
        new=describe(holder.all()),
        user=user,
        group=group,
        detail=detail,
    )


@transaction.atomic
def pii_role_grant(
    *, user: User, role: Group, actor: User | None, via: str, detail: str = "", revoke: bool = False
) -> PrivilegeChange | None:
    """Add `user` to (with `revoke`, remove from) a role that holds a personal-data permission, recorded.
    Callers are the approval of a request and the command line; the admin's user form refuses it."""
    if not pii_roles().filter(pk=role.pk).exists():
        raise ValidationError(f"角色“{role.name}”不含个人信息权限，请直接在用户页面设置")
    old = list(user.groups.all())
    if (role in old) != revoke:
        return None
    if revoke:
        user.groups.remove(role)
    else:
        user.groups.add(role)
    return privilege_change_record(
        actor=actor,
        via=via,
        what="角色",
        old=describe(old),
        new=describe(user.groups.all()),
        user=user,
        detail=detail,
    )

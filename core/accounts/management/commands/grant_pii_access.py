"""Give (or take away) a personal-data permission on the command line, recorded with who ran it.

    python manage.py grant_pii_access --user zhangsan --operator "李四" --reason "局领导批准 2026-12-01"
    python manage.py grant_pii_access --group 局领导 --operator "李四" --reason "…" --revoke
    python manage.py grant_pii_access --user zhangsan --role 科长 --operator "李四" --reason "任命文件 …"

The administrators' own way is a request in the admin (个人信息权限申请) that another administrator
approves; this command is the operations staff's, on the server."""

from __future__ import annotations

import getpass
import socket

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.accounts import services
from core.accounts.models import PrivilegeChange, User


def _detail(operator: str, reason: str) -> str:
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "?"
    return f"命令行 grant_pii_access：{operator}（系统账户 {account}@{socket.gethostname()}）；依据：{reason}"


class Command(BaseCommand):
    help = "授予或收回个人信息权限（查看完整个人信息），记录操作人"

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", help="用户名")
        target.add_argument("--group", help="角色名称（给角色授予权限）")
        parser.add_argument(
            "--role", help="与 --user 一起：让该用户加入含个人信息权限的角色（科室经办人、科长、局领导）"
        )
        parser.add_argument("--operator", required=True, help="执行命令的人员姓名（记入权限变更记录）")
        parser.add_argument("--reason", required=True, help="授予依据（审批文件、工单号）")
        parser.add_argument(
            "--permission", default=services.PII_PERMISSIONS[0], choices=services.PII_PERMISSIONS
        )
        parser.add_argument("--revoke", action="store_true", help="收回而不是授予")

    def handle(self, *args, **options):
        operator = options["operator"].strip()
        reason = options["reason"].strip()
        if not operator or not reason:
            raise CommandError("请填写执行人（--operator）和授予依据（--reason）")
        if options["role"]:
            self._role(options, operator, reason)
            return
        app_label, codename = options["permission"].split(".")
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        user = group = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户 {options['user']} 不存在")
        else:
            group = Group.objects.filter(name=options["group"]).first()
            if group is None:
                raise CommandError(f"角色 {options['group']} 不存在")
        detail = _detail(operator, reason)
        try:
            change = services.pii_grant(
                permission=permission,
                user=user,
                group=group,
                actor=None,
                via=PrivilegeChange.Via.COMMAND,
                detail=detail,
                revoke=options["revoke"],
            )
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        target = user.username if user else group.name
        if change is None:
            self.stdout.write(f"{target} 的权限没有变化")
        else:
            done = "收回" if options["revoke"] else "授予"
            self.stdout.write(
                self.style.SUCCESS(f"已{done} {target} 的“{permission.name}”权限，已记入权限变更记录")
            )

    def _role(self, options, operator: str, reason: str) -> None:
        if not options["user"]:
            raise CommandError("--role 须与 --user 一起使用")
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"用户 {options['user']} 不存在")
        role = Group.objects.filter(name=options["role"]).first()
        if role is None:
            raise CommandError(f"角色 {options['role']} 不存在")
        try:
            change = services.pii_role_grant(
                user=user,
                role=role,
                actor=None,
                via=PrivilegeChange.Via.COMMAND,
                detail=_detail(operator, reason),
                revoke=options["revoke"],
            )
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        if change is None:
            self.stdout.write(f"{user.username} 的角色没有变化")
        else:
            done = "移出" if options["revoke"] else "加入"
            self.stdout.write(
                self.style.SUCCESS(f"已将 {user.username} {done}角色“{role.name}”，已记入权限变更记录")
            )

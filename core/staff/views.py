"""Thin views of the staff roster: parse, call a selector or a service, render. Out of scope is a 404; a
role the user does not manage is a 403 (access.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.form_pages import apply_service_errors
from core.forms_once import once_per_form
from core.registry.masking import mask_id_number, mask_phone

from . import access, selectors, services
from .forms import MemberForm, PositionChangeForm, PositionEndForm, position_formset

NO_ROLE = "您所在的岗位或科室不负责登记队伍人员（见“队伍建设”的分工说明）"


def _perm(name: str):
    def decorator(view):
        return login_required(permission_required(name, raise_exception=True)(view))

    return decorator


def _member_url(member) -> str:
    return reverse("staff:member_detail", args=[member.pk])


@require_http_methods(["GET", "POST"])
@_perm("staff.add_staffmember")
@once_per_form
def member_create(request: HttpRequest) -> HttpResponse:
    roles = access.manageable_roles(request.user)
    if not roles:
        raise PermissionDenied(NO_ROLE)
    formset_class = position_formset(extra=2, min_num=1)
    form = MemberForm(request.POST or None, user=request.user)
    formset = formset_class(request.POST or None, prefix="positions", roles=roles)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and formset.is_valid():
            try:
                member = services.staff_member_create(
                    actor=request.user, positions=formset.positions(), **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(exc, form, formset, rows="positions")
            else:
                messages.success(request, f"已登记 {member.name}")
                return redirect(_member_url(member))
    return render(
        request,
        "staff/member_form.html",
        {
            "form": form,
            "formset": formset,
            "title": "新增队伍人员",
            "cancel_url": reverse("staff:roster_list"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@_perm("staff.change_staffmember")
@once_per_form
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.manageable_roles(request.user):
        raise PermissionDenied(NO_ROLE)
    detail = selectors.member_detail(request.user, pk)
    member = detail.member
    roles = access.manageable_roles(request.user, member.region.level)
    if not (access.may_edit_member(request.user, member, detail.roles) or roles):
        raise PermissionDenied(NO_ROLE)
    initial = {f: getattr(member, f) for f in services.MEMBER_FIELDS}
    form = MemberForm(request.POST or None, user=request.user, initial=initial)
    formset = position_formset(extra=1, min_num=0)(request.POST or None, prefix="positions", roles=roles)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and formset.is_valid():
            try:
                services.staff_member_update(
                    member=member,
                    actor=request.user,
                    data=form.cleaned_data,
                    new_positions=formset.positions(),
                )
            except ValidationError as exc:
                apply_service_errors(exc, form, formset, rows="positions")
            else:
                messages.success(request, f"{member.name} 的信息已保存")
                return redirect(_member_url(member))
    return render(
        request,
        "staff/member_form.html",
        {
            "form": form,
            "formset": formset,
            "member": member,
            "title": f"修改人员信息：{member.name}",
            "cancel_url": _member_url(member),
        },
        status=status,
    )


@require_GET
@_perm("staff.view_staffmember")
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.member_detail(request.user, pk)
    member = detail.member
    user = request.user
    level = member.region.level
    rows = [(p, access.may_manage(user, p.role, level) and p.valid_to is None) for p in detail.positions]
    return render(
        request,
        "staff/member_detail.html",
        {
            "d": detail,
            "member": member,
            "rows": rows,
            "id_number": mask_id_number(member.id_number),
            "phone": mask_phone(member.phone),
            "may_edit": user.has_perm(access.EDIT_PERMISSION)
            and (
                access.may_edit_member(user, member, detail.roles)
                or bool(access.manageable_roles(user, level))
            ),
        },
    )


def _position_page(request, position, form, *, title: str, help_text: str, status: int) -> HttpResponse:
    member = position.member
    return render(
        request,
        "staff/position_form.html",
        {
            "form": form,
            "position": position,
            "title": title,
            "help_text": help_text,
            "crumbs": [("人员花名册", reverse("staff:roster_list")), (member.name, _member_url(member))],
            "cancel_url": _member_url(member),
        },
        status=status,
    )


def _position(request: HttpRequest, pk: int):
    if not access.manageable_roles(request.user):
        raise PermissionDenied(NO_ROLE)
    position = selectors.position_for_action(request.user, pk)
    if not access.may_manage(request.user, position.role, position.member.region.level):
        raise PermissionDenied(
            f"您无权办理{position.get_role_display()}的离任或变动（见“队伍建设”的分工说明）"
        )
    return position


@require_http_methods(["GET", "POST"])
@_perm("staff.change_staffposition")
@once_per_form
def position_end(request: HttpRequest, pk: int) -> HttpResponse:
    position = _position(request, pk)
    form = PositionEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_position_end(position=position, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"{position.member.name} 的{position.label}已结束")
            return redirect(_member_url(position.member))
    return _position_page(
        request,
        position,
        form,
        title=f"结束职务：{position.member.name} {position.label}",
        help_text="结束后该职务记入任职历史，不会删除。",
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@_perm("staff.change_staffposition")
@once_per_form
def position_change(request: HttpRequest, pk: int) -> HttpResponse:
    position = _position(request, pk)
    roles = access.manageable_roles(request.user, position.member.region.level)
    initial = {
        "role": position.role,
        "qualification": position.qualification,
        "cert_number": position.cert_number,
        "cert_date": position.cert_date,
    }
    form = PositionChangeForm(request.POST or None, roles=roles, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.staff_position_change(position=position, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request, f"{position.member.name} 自{services.cn_date(new.valid_from)}起任{new.label}"
            )
            return redirect(_member_url(position.member))
    return _position_page(
        request,
        position,
        form,
        title=f"职务变动：{position.member.name} {position.label}",
        help_text="等级晋升、换发证书或岗位调整：原职务截止到变动日期的前一天，新职务自变动日期起。",
        status=400 if request.method == "POST" else 200,
    )

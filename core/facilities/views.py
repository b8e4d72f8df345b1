"""The facilities pages: thin — parse, call one service, render. Lists are core.lists declarations (lists.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.form_pages import apply_service_errors, save_and_redirect
from core.forms_once import once_per_form
from core.lists import guarded

from . import selectors, services
from .forms import (
    FacilityForm,
    HazardFormSet,
    InspectionForm,
    PhotoForm,
    RectifyForm,
    ReinspectForm,
    facility_initial,
)
from .models import Facility, Hazard, Inspection

LIST_CRUMB = ("服务设施", "facilities:facility_list")


def _facility(request: HttpRequest, pk: int) -> Facility:
    try:
        return selectors.facility_get(request.user, pk)
    except Facility.DoesNotExist:
        raise Http404("设施不存在") from None


def _hazard(request: HttpRequest, pk: int) -> Hazard:
    try:
        return selectors.hazard_get(request.user, pk)
    except Hazard.DoesNotExist:
        raise Http404("隐患不存在") from None


def _editable(request: HttpRequest, facility: Facility, permission: str) -> None:
    refusal = services.edit_refusal(request.user, facility.kind, permission=permission)
    if refusal:
        raise PermissionDenied(refusal)


def _crumbs(facility: Facility | None = None) -> list[tuple[str, str]]:
    crumbs = [(LIST_CRUMB[0], reverse(LIST_CRUMB[1]))]
    if facility is not None:
        crumbs.append((facility.name, _detail_url(facility)))
    return crumbs


def _detail_url(facility: Facility, anchor: str = "") -> str:
    return reverse("facilities:facility_detail", args=[facility.pk]) + anchor


def _form_page(request, *, form, title, crumbs, cancel_url, **extra) -> HttpResponse:
    context = {"form": form, "title": title, "crumbs": crumbs, "cancel_url": cancel_url, **extra}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "registry/form_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
@guarded("facilities.add_facility")
@once_per_form
def facility_create(request: HttpRequest) -> HttpResponse:
    form = FacilityForm(request.POST or None, user=request.user)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.facility_create(actor=request.user, data=data),
        success="设施已登记",
        to=_detail_url,
    )
    return saved or _form_page(
        request, form=form, title="登记服务设施", crumbs=_crumbs(), cancel_url=reverse(LIST_CRUMB[1])
    )


@require_http_methods(["GET", "POST"])
@guarded("facilities.change_facility")
@once_per_form
def facility_edit(request: HttpRequest, pk: int) -> HttpResponse:
    facility = _facility(request, pk)
    _editable(request, facility, "facilities.change_facility")
    form = FacilityForm(
        request.POST or None, user=request.user, instance=facility, initial=facility_initial(facility)
    )
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.facility_update(facility=facility, actor=request.user, data=data),
        success="设施信息已保存",
        to=_detail_url,
    )
    return saved or _form_page(
        request,
        form=form,
        title=f"修改设施：{facility.name}",
        crumbs=_crumbs(facility),
        cancel_url=_detail_url(facility),
    )


@require_GET
@guarded("facilities.view_facility")
def facility_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        detail = selectors.facility_detail(request.user, pk, timezone.localdate())
    except Facility.DoesNotExist:
        raise Http404("设施不存在") from None
    user = request.user
    can_edit = not services.edit_refusal(user, detail.facility.kind)
    return render(
        request,
        "facilities/facility_detail.html",
        {
            "d": detail,
            "facility": detail.facility,
            "can_edit": can_edit,
            "can_inspect": can_edit and user.has_perm("facilities.add_inspection"),
            "can_rectify": can_edit and user.has_perm("facilities.change_hazard"),
            "crumbs": _crumbs(),
        },
    )


@require_http_methods(["GET", "POST"])
@guarded("facilities.add_inspection")
@once_per_form
def inspection_create(request: HttpRequest, pk: int) -> HttpResponse:
    facility = _facility(request, pk)
    _editable(request, facility, "facilities.add_inspection")
    data = request.POST or None
    form = InspectionForm(data, facility=facility, initial={"inspected_on": timezone.localdate()})
    formset = HazardFormSet(data, prefix="hazards")
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if f.has_changed()]
        try:
            inspection = services.inspection_record(
                facility=facility,
                actor=request.user,
                hazards=rows,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(
                exc, form, formset, rows="hazards", formset_rows=[f for f in formset.forms if f.has_changed()]
            )
        else:
            count = len(rows)
            messages.success(
                request, f"检查记录已保存{f'，登记隐患 {count} 项' if count else '，未发现隐患'}"
            )
            return redirect(_detail_url(facility, f"#inspection-{inspection.pk}"))
    status = 400 if form.is_bound and (form.errors or any(f.errors for f in formset.forms)) else 200
    return render(
        request,
        "facilities/inspection_form.html",
        {"form": form, "formset": formset, "facility": facility, "crumbs": _crumbs(facility)},
        status=status,
    )


def _hazard_page(request, hazard: Hazard, form, *, title: str, **extra) -> HttpResponse:
    facility = hazard.inspection.facility
    return _form_page(
        request,
        form=form,
        title=title,
        crumbs=_crumbs(facility),
        cancel_url=_detail_url(facility, f"#hazard-{hazard.pk}"),
        help_text=f"隐患：{hazard.description}（{hazard.get_severity_display()}，整改期限 "
        f"{hazard.deadline:%Y-%m-%d}，责任人 {hazard.responsible_person}）",
        **extra,
    )


@require_http_methods(["GET", "POST"])
@guarded("facilities.change_hazard")
@once_per_form
def hazard_rectify(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = _hazard(request, pk)
    _editable(request, hazard.inspection.facility, "facilities.change_hazard")
    form = RectifyForm(request.POST or None, initial={"rectified_on": timezone.localdate()})
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.hazard_rectify(hazard=hazard, actor=request.user, **data),
        success="整改情况已登记，待复查",
        to=_detail_url(hazard.inspection.facility, f"#hazard-{hazard.pk}"),
    )
    return saved or _hazard_page(request, hazard, form, title="登记整改完成")


@require_http_methods(["GET", "POST"])
@guarded("facilities.change_hazard")
@once_per_form
def hazard_reinspect(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = _hazard(request, pk)
    _editable(request, hazard.inspection.facility, "facilities.change_hazard")
    form = ReinspectForm(request.POST or None, initial={"reinspected_on": timezone.localdate()})
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.hazard_reinspect(hazard=hazard, actor=request.user, **data),
        success="复查结果已登记",
        to=_detail_url(hazard.inspection.facility, f"#hazard-{hazard.pk}"),
    )
    return saved or _hazard_page(request, hazard, form, title="复查")


@require_http_methods(["GET", "POST"])
@guarded("facilities.change_hazard")
@once_per_form
def hazard_photo_upload(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = _hazard(request, pk)
    _editable(request, hazard.inspection.facility, "facilities.change_hazard")
    form = PhotoForm(request.POST or None, request.FILES or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.hazard_photo_add(hazard=hazard, actor=request.user, uploaded_file=data["file"]),
        success="照片已上传",
        to=_detail_url(hazard.inspection.facility, f"#hazard-{hazard.pk}"),
    )
    return saved or _hazard_page(request, hazard, form, title="上传隐患照片", multipart=True)


@require_GET
@guarded("facilities.view_inspection")
def rectification_notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .documents import rectification_notice

    try:
        inspection = selectors.inspection_get(request.user, pk)
    except Inspection.DoesNotExist:
        raise Http404("检查记录不存在") from None
    return rectification_notice(inspection)

"""The 临时救助 page the case-flow kit has no form for: 新增申请 of a person without a household in the
district (急难发生地, DOMAIN.md). Thin: the form parses, the service registers the person and opens the case."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.form_pages import apply_service_errors, form_status
from core.forms_once import once_per_form
from core.lists import guarded
from core.registry.choices import RegionLevel
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix
from core.workflow.services import TransitionError

from . import services
from .forms import TempNonresidentForm

INTRO = (
    "在本区没有户籍家庭的人员（外来务工、流浪乞讨、途经本区等）在本区遭遇急难的，由急难发生地审核救助"
    "（国发〔2014〕47号）。本页同时登记救助对象（不建立家庭档案，标记为非本区户籍）和临时救助申请，"
    "案件归属急难发生地所在社区（村）；同一救助对象同一原因在同一年度内只救助一次。"
)


def communities_in_scope(user) -> list[tuple[str, str]]:
    prefix = user_scope_prefix(user)
    if prefix is None:
        return []
    regions = Region.objects.filter(level=RegionLevel.COMMUNITY, is_active=True, code__startswith=prefix)
    return [
        (code, f"{street}{name}" if street else name)
        for code, name, street in regions.order_by("code").values_list("code", "name", "parent__name")
    ]


@require_http_methods(["GET", "POST"])
@guarded("workflow.add_case", "assistance")
@once_per_form
def nonresident_create(request: HttpRequest) -> HttpResponse:
    form = TempNonresidentForm(request.POST or None, communities=communities_in_scope(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = Region.objects.filter(code=data["region"]).first() if data["region"] else None
        try:
            temp = services.temp_case_create_nonresident(
                actor=request.user,
                region=region,
                person_data={field: data.get(field) or "" for field in services.NONRESIDENT_PERSON_FIELDS},
                emergency_address=data["emergency_address"],
                kind=data["kind"],
                cause=data["cause"],
                cause_detail=data["cause_detail"],
                applied_on=data["applied_on"],
                is_advance=data["is_advance"],
                advance_given_on=data["advance_given_on"],
                advance_amount=data["advance_amount"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            if temp.earlier_case_id:
                messages.warning(request, f"已登记 {temp.case.number}：{temp.reasons}")
            else:
                messages.success(request, f"已登记临时救助申请 {temp.case.number}（非本区户籍人员）")
            return redirect(reverse("assistance:temp_detail", args=[temp.pk]))
    return render(
        request,
        "workflow/flow/form.html",
        {
            "form": form,
            "intro": INTRO,
            "title": "新增临时救助申请 · 非本区户籍人员（急难发生地）",
            "crumbs": [("临时救助", reverse("assistance:temp_list"))],
            "cancel_url": reverse("assistance:temp_list"),
            "submit_label": "登记申请",
        },
        status=form_status(form),
    )

"""Thin views: parse the request, call a selector or a service, render. Scope: out of scope is a 404."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.form_pages import apply_service_errors, save_and_redirect
from core.forms_once import once_per_form
from core.plans import without_jit

from . import exports, facts, selectors, services
from .actions import actions_for
from .choices import AreaType
from .fact_forms import AssessmentForm, FactEndForm, FactForm
from .forms import (
    AssetEndForm,
    AssetForm,
    AttachmentForm,
    DeathForm,
    HouseholdEditForm,
    HouseholdForm,
    IncomeForm,
    MaritalForm,
    MemberForm,
    MemberFormSet,
    MoveForm,
    PersonEditForm,
    asset_record_label,
)
from .models import AssetRecord, Attachment, Household, Person

LIST_PAGE_SIZE = 50


def _perm(name: str):
    return permission_required(name, raise_exception=True)


def _household(request: HttpRequest, pk: int) -> Household:
    return get_object_or_404(Household.objects.visible_to(request.user).select_related("region"), pk=pk)


def _person(request: HttpRequest, pk: int) -> Person:
    return get_object_or_404(Person.objects.visible_to(request.user).select_related("household"), pk=pk)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _numbers_in_full(request: HttpRequest, form_class, **record: Household | Person) -> bool:
    """Whether an edit form shows the record's numbers (`form_class.masked_fields`) in full: only to a user
    with registry.view_full_personal_data, and the page that shows them is logged like the detail page's
    查看 button (nothing to log when the record has none of the numbers)."""
    if not request.user.has_perm(services.FULL_DATA_PERMISSION):
        return False
    (obj,) = record.values()
    if request.method == "GET" and any(getattr(obj, name) for name in form_class.masked_fields):
        services.personal_data_reveal(
            actor=request.user,
            ip=_client_ip(request),
            fields=form_class.masked_fields,
            purpose="修改信息页面",
            **record,
        )
    return True


def _form_page(request, *, form, title: str, crumbs: list[tuple[str, str]], cancel_url: str, **extra):
    context = {"form": form, "title": title, "crumbs": crumbs, "cancel_url": cancel_url, **extra}
    return render(
        request, "registry/form_page.html", context, status=400 if form.is_bound and form.errors else 200
    )


def _household_url(household: Household, anchor: str = "") -> str:
    return reverse("registry:household_detail", args=[household.pk]) + anchor


def _person_url(person: Person) -> str:
    return reverse("registry:person_detail", args=[person.pk])


def _household_crumbs(household: Household) -> list[tuple[str, str]]:
    return [
        ("家庭档案", reverse("registry:household_list")),
        (f"家庭 {household.number}", _household_url(household)),
    ]


def _person_crumbs(person: Person) -> list[tuple[str, str]]:
    return [("人员查询", reverse("registry:search")), (person.name, _person_url(person))]


def _household_form_page(request, household: Household, form, *, title: str, **extra) -> HttpResponse:
    """A form about one household: titled with its number, cancelled back to its page."""
    return _form_page(
        request,
        form=form,
        title=f"{title} · {household.number}",
        crumbs=_household_crumbs(household),
        cancel_url=_household_url(household),
        **extra,
    )


def _person_form_page(request, person: Person, form, *, title: str, **extra) -> HttpResponse:
    """A form about one person: titled with the name, cancelled back to the person's page."""
    return _form_page(
        request,
        form=form,
        title=f"{title} · {person.name}",
        crumbs=_person_crumbs(person),
        cancel_url=_person_url(person),
        **extra,
    )


# --------------------------------------------------------------------------------------------------- search


@require_GET
@_perm("registry.view_person")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    try:
        result = selectors.people_search(request.user, query)
    except ValueError as exc:
        messages.error(request, str(exc))
        query, result = "", selectors.people_search(request.user, "")
    return render(request, "registry/search.html", {"result": result, "query": query.strip()})


# --------------------------------------------------------------------------------------------------- households


@require_GET
@_perm("registry.view_household")
@without_jit  # a district's households searched by a name: short queries the JIT only slows (core/plans.py)
def household_list(request: HttpRequest) -> HttpResponse:
    params = {
        "q": request.GET.get("q", ""),
        "street": request.GET.get("street", ""),
        "community": request.GET.get("community", ""),
        "area_type": request.GET.get("area_type", ""),
        "active": request.GET.get("active", "1"),
        "sort": request.GET.get("sort", "number"),
    }
    export = request.GET.get("export") == "xlsx"
    refused = False
    try:
        households = selectors.household_list(request.user, **params, member_counts=export)
    except ValueError as exc:
        messages.error(request, str(exc))
        params["q"], refused = "", True
        households = selectors.household_list(request.user, **params).none()
    if export and not refused:
        return exports.household_list_xlsx(households)
    # The count and the page's ids first (from the scope's covering index, no join), then its 50 rows.
    paginator = Paginator(households.values_list("pk", flat=True), LIST_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.household_page_rows(list(page.object_list))
    streets, communities = selectors.streets_and_communities(request.user)
    return render(
        request,
        "registry/household_list.html",
        {
            "page": page,
            "params": params,
            "streets": streets,
            "communities": communities,
            "area_types": AreaType.choices,
            "sorts": [("number", "户编号"), ("head", "户主"), ("members", "人数"), ("created", "登记时间")],
        },
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.add_household")
@once_per_form
def household_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = HouseholdForm(request.POST, user=request.user)
        formset = MemberFormSet(request.POST, prefix="members")
        if form.is_valid() and formset.is_valid():
            try:
                household = services.household_register(
                    **form.cleaned_data, members=formset.members(), actor=request.user
                )
            except ValidationError as exc:
                apply_service_errors(exc, form, formset, rows="members")
            else:
                messages.success(
                    request, f"家庭 {household.number} 已登记，共 {len(formset.members())} 名成员"
                )
                return redirect("registry:household_detail", pk=household.pk)
        status = 400
    else:
        form = HouseholdForm(user=request.user)
        formset = MemberFormSet(prefix="members", initial=[{"relation": "head"}])
        status = 200
    return render(request, "registry/household_form.html", {"form": form, "formset": formset}, status=status)


@require_GET
@_perm("registry.view_household")
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.household_detail(request.user, pk)
    return render(
        request,
        "registry/household_detail.html",
        {
            "d": detail,
            "household": detail.household,
            "bureau_actions": actions_for("household", detail.household, request.user),
            "fact_card": facts.household_fact_card(detail.household),
            "may_record_facts": request.user.has_perm(FACT_TARGETS["household"][1]),
        },
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.change_household")
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = HouseholdEditForm(
        request.POST or None,
        instance=Household.objects.get(pk=household.pk),
        full_numbers=_numbers_in_full(request, HouseholdEditForm, household=household),
    )
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.household_update(household=household, data=data, actor=request.user),
        success="家庭信息已保存",
        to=_household_url(household),
    )
    return saved or _household_form_page(request, household, form, title="修改家庭信息")


@require_http_methods(["GET", "POST"])
@_perm("registry.add_person")
@once_per_form
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = MemberForm(request.POST or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.person_add_to_household(household=household, member=data, actor=request.user),
        success=lambda person: f"已将 {person.name} 登记为家庭成员",
        to=_household_url(household),
    )
    return saved or _household_form_page(request, household, form, title="新增家庭成员", person_form=True)


@require_http_methods(["GET", "POST"])
@_perm("registry.add_incomerecord")
@once_per_form
def income_add(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = IncomeForm(request.POST or None, household=household)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.income_record_add(household=household, actor=request.user, **data),
        success="收入记录已登记",
        to=_household_url(household, "#incomes"),
    )
    return saved or _household_form_page(
        request,
        household,
        form,
        title="登记收入",
        help_text="优待抚恤金、计划生育奖励、奖学金、见义勇为奖励、社会救助金和城乡居民基础养老金不计入家庭收入；"
        "个人缴纳的社会保险费、个人所得税和必要的就业成本从收入中扣减（民发〔2021〕57号）。",
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.add_assetrecord")
@once_per_form
def asset_add(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = AssetForm(
        request.POST or None, household=household, initial=_asset_recheck_initial(request, household)
    )
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.asset_record_add(household=household, actor=request.user, **data),
        success=lambda record: (
            "财产记录已登记" + ("，原记录已注销" if form.cleaned_data.get("replaces") else "")
        ),
        to=_household_url(household, "#assets"),
    )
    return saved or _household_form_page(request, household, form, title="登记财产")


def _asset_recheck_initial(request: HttpRequest, household: Household) -> dict:
    """`?replaces=<record>` (the 重新核查 link of a held record): the new record starts as a copy of it, to
    end it on the new 核查日期."""
    try:
        pk = int(request.GET.get("replaces", ""))
    except ValueError:
        return {}
    record = household.assets.filter(pk=pk, disposed_on__isnull=True).first()
    if record is None:
        return {}
    return {
        "kind": record.kind,
        "person": record.person_id,
        "description": record.description,
        "for_disability": record.for_disability,
        "registered_capital": record.registered_capital,
        "replaces": record.pk,
    }


@require_http_methods(["GET", "POST"])
@_perm("registry.change_assetrecord")
@once_per_form
def asset_end(request: HttpRequest, pk: int, asset_pk: int) -> HttpResponse:
    household = _household(request, pk)
    record = get_object_or_404(AssetRecord.objects.select_related("person"), pk=asset_pk, household=household)
    form = AssetEndForm(request.POST or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.asset_record_end(
            record=record, on_date=data["on_date"], reason=data["reason"], actor=request.user
        ),
        success=lambda ended: (
            f"财产记录已注销：{ended.get_kind_display()}自{_cn_date(ended.disposed_on)}起不再计入"
        ),
        to=_household_url(household, "#assets"),
    )
    ended = record.disposed_on is not None
    return saved or _household_form_page(
        request,
        household,
        form,
        title="财产处置/注销",
        warning=f"该财产记录已于{_cn_date(record.disposed_on)}处置/注销（{record.disposal_reason}）"
        if ended
        else None,
        help_text=f"{asset_record_label(record)}。注销后记录保留在家庭档案中，"
        "处置/注销日期之前的财产核对仍计入该财产。",
        submit_label="注销",
        submit_class="btn-danger",
    )


# --------------------------------------------------------------------------------------------------- persons


@require_GET
@_perm("registry.view_person")
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.person_detail(request.user, pk)
    actions = [] if detail.person.death_date else actions_for("person", detail.person, request.user)
    return render(
        request,
        "registry/person_detail.html",
        {
            "d": detail,
            "person": detail.person,
            "bureau_actions": actions,
            "fact_card": facts.person_fact_card(detail.person),
            "may_record_facts": request.user.has_perm(FACT_TARGETS["person"][1]),
        },
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.change_person")
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = PersonEditForm(
        request.POST or None,
        instance=Person.objects.get(pk=person.pk),
        full_numbers=_numbers_in_full(request, PersonEditForm, person=person),
    )
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.person_update(person=person, data=data, actor=request.user),
        success="人员信息已保存",
        to=_person_url(person),
    )
    return saved or _person_form_page(request, person, form, title="修改人员信息")


@require_http_methods(["GET", "POST"])
@_perm("registry.add_lifeevent")
@once_per_form
def person_death(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    if not request.user.has_perm("registry.change_person"):
        raise PermissionDenied
    form = DeathForm(request.POST or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.person_record_death(person=person, actor=request.user, **data),
        success=f"已登记 {person.name} 死亡，相关待遇将按规定停发",
        to=_person_url(person),
    )
    return saved or _person_form_page(
        request,
        person,
        form,
        title="登记死亡",
        warning="登记死亡后，该人员享受的各项待遇将从次月起停发，死亡后已发放的资金将被追回。此操作不能撤销，请核对死亡证明后提交。",
        submit_label="确认登记死亡",
        submit_class="btn-danger",
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.add_lifeevent")
@once_per_form
def person_marital(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = MaritalForm(request.POST or None, initial={"new_status": person.marital_status})
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.person_record_marital_change(person=person, actor=request.user, **data),
        success="婚姻状况已变更",
        to=_person_url(person),
    )
    return saved or _person_form_page(request, person, form, title="婚姻状况变更")


@require_http_methods(["GET", "POST"])
@_perm("registry.change_membership")
@once_per_form
def person_move(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = MoveForm(request.POST or None, user=request.user)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.person_move(person=person, actor=request.user, **data),
        success=lambda membership: f"{person.name} 已迁入家庭 {membership.household.number}",
        to=lambda membership: _household_url(membership.household),
    )
    return saved or _person_form_page(request, person, form, title="人员迁移")


# --------------------------------------------------------------------------------------------------- attachments

ATTACHMENT_TARGETS = {"household": Household, "person": Person}


@require_http_methods(["GET", "POST"])
@_perm("registry.add_attachment")
@once_per_form
def attachment_upload(request: HttpRequest, target: str, pk: int) -> HttpResponse:
    model = ATTACHMENT_TARGETS.get(target)
    if model is None:
        raise Http404
    obj = get_object_or_404(model.objects.visible_to(request.user), pk=pk)
    back = reverse(f"registry:{target}_detail", args=[obj.pk])
    form = AttachmentForm(request.POST or None, request.FILES or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: services.attachment_add(
            target=obj, doc_type=data["doc_type"], uploaded_file=data["file"], actor=request.user
        ),
        success="材料已上传",
        to=back + "#attachments",
    )
    return saved or _form_page(
        request,
        form=form,
        title="上传材料",
        crumbs=_household_crumbs(obj) if target == "household" else _person_crumbs(obj),
        cancel_url=back,
        multipart=True,
    )


@require_GET
@_perm("registry.view_attachment")
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk, is_removed=False)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件不存在") from None
    return FileResponse(
        handle, as_attachment=request.GET.get("inline") != "1", filename=attachment.original_name
    )


@require_POST
@_perm("registry.add_attachment")
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    services.attachment_remove(attachment=attachment, actor=request.user)
    messages.success(request, f"材料“{attachment.original_name}”已作废")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/registry/"):
        return redirect(next_url)
    return redirect("registry:household_list")


# --------------------------------------------------------------------------------------------------- personal data


@require_POST
@_perm("registry.view_full_personal_data")
def reveal(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """htmx: replace one record's masked numbers with the full ones; every reveal is logged."""
    if kind == "person":
        person = _person(request, pk)
        values = services.personal_data_reveal(person=person, actor=request.user, ip=_client_ip(request))
        context = {"person": person, "values": values, "revealed": True}
        return render(request, "registry/_pii_person.html", context)
    if kind == "household":
        household = _household(request, pk)
        values = services.personal_data_reveal(
            household=household, actor=request.user, ip=_client_ip(request)
        )
        context = {"household": household, "values": values, "revealed": True}
        return render(request, "registry/_pii_household.html", context)
    raise Http404


# --------------------------------------------------------------------------------------------------- facts

# Who records a person's or a household's facts: whoever may edit it today, within their scope.
FACT_TARGETS = {
    "person": (Person, "registry.change_person"),
    "household": (Household, "registry.change_household"),
}


def _fact_permission(view):
    """The target's edit permission (403), before the form token is taken; an unknown target is a 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, target: str, pk: int) -> HttpResponse:
        if target not in FACT_TARGETS:
            raise Http404
        if not request.user.has_perm(FACT_TARGETS[target][1]):
            raise PermissionDenied
        return view(request, target, pk)

    return wrapper


def _fact_subject(request: HttpRequest, target: str, pk: int) -> Household | Person:
    model = FACT_TARGETS[target][0]
    return get_object_or_404(model.objects.visible_to(request.user), pk=pk)


def _fact_form_page(request, target: str, subject, form, *, title: str, **extra) -> HttpResponse:
    page = _household_form_page if target == "household" else _person_form_page
    return page(request, subject, form, title=title, **extra)


def _facts_url(target: str, subject) -> str:
    return reverse(f"registry:{target}_detail", args=[subject.pk]) + "#facts"


def _cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@require_http_methods(["GET", "POST"])
@_fact_permission
@once_per_form
def fact_add(request: HttpRequest, target: str, pk: int) -> HttpResponse:
    subject = _fact_subject(request, target, pk)
    form = FactForm(request.POST or None, subject_kind=target)
    saved = save_and_redirect(
        request,
        form,
        lambda data: facts.fact_record(subject=subject, actor=request.user, **data),
        success=lambda fact: f"已登记“{fact.label}”，自{_cn_date(fact.valid_from)}起",
        to=_facts_url(target, subject),
    )
    return saved or _fact_form_page(
        request,
        target,
        subject,
        form,
        title="登记信息",
        help_text="登记信息按日期保存，不覆盖原有记录：同类信息有变化时登记新的情况和起始日期，"
        "原有情况自动截止到前一天；不再成立的信息请使用“结束登记”。",
    )


@require_http_methods(["GET", "POST"])
@_fact_permission
@once_per_form
def fact_end(request: HttpRequest, target: str, pk: int) -> HttpResponse:
    subject = _fact_subject(request, target, pk)
    open_facts = list(facts.open_facts(subject))
    form = FactEndForm(
        request.POST or None, open_facts=open_facts, initial={"kind": request.GET.get("kind", "")}
    )
    saved = save_and_redirect(
        request,
        form,
        lambda data: facts.fact_end(subject=subject, actor=request.user, **data),
        success=lambda fact: f"“{fact.label}”已结束，截止{_cn_date(fact.valid_to)}",
        to=_facts_url(target, subject),
    )
    return saved or _fact_form_page(
        request,
        target,
        subject,
        form,
        title="结束登记",
        help_text=None if open_facts else "目前没有仍然有效的登记信息。",
    )


@require_http_methods(["GET", "POST"])
@_perm("registry.change_person")
@once_per_form
def assessment_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = AssessmentForm(request.POST or None)
    saved = save_and_redirect(
        request,
        form,
        lambda data: facts.assessment_record(person=person, actor=request.user, **data),
        success=lambda a: f"已登记{a.get_kind_display()}：{a.level_label}，有效期至{_cn_date(a.valid_until)}",
        to=_facts_url("person", person),
    )
    return saved or _person_form_page(
        request,
        person,
        form,
        title="登记评估",
        help_text="复评不覆盖原评估，自复评日期起取代原评估。老年人能力评估依据 GB/T 42195-2022；"
        "特困供养人员生活自理能力评估登记后，人员的“自理能力”随之更新。",
    )

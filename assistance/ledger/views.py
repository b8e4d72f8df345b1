"""Thin view of the 保障对象台账: parse the filter, call the selector, render a page or export .xlsx."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.benefits.models import Entitlement
from core.exports import export_stamp, xlsx_response
from core.registry.masking import mask_id_number
from core.validation import refused_filter_message

from . import selectors
from .forms import LedgerFilterForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000
SORT_COLUMNS = (("number", "户编号"), ("name", "户主/享受人"), ("amount", "本月金额"), ("start", "起始月份"))


@dataclass
class LedgerRow:
    entitlement: Entitlement
    street: str
    community: str
    number: str
    name: str
    id_number: str
    area_type: str
    covered_persons: int | None
    amount: Decimal | None
    start_month: object
    status: str


def _row(e: Entitlement, region_names: dict[str, str]) -> LedgerRow:
    head = e.household.head if e.household_id else None
    beneficiary = e.person if e.person_id else head
    return LedgerRow(
        entitlement=e,
        street=region_names.get(e.region_code[:9] + "000", ""),
        community=region_names.get(e.region_code, ""),
        number=e.ledger_number or "",
        name=e.ledger_name or "",
        id_number=beneficiary.id_number if beneficiary is not None else "",
        area_type=e.get_area_type_display(),
        covered_persons=e.covered_persons if e.household_id else None,
        amount=e.month_amount,
        start_month=e.start_month,
        status=e.get_status_display(),
    )


@require_http_methods(["GET"])
@login_required
@permission_required("benefits.view_entitlement", raise_exception=True)
def ledger(request: HttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None, user=request.user)
    params = form.params()
    if form.is_bound and form.errors:  # the bad filter is dropped (LedgerFilterForm.params): say which
        messages.error(request, refused_filter_message(form))
    params["sort"] = request.GET.get("sort", "")
    today = timezone.localdate()
    entitlements = selectors.ledger_list(request.user, params, today=today)
    category = params["category"]
    tab = params.get("tab") or selectors.DEFAULT_TAB
    if request.GET.get("export") == "xlsx":
        return _export(entitlements, form.region_names, category, tab)
    page = Paginator(entitlements, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_row(e, form.region_names) for e in page.object_list]
    return render(
        request,
        "assistance/ledger/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "category": category,
            "category_label": selectors.CATEGORIES[category],
            "categories": selectors.CATEGORIES,
            "tab": tab,
            "tabs": selectors.TABS,
            "sort_links": _sort_links(params["sort"] or selectors.DEFAULT_SORT),
            "household_based": category == "dibao",
            "month": today.replace(day=1),
        },
    )


def _sort_links(current: str) -> dict[str, tuple[str, str]]:
    """column → (sort value of its header link, arrow shown next to it)."""
    links = {}
    for key, _label in SORT_COLUMNS:
        if current == key:
            links[key] = (f"-{key}", "↑")
        elif current == f"-{key}":
            links[key] = (key, "↓")
        else:
            links[key] = (key, "")
    return links


def _cn_month(value) -> str:
    return f"{value.year}年{value.month}月" if value else ""


def _export(entitlements, region_names: dict[str, str], category: str, tab: str) -> HttpResponse:
    """The current filter as .xlsx (scope already applied; ID numbers masked; core.exports keeps a
    formula-like name as text)."""
    household_based = category == "dibao"
    label = f"{selectors.CATEGORIES[category]}保障对象台账（{selectors.TABS.get(tab, '')}）"
    header = ["街道", "社区", "户编号", "户主/享受人", "身份证号码", "城乡"]
    if household_based:
        header.append("保障人数")
    header += ["本月金额（元）", "起始月份", "状态"]

    def rows():
        for e in entitlements[:EXPORT_MAX_ROWS]:
            r = _row(e, region_names)
            values = [r.street, r.community, r.number, r.name, mask_id_number(r.id_number), r.area_type]
            if household_based:
                values.append(r.covered_persons)
            values += [r.amount if r.amount is not None else "—", _cn_month(r.start_month), r.status]
            yield values

    stamp = export_stamp()
    return xlsx_response(
        sheet_title="保障对象台账",
        header=header,
        rows=rows(),
        filename=f"{label}-{stamp}.xlsx",
        ascii_name=f"ledger-{category}-{stamp}.xlsx",
    )

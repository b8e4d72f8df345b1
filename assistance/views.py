"""The 低保保障对象 list, an extra page of the 低保 flow (assistance/flow.py): the 低保 entitlements in the
user's scope, filtered by a FilterSet, paginated and exported through the one export helper. The
application pages are the case-flow kit's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exports import xlsx_response
from core.workflow.flow_views import EXPORT_MAX_ROWS, PAGE_SIZE

from . import selectors
from .filters import ENTITLEMENT_COLUMNS, DibaoEntitlementFilterSet

ENTITLEMENTS_TITLE = "低保保障对象台账"


@require_http_methods(["GET"])
@login_required
@permission_required("benefits.view_entitlement", raise_exception=True)
def dibao_entitlements(request: HttpRequest) -> HttpResponse:
    visible = selectors.dibao_entitlements_visible_to(request.user)
    filterset = DibaoEntitlementFilterSet(request.GET or None, queryset=visible, request=request)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(
            request, "查询条件有误：" + "；".join(e for es in filterset.errors.values() for e in es)
        )
        rows = visible.none()
    else:
        rows = filterset.qs
    if request.GET.get("export") == "xlsx":
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        return xlsx_response(
            sheet_title=ENTITLEMENTS_TITLE,
            header=[c.label for c in ENTITLEMENT_COLUMNS],
            rows=(
                [c.export_value(e) for c in ENTITLEMENT_COLUMNS]
                for e in rows[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
            ),
            filename=f"{ENTITLEMENTS_TITLE}-{stamp}.xlsx",
            ascii_name=f"dibao-entitlements-{stamp}.xlsx",
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/dibao/entitlements.html",
        {
            "filter": filterset,
            "page": page,
            "columns": ENTITLEMENT_COLUMNS,
            "rows": [(e, [(c, c.cell(e)) for c in ENTITLEMENT_COLUMNS]) for e in page.object_list],
            "title": ENTITLEMENTS_TITLE,
        },
    )

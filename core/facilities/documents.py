"""整改通知书 (rectification notice) of an inspection with open hazards, as PDF (core.pdf.render_pdf: A4,
the system's Noto CJK fonts, nothing fetched by URL)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.utils import timezone

from core.pdf import render_pdf

from . import selectors
from .models import Inspection


def notice_number(inspection: Inspection) -> str:
    return f"安整〔{inspection.inspected_on.year}〕{inspection.pk:05d}号"


def rectification_notice(inspection: Inspection) -> HttpResponse:
    hazards = selectors.open_hazards_of(inspection)
    if not hazards:
        raise Http404("该次检查没有待整改的隐患，无需整改通知书")
    facility = inspection.facility
    content = render_pdf(
        "facilities/print/rectification_notice.html",
        {
            "inspection": inspection,
            "facility": facility,
            "inspectors": list(inspection.inspectors.all()),
            "hazards": hazards,
            "number": notice_number(inspection),
            "today": timezone.localdate(),
        },
    )
    filename = f"整改通知书_{facility.name}_{inspection.inspected_on:%Y%m%d}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=\"notice.pdf\"; filename*=UTF-8''{quote(filename)}"
    return response

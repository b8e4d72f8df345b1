"""整改通知书 (rectification notice) of an inspection with open hazards, as PDF with WeasyPrint.

The rendering mirrors reports/pdf.py (A4, the system's Noto CJK fonts, nothing fetched by URL); that module
belongs to the reports app, which a core app may not import (tests/test_layering.py), so the few lines that
call WeasyPrint are repeated here rather than reaching up a floor."""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from . import selectors
from .models import Inspection


@cache
def _weasyprint():
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetchingError

    class InlineOnlyFetcher(URLFetcher):
        """Only inline `data:` resources: a bureau intranet has no internet, a PDF must not need one."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise URLFetchingError(f"external resource refused: {url}")

    return weasyprint.HTML, InlineOnlyFetcher


def render_pdf(template_name: str, context: dict) -> bytes:
    html = render_to_string(template_name, {"BUREAU_NAME": settings.BUREAU_NAME, **context})
    html_class, fetcher = _weasyprint()
    return html_class(string=html, url_fetcher=fetcher(), base_url=None).write_pdf()


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

"""PDF documents with WeasyPrint: HTML templates extending `print/base.html` (templates/print/) (A4, Noto CJK system
fonts, "第 X 页 共 Y 页" in the footer). Nothing is fetched from the network: no external fonts, images
or style sheets — a bureau intranet has no internet, and a PDF must not depend on one."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from core.memory import cyclic_gc_paused

# WeasyPrint logs every rendering step at INFO; keep its warnings (missing fonts, bad CSS) only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@cache
def _weasyprint():
    # Imported on first use: the import parses WeasyPrint's style sheets, which web and worker processes
    # that never render a PDF should not pay for.
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetchingError

    class InlineOnlyFetcher(URLFetcher):
        """Only inline `data:` resources; anything referenced by URL is refused rather than fetched."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise URLFetchingError(f"external resource refused: {url}")

    return weasyprint.HTML, InlineOnlyFetcher


def render_pdf(template_name: str, context: dict[str, Any] | None = None) -> bytes:
    context = {"BUREAU_NAME": settings.BUREAU_NAME, "SYSTEM_NAME": settings.SYSTEM_NAME, **(context or {})}
    html_class, fetcher_class = _weasyprint()
    with cyclic_gc_paused():  # core/memory.py: 15 % of a 44-page list's CPU
        html = render_to_string(template_name, context)
        return html_class(string=html, url_fetcher=fetcher_class(), base_url=None).write_pdf()

"""Issue 14 item 7: the 保障对象张榜名单 laid out for speed (a fixed table layout, the cyclic garbage collector
paused while WeasyPrint works) must print the same list: every column inside the page, the header row on
every page, "第 X 页 共 Y 页" counting the whole list."""

from __future__ import annotations

import datetime
import gc
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.pdf import render_pdf
from reports.notices import PostedGroup, PostedRow

A4_WIDTH_PT = 595.28
RIGHT_MARGIN_PT = 18 / 25.4 * 72  # print/base.html: @page margin 20mm 18mm 22mm 18mm


def _group(community: str, rows: int) -> PostedGroup:
    return PostedGroup(
        "测试街道",
        community,
        [
            PostedRow("220199001001", "低保", f"欧阳{i:03d}", 3, 3, Decimal("12345.50") + i)
            for i in range(rows)
        ],
        "0431-12345678",
    )


def _render(groups) -> bytes:
    return render_pdf(
        "reports/print/posted_list.html",
        {"groups": groups, "today": datetime.date(2026, 12, 1), "scope_label": "全部社区（村）"},
    )


def test_a_long_list_keeps_its_columns_header_and_page_numbers_on_every_page(tmp_path):
    # Given two communities long enough to run over several pages each
    content = _render([_group("一社区", 70), _group("二社区", 70)])
    pages = PdfReader(io.BytesIO(content)).pages

    # Then every page repeats the header row and counts the whole document
    total = len(pages)
    assert total >= 6
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "月保障金额（元）" in text and "户主（对象）姓名" in text, number
        assert re.search(rf"第\s*{number}\s*页\s*共\s*{total}\s*页", text), number
    # … each community starts its own page, and every row is printed once, in order
    text = "".join(page.extract_text() for page in pages)
    assert text.count("社会救助保障对象名单") == 2
    assert text.count("12,414.50") == 2  # the 70th row's amount, once per community
    # … and nothing is drawn past the right margin (a fixed layout that added the cells' padding to the
    # header's percentages ran the amount column off the page)
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(content)
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: .ci/run installs poppler-utils")
    words = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    right_edges = [float(x) for x in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"', words)]
    assert len(right_edges) > 70 * 6 and max(right_edges) < A4_WIDTH_PT - RIGHT_MARGIN_PT


def test_render_pdf_restores_the_garbage_collector():
    assert gc.isenabled()
    _render([_group("一社区", 1)])
    assert gc.isenabled()
    gc.disable()
    try:
        _render([_group("一社区", 1)])
        assert not gc.isenabled()
    finally:
        gc.enable()

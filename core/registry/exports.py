"""Excel export of the household list (current filter). Numbers stay masked: a masked export needs no
access-log row, and a full one is a separate, logged action."""

from __future__ import annotations

import tempfile

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook

from . import masking
from .choices import AreaType

HEADERS = [
    "户编号",
    "街道/乡镇",
    "社区/村",
    "城乡类型",
    "户主",
    "户主身份证号码",
    "在册人数",
    "住址",
    "联系电话",
    "状态",
]


def household_list_xlsx(households: QuerySet) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("家庭档案")
    sheet.append(HEADERS)
    area_labels = dict(AreaType.choices)
    for h in households.iterator(chunk_size=2000):
        sheet.append(
            [
                h.number,
                h.region.parent.name if h.region.parent_id else "",
                h.region.name,
                area_labels.get(h.area_type, h.area_type),
                h.head.name if h.head_id else "",
                masking.mask_id_number(h.head.id_number) if h.head_id else "",
                h.member_count,
                h.address,
                masking.mask_phone(h.phone),
                "有效" if h.is_active else "已注销",
            ]
        )
    handle = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    filename = f"家庭档案_{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=filename)

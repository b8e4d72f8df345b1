"""Excel export of the household list (current filter). Numbers stay masked: a masked export needs no
access-log row, and a full one is a separate, logged action. Names and addresses are user-entered: the
rows go through core.exports, which keeps a formula-like text (`=HYPERLINK(…)`) as text."""

from __future__ import annotations

import tempfile

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone

from core.exports import write_xlsx

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
    area_labels = dict(AreaType.choices)
    rows = (
        [
            h.number,
            h.region.parent.name if h.region.parent_id else "",
            h.region.name,
            area_labels.get(h.area_type, h.area_type),
            h.head.name if h.head_id else "",
            masking.mask_id_number(h.head.id_number) if h.head_id else "",
            h.living_members,
            h.address,
            masking.mask_phone(h.phone),
            "有效" if h.is_active else "已注销",
        ]
        for h in households.iterator(chunk_size=2000)
    )
    # Every household of the scope, so the file is spooled to disk rather than held in memory.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    write_xlsx(handle, sheet_title="家庭档案", header=HEADERS, rows=rows)
    handle.seek(0)
    filename = f"家庭档案_{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=filename)

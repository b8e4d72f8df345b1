"""户籍台账导入 as a job of the report centre: the form takes the file, the builder checks every row
(core.registry.imports) and either keeps the row-by-row error list on the failed job — nothing written —
or writes the households in one transaction and keeps the list of the 户编号 each was given."""

from __future__ import annotations

from typing import NoReturn

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core.exports import write_xlsx
from core.registry import imports

from .registry import BuildContext, ReportError, ReportParamsForm, ReportResult


class HouseholdImportForm(ReportParamsForm):
    file = forms.FileField(
        label="台账文件",
        help_text=f"按导入模板填写的 Excel 文件（.xlsx），一行一名家庭成员，最多 {imports.MAX_ROWS:,} 行",
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
        error_messages={"required": "请选择要导入的文件", "empty": "上传的文件是空的"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError("只能导入 .xlsx 格式的 Excel 文件（旧版 .xls 请先另存为 .xlsx）")
        if upload.size > settings.IMPORT_MAX_BYTES:
            limit = settings.IMPORT_MAX_BYTES // (1024 * 1024)
            raise ValidationError(f"文件过大，不能超过 {limit} MB；请分成几个文件导入")
        return upload

    def describe(self) -> str:
        return self.cleaned_data["file"].name[:100]


def household_import_template(user) -> tuple[str, bytes]:
    return "户籍台账导入模板.xlsx", imports.template_workbook(user)


def _refuse(ctx: BuildContext, message: str, errors: list[list]) -> NoReturn:
    """Nothing is imported: the error list (行号, 户序号, 姓名, 错误说明) kept on the failed job for
    download, no 重试 — the same file would be refused again."""
    write_xlsx(ctx.output, sheet_title="错误明细", header=["行号", "户序号", "姓名", "错误说明"], rows=errors)
    raise ReportError(
        message, result=ReportResult(filename="户籍台账导入错误明细.xlsx", record_count=len(errors))
    )


def _refuse_file(ctx: BuildContext, message: str) -> NoReturn:
    """The file as a whole cannot be imported: refused like a file with wrong rows, a one-line list."""
    _refuse(ctx, message, [["", "", "", message]])


def build_household_import(ctx: BuildContext) -> ReportResult:
    if ctx.upload is None:
        raise ReportError("没有上传的文件")
    try:
        checked = imports.check(imports.read_rows(ctx.upload), actor=ctx.user, progress=ctx.progress)
    except imports.ImportFileError as exc:
        _refuse_file(ctx, exc.message)
    if checked.rows == 0:
        _refuse_file(ctx, "文件中没有数据行（第 1 行为列名，从第 2 行起每行一名家庭成员）")
    if checked.errors:
        rows = len({error.row for error in checked.errors})
        _refuse(
            ctx,
            f"共 {checked.rows:,} 行，其中 {rows:,} 行有误，未导入任何数据。请下载错误明细，改正后重新上传",
            [[e.row, e.household_key, e.name, e.message] for e in checked.errors],
        )
    ctx.progress(65, f"正在写入 {len(checked.households):,} 户 {checked.people:,} 人")
    try:
        with transaction.atomic():
            households = imports.write(checked, actor=ctx.user)
            write_xlsx(
                ctx.output,
                sheet_title="导入结果",
                header=["户序号", "户编号", "社区/村", "户主", "人数", "起始行号"],
                rows=(
                    [
                        h.key,
                        h.number,
                        h.region.name,
                        next(m.name for _, m in h.members if m.relation == "head"),
                        len(h.members),
                        min(row for row, _ in h.members),
                    ]
                    for h in households
                ),
            )
            ctx.finish(ReportResult(filename="户籍台账导入结果.xlsx", record_count=checked.people))
    except ValidationError as exc:
        raise ReportError("；".join(exc.messages)) from None
    return ReportResult(filename="户籍台账导入结果.xlsx", record_count=checked.people)

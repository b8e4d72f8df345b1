"""The report types users can request. Bureau apps add their own from `AppConfig.ready()`:

    from reports.registry import ReportResult, register_report

    def build_gaoling_roster(ctx):            # ctx: reports.registry.BuildContext
        rows = selectors.gaoling_lines(ctx.user, ctx.params["month"])   # gather (scoped by ctx.user) …
        ctx.progress(50, "正在写入表格")
        write_xlsx(rows, ctx.output)         # … then format into the open binary file ctx.output
        return ReportResult(filename="高龄津贴花名册.xlsx", record_count=n, contains_personal_data=True)

    register_report(
        code="gaoling_roster", label="高龄津贴发放花名册", builder=build_gaoling_roster,
        permission="benefits.view_paymentrun", params_form=GaolingRosterForm,
    )

The builder runs in a Celery task; it raises `ReportError("中文原因")` for a failure the user should read.
`params_form` is a `ReportParamsForm`: it receives the requesting user (to limit its choices to the user's
scope), validates the parameters, and turns them into JSON for the job row.

An import is a job of the same kind whose form has one `forms.FileField`: the file is kept on the job
(`ctx.upload`, opened for reading; 重试 reads it again) and the builder writes the data, all or nothing:

    def build_import(ctx):
        rows = read_and_check(ctx.upload, ctx.user, ctx.progress)   # progress only before the transaction
        if rows.errors:
            write_error_list(rows.errors, ctx.output)                # the user downloads it from the job
            raise ReportError("第 3 行等 12 行有误，未导入任何数据", result=ReportResult("错误明细.xlsx"))
        with transaction.atomic():
            write(rows)
            write_result_list(rows, ctx.output)
            ctx.finish(ReportResult("导入结果.xlsx", record_count=n))   # last, inside the transaction

`ctx.finish` marks the job 已完成 in the data's own commit — or raises, rolling the data back, when the job
was cancelled meanwhile — so a job never says 已取消 over data that was written. `template` (optional)
gives the blank workbook the request page offers for download."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


class ReportError(Exception):
    """A failure whose message (Simplified Chinese) is shown to the user on the job. With `result`, what the
    builder wrote into `ctx.output` is kept on the failed job for download (an import's error list)."""

    def __init__(self, message: str, result: ReportResult | None = None):
        super().__init__(message)
        self.message = message
        self.result = result


class ReportParamsForm(forms.Form):
    """Base for a report type's parameter form. Subclasses may limit choices by `self.user`."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def params(self) -> dict[str, Any]:
        """The cleaned parameters as JSON values (a model instance becomes its pk); an uploaded file is
        kept on the job instead (`upload`)."""
        return {
            name: _jsonable(value)
            for name, value in self.cleaned_data.items()
            if not isinstance(value, UploadedFile)
        }

    def upload(self) -> UploadedFile | None:
        """The file uploaded with the form, if it has a file field."""
        return next((v for v in self.cleaned_data.values() if isinstance(v, UploadedFile)), None)

    def describe(self) -> str:
        """A short Chinese description of the parameters, used in the job's title."""
        return ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class ReportResult:
    filename: str
    content_type: str = XLSX
    record_count: int = 0
    # The file carries full ID or bank numbers: every download writes an AccessLog export row.
    contains_personal_data: bool = False


def _no_finish(result: ReportResult) -> None:
    raise RuntimeError("ctx.finish is given by reports.services.report_build")


@dataclass
class BuildContext:
    """What a builder gets: the job, its parameters, the requester (scope every query with
    `visible_to(ctx.user)`), an open binary file to write into, a progress callback, and for an import the
    uploaded file (open for reading) and `finish` (see the module's docstring)."""

    job_id: int
    params: dict[str, Any]
    user: Any
    output: IO[bytes]
    progress: Callable[[int, str], None] = field(default=lambda percent, message="": None)
    upload: IO[bytes] | None = None
    upload_name: str = ""
    finish: Callable[[ReportResult], None] = _no_finish


@dataclass(frozen=True)
class ReportType:
    code: str
    label: str
    builder: Callable[[BuildContext], ReportResult]
    permission: tuple[str, ...]
    params_form: type[ReportParamsForm]
    description: str = ""
    order: int = 100
    # An import's blank workbook: template(user) -> (filename, xlsx bytes), offered on the request page.
    template: Callable[[Any], tuple[str, bytes]] | None = None

    @property
    def has_template(self) -> bool:  # templates call a callable attribute: ask this instead
        return self.template is not None

    def allowed_for(self, user) -> bool:
        return bool(user.is_authenticated) and user.has_perms(self.permission)


_REGISTRY: dict[str, ReportType] = {}


def register_report(
    code: str,
    label: str,
    builder: Callable[[BuildContext], ReportResult],
    permission: str | tuple[str, ...] | list[str],
    params_form: type[ReportParamsForm],
    *,
    description: str = "",
    order: int = 100,
    template: Callable[[Any], tuple[str, bytes]] | None = None,
) -> ReportType:
    """Register a report type; registering the same code twice replaces it (app reloads in tests)."""
    perms = (permission,) if isinstance(permission, str) else tuple(permission)
    report_type = ReportType(code, label, builder, perms, params_form, description, order, template)
    _REGISTRY[code] = report_type
    return report_type


def unregister_report(code: str) -> None:
    _REGISTRY.pop(code, None)


def get_report_type(code: str) -> ReportType | None:
    return _REGISTRY.get(code)


def report_types() -> list[ReportType]:
    return sorted(_REGISTRY.values(), key=lambda t: (t.order, t.code))


def report_types_for(user) -> list[ReportType]:
    return [t for t in report_types() if t.allowed_for(user)]

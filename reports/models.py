"""Report jobs: one row per requested export or document, so the page can show progress and the file can
be downloaded again (Saleor's ExportFile). The data itself is never stored here, only the finished file."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.registry.querysets import ScopedQuerySet

# A job's message once its import's upload is deleted unretried (reports.services.report_uploads_purge).
UPLOAD_PURGED_MESSAGE = "上传的文件已超过保留期删除，如需导入请重新上传"


class ReportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    report_type = models.CharField("报表类型", max_length=60, db_index=True)
    title = models.CharField("报表名称", max_length=200, blank=True)
    parameters = models.JSONField("参数", default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    # The requester's scope prefix when the job was requested ("" for the whole system): who else may
    # see the job is decided by this prefix, like any other scoped record.
    region_code = models.CharField("数据范围", max_length=12, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    message = models.CharField("进度说明", max_length=200, blank=True)
    # What an import's requester uploaded: kept while 重试 may read it again, deleted once imported or
    # refused row by row (reports.services._drop_upload), or REPORT_UPLOAD_KEEP_DAYS after a failed or
    # cancelled attempt nobody retried (reports.services.report_uploads_purge); never served back.
    # `upload_name` stays.
    upload = models.FileField("上传文件", upload_to="uploads/%Y/%m/", blank=True, max_length=200)
    upload_name = models.CharField("上传文件名", max_length=200, blank=True)
    file = models.FileField("文件", upload_to="reports/%Y/%m/", blank=True, max_length=200)
    filename = models.CharField("文件名", max_length=200, blank=True)
    content_type = models.CharField("文件类型", max_length=100, blank=True)
    record_count = models.PositiveIntegerField("记录数", default=0)
    contains_personal_data = models.BooleanField(
        "含完整个人信息", default=False, help_text="文件含完整身份证号或银行账号，下载时记入个人信息查阅记录"
    )
    error = models.TextField("失败原因", blank=True)
    # Each 重试 starts a new attempt; a build carries the attempt it was queued for, so a message the broker
    # redelivers after a worker was lost (acks_late) never builds over a later attempt.
    attempt = models.PositiveSmallIntegerField("生成次数", default=1)
    # The last time the build reported progress: a running job silent for REPORT_JOB_STALE_SECONDS is failed.
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报表任务"
        verbose_name_plural = "报表任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="reportjob_requester_idx"),
            models.Index(
                fields=["region_code"], name="reportjob_region_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=100),
                name="reportjob_progress_range",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.report_type

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)

    @property
    def is_import(self) -> bool:
        return bool(self.upload_name)

    @property
    def can_retry(self) -> bool:
        # Not an import refused row by row: the same file would be refused again; a corrected one is
        # uploaded as a new import.
        refused = self.status == self.Status.FAILED and self.is_import and bool(self.file)
        # Nor an import whose upload was deleted after REPORT_UPLOAD_KEEP_DAYS: nothing left to read.
        purged = self.is_import and not self.upload
        return self.status in (self.Status.FAILED, self.Status.CANCELLED) and not refused and not purged

    @property
    def upload_purged(self) -> bool:
        """An import whose upload was deleted unretried (reports.services.report_uploads_purge)."""
        return self.is_import and not self.upload and self.message == UPLOAD_PURGED_MESSAGE

    @property
    def can_cancel(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def can_download(self) -> bool:
        # A failed job may carry a file too: an import refused row by row keeps its error list.
        return self.status in (self.Status.DONE, self.Status.FAILED) and bool(self.file)

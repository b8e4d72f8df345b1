"""The staff roster (队伍建设): people who work in communities, streets and facilities, and their positions.

A `StaffMember` is a person on the roster; each `StaffPosition` is a role they hold from one day to another
(valid_from … valid_to, null = still held). A position is never overwritten: ending it sets its last day, a
change (a new role, a new qualification level) ends it the day before and opens a new one, so "who held
what on day D" always has one answer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.fields import ref, region_prefix_index, user_ref
from core.registry.crypto import EncryptedCharField, KeyedHashField
from core.registry.querysets import ScopedQuerySet

from .choices import CARE_LEVELS, SOCIAL_WORK_LEVELS, Qualification, StaffRole


class StaffMember(models.Model):
    """人员: name, optional 居民身份证 (encrypted, found by its keyed hash like Person.id_number), where they
    work. `region` is the community, street or district they belong to; `workplace_name` names the place
    when it is not the community/street office itself (a facility, a 社工站)."""

    name = models.CharField("姓名", max_length=50, db_index=True)
    # Encrypted at rest; kept unique (one roster entry per person) and found by its keyed hash.
    id_number = EncryptedCharField("身份证号码", max_length=32, blank=True)
    id_number_hash = KeyedHashField("身份证号码检索码", source="id_number", blank=True)
    sex = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")], blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    region = ref("registry.Region", "所属社区/街道")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    # TODO(facilities): a facility link (core/facilities, being built) goes here beside the free text —
    # `facility = ref("facilities.Facility", "服务设施", optional=True)` — once that app exists.
    workplace_name = models.CharField(
        "工作单位",
        max_length=100,
        blank=True,
        help_text="在社区/街道以外的机构或站点工作时填写（如养老机构、社工站）",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_by = user_ref("录入人", null=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "队伍人员"
        verbose_name_plural = "队伍人员"
        ordering = ["region_code", "name", "id"]
        indexes = [region_prefix_index("staff_member_region_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="staff_member_id_hash_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StaffPosition(models.Model):
    """职务: a role held by a member from `valid_from` to `valid_to` (inclusive; null = still held), with the
    qualification it is held with (持证社工: level; 养老护理员: 职业技能等级) and its certificate."""

    member = models.ForeignKey(
        StaffMember, verbose_name="人员", on_delete=models.PROTECT, related_name="positions"
    )
    role = models.CharField("岗位", max_length=30, choices=StaffRole.choices)
    qualification = models.CharField("资格等级", max_length=20, choices=Qualification.choices, blank=True)
    cert_number = models.CharField("证书编号", max_length=40, blank=True)
    cert_date = models.DateField("发证日期", null=True, blank=True)
    # Where the role is held: the member's region when the position was opened (a 儿童主任's community).
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    valid_from = models.DateField("任职日期")
    valid_to = models.DateField("离任日期", null=True, blank=True)
    end_reason = models.CharField("离任/变动原因", max_length=200, blank=True)
    created_by = user_ref("录入人", null=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    ended_by = user_ref("离任登记人", optional=True)
    ended_at = models.DateTimeField("离任登记时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "人员职务"
        verbose_name_plural = "人员职务"
        ordering = ["member_id", "valid_from", "id"]
        indexes = [
            region_prefix_index("staff_position_region_idx"),
            models.Index(fields=["role", "valid_to"], name="staff_position_role_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="staff_position_dates_ordered",
            ),
            # A 持证社工 holds a level and a certificate; a 养老护理员 may hold a 职业技能等级; others hold none.
            models.CheckConstraint(
                condition=(
                    Q(
                        role=StaffRole.SOCIAL_WORKER,
                        qualification__in=[q.value for q in SOCIAL_WORK_LEVELS],
                    )
                    & ~Q(cert_number="")
                )
                | Q(role=StaffRole.CARE_WORKER, qualification__in=["", *(q.value for q in CARE_LEVELS)])
                | (~Q(role__in=[StaffRole.SOCIAL_WORKER, StaffRole.CARE_WORKER]) & Q(qualification="")),
                name="staff_position_qualification_fits_role",
            ),
            # One current 儿童主任 per community, one current 儿童督导员 per street.
            models.UniqueConstraint(
                fields=["region_code"],
                condition=Q(valid_to__isnull=True, role=StaffRole.CHILD_DIRECTOR),
                name="staff_one_current_child_director",
            ),
            models.UniqueConstraint(
                fields=["region_code"],
                condition=Q(valid_to__isnull=True, role=StaffRole.CHILD_SUPERVISOR),
                name="staff_one_current_child_supervisor",
            ),
            # A member holds a role once at a time (a new level is a change: the old row ends first).
            models.UniqueConstraint(
                fields=["member", "role"], condition=Q(valid_to__isnull=True), name="staff_one_current_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} {self.get_role_display()}"

    @property
    def label(self) -> str:
        if self.qualification:
            return f"{self.get_role_display()}（{self.get_qualification_display()}）"
        return self.get_role_display()

    def held_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)

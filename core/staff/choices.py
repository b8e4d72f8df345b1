"""Roles and qualifications of the staff roster (队伍建设)."""

from __future__ import annotations

from django.db import models


class StaffRole(models.TextChoices):
    COMMUNITY_WORKER = "community_worker", "社区工作者"
    SOCIAL_WORKER = "social_worker", "持证社工"
    CARE_WORKER = "care_worker", "养老护理员"
    CHILD_DIRECTOR = "child_director", "儿童主任"
    CHILD_SUPERVISOR = "child_supervisor", "儿童督导员"
    VOLUNTEER_STATION_HEAD = "volunteer_station_head", "志愿服务站负责人"
    OTHER = "other", "其他"


class Qualification(models.TextChoices):
    """The qualification a position is held with: the 社会工作者职业资格 level of a 持证社工 (助理社会工作师 /
    社会工作师 by examination, 高级社会工作师 by examination and review), or the 职业技能等级 of a 养老护理员
    (养老护理员国家职业技能标准 2019: 五级/初级工 … 一级/高级技师)."""

    SW_ASSISTANT = "sw_assistant", "助理社会工作师"
    SW_SOCIAL = "sw_social", "社会工作师"
    SW_SENIOR = "sw_senior", "高级社会工作师"
    CARE_5 = "care_5", "初级工（五级）"
    CARE_4 = "care_4", "中级工（四级）"
    CARE_3 = "care_3", "高级工（三级）"
    CARE_2 = "care_2", "技师（二级）"
    CARE_1 = "care_1", "高级技师（一级）"


SOCIAL_WORK_LEVELS = (Qualification.SW_ASSISTANT, Qualification.SW_SOCIAL, Qualification.SW_SENIOR)
CARE_LEVELS = (
    Qualification.CARE_5,
    Qualification.CARE_4,
    Qualification.CARE_3,
    Qualification.CARE_2,
    Qualification.CARE_1,
)
# The qualifications each role may carry; a role not listed carries none.
ROLE_QUALIFICATIONS: dict[str, tuple[str, ...]] = {
    StaffRole.SOCIAL_WORKER: tuple(q.value for q in SOCIAL_WORK_LEVELS),
    StaffRole.CARE_WORKER: tuple(q.value for q in CARE_LEVELS),
}
# Roles held for a region of one level: one 儿童主任 per community, one 儿童督导员 per street (DOMAIN.md 儿童;
# 民政部等10部门《关于进一步健全农村留守儿童和困境儿童关爱服务体系的意见》民发〔2019〕34号).
ONE_PER_REGION = {StaffRole.CHILD_DIRECTOR: "community", StaffRole.CHILD_SUPERVISOR: "street"}

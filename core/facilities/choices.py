"""Choices of the facilities register (服务设施) and its safety inspections (安全检查)."""

from django.db import models


class OperatorType(models.TextChoices):
    PUBLIC = "public", "公办"
    PUBLIC_PRIVATE = "public_private", "公建民营"
    PRIVATE = "private", "民办"


class RatingLevel(models.IntegerChoices):
    """养老机构等级划分与评定 GB/T 37276-2018: 一级 to 五级."""

    ONE = 1, "一级"
    TWO = 2, "二级"
    THREE = 3, "三级"
    FOUR = 4, "四级"
    FIVE = 5, "五级"


class InspectionKind(models.TextChoices):
    SELF = "self", "自查"
    DISTRICT = "district", "区级检查"
    SPECIAL = "special", "专项检查"


# How many inspectors an inspection needs: a facility's own self-check may be signed by one person; a
# district or special inspection is made by two at least (the issue: "inspectors (≥ 2)"; like the 双随机
# rule of two inspectors, 民发〔2017〕45号).
MIN_INSPECTORS = {InspectionKind.SELF: 1, InspectionKind.DISTRICT: 2, InspectionKind.SPECIAL: 2}


class Severity(models.TextChoices):
    """隐患等级 of the bureaus' 隐患排查 lists; 重大 as judged by 《养老机构重大事故隐患判定标准》 (MZ/T 193-2021)."""

    GENERAL = "general", "一般"
    MAJOR = "major", "较大"
    GRAVE = "grave", "重大"


class ReinspectionResult(models.TextChoices):
    PASSED = "passed", "合格"
    FAILED = "failed", "不合格"


class HazardState(models.TextChoices):
    OPEN = "open", "待整改"
    AWAITING = "awaiting", "待复查"
    CLOSED = "closed", "已销号"


# Residents by self-care level (老年人能力评估规范 GB/T 42195-2022, the registry's ElderAbilityLevel):
# (field name, label).
RESIDENT_FIELDS = (
    ("residents_intact", "能力完好"),
    ("residents_mild", "轻度失能"),
    ("residents_moderate", "中度失能"),
    ("residents_severe", "重度失能"),
    ("residents_total", "完全失能"),
)
BED_FIELDS = (("beds_nursing", "护理型床位"), ("beds_dementia", "失智照护床位"), ("beds_general", "普通床位"))

"""Demo facilities of the demo district for `seed_demo` (hooked in by core/portal/facilities.py: this app sits
below the portal and may not import it). A few facilities of 正阳街道 of several sections, a district
inspection last month with one overdue hazard, one awaiting re-inspection and one closed, and this month's
self-check of the day-care centre — so the overdue list and the "not inspected this month" list both show
something. Idempotent: nothing is added while the demo district has a facility."""

from __future__ import annotations

import datetime

from django.utils import timezone
from stdnum.cn import uscc

from core.accounts.models import User

from . import services
from .choices import InspectionKind, ReinspectionResult
from .models import Facility

DISTRICT_PREFIX = "220106"
STREET = "220106001000"  # 正阳街道 (demo code)
ZHENGYANG, TONGKANG = "220106001001", "220106001002"


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


FACILITIES = [
    # kind, name, region, operator type, operator, USCC body (17), extra fields
    (
        "elder_institution",
        "正阳颐养院",
        STREET,
        "private",
        "长春市绿园区正阳颐养院",
        "52220106MJ0000001",
        {
            "capacity": 120,
            "floor_area": "4200.50",
            "beds_nursing": 72,
            "beds_dementia": 18,
            "beds_general": 30,
            "residents_intact": 22,
            "residents_mild": 25,
            "residents_moderate": 18,
            "residents_severe": 12,
            "residents_total": 8,
            "licence_no": "22010620190001",
            "licensed_on": datetime.date(2019, 5, 20),
            "rating_level": 3,
            "rated_on": datetime.date(2024, 6, 15),
            "rating_valid_until": datetime.date(2027, 6, 14),
        },
    ),
    (
        "day_care_center",
        "正阳社区日间照料中心",
        ZHENGYANG,
        "public_private",
        "长春市绿园区康乐社会工作服务中心",
        "52220106MJ0000002",
        {"capacity": 40, "floor_area": "320"},
    ),
    ("meal_site", "同康社区老年助餐点", TONGKANG, "public", "", "", {"capacity": 60, "floor_area": "85"}),
    (
        "minor_protection_station",
        "正阳街道未成年人保护工作站",
        STREET,
        "public",
        "",
        "",
        {"floor_area": "60"},
    ),
    ("children_home", "正阳社区儿童之家", ZHENGYANG, "public", "", "", {"floor_area": "45"}),
]


def seed_facilities_demo(*, stdout, rng_seed: int) -> None:
    if Facility.objects.filter(region_code__startswith=DISTRICT_PREFIX).exists():
        return
    users = {u.username: u for u in User.objects.filter(username__in=["kezhang_yl", "jd01", "sq0101"])}
    if "jd01" not in users or "sq0101" not in users:
        return
    created = {}
    for kind, name, region, operator_type, operator, code, extra in FACILITIES:
        data = {
            "kind": kind,
            "name": name,
            "region": region,
            "address": f"长春市绿园区{name}",
            "operator_type": operator_type,
            "operator_name": operator,
            "uscc": _uscc(code) if code else "",
            **extra,
        }
        # Registered by the street reviewer: a general role, so every section's kinds.
        created[kind] = services.facility_create(actor=users["jd01"], data=data)
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=12)
    inspectors = [users["jd01"], users.get("kezhang_yl") or users["sq0101"]]
    inspection = services.inspection_record(
        facility=created["elder_institution"],
        actor=users["jd01"],
        inspected_on=last_month,
        kind=InspectionKind.DISTRICT,
        inspectors=inspectors,
        findings="消防设施、用电安全、食品安全、特种设备全面检查（区级全覆盖检查）。",
        hazards=[
            {
                "description": "三楼东侧疏散通道堆放杂物",
                "severity": "major",
                "deadline": last_month + datetime.timedelta(days=7),
                "responsible_person": "刘院长",
            },
            {
                "description": "厨房燃气报警器未定期检测",
                "severity": "general",
                "deadline": last_month + datetime.timedelta(days=10),
                "responsible_person": "王主任",
            },
            {
                "description": "部分房间电动车充电",
                "severity": "general",
                "deadline": last_month + datetime.timedelta(days=3),
                "responsible_person": "刘院长",
            },
        ],
    )
    first, second, third = inspection.hazards.order_by("pk")
    services.hazard_rectify(
        hazard=second,
        actor=users["jd01"],
        rectified_on=last_month + datetime.timedelta(days=8),
        note="已送检并取得检测报告",
    )
    services.hazard_rectify(
        hazard=third,
        actor=users["jd01"],
        rectified_on=last_month + datetime.timedelta(days=2),
        note="清理充电设备，设置集中充电点",
    )
    services.hazard_reinspect(
        hazard=third,
        actor=users["jd01"],
        reinspected_on=last_month + datetime.timedelta(days=5),
        result=ReinspectionResult.PASSED,
        note="现场复查已整改到位",
    )
    services.inspection_record(
        facility=created["day_care_center"],
        actor=users["sq0101"],
        inspected_on=today.replace(day=1),
        kind=InspectionKind.SELF,
        inspectors=[users["sq0101"]],
        findings="月度自查：消防器材在有效期内，未发现隐患。",
    )
    stdout.write(f"  服务设施 {len(created)} 处，安全检查 2 次")

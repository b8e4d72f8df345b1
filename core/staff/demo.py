"""A small demo roster in the demo district (绿园区 220106), entered through the services: a 儿童主任 in
most communities and a 儿童督导员 in most streets (a few left vacant, so the 缺岗 lists show something),
社区工作者, 持证社工 of each level and 养老护理员 with and without a certificate, and some history — a 儿童主任
handed over last year, a 持证社工 promoted. Idempotent: nothing is done while the district has a roster.
core.portal registers it with seed_demo (this app sits below the portal and does not import it)."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.registry.choices import RegionLevel
from core.registry.idnumbers import make_ric
from core.registry.models import Region

from . import services
from .choices import Qualification, StaffRole
from .models import StaffMember, StaffPosition

DEMO_DISTRICT = "220106"
# Communities and streets left without a 儿童主任 / 儿童督导员 (one in every this many).
VACANT_EVERY = 6
CARE_HOMES = ["绿园区社会福利中心", "正阳街道居家养老服务中心", "西新镇敬老院"]


def seed_staff_demo(*, stdout=None, rng_seed: int = 0) -> int:
    if StaffMember.objects.filter(region_code__startswith=DEMO_DISTRICT).exists():
        return 0
    # Imported here, not at module level: this module is imported by every process (core.portal registers
    # the seeder at startup), and importing faker loads every locale's providers — a 60 MB peak of RSS
    # in each web worker, Celery worker and export, paid for a command run once.
    from faker import Faker

    rng = random.Random(rng_seed + 75)
    fake = Faker("zh_CN")
    fake.seed_instance(rng_seed + 75)
    today = timezone.localdate()
    regions = list(
        Region.objects.filter(code__startswith=DEMO_DISTRICT, is_active=True)
        .filter(level__in=[RegionLevel.STREET, RegionLevel.COMMUNITY])
        .order_by("code")
    )
    created = 0
    used_numbers: set[str] = set()

    def day(years_ago: float) -> datetime.date:
        return today - datetime.timedelta(days=int(365 * years_ago) + rng.randint(0, 60))

    def person(
        region: Region, positions: list[dict], *, with_id: bool = True, workplace: str = ""
    ) -> StaffMember:
        nonlocal created
        male = rng.random() < 0.4
        id_number = ""
        while with_id and (not id_number or id_number in used_numbers):
            birth = datetime.date(rng.randint(1968, 1998), rng.randint(1, 12), rng.randint(1, 28))
            id_number = make_ric(DEMO_DISTRICT, birth, rng.randint(0, 499) * 2 + (1 if male else 0))
        used_numbers.add(id_number)
        member = services.staff_member_create(
            actor=None,
            name=fake.name_male() if male else fake.name_female(),
            id_number=id_number,
            phone=f"13{rng.randint(100000000, 999999999)}",
            region=region,
            workplace_name=workplace,
            positions=positions,
        )
        created += 1
        return member

    for i, region in enumerate(regions):
        if region.level == RegionLevel.STREET:
            if i % VACANT_EVERY != 3:
                person(region, [{"role": StaffRole.CHILD_SUPERVISOR, "valid_from": day(2)}])
            continue
        # 儿童主任 (a community or two without one); every fourth community handed over last year.
        if i % VACANT_EVERY != 2:
            if i % 4 == 1:
                former = person(region, [{"role": StaffRole.CHILD_DIRECTOR, "valid_from": day(4)}])
                services.staff_position_end(
                    position=former.positions.get(),
                    actor=None,
                    valid_to=day(1),
                    reason="调离本社区",
                )
                handed_over = StaffPosition.objects.get(member=former).valid_to
                person(
                    region,
                    [
                        {
                            "role": StaffRole.CHILD_DIRECTOR,
                            "valid_from": handed_over + datetime.timedelta(days=1),
                        }
                    ],
                )
            else:
                person(region, [{"role": StaffRole.CHILD_DIRECTOR, "valid_from": day(3)}])
        for _ in range(rng.randint(1, 2)):
            person(region, [{"role": StaffRole.COMMUNITY_WORKER, "valid_from": day(rng.uniform(0.5, 6))}])
        # 持证社工: some communities have one, some a promoted one (助理社会工作师 → 社会工作师).
        if rng.random() < 0.6:
            level = rng.choices(
                [Qualification.SW_ASSISTANT, Qualification.SW_SOCIAL, Qualification.SW_SENIOR],
                weights=[6, 3, 1],
            )[0]
            cert_date = day(rng.uniform(2, 5))
            worker = person(
                region,
                [
                    {"role": StaffRole.COMMUNITY_WORKER, "valid_from": cert_date},
                    {
                        "role": StaffRole.SOCIAL_WORKER,
                        "qualification": level,
                        "cert_number": f"SW{cert_date.year}{rng.randint(100000, 999999)}",
                        "cert_date": cert_date,
                        "valid_from": cert_date,
                    },
                ],
            )
            if level == Qualification.SW_ASSISTANT and rng.random() < 0.3:
                promoted = day(0.5)
                services.staff_position_change(
                    position=worker.positions.get(role=StaffRole.SOCIAL_WORKER),
                    actor=None,
                    valid_from=promoted,
                    role=StaffRole.SOCIAL_WORKER,
                    qualification=Qualification.SW_SOCIAL,
                    cert_number=f"SW{promoted.year}{rng.randint(100000, 999999)}",
                    cert_date=promoted,
                    reason="通过社会工作师职业资格考试",
                )
    # 养老护理员 in the care homes (registered at the district, the homes are not yet in core/facilities).
    district = Region.objects.get(code=f"{DEMO_DISTRICT}000000")
    for k in range(9):
        certified = k % 3 != 0
        level = (
            rng.choice([Qualification.CARE_5, Qualification.CARE_4, Qualification.CARE_3])
            if certified
            else ""
        )
        cert_date = day(rng.uniform(1, 4))
        person(
            district,
            [
                {
                    "role": StaffRole.CARE_WORKER,
                    "qualification": level,
                    "cert_number": f"YL{cert_date.year}{rng.randint(1000000, 9999999)}" if certified else "",
                    "cert_date": cert_date if certified else None,
                    "valid_from": cert_date,
                }
            ],
            with_id=k % 4 != 0,
            workplace=CARE_HOMES[k % len(CARE_HOMES)],
        )
    if stdout is not None:
        stdout.write(f"  队伍建设：{created} 名人员")
    return created

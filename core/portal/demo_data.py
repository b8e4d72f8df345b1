"""The demo district: 吉林省长春市绿园区 with its streets and towns. Codes below the district level are
DEMO codes (marked is_demo), not the official 统计用区划代码 of these places."""

from __future__ import annotations

import datetime
from decimal import Decimal

PROVINCE = ("220000000000", "吉林省")
CITY = ("220100000000", "长春市")
DISTRICT = ("220106000000", "绿园区")
# The demo district's 监督电话 (Region.complaint_phone), printed on the 公示名单 — a made-up number.
DISTRICT_COMPLAINT_PHONE = "0431-87600000"

# (street/town name, is_rural, [communities/villages])
STREETS = [
    ("正阳街道", False, ["正阳社区", "同康社区", "春城社区", "绿园社区"]),
    ("春城街道", False, ["春城大街社区", "北湖社区", "宝隆社区"]),
    ("青年路街道", False, ["青年路社区", "安泰社区", "建业社区"]),
    ("普阳街道", False, ["普阳社区", "锦西社区", "景阳社区"]),
    ("铁西街道", False, ["铁西社区", "和平社区", "长青社区"]),
    ("林园街道", False, ["林园社区", "光复社区", "新华社区"]),
    ("同心街道", False, ["同心社区", "兴业社区"]),
    ("西新镇", True, ["开元村", "小南村", "六家子村", "西新村"]),
    ("城西镇", True, ["城西村", "三家子村", "范家屯村"]),
    ("合心镇", True, ["合心村", "东兴村", "四间村"]),
]

DEMO_PASSWORD = "Minzheng2026"

# The demo households were registered this many days before `seed_demo` runs (their created_at and first
# history rows), before the oldest demo case; their incomes are on file from INCOMES_FROM.
REGISTERED_DAYS_AGO = 450
INCOMES_FROM = datetime.date(2025, 1, 1)

D = datetime.date

# Benefit types and standards from ../shared/DOMAIN.md (demo values; every one is editable in the admin).
BENEFIT_TYPES = [
    # code, name, bureau, monthly, rounding, order
    ("dibao", "最低生活保障", "社会救助科", True, "fen", 10),
    ("tekun_basic", "特困人员基本生活费", "社会救助科", True, "fen", 20),
    ("tekun_care", "特困人员照料护理费", "社会救助科", True, "fen", 21),
    ("temp_assistance", "临时救助", "社会救助科", False, "yuan", 30),
    ("disability_living", "困难残疾人生活补贴", "社会救助科", True, "fen", 40),
    ("disability_care", "重度残疾人护理补贴", "社会救助科", True, "fen", 41),
    ("gaoling", "高龄津贴", "养老服务科", True, "yuan", 50),
    ("orphan", "孤儿基本生活费", "儿童福利科", True, "yuan", 60),
    ("de_facto_orphan", "事实无人抚养儿童基本生活费", "儿童福利科", True, "yuan", 61),
]

SOURCE_DIBAO = "东昌区城乡居民最低生活保障标准（演示数据）"
SOURCE_TEKUN = "东昌区特困人员基本生活标准（演示数据）"
STANDARDS = [
    # benefit code, area, tier, amount, unit, from, to, source
    ("dibao", "urban", "", Decimal("550"), "month", D(2019, 1, 1), D(2021, 6, 30), SOURCE_DIBAO),
    ("dibao", "urban", "", Decimal("600"), "month", D(2021, 7, 1), None, SOURCE_DIBAO),
    ("dibao", "rural", "", Decimal("340"), "month", D(2019, 1, 1), D(2021, 6, 30), SOURCE_DIBAO),
    ("dibao", "rural", "", Decimal("410"), "month", D(2021, 7, 1), None, SOURCE_DIBAO),
    ("tekun_basic", "urban", "集中供养", Decimal("1100"), "month", D(2021, 7, 1), None, SOURCE_TEKUN),
    ("tekun_basic", "rural", "集中供养", Decimal("680"), "month", D(2021, 7, 1), None, SOURCE_TEKUN),
    (
        "tekun_basic",
        "urban",
        "分散供养",
        Decimal("780"),
        "month",
        D(2021, 7, 1),
        None,
        "按城市低保标准的1.3倍确定（演示数据）",
    ),
    (
        "tekun_basic",
        "rural",
        "分散供养",
        Decimal("533"),
        "month",
        D(2021, 7, 1),
        None,
        "按农村低保标准的1.3倍确定（演示数据）",
    ),
    # 照料护理: 1/10, 1/6, 1/3 of the local minimum wage (demo: 1,880 元/月), rounded to 分.
    (
        "tekun_care",
        "",
        "全自理",
        Decimal("188.00"),
        "month",
        D(2021, 7, 1),
        None,
        "按当地月最低工资标准1880元的1/10确定（演示数据）",
    ),
    (
        "tekun_care",
        "",
        "半护理",
        Decimal("313.33"),
        "month",
        D(2021, 7, 1),
        None,
        "按当地月最低工资标准1880元的1/6确定（演示数据）",
    ),
    (
        "tekun_care",
        "",
        "全护理",
        Decimal("626.67"),
        "month",
        D(2021, 7, 1),
        None,
        "按当地月最低工资标准1880元的1/3确定（演示数据）",
    ),
    ("disability_living", "", "", Decimal("100"), "month", D(2021, 1, 1), None, "演示数据"),
    ("disability_care", "", "一级", Decimal("100"), "month", D(2021, 1, 1), None, "演示数据"),
    ("disability_care", "", "二级", Decimal("80"), "month", D(2021, 1, 1), None, "演示数据"),
    ("gaoling", "", "80-89岁", Decimal("50"), "month", D(2021, 1, 1), None, "东昌区高龄津贴标准（演示数据）"),
    (
        "gaoling",
        "",
        "90-99岁",
        Decimal("100"),
        "month",
        D(2021, 1, 1),
        None,
        "东昌区高龄津贴标准（演示数据）",
    ),
    (
        "gaoling",
        "",
        "100岁以上",
        Decimal("300"),
        "month",
        D(2021, 1, 1),
        None,
        "东昌区高龄津贴标准（演示数据）",
    ),
    ("orphan", "", "散居", Decimal("1200"), "month", D(2021, 1, 1), None, "演示数据"),
    ("orphan", "", "集中", Decimal("1800"), "month", D(2021, 1, 1), None, "演示数据"),
    (
        "de_facto_orphan",
        "",
        "散居",
        Decimal("1200"),
        "month",
        D(2021, 1, 1),
        None,
        "参照散居孤儿基本生活费标准（演示数据）",
    ),
]

PARAMETERS = [
    # key, name, value, from, source
    # 分类施保's ratios are seeded by assistance migration 0008 (dibao.classified.*).
    ("dibao.floor_ratio", "低保保底发放（占标准比例，0为不设保底）", Decimal("0.20"), D(2021, 7, 1), "demo"),
    ("dibao.edge_ratio", "低保边缘家庭收入上限（低保标准的倍数）", Decimal("1.5"), D(2021, 7, 1), "demo"),
    ("dibao.taper_months", "低保渐退期（月）", Decimal("6"), D(2021, 7, 1), "demo"),
    (
        "dibao.confirm_working_days",
        "低保确认时限（公示结束后工作日）",
        Decimal("10"),
        D(2021, 7, 1),
        "民发〔2021〕57号",
    ),
    (
        "dibao.total_working_days",
        "低保审核确认总时限（工作日）",
        Decimal("30"),
        D(2021, 7, 1),
        "民发〔2021〕57号",
    ),
    (
        "dibao.extended_working_days",
        "低保审核确认延长后总时限（工作日）",
        Decimal("45"),
        D(2021, 7, 1),
        "民发〔2021〕57号",
    ),
    (
        "refusal.reason_working_days",
        "不予批准书面理由时限（工作日）",
        Decimal("3"),
        D(2021, 7, 1),
        "民发〔2021〕57号",
    ),
    ("notice.min_days", "公示期（天）", Decimal("7"), D(2021, 7, 1), "民发〔2021〕57号"),
    (
        "temp.township_limit_emergency",
        "临时救助急难型乡镇审批上限（元/人）",
        Decimal("1000"),
        D(2021, 7, 1),
        "demo: seed 004",
    ),
    (
        "temp.township_limit_expense_multiple",
        "临时救助支出型乡镇审批上限（城市低保标准倍数）",
        Decimal("6"),
        D(2021, 7, 1),
        "demo: seed 004",
    ),
    ("minimum_wage", "当地月最低工资标准（元）", Decimal("1880"), D(2021, 7, 1), "demo"),
]

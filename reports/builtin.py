"""The report types the reports app ships itself; bureau apps register theirs the same way."""

from __future__ import annotations

from .imports import HouseholdImportForm, build_household_import, household_import_template
from .notices import NoticeListForm, build_notice_list, build_posted_list
from .payment_roster import PaymentRosterForm, build_payment_roster
from .registry import register_report
from .statistics import MonthlyStatisticsForm, build_monthly_statistics

# The roster carries full ID and bank numbers, so it needs the full-personal-data permission on top of
# seeing payment runs (个人信息保护法 第六条: the minimum necessary access).
register_report(
    code="payment_roster",
    label="待遇发放花名册",
    builder=build_payment_roster,
    permission=("benefits.view_paymentrun", "registry.view_full_personal_data"),
    params_form=PaymentRosterForm,
    description="按发放批次生成银行代发花名册（Excel），含完整身份证号码和银行账号，下载时记录。",
    order=10,
)
register_report(
    code="notice_list",
    label="公示名单（PDF）",
    builder=build_notice_list,
    permission="workflow.view_case",
    params_form=NoticeListForm,
    description="正在公示的案件名单，按社区（村）分页，可直接打印张贴。",
    order=20,
)
# Names partly masked (张*丰), figures the community posts anyway; rows come from the bureaus' sources.
register_report(
    code="posted_list",
    label="保障对象张榜名单（PDF）",
    builder=build_posted_list,
    permission="benefits.view_entitlement",
    params_form=NoticeListForm,
    description="在保的低保家庭和特困人员，姓名部分隐去，含家庭人口、保障人数和月保障金额，按社区（村）分页，可直接打印张贴。",
    order=21,
)
# Aggregates only, no personal data; spending figures need what seeing payment runs needs. The sheets are
# registered by the bureau apps (reports.statistics.register_statistics_section).
register_report(
    code="monthly_statistics",
    label="民政统计月报",
    builder=build_monthly_statistics,
    permission=("benefits.view_paymentrun", "benefits.view_entitlement"),
    params_form=MonthlyStatisticsForm,
    description="按月生成报送市民政局的统计月报（Excel），每张统计表一个工作表，合计数在生成前逐项核对。",
    order=5,
)
# Writes the registry: what registering a household by hand needs. A job like the others (progress,
# 重试, the error list or the 户编号 list to download); nothing is written unless every row is right.
register_report(
    code="household_import",
    label="户籍台账导入",
    builder=build_household_import,
    permission=("registry.add_household", "registry.add_person"),
    params_form=HouseholdImportForm,
    description=(
        "从 Excel 台账批量登记家庭和成员：先下载导入模板，按列填写后上传。系统逐行检查（身份证号码校验、"
        "每户一名户主、证件号码未登记、社区在您的管辖范围内），任一行有误则不导入任何数据，并给出错误明细；"
        "全部正确时一次导入，户编号按社区顺序生成，可下载导入结果。"
    ),
    order=90,
    template=household_import_template,
)

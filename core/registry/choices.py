from django.db import models


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    DISTRICT = 3, "区县"
    STREET = 4, "街道/乡镇"
    COMMUNITY = 5, "社区/村"


# How many leading digits of the 12-digit code are significant at each level (统计用区划代码).
SCOPE_DIGITS = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
}


class AreaType(models.TextChoices):
    URBAN = "urban", "城镇"
    RURAL = "rural", "农村"


class DocumentType(models.TextChoices):
    RIC = "ric", "居民身份证"
    HK_MACAO = "hkm", "港澳居民来往内地通行证"
    TAIWAN = "tw", "台湾居民来往大陆通行证"
    PASSPORT = "passport", "护照"
    OTHER = "other", "其他证件"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    OTHER = "other", "其他"


class DisabilityCategory(models.TextChoices):
    VISUAL = "visual", "视力残疾"
    HEARING = "hearing", "听力残疾"
    SPEECH = "speech", "言语残疾"
    PHYSICAL = "physical", "肢体残疾"
    INTELLECTUAL = "intellectual", "智力残疾"
    MENTAL = "mental", "精神残疾"
    MULTIPLE = "multiple", "多重残疾"


class DisabilityGrade(models.IntegerChoices):
    GRADE_1 = 1, "一级"
    GRADE_2 = 2, "二级"
    GRADE_3 = 3, "三级"
    GRADE_4 = 4, "四级"


class SelfCare(models.TextChoices):
    FULL = "full", "全自理"
    PARTIAL = "partial", "半失能"
    NONE = "none", "全失能"


class LabourCapacity(models.TextChoices):
    FULL = "full", "有劳动能力"
    PARTIAL = "partial", "部分丧失劳动能力"
    NONE = "none", "无劳动能力"


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", "未婚"
    MARRIED = "married", "已婚"
    DIVORCED = "divorced", "离婚"
    WIDOWED = "widowed", "丧偶"


class IncomeTreatment(models.TextChoices):
    COUNTED = "counted", "计入"
    EXCLUDED = "excluded", "不计入"
    DEDUCTED = "deducted", "扣减"


class IncomeKind(models.TextChoices):
    WAGE = "wage", "工资性收入"
    BUSINESS = "business", "经营净收入"
    PROPERTY = "property", "财产净收入"
    PENSION_EMPLOYEE = "pension_employee", "职工基本养老金"
    PENSION_RESIDENT = "pension_resident", "城乡居民基本养老保险基础养老金"
    SUPPORT = "support", "赡养/抚养/扶养费"
    TRANSFER_OTHER = "transfer_other", "其他转移净收入"
    AGRICULTURE = "agriculture", "种养殖收入"
    # Not counted — 《最低生活保障审核确认办法》(民发〔2021〕57号) 第十二条
    MERIT_PENSION = "merit_pension", "优待抚恤金"
    FAMILY_PLANNING = "family_planning", "计划生育奖励与扶助金"
    SCHOLARSHIP = "scholarship", "奖学金/助学金"
    BRAVERY_AWARD = "bravery_award", "见义勇为奖励"
    ASSISTANCE = "assistance", "社会救助金"
    # Deducted from income — same article
    SOCIAL_INSURANCE = "social_insurance", "个人缴纳的社会保险费"
    INCOME_TAX = "income_tax", "个人所得税"
    WORK_COST = "work_cost", "必要的就业成本"


INCOME_TREATMENT = {
    IncomeKind.MERIT_PENSION: IncomeTreatment.EXCLUDED,
    IncomeKind.FAMILY_PLANNING: IncomeTreatment.EXCLUDED,
    IncomeKind.SCHOLARSHIP: IncomeTreatment.EXCLUDED,
    IncomeKind.BRAVERY_AWARD: IncomeTreatment.EXCLUDED,
    IncomeKind.ASSISTANCE: IncomeTreatment.EXCLUDED,
    IncomeKind.PENSION_RESIDENT: IncomeTreatment.EXCLUDED,
    IncomeKind.SOCIAL_INSURANCE: IncomeTreatment.DEDUCTED,
    IncomeKind.INCOME_TAX: IncomeTreatment.DEDUCTED,
    IncomeKind.WORK_COST: IncomeTreatment.DEDUCTED,
}


def income_treatment(kind: str) -> str:
    return INCOME_TREATMENT.get(kind, IncomeTreatment.COUNTED)


class AssetKind(models.TextChoices):
    DEPOSIT = "deposit", "存款"
    SECURITIES = "securities", "有价证券/理财"
    HOUSE = "house", "房产"
    VEHICLE = "vehicle", "机动车"
    BUSINESS = "business", "经营性资产"
    OTHER = "other", "其他"


class AttachmentType(models.TextChoices):
    ID_CARD = "id_card", "身份证复印件"
    HOUSEHOLD_BOOK = "household_book", "户口簿"
    INCOME_PROOF = "income_proof", "收入证明"
    DISABILITY_CERT = "disability_cert", "残疾证"
    MEDICAL = "medical", "病历/诊断证明"
    PROMISE = "promise", "告知承诺书/授权书"
    APPLICATION = "application", "申请书"
    OTHER = "other", "其他材料"


class LifeEventKind(models.TextChoices):
    DEATH = "death", "死亡"
    TURNED_18 = "turned_18", "年满18周岁"
    TURNED_80 = "turned_80", "年满80周岁"
    MARITAL_CHANGE = "marital_change", "婚姻状况变更"


# ---------------------------------------------------------------------------------------------------
# Registry facts (登记信息) and assessments: dated records, never flags overwritten (core/registry/facts.py)
# ---------------------------------------------------------------------------------------------------


class FactKind(models.TextChoices):
    RESIDENCE = "residence", "户籍/常住状况"
    LIVING_ALONE = "living_alone", "独居"
    EMPTY_NEST = "empty_nest", "空巢"
    LEFT_BEHIND_ELDER = "left_behind_elder", "留守老人"
    FAMILY_PLANNING_SPECIAL = "family_planning_special", "计划生育特殊家庭"
    ENTITLED_GROUP = "entitled_group", "优抚对象"
    LOST_ONLY_CHILD = "lost_only_child", "失独"
    POVERTY_RELAPSE_WATCH = "poverty_relapse_watch", "防返贫监测户"


# Facts about the household as a whole (家庭/户); every other kind is a fact about one person.
HOUSEHOLD_FACT_KINDS = frozenset({FactKind.FAMILY_PLANNING_SPECIAL, FactKind.POVERTY_RELAPSE_WATCH})
PERSON_FACT_KINDS = frozenset(set(FactKind) - HOUSEHOLD_FACT_KINDS)


class ResidenceStatus(models.TextChoices):
    REGISTERED_RESIDENT = "registered_resident", "户籍且常住"
    REGISTERED_ABSENT = "registered_absent", "户籍不常住"
    RESIDENT_UNREGISTERED = "resident_unregistered", "常住非户籍"
    # A person helped where the emergency happened (临时救助 急难发生地), registered without a household.
    NON_RESIDENT = "non_resident", "非本区户籍（急难发生地救助）"


class EntitledGroup(models.TextChoices):
    """优抚对象的类别 (《军人抚恤优待条例》)."""

    DISABLED_SERVICEMAN = "disabled_serviceman", "残疾军人"
    MARTYR_FAMILY = "martyr_family", "烈士遗属"
    DUTY_DEATH_FAMILY = "duty_death_family", "因公牺牲军人遗属"
    ILLNESS_DEATH_FAMILY = "illness_death_family", "病故军人遗属"
    DEMOBILISED = "demobilised", "在乡复员军人"
    ILL_VETERAN = "ill_veteran", "带病回乡退伍军人"
    COMBAT_VETERAN = "combat_veteran", "参战参试退役军人"
    OTHER = "other", "其他优抚对象"


# The values a kind takes; a kind not named here has none (the fact itself is the information).
FACT_VALUES: dict[str, type[models.TextChoices]] = {
    FactKind.RESIDENCE: ResidenceStatus,
    FactKind.ENTITLED_GROUP: EntitledGroup,
}


def fact_value_label(kind: str, value: str) -> str:
    choices = FACT_VALUES.get(kind)
    if choices is None or not value:
        return ""
    return dict(choices.choices).get(value, value)


class FactSource(models.TextChoices):
    HOME_VISIT = "home_visit", "入户核实"
    POLICE_MATCH = "police_match", "公安比对"
    DEPARTMENT_MATCH = "department_match", "部门数据比对"
    SELF_DECLARED = "self_declared", "本人申报"
    COMMUNITY = "community", "社区（村）摸排"
    OTHER = "other", "其他"


class AssessmentKind(models.TextChoices):
    ELDER_ABILITY = "elder_ability", "老年人能力评估"
    TEKUN_SELF_CARE = "tekun_self_care", "特困供养人员生活自理能力评估"


class ElderAbilityLevel(models.TextChoices):
    """老年人能力评估规范 GB/T 42195-2022: five levels."""

    INTACT = "intact", "能力完好"
    MILD = "mild", "轻度失能"
    MODERATE = "moderate", "中度失能"
    SEVERE = "severe", "重度失能"
    TOTAL = "total", "完全失能"


class TekunSelfCareLevel(models.TextChoices):
    """特困人员生活自理能力 (民发〔2021〕43号 附件《特困人员生活自理能力评估表》): the values are
    Person.self_care's (SelfCare), so the assessment in force and the field the benefit engine reads agree."""

    FULL = SelfCare.FULL.value, "具备生活自理能力"
    PARTIAL = SelfCare.PARTIAL.value, "部分丧失生活自理能力"
    NONE = SelfCare.NONE.value, "完全丧失生活自理能力"


ASSESSMENT_LEVELS: dict[str, type[models.TextChoices]] = {
    AssessmentKind.ELDER_ABILITY: ElderAbilityLevel,
    AssessmentKind.TEKUN_SELF_CARE: TekunSelfCareLevel,
}


def assessment_level_label(kind: str, level: str) -> str:
    choices = ASSESSMENT_LEVELS.get(kind)
    return dict(choices.choices).get(level, level) if choices else level

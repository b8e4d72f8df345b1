"""Every URL × (anonymous, each role, a caseworker of another street) → the expected answer.

"login" = redirected to the login page; "ok" = served (200, or a 302 back to a page after a POST);
403 = refused by permission; 404 = outside the user's region (the same answer as a missing record).
A URL added to the project without a row here fails `test_every_url_is_in_the_matrix`."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from assistance import services as assistance_services
from assistance.disability import services as disability_services
from assistance.models import Decision
from assistance.review import services as review_services
from assistance.tekun import services as tekun_services
from assistance.temporary import services as temp_services
from core.accounts.models import AccessLog, Section
from core.benefits.models import BenefitType, ChangeCheck, Entitlement, PaymentLine, PaymentRun, Standard
from core.facilities import services as facility_services
from core.registry import services as registry_services
from core.staff import services as staff_services
from core.workflow import services as workflow_services
from reports.models import ReportJob
from tests.factories import household_with_members, region_tree

PERSONAS = [
    "anonymous",
    "社区经办人",
    "街道审核员",
    "科室经办人",
    "科长",
    "局领导",
    "系统管理员",
    "other_street",
]
PERSONA_REGION = {
    "社区经办人": "community11",
    "街道审核员": "street1",
    "科室经办人": "district",
    "科长": "district",
    "局领导": "district",
    "系统管理员": "district",
    "other_street": "community21",
}

# The second district: its users hold the district roles of the personas above (an administrator per
# district). Their expectations follow from the first district's (test_second_district).
SECOND_DISTRICT = "220107000000"
SECOND_DISTRICT_PERSONAS = {
    "科室经办人 of 220107": "科室经办人",
    "科长 of 220107": "科长",
    "局领导 of 220107": "局领导",
    "系统管理员 of 220107": "系统管理员",
}

L, OK = "login", "ok"
# name: (method, kwargs(objs) -> dict, expectations in PERSONAS order)
MATRIX = {
    "dashboard": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    "accounts:access_log": ("get", None, [L, 403, 403, 403, 403, 403, OK, 403]),
    "accounts:password_change": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    "accounts:password_change_done": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    # 两步验证 (OTP_REQUIRED is off here: each sends the user on; tests/test_two_factor.py has the rest).
    "accounts:otp_verify": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    "accounts:otp_bind": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    # registry
    "registry:search": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "registry:household_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "registry:household_create": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "registry:household_detail": (
        "get",
        lambda o: {"pk": o["household"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "registry:household_edit": (
        "get",
        lambda o: {"pk": o["household"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:member_add": ("get", lambda o: {"pk": o["household"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:income_add": ("get", lambda o: {"pk": o["household"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:asset_add": ("get", lambda o: {"pk": o["household"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:asset_end": (
        "get",
        lambda o: {"pk": o["household"].pk, "asset_pk": _asset(o["household"]).pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:person_detail": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "registry:person_edit": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:person_death": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:person_marital": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:person_move": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "registry:attachment_upload": (
        "get",
        lambda o: {"target": "household", "pk": o["household"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:attachment_download": (
        "get",
        lambda o: {"pk": o["attachment"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "registry:attachment_remove": (
        "post",
        lambda o: {"pk": o["attachment"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:reveal": (
        "post",
        lambda o: {"kind": "person", "pk": o["person"].pk},
        [L, 403, 403, OK, OK, OK, 403, 403],
    ),
    # 登记信息与评估 (issue 11 part 4): recorded by whoever may edit the person or household, in scope
    "registry:fact_add": (
        "get",
        lambda o: {"target": "person", "pk": o["person"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:fact_end": (
        "get",
        lambda o: {"target": "household", "pk": o["household"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "registry:assessment_add": (
        "get",
        lambda o: {"pk": o["person"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # 队伍建设 (core/staff): seen by every role but 系统管理员; entered by community/street staff for their
    # communities' 社区工作者/儿童主任 and by the section staff of the role's section (assistance's: none)
    "staff:roster_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "staff:vacant_directors_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "staff:vacant_supervisors_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "staff:member_create": ("get", None, [L, OK, OK, 403, 403, 403, 403, OK]),
    "staff:member_detail": ("get", lambda o: {"pk": o["staff_member"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "staff:member_edit": (
        "get",
        lambda o: {"pk": o["staff_member"].pk},
        [L, OK, OK, 403, 403, 403, 403, 404],
    ),
    "staff:position_end": (
        "get",
        lambda o: {"pk": o["staff_position"].pk},
        [L, OK, OK, 403, 403, 403, 403, 404],
    ),
    "staff:position_change": (
        "get",
        lambda o: {"pk": o["staff_position"].pk},
        [L, OK, OK, 403, 403, 403, 403, 404],
    ),
    # workflow
    "workflow:todo": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "workflow:case_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "workflow:case_detail": ("get", lambda o: {"pk": o["case"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "workflow:case_transition": ("post", lambda o: {"pk": o["case"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "workflow:notice_open": ("post", lambda o: {"pk": o["case"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "workflow:notice_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "workflow:notice_object": ("post", lambda o: {"pk": o["notice"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "workflow:notice_close": ("post", lambda o: {"pk": o["notice"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    # benefits
    "benefits:run_list": ("get", None, [L, 403, OK, OK, OK, OK, 403, 403]),
    "benefits:run_create": ("post", None, [L, 403, 403, OK, OK, 403, 403, 403]),
    "benefits:run_detail": ("get", lambda o: {"pk": o["run"].pk}, [L, 403, OK, OK, OK, OK, 403, 403]),
    "benefits:run_recalculate": ("post", lambda o: {"pk": o["run"].pk}, [L, 403, 403, OK, OK, 403, 403, 403]),
    "benefits:run_lock": ("get", lambda o: {"pk": o["run"].pk}, [L, 403, 403, 403, OK, 403, 403, 403]),
    "benefits:line_detail": ("get", lambda o: {"pk": o["line"].pk}, [L, 403, OK, OK, OK, OK, 403, 403]),
    "benefits:line_explanation": ("get", lambda o: {"pk": o["line"].pk}, [L, 403, OK, OK, OK, OK, 403, 403]),
    "benefits:standard_list": ("get", None, [L, OK, OK, OK, OK, OK, OK, OK]),
    # 调整标准: the 科长 of the type's section only (the system administrator no longer edits standards)
    "benefits:standard_change": ("get", None, [L, 403, 403, 403, OK, 403, 403, 403]),
    # assistance (低保)
    "assistance:dibao_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:dibao_entitlements": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:ledger": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:dibao_create": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "assistance:dibao_detail": ("get", lambda o: {"pk": o["dibao"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "assistance:dibao_investigation": (
        "get",
        lambda o: {"pk": o["dibao"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:dibao_transition": (
        "post",
        lambda o: {"pk": o["dibao"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:dibao_notice": ("post", lambda o: {"pk": o["dibao"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    # 延长办理期限: the section's 科长 (the application is not accepted yet: back to its page)
    "assistance:dibao_extend": (
        "get",
        lambda o: {"pk": o["dibao"].pk},
        [L, 403, 403, 403, OK, 403, 403, 403],
    ),
    # 不予批准低保并认定低保边缘/刚性支出 (issue 13 item 8): the 科长's confirmation step
    "assistance:dibao_recognise": (
        "get",
        lambda o: {"pk": o["dibao"].pk},
        [L, 403, 403, 403, OK, 403, 403, 403],
    ),
    # 低保边缘和刚性支出困难家庭台账 and 专项救助转介名单: like the other 低保 lists
    "assistance:low_income_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:referrals_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:dibao_attachment_upload": (
        "get",
        lambda o: {"pk": o["dibao"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # assistance (特困)
    "assistance:tekun_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:tekun_create": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "assistance:tekun_detail": ("get", lambda o: {"pk": o["tekun"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "assistance:tekun_investigation": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:tekun_notice": ("post", lambda o: {"pk": o["tekun"].pk}, [L, OK, OK, OK, 403, 403, 403, 404]),
    "assistance:tekun_transition": (
        "post",
        lambda o: {"pk": o["tekun"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    # assistance (残疾人两项补贴, holiday one-off payment)
    "assistance:disability_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:disability_create": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "assistance:disability_detail": (
        "get",
        lambda o: {"pk": o["disability"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:disability_transition": (
        "post",
        lambda o: {"pk": o["disability"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:disability_federation_check": (
        "get",
        lambda o: {"pk": o["disability"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:disability_notice": (
        "post",
        lambda o: {"pk": o["disability"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:tekun_attachment_upload": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # 特困 after approval (assistance/tekun/views.py): to-dos, schedule, 终止, care agreements
    "assistance:tekun_tasks_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:tekun_task_detail": (
        "get",
        lambda o: {"pk": _tekun_task(o).pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:tekun_schedule": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:tekun_care_agreements_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:tekun_reassess": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:tekun_care_agreement": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # The 终止 decision is the 科长's; the world's application is not terminated (its 决定书: 404).
    "assistance:tekun_terminate": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, 403, 403, 403, OK, 403, 403, 403],
    ),
    "assistance:tekun_termination_pdf": (
        "get",
        lambda o: {"pk": o["tekun"].pk},
        [L, 404, 404, 404, 404, 404, 403, 404],
    ),
    "assistance:disability_attachment_upload": (
        "get",
        lambda o: {"pk": o["disability"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:disability_comparison": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:disability_stop": (
        "post",
        lambda o: {"pk": o["disability_entitlement"].pk},
        [L, 403, 403, OK, OK, 403, 403, 403],
    ),
    "assistance:holiday_payment": ("get", None, [L, 403, 403, OK, OK, 403, 403, 403]),
    # assistance (临时救助)
    "assistance:temp_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:temp_create": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "assistance:temp_create_nonresident": ("get", None, [L, OK, OK, OK, 403, 403, 403, OK]),
    "assistance:temp_detail": ("get", lambda o: {"pk": o["temp_case"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "assistance:temp_proposal": (
        "get",
        lambda o: {"pk": o["temp_case"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:temp_advance": (
        "get",
        lambda o: {"pk": o["temp_case"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:temp_transition": (
        "post",
        lambda o: {"pk": o["temp_case"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:temp_attachment_upload": (
        "get",
        lambda o: {"pk": o["temp_case"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # assistance (低保 printed documents and dynamic review)
    "assistance:dibao_form_pdf": ("get", lambda o: {"pk": o["dibao"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    "assistance:dibao_decision_pdf": (
        "get",
        lambda o: {"pk": o["dibao"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    # 送达 of a decision notice (issue 13 item 13): the case's caseworkers and section staff; the world's 低保
    # application is decided (an empty form is sent back to the page), its 特困/临时救助/两项补贴/复核 are not:
    # no notice to print or deliver yet (tests/test_issue13_notices.py has decided ones)
    "assistance:dibao_delivery": (
        "post",
        lambda o: {"pk": o["dibao"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    **{
        f"assistance:{flow}_delivery": (
            "post",
            lambda o, key=key: {"pk": o[key].pk},
            [L, 404, 404, 404, 403, 403, 403, 404],
        )
        for flow, key in (
            ("tekun", "tekun"),
            ("temp", "temp_case"),
            ("disability", "disability"),
            ("review", "review"),
        )
    },
    **{
        f"assistance:{flow}_decision_pdf": (
            "get",
            lambda o, key=key: {"pk": o[key].pk},
            [L, 404, 404, 404, 404, 404, 403, 404],
        )
        for flow, key in (
            ("tekun", "tekun"),
            ("temp", "temp_case"),
            ("disability", "disability"),
            ("review", "review"),
        )
    },
    "assistance:review_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:review_detail": ("get", lambda o: {"pk": o["review"].pk}, [L, OK, OK, OK, OK, OK, 403, 404]),
    # 变化核查: seen by the case roles in scope and 局领导 (who cannot act), not by the administrator
    "assistance:checks_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:check_detail": (
        "get",
        lambda o: {"pk": o["change_check"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:review_income_add": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:review_decide": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:review_transition": (
        "post",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "assistance:review_attachment_upload": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    # 拟停保告知 (issue 13 item 12): steps of the review's caseworkers; the world's review has no 停发 yet, so
    # its 告知书 is a 404 to everyone who may see the review
    "assistance:review_prenotice_issue": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:review_prenotice_response": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, OK, OK, OK, 403, 403, 403, 404],
    ),
    "assistance:review_prenotice_pdf": (
        "get",
        lambda o: {"pk": o["review"].pk},
        [L, 404, 404, 404, 404, 404, 403, 404],
    ),
    # 委托确认抽查 (issue 13 item 11): seen by the case roles in scope and 局领导; the draw and the result
    # are the 科长's (others get the page with the refusal, checked in tests/test_issue13_delegation_prestop.py)
    "assistance:delegation_checks_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:delegation_draw": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "assistance:delegation_check": (
        "get",
        lambda o: {"pk": o["delegation_check"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    # reports: a job is seen by its requester and by a 科长/局领导 whose scope holds it; the roster needs
    # the full-personal-data permission
    "reports:job_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "reports:job_request": (
        "get",
        lambda o: {"code": "payment_roster"},
        [L, 403, 403, OK, OK, OK, 403, 403],
    ),
    # an import's blank template: whoever may register households (the communities listed are their own)
    "reports:job_template": (
        "get",
        lambda o: {"code": "household_import"},
        [L, OK, OK, OK, 403, 403, 403, OK],
    ),
    "reports:job_status": ("get", lambda o: {"pk": o["report_job"].pk}, [L, OK, 404, 404, OK, OK, 404, 404]),
    "reports:job_download": (
        "get",
        lambda o: {"pk": o["report_job"].pk},
        [L, OK, 404, 404, OK, OK, 404, 404],
    ),
    # 重试/取消: the requester only (a finished job is refused with a message and a redirect); a 科长/局领导
    # who sees the job is refused
    "reports:job_retry": (
        "post",
        lambda o: {"pk": o["report_job"].pk},
        [L, OK, 404, 404, 403, 403, 404, 404],
    ),
    "reports:job_cancel": (
        "post",
        lambda o: {"pk": o["report_job"].pk},
        [L, OK, 404, 404, 403, 403, 404, 404],
    ),
    "reports:notice_list_pdf": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "reports:posted_list_pdf": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    # 探访关爱 (core/visits): recorded by community and street staff and the programme's section staff in
    # scope, read by 局领导; the world's person is in 社会救助科's programme (_visit_objects)
    "visits:due_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:overdue_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:enrollments_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:followups_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:visits_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:coverage": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "visits:suggestions": ("get", None, [L, OK, OK, OK, OK, 403, 403, OK]),
    "visits:visit_create": (
        "get",
        lambda o: {"pk": _visit_objects(o)["person"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "visits:enroll": ("get", lambda o: {"pk": o["person"].pk}, [L, OK, OK, OK, OK, 403, 403, 404]),
    "visits:visit_detail": (
        "get",
        lambda o: {"pk": _visit_objects(o)["visit"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "visits:followup_done": (
        "get",
        lambda o: {"pk": _visit_objects(o)["visit"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "visits:leave": (
        "get",
        lambda o: {"pk": _visit_objects(o)["enrollment"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    # 服务设施 (core/facilities): edited by community/street staff in scope and by the district staff of the
    # kind's section (the world's facility is a 救助管理站, 社会救助科's); 局领导 reads; 系统管理员 none
    "facilities:facility_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "facilities:hazard_overdue_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "facilities:uninspected_list": ("get", None, [L, OK, OK, OK, OK, OK, 403, OK]),
    "facilities:facility_create": ("get", None, [L, OK, OK, OK, OK, 403, 403, OK]),
    "facilities:facility_detail": (
        "get",
        lambda o: {"pk": o["facility"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "facilities:facility_edit": (
        "get",
        lambda o: {"pk": o["facility"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "facilities:inspection_create": (
        "get",
        lambda o: {"pk": o["facility"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "facilities:rectification_notice_pdf": (
        "get",
        lambda o: {"pk": o["inspection"].pk},
        [L, OK, OK, OK, OK, OK, 403, 404],
    ),
    "facilities:hazard_rectify": (
        "get",
        lambda o: {"pk": o["hazard"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "facilities:hazard_reinspect": (
        "get",
        lambda o: {"pk": o["hazard"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
    "facilities:hazard_photo_upload": (
        "get",
        lambda o: {"pk": o["hazard"].pk},
        [L, OK, OK, OK, OK, 403, 403, 404],
    ),
}


def _tekun_task(objs):
    """A 特困 to-do (re-assessment) on the world's application, made once."""
    from assistance.models import TekunTask, TekunTaskKind

    tekun = objs["tekun"]
    task, _ = TekunTask.objects.get_or_create(
        application=tekun,
        kind=TekunTaskKind.REASSESSMENT,
        defaults={
            "person_id": tekun.person_id,
            "region_code": tekun.region_code,
            "reason": "报告自理能力变化",
            "opened_on": datetime.date(2026, 1, 5),
            "due_on": datetime.date(2026, 1, 19),
        },
    )
    return task


def _asset(household):
    """A held asset record of the world's household (registry:asset_end), made once."""
    from core.registry.models import AssetRecord

    return AssetRecord.objects.get_or_create(
        household=household,
        kind="deposit",
        defaults={"value": 1000, "recorded_on": datetime.date(2026, 1, 5)},
    )[0]


IGNORED_NAMESPACES = {"admin"}
IGNORED_NAMES = {"healthz", "accounts:login", "accounts:logout"}


def _all_url_names(resolver=None, namespace: str | None = None) -> set[str]:
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in IGNORED_NAMESPACES:
                continue
            names |= _all_url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def test_every_url_is_in_the_matrix():
    missing = _all_url_names() - set(MATRIX) - IGNORED_NAMES
    assert not missing, f"URLs without a permission expectation: {sorted(missing)}"


def _delegation_check(users, regions, dibao):
    """A sampled case of the district's 委托确认抽查 (assistance/delegation): the world's 低保 application."""
    from assistance.delegation.models import DelegationCheck, DelegationSample

    sample = DelegationSample.objects.create(
        month=datetime.date(2026, 1, 1),
        region=regions["district"],
        region_code=regions["district"].code,
        rate="0.1",
        seed=42,
        population=1,
        drawn_by=users["科长"],
    )
    return DelegationCheck.objects.create(
        sample=sample, case=dibao.case, region_code=dibao.region_code, confirmed_by=users["街道审核员"]
    )


@pytest.fixture
def world(db, regions, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    users = {
        p: make_user(p if p != "other_street" else "社区经办人", region=r) for p, r in PERSONA_REGION.items()
    }
    # A second district (220107) with a user of each district role, its 系统管理员 among them.
    second = region_tree(SECOND_DISTRICT)
    for persona, role in SECOND_DISTRICT_PERSONAS.items():
        users[persona] = make_user(role, region=None)
        users[persona].region = second["district"]
        users[persona].save(update_fields=["region"])
    household = household_with_members(regions["community11"], size=2)
    person = household.head
    attachment = registry_services.attachment_add(
        target=household,
        doc_type="other",
        uploaded_file=SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n% test\n", content_type="application/pdf"),
        actor=users["社区经办人"],
    )
    case = workflow_services.case_create(
        case_type="generic",
        applicant_household=household,
        region=regions["community11"],
        actor=users["社区经办人"],
    )
    notice = workflow_services.notice_open(
        case=case,
        start_date=timezone.localdate(),
        days=7,
        place="社区公示栏",
        actor=users["社区经办人"],
    )
    benefit = BenefitType.objects.create(
        code="matrix_test", name="测试补贴", section=Section.objects.get(code="assistance")
    )
    Standard.objects.create(
        benefit_type=benefit, amount=Decimal("100"), effective_from=datetime.date(2020, 1, 1)
    )
    entitlement = Entitlement.objects.create(
        benefit_type=benefit,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=datetime.date(2026, 1, 1),
    )
    run = PaymentRun.objects.create(benefit_type=benefit, month=datetime.date(2026, 11, 1))
    line = PaymentLine.objects.create(
        run=run,
        entitlement=entitlement,
        household=household,
        region_code=household.region_code,
        for_month=run.month,
        amount=Decimal("100"),
    )
    dibao = assistance_services.dibao_application_create(
        household=household,
        actor=users["社区经办人"],
        promise_signed=True,
        authorisation_signed=True,
        staff_relative=False,
    )
    tekun = tekun_services.tekun_application_create(
        person=person, actor=users["社区经办人"], promise_signed=True, authorisation_signed=True
    )
    temp_case = temp_services.temp_case_create(
        person=person,
        actor=users["社区经办人"],
        kind="emergency",
        cause="fire",
        cause_detail="住房失火，生活用品损毁",
    )
    # A decision (refused) so the decision notice exists; a 低保 entitlement under review.
    Decision.objects.create(
        application=dibao, approved=False, reasons="家庭人均收入超过低保标准", decided_by=users["科长"]
    )
    dibao_entitlement = Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code="dibao"),
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=datetime.date(2026, 1, 1),
    )
    review = review_services.dibao_review_open(entitlement=dibao_entitlement, actor=users["社区经办人"])
    report_job = ReportJob.objects.create(
        report_type="notice_list",
        title="公示名单",
        requested_by=users["社区经办人"],
        region_code=regions["community11"].code,
        status=ReportJob.Status.DONE,
        progress=100,
        filename="公示名单.pdf",
        content_type="application/pdf",
    )
    report_job.file.save("matrix.pdf", ContentFile(b"%PDF-1.4\n% test\n"))
    disabled = household.members.order_by("pk").last()
    household.members.filter(pk=disabled.pk).update(
        disability_grade=1, disability_category="physical", disability_cert_no="22010619700101000011"
    )
    disabled.refresh_from_db()
    disability = disability_services.disability_application_create(
        person=disabled,
        actor=users["社区经办人"],
        subsidies=["living", "care"],
        cert_no=disabled.disability_cert_no,
        cert_generation=3,
        disability_category="physical",
        disability_grade=1,
        long_term_care=True,
    )
    disability_entitlement = Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code="disability_care"),
        person=disabled,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=datetime.date(2026, 1, 1),
        params={"tier": "一级"},
    )
    staff_member = staff_services.staff_member_create(
        actor=None,
        name="周敏",
        region=regions["community11"],
        positions=[{"role": "community_worker", "valid_from": datetime.date(2024, 1, 1)}],
    )
    objs = dict(
        staff_member=staff_member,
        staff_position=staff_member.positions.get(),
        **_facility_objects(users, regions),
        disability=disability,
        disability_entitlement=disability_entitlement,
        dibao=dibao,
        review=review,
        temp_case=temp_case,
        tekun=tekun,
        household=household,
        person=person,
        attachment=attachment,
        case=case,
        notice=notice,
        run=run,
        line=line,
        report_job=report_job,
        delegation_check=_delegation_check(users, regions, dibao),
        change_check=ChangeCheck.objects.create(
            entitlement=dibao_entitlement,
            household=household,
            region_code=household.region_code,
            changes=[
                {"at": "2026-12-01T09:00:00+08:00", "what": "登记收入：工资性收入 600.00 元/月", "by": "测试"}
            ],
        ),
    )
    return users, objs


def _facility_objects(users, regions) -> dict:
    """A 救助管理站 in the caseworker's community with a district inspection and one open hazard."""
    facility = facility_services.facility_create(
        actor=users["社区经办人"],
        data={
            "kind": "relief_station",
            "name": "绿园区救助管理站",
            "region": regions["community11"].code,
            "address": "绿园区正阳街1号",
            "operator_type": "public",
        },
    )
    inspection = facility_services.inspection_record(
        facility=facility,
        actor=users["社区经办人"],
        inspected_on=timezone.localdate(),
        kind="district",
        inspectors=[users["社区经办人"], users["街道审核员"]],
        hazards=[
            {
                "description": "灭火器过期",
                "severity": "general",
                "deadline": timezone.localdate(),
                "responsible_person": "刘站长",
            }
        ],
    )
    return {"facility": facility, "inspection": inspection, "hazard": inspection.hazards.get()}


def _outcome(response) -> str | int:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return L
    if response.status_code in (200, 302):
        return OK
    return response.status_code


# A GET changes nothing another persona's answer depends on: every persona asks one world in turn (the
# world is built once per URL, not once per persona — the matrix is a third of the suite). A POST may
# change the world: each (URL, persona) pair gets a fresh one.
GET_ROWS = sorted(name for name, (method, _, _) in MATRIX.items() if method == "get")
POST_ROWS = sorted(name for name, (method, _, _) in MATRIX.items() if method != "get")


def _client(users, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(users[persona])
    return client


@pytest.mark.parametrize("name", GET_ROWS)
def test_permission_matrix(world, name):
    users, objs = world
    _, kwargs, expected = MATRIX[name]
    url = reverse(name, kwargs=kwargs(objs) if kwargs else None)
    wrong = []
    for persona, want in zip(PERSONAS, expected, strict=True):
        response = _client(users, persona).get(url)
        if _outcome(response) != want:
            wrong.append(f"{persona} GET {url} → {response.status_code} (expected {want})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", POST_ROWS)
def test_permission_matrix_post(client, world, name, persona):
    users, objs = world
    method, kwargs, expected = MATRIX[name]
    url = reverse(name, kwargs=kwargs(objs) if kwargs else None)
    if persona != "anonymous":
        client.force_login(users[persona])
    response = getattr(client, method)(url)
    assert _outcome(response) == expected[PERSONAS.index(persona)], (
        f"{persona} {method.upper()} {url} → {response.status_code}"
    )


# --- the section axis: the same district role in the run's section (业务科室) or in another one ----------
SECTION_PERSONAS = ["科长", "科长 of another section", "科室经办人", "科室经办人 of another section"]
# (name, method): expectations in SECTION_PERSONAS order, for a run of a 社会救助科 benefit type
SECTION_AXIS = {
    ("benefits:run_recalculate", "post"): [OK, 403, OK, 403],
    ("benefits:run_lock", "get"): [OK, 403, 403, 403],
    ("benefits:run_lock", "post"): [OK, 403, 403, 403],
}


@pytest.fixture
def section_world(db, make_user):
    users = {
        "科长": make_user("科长", region="district", sections=["assistance"]),
        "科长 of another section": make_user("科长", region="district", sections=["eldercare"]),
        "科室经办人": make_user("科室经办人", region="district", sections=["assistance"]),
        "科室经办人 of another section": make_user("科室经办人", region="district", sections=["eldercare"]),
    }
    benefit = BenefitType.objects.create(
        code="section_axis", name="测试补贴", section=Section.objects.get(code="assistance")
    )
    Standard.objects.create(
        benefit_type=benefit, amount=Decimal("100"), effective_from=datetime.date(2020, 1, 1)
    )
    run = PaymentRun.objects.create(benefit_type=benefit, month=datetime.date(2026, 11, 1))
    return users, run


@pytest.mark.parametrize("persona", SECTION_PERSONAS)
@pytest.mark.parametrize(("name", "method"), sorted(SECTION_AXIS))
def test_section_axis(client, section_world, name, method, persona):
    users, run = section_world
    client.force_login(users[persona])
    response = getattr(client, method)(reverse(name, kwargs={"pk": run.pk}))
    assert _outcome(response) == SECTION_AXIS[(name, method)][SECTION_PERSONAS.index(persona)], (
        f"{persona} {method.upper()} {name} → {response.status_code}"
    )
    # refused for the section (not for lack of the permission, as a 科室经办人 locking): the reason is shown
    if response.status_code == 403 and (persona == "科长 of another section" or "recalculate" in name):
        assert "您不是社会救助科的" in response.content.decode()


# --- the district axis: the same role in a second district (220107) -------------------------------------
# A page without a record answers as for the first district's user of that role (lists show their own
# district); a record of the first district is outside the second's scope: 404 where the first district's
# user is served, the same refusal where it is refused. Exceptions, with the reason:
SECOND_DISTRICT_EXCEPTIONS = {
    # A payment run is one per benefit type and month for every region (issue 12 item 4): its page is
    # served with the totals of the viewer's scope, a recalculation recomputes it whole, and locking needs
    # a 科长 whose scope holds every line — the second district's 科长 is refused.
    ("benefits:run_detail", "科室经办人 of 220107"): OK,
    ("benefits:run_detail", "科长 of 220107"): OK,
    ("benefits:run_detail", "局领导 of 220107"): OK,
    ("benefits:run_recalculate", "科室经办人 of 220107"): OK,
    ("benefits:run_recalculate", "科长 of 220107"): OK,
    ("benefits:run_lock", "科长 of 220107"): 403,
    # A report job of the first district is not seen from the second at all (404) — the first district's
    # 科长 and 局领导 see it and are refused its 重试/取消 (403), not being its requester.
    ("reports:job_retry", "科长 of 220107"): 404,
    ("reports:job_retry", "局领导 of 220107"): 404,
    ("reports:job_cancel", "科长 of 220107"): 404,
    ("reports:job_cancel", "局领导 of 220107"): 404,
}


def _second_district_expectation(name: str, persona: str, url_kwargs: dict | None):
    expected = MATRIX[name][2]
    home = expected[PERSONAS.index(SECOND_DISTRICT_PERSONAS[persona])]
    if (name, persona) in SECOND_DISTRICT_EXCEPTIONS:
        return SECOND_DISTRICT_EXCEPTIONS[(name, persona)]
    if url_kwargs and "pk" in url_kwargs and home == OK:
        return 404
    return home


@pytest.mark.parametrize("name", GET_ROWS)
def test_second_district(world, name):
    # As in test_permission_matrix: a GET changes nothing, so the personas ask one world in turn.
    users, objs = world
    _, kwargs, _ = MATRIX[name]
    url_kwargs = kwargs(objs) if kwargs else None
    url = reverse(name, kwargs=url_kwargs)
    wrong = []
    for persona in SECOND_DISTRICT_PERSONAS:
        response = _client(users, persona).get(url)
        want = _second_district_expectation(name, persona, url_kwargs)
        if _outcome(response) != want:
            wrong.append(f"{persona} GET {url} → {response.status_code} (expected {want})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("persona", list(SECOND_DISTRICT_PERSONAS))
@pytest.mark.parametrize("name", POST_ROWS)
def test_second_district_post(client, world, name, persona):
    users, objs = world
    method, kwargs, _ = MATRIX[name]
    url_kwargs = kwargs(objs) if kwargs else None
    url = reverse(name, kwargs=url_kwargs)
    client.force_login(users[persona])
    response = getattr(client, method)(url)
    assert _outcome(response) == _second_district_expectation(name, persona, url_kwargs), (
        f"{persona} {method.upper()} {url} → {response.status_code}"
    )


# The admin, district by district: each administrator lists and edits the users and reads the access log
# of its own district. "missing" = the admin's answer for a row outside its queryset (back to the index).
MISSING = "missing"
ADMIN_PERSONAS = ["系统管理员", "系统管理员 of 220107"]
ADMIN_AXIS = {
    "admin:accounts_user_changelist": (None, [OK, OK]),
    "admin:accounts_user_change": (lambda u, o: [u["社区经办人"].pk], [OK, MISSING]),
    "admin:auth_user_password_change": (lambda u, o: [u["社区经办人"].pk], [OK, 404]),
    "admin:accounts_accesslog_changelist": (None, [OK, OK]),
    "admin:accounts_accesslog_change": (lambda u, o: [o["access_log"].pk], [OK, MISSING]),
    "admin:accounts_privilegechange_changelist": (None, [OK, OK]),
    "admin:accounts_piigrantrequest_add": (None, [OK, OK]),
    "admin:auth_group_changelist": (None, [OK, OK]),
}


@pytest.mark.parametrize("persona", ADMIN_PERSONAS)
@pytest.mark.parametrize("name", sorted(ADMIN_AXIS))
def test_admin_by_district(client, world, name, persona):
    users, objs = world
    for admin in (users["系统管理员"], users["系统管理员 of 220107"]):
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
    objs["access_log"] = registry_services_reveal(users["科长"], objs["person"])
    args, expected = ADMIN_AXIS[name]
    client.force_login(users[persona])
    response = client.get(reverse(name, args=args(users, objs) if args else None))
    outcome = _outcome(response)
    if response.status_code == 302 and response["Location"] == reverse("admin:index"):
        outcome = MISSING
    assert outcome == expected[ADMIN_PERSONAS.index(persona)], (
        f"{persona} GET {name} → {response.status_code}"
    )
    if name.endswith("changelist") and "user" in name:
        page = response.content.decode()
        home_user = users["社区经办人"].username
        assert (home_user in page) == (persona == "系统管理员")


def registry_services_reveal(actor, person):
    registry_services.personal_data_reveal(actor=actor, ip="10.0.0.1", person=person)
    return AccessLog.objects.latest("pk")


def _visit_objects(objs: dict) -> dict:
    """The world's person enrolled in 社会救助科's visit programme, visited with an open follow-up (made on
    first use, through the services, by the community caseworker of the person's community)."""
    if "visit" not in objs:
        from core.accounts.models import User
        from core.visits import services as visit_services

        person = objs["person"]
        clerk = User.objects.filter(region__code=person.region_code, groups__name="社区经办人").first()
        day = timezone.localdate()
        objs["enrollment"] = visit_services.enrollment_create(
            persons=[person], programme_code="assistance_key", joined_on=day, actor=clerk, reason="重病"
        )[0]
        objs["visit"] = visit_services.visit_record(
            person=person,
            visited_on=day,
            way="home",
            findings="身体状况平稳",
            risk_level="high",
            follow_up="联系家庭医生",
            follow_up_due=day,
            actor=clerk,
        )
    return objs

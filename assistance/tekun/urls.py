"""特困人员认定 URLs, included by assistance/urls.py under "tekun/" (names live in the "assistance" namespace):
the kit's list, create, detail, transition, 公示, attachment and 调查核实 pages of `TekunFlow`, and its decision
notice (tekun_decision_pdf) with its 送达 (tekun_delivery); after approval (tekun/views.py) the to-dos, the
yearly-review schedule, a reported self-care change, the 终止 decision and its 决定书, the care agreements."""

from django.urls import path

from ..documents import notice_urls, tekun_notice
from . import views
from .flow import TekunFlow

urlpatterns = [
    *TekunFlow.urls(),
    *notice_urls(TekunFlow, tekun_notice),
    views.TekunTaskList.list_path("tasks/"),
    path("tasks/<int:pk>/", views.task_detail, name="tekun_task_detail"),
    path("schedule/", views.schedule, name="tekun_schedule"),
    views.TekunCareAgreementList.list_path("care-agreements/"),
    path("<int:pk>/reassess/", views.reassessment_open, name="tekun_reassess"),
    path("<int:pk>/terminate/", views.terminate, name="tekun_terminate"),
    path("<int:pk>/termination.pdf", views.termination_pdf, name="tekun_termination_pdf"),
    path("<int:pk>/care-agreement/", views.care_agreement_create, name="tekun_care_agreement"),
]

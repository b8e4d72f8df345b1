from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("new/<slug:code>/", views.job_request, name="job_request"),
    path("new/<slug:code>/template.xlsx", views.job_template, name="job_template"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("notices.pdf", views.notice_list_pdf, name="notice_list_pdf"),
    path("posted.pdf", views.posted_list_pdf, name="posted_list_pdf"),
]

"""低保动态复核 URLs, included in the `assistance` namespace by assistance/urls.py: the kit's list, detail,
transition, attachment and step pages of `ReviewFlow` under "dibao/reviews/" (review_list, review_detail,
review_income_add, review_decide, review_transition …)."""

from django.urls import include, path

from .flow import ReviewFlow

urlpatterns = [path("dibao/reviews/", include(ReviewFlow.urls()))]

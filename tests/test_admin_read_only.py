"""Records written only through services are read-only in the admin, for the superuser too.

Audit rows, payment runs and lines, cases, their transition log, case numbers and uploaded files carry
history and totals that the services keep; an admin edit or delete would skip them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory

READ_ONLY = [
    "accounts_accesslog",
    "benefits_paymentrun",
    "benefits_paymentline",
    "registry_attachment",
    "workflow_case",
    "workflow_transitionlog",
    "workflow_casesequence",
]


@pytest.fixture
def root_client(client, db):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("model", READ_ONLY)
def test_listed_but_never_added(root_client, model):
    assert root_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert root_client.get(reverse(f"admin:{model}_add")).status_code == 403


def test_index_offers_no_add_link(root_client):
    """The admin index offers no add link for any read-only model."""
    page = root_client.get(reverse("admin:index")).content.decode()
    for model in READ_ONLY:
        assert reverse(f"admin:{model}_add") not in page


def test_case_page_shows_its_transition_log_without_edit_rows(root_client):
    from django.contrib.admin import site

    from core.workflow.admin import TransitionLogInline
    from core.workflow.models import Case

    inline = TransitionLogInline(Case, admin_site=site)
    request = root_client.get(reverse("admin:index")).wsgi_request
    assert not inline.has_add_permission(request, None)
    assert not inline.has_change_permission(request, None)
    assert not inline.has_delete_permission(request, None)

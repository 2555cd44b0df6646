"""Token authentication: no token, a wrong one, or a deactivated user's answers 401."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.models import ApiToken
from jiuzhu.accounts.roles import Role
from tests import factories as f
from tests.api.support import Api

pytestmark = pytest.mark.django_db


def test_without_a_token_the_answer_is_401_json() -> None:
    response = Api().get("/households")
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401() -> None:
    f.county_tree()
    Api(f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP))
    assert Api(token="jz_not-a-token").get("/households").status_code == 401


def test_a_deactivated_users_token_stops_working() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    api = Api(officer)
    assert api.get("/households").status_code == 200
    officer.is_active = False
    officer.save()
    assert api.get("/households").status_code == 401


def test_the_401_message_follows_the_request_language() -> None:
    english = Api(token="jz_nothing", language="en").get("/households").json()["detail"]
    chinese = Api(token="jz_nothing", language="zh-hans").get("/households").json()["detail"]
    assert english.startswith("Send a valid API token")
    assert "Authorization: Bearer" in chinese


def test_last_used_is_written_at_most_once_a_minute() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    api = Api(officer)
    api.get("/households")
    token = ApiToken.objects.get(user=officer)
    first = token.last_used_at
    assert first is not None
    api.get("/households")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    api.get("/households")
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > first - dt.timedelta(seconds=1)
    assert timezone.now() - token.last_used_at < dt.timedelta(seconds=30)


def test_the_openapi_document_and_docs_are_served() -> None:
    api = Api()
    document = api.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Jiuzhu API"
    assert "/api/v1/households" in document.json()["paths"]
    assert api.get("/docs").status_code == 200


def test_a_token_request_needs_no_csrf_token() -> None:
    """Bearer tokens are not sent by browsers on their own, so the API is exempt from CSRF."""
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    _, token = ApiToken.issue(officer, "csrf")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    response = client.post("/api/v1/persons", {"id_number": "1"}, content_type="application/json")
    assert response.status_code == 422  # reached validation: not stopped by CSRF (403)


def test_a_logged_in_session_alone_does_not_authenticate() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    client = Client()
    client.force_login(officer)
    assert client.get("/api/v1/households").status_code == 401

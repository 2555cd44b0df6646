"""User administration: a county admin manages the staff inside the county and no one else."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from jiuzhu.accounts import services
from jiuzhu.accounts.models import ApiToken, AuditEntry, User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.models import Area
from tests.accounts.factories import PASSWORD, confirmed_device, make_areas, make_user, staff_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Songhua-river-ferry-88"


@pytest.fixture
def admin() -> User:
    make_areas()
    return make_user("zhao", Role.COUNTY_ADMIN, "220882", name="赵主任")


def new_user_form(**changes: str) -> dict[str, str]:
    data = {"username": "chen", "name": "陈小红", "role": Role.VILLAGE_WORKER, "area": "220882100201",
            "id_number": "", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    data.update(changes)
    return data


def test_county_admin_creates_a_user_in_the_county(admin: User) -> None:
    client = staff_client(admin)
    response = client.post(reverse("accounts:user_create"), new_user_form())
    created = User.objects.get(username="chen")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_detail", args=[created.pk])
    assert (created.first_name, created.role, created.area_id) == ("陈小红", Role.VILLAGE_WORKER, "220882100201")
    assert created.password.startswith("argon2$")
    assert created.check_password(NEW_PASSWORD)


def test_creating_a_user_is_audited_without_the_password(admin: User) -> None:
    staff_client(admin).post(reverse("accounts:user_create"), new_user_form())
    created = User.objects.get(username="chen")
    entry = AuditEntry.objects.get(action="user.create")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (admin.pk, "accounts.user", str(created.pk))
    assert entry.area == "220882100201"
    assert entry.after is not None
    assert entry.after["role"] == Role.VILLAGE_WORKER
    assert NEW_PASSWORD not in str(entry.after)
    assert "password" not in entry.after
    assert created.password not in str(entry.after)


def test_a_user_cannot_be_placed_outside_the_admins_county(admin: User) -> None:
    response = staff_client(admin).post(reverse("accounts:user_create"), new_user_form(area="511703"))
    assert response.status_code == 200
    assert "area" in response.context["form"].errors
    assert not User.objects.filter(username="chen").exists()


def test_the_service_refuses_an_area_outside_scope_too(admin: User) -> None:
    with pytest.raises(PermissionDenied):
        services.user_create(by=admin, username="chen", name="陈", role=Role.VILLAGE_WORKER,
                             area=Area.objects.get(code="511703"), password=NEW_PASSWORD)
    assert not AuditEntry.objects.exists()


def test_form_errors_show_beside_the_fields_and_keep_what_was_typed(admin: User) -> None:
    response = staff_client(admin).post(reverse("accounts:user_create"),
                                        new_user_form(password1="123", password2="123", id_number="220882"))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"password1", "id_number"}
    html = response.content.decode()
    assert 'value="陈小红"' in html
    assert 'value="chen"' in html
    assert 'id="id_password1_error"' in html
    assert not User.objects.filter(username="chen").exists()


def test_a_taken_username_is_refused(admin: User) -> None:
    make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    response = staff_client(admin).post(reverse("accounts:user_create"), new_user_form(username="CHEN"))
    assert "username" in response.context["form"].errors


def test_the_list_shows_only_users_inside_the_county(admin: User) -> None:
    make_user("inside", Role.VILLAGE_WORKER, "220882100201")
    make_user("outside", Role.VILLAGE_WORKER, "511703")
    response = staff_client(admin).get(reverse("accounts:users"))
    assert response.status_code == 200
    usernames = {user.username for user in response.context["page"]}
    assert usernames == {"zhao", "inside"}


def test_a_user_of_another_county_is_not_found(admin: User) -> None:
    other = make_user("outside", Role.VILLAGE_WORKER, "511703")
    client = staff_client(admin)
    assert client.get(reverse("accounts:user_detail", args=[other.pk])).status_code == 404
    response = client.post(reverse("accounts:user_active", args=[other.pk]), {"active": "0", "active-reason": "x"})
    assert response.status_code == 404
    response = client.post(reverse("accounts:user_password", args=[other.pk]),
                           {"password-password1": NEW_PASSWORD, "password-password2": NEW_PASSWORD})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.is_active
    assert other.check_password(PASSWORD)


def test_the_404_page_says_nothing_about_the_user(admin: User) -> None:
    other = make_user("sun_dachuan", Role.VILLAGE_WORKER, "511703", name="孙秘密")
    response = staff_client(admin).get(reverse("accounts:user_detail", args=[other.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "sun_dachuan" not in html
    assert "孙秘密" not in html


def test_a_township_officer_gets_403_on_the_users_page(admin: User) -> None:
    officer = make_user("qian", Role.TOWNSHIP_OFFICER, "220882100")
    response = staff_client(officer).get(reverse("accounts:users"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    html = response.content.decode()
    assert "township officer" in html
    assert "manage users" in html
    assert "zhao" not in html


def test_deactivating_and_reactivating_a_user(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    client = staff_client(admin)
    client.post(reverse("accounts:user_active", args=[worker.pk]), {"active": "0", "active-reason": "moved away"})
    worker.refresh_from_db()
    assert not worker.is_active
    entry = AuditEntry.objects.get(action="user.deactivate")
    assert entry.reason == "moved away"
    assert entry.before is not None and entry.after is not None
    assert (entry.before["is_active"], entry.after["is_active"]) == (True, False)
    client.post(reverse("accounts:user_active", args=[worker.pk]), {"active": "1"})
    worker.refresh_from_db()
    assert worker.is_active


def test_a_deactivated_user_loses_the_open_session(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    worker_client = staff_client(worker)
    assert worker_client.get("/accounts/me/").status_code == 200
    services.user_set_active(by=admin, user=worker, active=False)
    assert worker_client.get("/accounts/me/").status_code == 302


def test_an_admin_cannot_deactivate_themself(admin: User) -> None:
    with pytest.raises(PermissionDenied):
        services.user_set_active(by=admin, user=admin, active=False)
    response = staff_client(admin).post(reverse("accounts:user_active", args=[admin.pk]), {"active": "0"})
    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.is_active


def test_resetting_a_password(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    response = staff_client(admin).post(reverse("accounts:user_password", args=[worker.pk]),
                                        {"password-password1": NEW_PASSWORD, "password-password2": NEW_PASSWORD})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.get(action="user.password_reset")
    assert entry.before is None and entry.after is None


def test_a_weak_reset_password_is_refused_beside_the_field(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    response = staff_client(admin).post(reverse("accounts:user_password", args=[worker.pk]),
                                        {"password-password1": "password", "password-password2": "password"})
    assert response.status_code == 400
    assert "password1" in response.context["password_form"].errors
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)


def test_editing_role_and_area(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    response = staff_client(admin).post(reverse("accounts:user_edit", args=[worker.pk]), {
        "edit-name": "陈", "edit-role": Role.TOWNSHIP_OFFICER, "edit-area": "220882100", "edit-id_number": ""})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert (worker.role, worker.area_id) == (Role.TOWNSHIP_OFFICER, "220882100")
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.after["role"]) == (Role.VILLAGE_WORKER, Role.TOWNSHIP_OFFICER)


def test_issuing_an_api_token_shows_it_once_and_stores_only_its_hash(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    client = staff_client(admin)
    response = client.post(reverse("accounts:user_token", args=[worker.pk]), {"token-name": "village kiosk"})
    assert response.status_code == 200
    plain = response.context["new_token"]
    assert plain.startswith("jz_")
    assert plain in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=worker)
    assert token.digest == ApiToken.digest_of(plain)
    assert plain not in client.get(reverse("accounts:user_detail", args=[worker.pk])).content.decode()
    entry = AuditEntry.objects.get(action="api_token.issue")
    assert plain not in str(entry.after)
    assert token.digest not in str(entry.after)


def test_revoking_an_api_token(admin: User) -> None:
    worker = make_user("chen", Role.VILLAGE_WORKER, "220882100201")
    token, _plain = ApiToken.issue(worker, "script")
    staff_client(admin).post(reverse("accounts:user_token_revoke", args=[worker.pk, token.pk]))
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert AuditEntry.objects.filter(action="api_token.revoke").exists()


def test_resetting_two_factor_removes_the_devices(admin: User) -> None:
    approver = make_user("wang", Role.TOWNSHIP_APPROVER, "220882100")
    confirmed_device(approver)
    staff_client(admin).post(reverse("accounts:user_two_factor_reset", args=[approver.pk]), {"reset-reason": "lost"})
    assert not services.has_confirmed_device(approver)
    assert AuditEntry.objects.get(action="user.two_factor_reset").reason == "lost"


def test_a_county_admin_must_pass_the_second_factor_first(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    response = client.get(reverse("accounts:users"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))


def test_an_htmx_request_is_sent_to_sign_in_as_a_whole_page(admin: User) -> None:
    response = Client().get(reverse("accounts:users"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))

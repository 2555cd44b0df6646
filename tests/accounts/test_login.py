"""Sign-in: argon2 hashes, lock-out after wrong passwords, the second factor for the roles
that need it, and the staff gate in front of every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Role
from tests.accounts.factories import PASSWORD, confirmed_device, make_areas, make_user

pytestmark = pytest.mark.django_db

ME = "/accounts/me/"


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def a_while_later(device: TOTPDevice) -> None:
    """A wrong code slows the next try down (django-otp's throttle); let that delay pass."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(minutes=5))


def sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = "") -> str:
    """POST the sign-in form; the address it redirects to ("" when it does not redirect)."""
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("accounts:login"), data)
    return response["Location"] if response.status_code == 302 else ""


@pytest.fixture
def areas() -> None:
    make_areas()


def test_passwords_are_hashed_with_argon2(areas: None) -> None:
    user = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    assert user.password.startswith("argon2$")
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


def test_the_sign_in_page_renders(areas: None, client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_a_wrong_password_shows_the_form_again(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    response = client.post(reverse("accounts:login"), {"username": "li", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_with_a_clear_message(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    statuses = [client.post(reverse("accounts:login"), {"username": "li", "password": f"wrong{n}"}).status_code
                for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    # Even the right password is refused now, with the lock-out page.
    response = client.post(reverse("accounts:login"), {"username": "li", "password": PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    text = response.content.decode()
    assert "locked" in text
    assert "30 minutes" in text
    assert "_auth_user_id" not in client.session


def test_a_village_worker_needs_no_second_factor(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    location = sign_in(client, "li", next_url=ME)
    assert location == ME
    assert client.get(ME).status_code == 200


def test_without_the_queue_page_sign_in_lands_on_the_users_own_page(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    location = sign_in(client, "li")
    try:
        expected = reverse(settings.LOGIN_REDIRECT_URL)
    except Exception:
        expected = ME
    assert location == expected


def test_an_unsafe_next_is_ignored(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    location = sign_in(client, "li", next_url="https://evil.example/")
    assert "evil" not in location


def test_a_staff_page_sends_an_anonymous_visitor_to_sign_in(client: Client) -> None:
    response = client.get(ME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/accounts/me/" in response["Location"]


def test_an_approver_without_a_device_sets_one_up_before_any_staff_page(areas: None, client: Client) -> None:
    user = make_user("wang", Role.TOWNSHIP_APPROVER, "220882100")
    location = sign_in(client, "wang", next_url=ME)
    assert location.startswith(reverse("accounts:otp_verify"))
    # The staff page is not reachable yet: it sends the user to the second step.
    blocked = client.get(ME)
    assert blocked.status_code == 302
    assert blocked["Location"].startswith(reverse("accounts:otp_verify"))
    setup = client.get(client.get(location)["Location"])
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert setup.context["secret"].replace(" ", "") in setup.context["config_url"]
    assert setup.context["config_url"].startswith("otpauth://totp/Jiuzhu%3Awang?")
    wrong = client.post(reverse("accounts:otp_setup"), {"code": "000000" if code_for(device) != "000000" else "111111",
                                                        "next": ME})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    assert client.get(ME).status_code == 302
    a_while_later(device)
    done = client.post(reverse("accounts:otp_setup"), {"code": code_for(device), "next": ME})
    assert done.status_code == 302
    assert done["Location"] == ME
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(ME).status_code == 200
    assert AuditEntry.objects.filter(action="user.two_factor_confirmed", object_id=str(user.pk)).exists()


def test_an_approver_with_a_device_confirms_a_code_before_any_staff_page(areas: None, client: Client) -> None:
    user = make_user("wang", Role.TOWNSHIP_APPROVER, "220882100")
    device = confirmed_device(user)
    location = sign_in(client, "wang", next_url=ME)
    assert location.startswith(reverse("accounts:otp_verify"))
    assert client.get(location).status_code == 200
    assert client.get(ME).status_code == 302
    wrong = "000000" if code_for(device) != "000000" else "111111"
    assert client.post(reverse("accounts:otp_verify"), {"code": wrong, "next": ME}).status_code == 200
    assert client.get(ME).status_code == 302
    a_while_later(device)
    done = client.post(reverse("accounts:otp_verify"), {"code": code_for(device), "next": ME})
    assert done["Location"] == ME
    assert client.get(ME).status_code == 200


def test_right_code_too_soon_after_a_wrong_one_is_held_back(areas: None, client: Client) -> None:
    user = make_user("wang", Role.TOWNSHIP_APPROVER, "220882100")
    device = confirmed_device(user)
    sign_in(client, "wang")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    client.post(reverse("accounts:otp_verify"), {"code": wrong})
    response = client.post(reverse("accounts:otp_verify"), {"code": code_for(device)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()


def test_a_password_alone_cannot_add_a_second_device(areas: None, client: Client) -> None:
    user = make_user("wang", Role.TOWNSHIP_APPROVER, "220882100")
    confirmed_device(user)
    sign_in(client, "wang")
    response = client.get(reverse("accounts:otp_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_signing_in_is_audited(areas: None, client: Client) -> None:
    user = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    sign_in(client, "li")
    entry = AuditEntry.objects.get(action="user.sign_in")
    assert (entry.actor_id, entry.object_id, entry.area) == (user.pk, str(user.pk), "220882100201")


def test_sign_out_is_a_post_and_ends_the_session(areas: None, client: Client) -> None:
    make_user("li", Role.VILLAGE_WORKER, "220882100201")
    sign_in(client, "li")
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(ME).status_code == 302


def test_a_deactivated_user_cannot_sign_in(areas: None, client: Client) -> None:
    user = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert sign_in(client, "li") == ""


def test_changing_ones_own_password_keeps_the_session_and_is_audited(areas: None, client: Client) -> None:
    user = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    sign_in(client, "li")
    new = "Nenjiang-wetland-crane-7"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert client.get(ME).status_code == 200
    entry = AuditEntry.objects.get(action="user.password_change")
    assert new not in str(entry.after) and entry.after is None


def test_a_wrong_old_password_changes_nothing(areas: None, client: Client) -> None:
    user = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    sign_in(client, "li")
    new = "Nenjiang-wetland-crane-7"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": "wrong", "new_password1": new, "new_password2": new})
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

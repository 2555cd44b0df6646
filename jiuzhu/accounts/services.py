"""Writes on staff accounts, each checked, done and audited in one transaction; and the
scoped reads the account pages use.

A county admin manages the users whose area lies inside their own area; nothing here
writes a password or a token into the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import ApiToken, AuditEntry, User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area

#: What the audit log keeps of a user: never the password hash, never the ID number.
USER_AUDIT_FIELDS = ("username", "first_name", "role", "area_id", "is_active", "is_staff", "is_superuser")


# ---- reads -----------------------------------------------------------------------------

def users_for(by: User) -> QuerySet[User]:
    """The users `by` may see and manage: those whose area is inside `by`'s area."""
    users = User.objects.select_related("area")
    if by.scope_code == "":
        return users.all()
    return users.filter(area__code__startswith=by.scope_code)


def areas_for(by: User) -> QuerySet[Area]:
    """The areas a user may be placed in: `by`'s own area and everything below it."""
    return Area.objects.filter(code__startswith=by.scope_code).order_by("code")


def audit_entries_for(by: User, *, object_type: str = "", object_id: str = "") -> QuerySet[AuditEntry]:
    """The audit entries about objects inside `by`'s area, newest first."""
    entries = AuditEntry.objects.filter(area__startswith=by.scope_code) if by.scope_code else AuditEntry.objects.all()
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    return entries.order_by("-id")


def has_confirmed_device(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


# ---- checks ----------------------------------------------------------------------------

def _ensure_admin(by: User) -> None:
    if not by.may(Action.ADMIN_USERS):
        raise PermissionDenied(_("Only a user administrator may manage users."))


def _ensure_area_in_scope(by: User, area: Area | None) -> None:
    if area is None or not by.covers(area.code):
        raise PermissionDenied(_("The area is outside your own area."))


def _ensure_manages(by: User, user: User) -> None:
    _ensure_admin(by)
    if by.scope_code and (user.area_id is None or not by.covers(user.area_id)):
        raise PermissionDenied(_("This user is outside your area."))
    if user.is_superuser and not by.is_superuser:
        raise PermissionDenied(_("Only a superuser may change a superuser."))


def _snapshot(user: User) -> dict[str, Any]:
    return audit.snapshot(user, USER_AUDIT_FIELDS)


def _record(by: User | None, action: str, user: User, *, before: dict[str, Any] | None = None,
            after: dict[str, Any] | None = None, reason: str = "") -> None:
    audit.record(actor=by, action=action, obj=user, area=user.area_id or "", before=before, after=after,
                 reason=reason)


# ---- writes by a user administrator -----------------------------------------------------

@transaction.atomic
def user_create(*, by: User, username: str, name: str, role: str, area: Area, password: str,
                id_number: str = "") -> User:
    """新增用户: a member of staff in an area inside the administrator's own."""
    _ensure_admin(by)
    _ensure_area_in_scope(by, area)
    user = User(username=username, first_name=name, role=role, area=area, id_number=id_number)
    user.set_password(password)
    user.save()
    _record(by, "user.create", user, after=_snapshot(user))
    return user


@transaction.atomic
def user_update(*, by: User, user: User, name: str, role: str, area: Area, id_number: str = "") -> User:
    """Change a user's name, role or area; the new area must be inside the administrator's too."""
    _ensure_manages(by, user)
    _ensure_area_in_scope(by, area)
    if user.pk == by.pk and (role != user.role or area.code != user.area_id):
        raise PermissionDenied(_("You may not change your own role or area; ask another administrator."))
    before = _snapshot(user)
    user.first_name, user.role, user.area, user.id_number = name, role, area, id_number
    user.save(update_fields=["first_name", "role", "area", "id_number"])
    _record(by, "user.update", user, before=before, after=_snapshot(user))
    return user


@transaction.atomic
def user_set_active(*, by: User, user: User, active: bool, reason: str = "") -> User:
    """停用/启用: a deactivated user cannot sign in and loses any open session."""
    _ensure_manages(by, user)
    if user.pk == by.pk:
        raise PermissionDenied(_("You may not deactivate your own account."))
    before = _snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    _record(by, "user.activate" if active else "user.deactivate", user, before=before, after=_snapshot(user),
            reason=reason)
    return user


@transaction.atomic
def user_set_password(*, by: User, user: User, password: str) -> None:
    """重置密码: the administrator sets a new password and hands it over in person."""
    _ensure_manages(by, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _record(by, "user.password_reset", user)


@transaction.atomic
def two_factor_reset(*, by: User, user: User, reason: str = "") -> int:
    """For a lost phone: remove the user's devices so their next sign-in sets up a new one."""
    _ensure_manages(by, user)
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    _record(by, "user.two_factor_reset", user, after={"devices_removed": removed}, reason=reason)
    return int(removed)


@transaction.atomic
def api_token_issue(*, by: User, user: User, name: str) -> tuple[ApiToken, str]:
    """A personal API token; the plain token is returned once and only its hash is kept."""
    _ensure_manages(by, user)
    if not user.is_active:
        raise PermissionDenied(_("A deactivated user cannot be given an API token."))
    token, plain = ApiToken.issue(user, name)
    _record(by, "api_token.issue", user, after={"token_id": token.pk, "name": name})
    return token, plain


@transaction.atomic
def api_token_revoke(*, by: User, token: ApiToken) -> None:
    _ensure_manages(by, token.user)
    after = {"token_id": token.pk, "name": token.name}
    token.delete()
    _record(by, "api_token.revoke", token.user, after=after)


# ---- writes by the user themself ---------------------------------------------------------

@transaction.atomic
def signed_in(*, user: User) -> None:
    """Sign-ins are access to personal data, so they are logged like writes (DOMAIN.md §10)."""
    _record(user, "user.sign_in", user)


@transaction.atomic
def two_factor_confirmed(*, user: User, device: TOTPDevice) -> None:
    """The first code from a new device was right: the device counts from now on."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _record(user, "user.two_factor_confirmed", user, after={"device_id": device.pk})


@transaction.atomic
def own_password_change(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    _record(user, "user.password_change", user)


def two_factor_device_for_setup(*, user: User) -> TOTPDevice:
    """The unconfirmed device being set up (the same secret on every reload until confirmed)."""
    if has_confirmed_device(user):
        raise PermissionDenied(_("Two-factor sign-in is already set up for this account."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="default", confirmed=False)

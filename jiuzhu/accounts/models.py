"""Staff users scoped to an area, their API tokens, and the audit log (审计日志).

The audit log is append-only at three depths: the model refuses updates and deletes,
the database refuses them by trigger (migration 0002), and each entry carries the
hash of the one before it, so an entry altered, removed or reordered by someone who
bypassed both is found by `jiuzhu audit verify`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.roles import Role, role_may


class User(AbstractUser):
    """A member of staff. `area` is where they act: everything outside it is invisible."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="staff", verbose_name=_("area"))
    #: The resident ID number, so the relatives register can match the user's own family.
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def scope_code(self) -> str:
        """The area prefix every read is filtered by; superusers see the whole tree."""
        if self.is_superuser and self.area_id is None:
            return ""
        return self.area_id or "-"  # no area, no data: "-" matches no code

    def may(self, action: str) -> bool:
        return bool(self.is_active and role_may(self.role, action))

    def covers(self, area_code: str) -> bool:
        return area_code.startswith(self.scope_code)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        token = "jz_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, digest=cls.digest_of(token)), token


class AppendOnly(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("the audit log is append-only")


class AuditEntry(models.Model):
    """One write: who, when, from which area, on what, before and after, and why."""

    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("who"), db_constraint=False)
    actor_name = models.CharField(_("who"), max_length=150)
    actor_area = models.CharField(_("from area"), max_length=12, blank=True)
    area = models.CharField(_("area of the object"), max_length=12, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("the audit log is append-only")


class AuditHead(models.Model):
    """The single row every append locks, so two writers never chain onto the same entry."""

    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

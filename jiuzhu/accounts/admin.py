"""Django's admin site for superusers (the operators). County admins use /accounts/users/.

Changes to users made here are audited like those made through the services; users are
never deleted; the audit log and API tokens are read-only here (tokens are revoked on the
user's page, which audits it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import ApiToken, AuditEntry, User
from jiuzhu.accounts.services import USER_AUDIT_FIELDS


@admin.register(User)
class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "first_name", "role", "area", "is_active", "is_superuser")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "area__code")
    raw_id_fields = ("area",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Role and area"), {"fields": ("role", "area", "id_number")}),
    )
    add_fieldsets = (
        *(UserAdmin.add_fieldsets or ()),
        (_("Role and area"), {"fields": ("role", "area")}),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = audit.snapshot(User.objects.get(pk=obj.pk), USER_AUDIT_FIELDS) if change else None
            super().save_model(request, obj, form, change)
            audit.record(actor=request.user if isinstance(request.user, User) else None,
                         action="user.update" if change else "user.create", obj=obj, area=obj.area_id or "",
                         before=before, after=audit.snapshot(obj, USER_AUDIT_FIELDS), reason="admin site")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Users are deactivated, not deleted: audit entries and decisions keep pointing at them.
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "name", "created_at", "last_used_at")
    readonly_fields = ("user", "name", "created_at", "last_used_at")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "at", "actor_name", "action", "object_type", "object_id", "area")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

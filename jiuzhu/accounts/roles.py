"""Roles (岗位) and what each may do. The three-level split of DOMAIN.md §7: the village
accepts and collects, the township examines and approves, the county supervises.

Permissions are a table, not scattered `if` statements, so "who may do X" has one
answer that the pages, the API and the tests all read.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VILLAGE_WORKER = "village_worker", _("village worker")
    TOWNSHIP_OFFICER = "township_officer", _("township officer")
    TOWNSHIP_APPROVER = "township_approver", _("township approver")
    COUNTY_SUPERVISOR = "county_supervisor", _("county supervisor")
    COUNTY_ADMIN = "county_admin", _("county admin")
    AUDITOR = "auditor", _("auditor")


class Action(models.TextChoices):
    VIEW = "view", _("view cases")
    INTAKE = "intake", _("take an application")
    ACCEPT = "accept", _("accept an application")
    REQUEST_ITEMS = "request_items", _("ask for missing items")
    INVESTIGATE = "investigate", _("investigate a household")
    ASSESS = "assess", _("run the means test")
    FIRST_REVIEW = "first_review", _("give the first-review opinion")
    PUBLISH_NOTICE = "publish_notice", _("publish a notice")
    RECORD_OBJECTION = "record_objection", _("record an objection")
    DECIDE = "decide", _("approve or refuse")
    ENROL = "enrol", _("enrol in payment")
    WITHDRAW = "withdraw", _("record a withdrawal")
    REVIEW = "review", _("review an enrolled household")
    EDIT_HOUSEHOLD = "edit_household", _("change a household file")
    SHOW_SENSITIVE = "show_sensitive", _("show sensitive fields")
    DECLARE_RELATIVES = "declare_relatives", _("keep the relatives register")
    ADMIN_CALENDAR = "admin_calendar", _("keep the working-day calendar")
    ADMIN_USERS = "admin_users", _("manage users")
    ADMIN_DEPARTMENTS = "admin_departments", _("keep the catalogue of departments asked in verification")
    ADMIN_AGREEMENTS = "admin_agreements", _("keep the data-sharing agreements with partner systems")
    READ_AUDIT = "read_audit", _("read the audit log")


_A = Action
_CASE_WORK = {_A.VIEW, _A.INTAKE, _A.REQUEST_ITEMS, _A.INVESTIGATE, _A.RECORD_OBJECTION, _A.WITHDRAW,
              _A.EDIT_HOUSEHOLD, _A.SHOW_SENSITIVE, _A.DECLARE_RELATIVES}
_TOWNSHIP = _CASE_WORK | {_A.ACCEPT, _A.ASSESS, _A.FIRST_REVIEW, _A.PUBLISH_NOTICE, _A.ENROL, _A.REVIEW}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VILLAGE_WORKER: frozenset(_CASE_WORK),
    Role.TOWNSHIP_OFFICER: frozenset(_TOWNSHIP),
    Role.TOWNSHIP_APPROVER: frozenset(_TOWNSHIP | {_A.DECIDE}),
    # The county decides where approval is not delegated and visits flagged cases.
    Role.COUNTY_SUPERVISOR: frozenset(_TOWNSHIP | {_A.DECIDE, _A.READ_AUDIT}),
    Role.COUNTY_ADMIN: frozenset({_A.VIEW, _A.ADMIN_CALENDAR, _A.ADMIN_USERS, _A.ADMIN_DEPARTMENTS,
                                  _A.ADMIN_AGREEMENTS, _A.DECLARE_RELATIVES, _A.READ_AUDIT}),
    Role.AUDITOR: frozenset({_A.VIEW, _A.READ_AUDIT}),
}

#: Roles that must confirm a TOTP code at login (DESIGN.md: 2FA for approvers and admins).
TWO_FACTOR_ROLES: frozenset[str] = frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_SUPERVISOR, Role.COUNTY_ADMIN})


def role_may(role: str, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())

"""The staff navigation: the pages that exist yet and that the user's role may open.

Add to TEMPLATES["OPTIONS"]["context_processors"] as
``jiuzhu.accounts.context_processors.staff_nav``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.decorators import two_factor_pending
from jiuzhu.accounts.roles import Action


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str | Promise
    action: str


#: In menu order. An entry appears once its URL name reverses and the role may do its action.
NAV: tuple[NavEntry, ...] = (
    # Translators: 我的待办
    NavEntry("casework:queue", _("My work"), Action.VIEW),
    # Translators: 受理
    NavEntry("casework:intake_start", _("Intake"), Action.INTAKE),
    # Translators: 查询
    NavEntry("registry:search", _("Search"), Action.VIEW),
    # Translators: 公示
    NavEntry("casework:notices", _("Notices"), Action.PUBLISH_NOTICE),
    # Translators: 超期
    NavEntry("casework:overdue", _("Overdue"), Action.VIEW),
    # Translators: 复核
    NavEntry("casework:reviews", _("Reviews"), Action.REVIEW),
    # Translators: 核对 (household economic-status verification with other departments)
    NavEntry("verification:index", _("Verification"), Action.ASSESS),
    # Translators: 核查发现 (what the cross-checks found)
    NavEntry("verification_centre:findings", _("Cross-check findings"), Action.VIEW),
    # Translators: 核对部门目录
    NavEntry("verification_centre:departments", _("Departments"), Action.ADMIN_DEPARTMENTS),
    # Translators: 数据共享协议 (partner systems asking our social registry)
    NavEntry("dci_pages:agreements", _("Data sharing"), Action.ADMIN_AGREEMENTS),
    # Translators: 近亲属备案
    NavEntry("casework:relatives", _("Relatives register"), Action.DECLARE_RELATIVES),
    # Translators: 工作日历
    NavEntry("areas:calendar", _("Calendar"), Action.ADMIN_CALENDAR),
    # Translators: 用户
    NavEntry("accounts:users", _("Users"), Action.ADMIN_USERS),
    # Translators: 审计
    NavEntry("accounts:audit", _("Audit"), Action.READ_AUDIT),
)


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str | Promise
    current: bool


def nav_links(user: Any, path: str) -> list[NavLink]:
    """The entries this user may use; the one whose URL is the longest prefix of `path` is current."""
    if not user.is_authenticated or two_factor_pending(user):
        return []
    found: list[tuple[str, NavEntry]] = []
    for entry in NAV:
        if not user.may(entry.action):
            continue
        try:
            found.append((reverse(entry.url_name), entry))
        except NoReverseMatch:
            continue
    prefixes = [url for url, _entry in found if path.startswith(url)]
    current = max(prefixes, key=len) if prefixes else None
    return [NavLink(url, entry.label, url == current) for url, entry in found]


def area_name(user: Any) -> str:
    """The user's area in the page's language (the Chinese name when there is no English one)."""
    area = getattr(user, "area", None) if user.is_authenticated else None
    if area is None:
        return ""
    if (get_language() or "").startswith("en") and area.name_en:
        return str(area.name_en)
    return str(area.name_zh)


def staff_nav(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {"staff_nav": nav_links(user, request.path), "staff_area_name": area_name(user)}

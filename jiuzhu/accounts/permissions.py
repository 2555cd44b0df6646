"""One check for "may this user do this here", used by services, pages and the API alike."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action


def ensure_can(user: User, action: str, area_code: str) -> None:
    """Raise PermissionDenied (with the reason) unless the role allows `action`; raise
    Http404 when the object lies outside the user's area, so its existence is not told."""
    if not user.covers(area_code):
        raise Http404(_("No such record in your area."))
    if not user.may(action):
        raise PermissionDenied(
            _("Your role (%(role)s) may not %(action)s.")
            % {"role": user.get_role_display() or _("none"), "action": Action(action).label}
        )

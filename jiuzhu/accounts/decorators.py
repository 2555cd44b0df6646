"""The one gate in front of every staff page: signed in, second factor confirmed, role allows.

`staff_required(Action.X)` for function views, `StaffRequiredMixin` for class views;
both call `staff_gate`, so a page cannot check two of the three and forget the third.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from jiuzhu.accounts.roles import TWO_FACTOR_ROLES, Action, Role

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def needs_two_factor(user: Any) -> bool:
    """Approvers, supervisors and admins confirm a TOTP code after their password."""
    return bool(getattr(user, "role", "") in TWO_FACTOR_ROLES)


def is_two_factor_verified(user: Any) -> bool:
    """Set by django-otp's middleware once the session holds a confirmed device."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def two_factor_pending(user: Any) -> bool:
    return bool(user.is_authenticated and needs_two_factor(user) and not is_two_factor_verified(user))


def denial_reason(user: Any, action: str) -> str:
    """Why the role may not do this, in words the user understands; names no data."""
    action_label = Action(action).label if action in Action.values else action
    if not getattr(user, "role", ""):
        return _("Your account has no role yet, so it may not %(action)s. Ask your county administrator.") % {
            "action": action_label}
    role_label = Role(user.role).label if user.role in Role.values else user.role
    return _("Your role (%(role)s) may not %(action)s.") % {"role": role_label, "action": action_label}


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A plain redirect, or for htmx a full-page redirect instead of a login form inside a fragment."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def two_factor_url(next_url: str) -> str:
    """The verify step, which sends a user without a confirmed device on to set one up."""
    return reverse("accounts:otp_verify") + "?" + urlencode({"next": next_url})


def staff_gate(request: HttpRequest, action: str | None) -> HttpResponse | None:
    """None when the request may go on; a redirect to the missing step; PermissionDenied otherwise."""
    user = request.user
    if not user.is_authenticated:
        login = redirect_to_login(request.get_full_path())
        return _redirect(request, login["Location"])
    if two_factor_pending(user):
        return _redirect(request, two_factor_url(request.get_full_path()))
    if action is not None and not user.may(action):
        raise PermissionDenied(denial_reason(user, action))
    return None


def staff_required(action: str | None = None) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a staff view: login, then the second factor where the role needs it, then `action`."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            stop = staff_gate(request, action)
            return stop if stop is not None else view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator


class StaffRequiredMixin:
    """The same gate for class-based views; set `required_action` (None: any signed-in staff)."""

    required_action: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        stop = staff_gate(request, self.required_action)
        if stop is not None:
            return stop
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return]

"""Account pages: sign-in with the second factor, the user's own page, user administration,
the audit log, and the friendly 403 and 404 pages. Views only translate HTTP; the
services check and write."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts import audit, services
from jiuzhu.accounts.decorators import is_two_factor_verified, needs_two_factor, staff_required
from jiuzhu.accounts.forms import (
    ApiTokenForm,
    AuditFilterForm,
    PasswordSetForm,
    ReasonForm,
    SignInForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from jiuzhu.accounts.models import ApiToken, User
from jiuzhu.accounts.roles import Action

AUDIT_PAGE_SIZE = 50


def default_landing() -> str:
    """LOGIN_REDIRECT_URL once that page exists; until then the user's own page."""
    try:
        return resolve_url(settings.LOGIN_REDIRECT_URL)
    except NoReverseMatch:
        return reverse("accounts:me")


def safe_next(request: HttpRequest) -> str:
    """`next` from the query or form when it points into this site, else the landing page."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return wanted
    return default_landing()


def _with_next(url_name: str, next_url: str) -> str:
    return reverse(url_name) + "?" + urlencode({"next": next_url})


# ---- sign-in -----------------------------------------------------------------------------

class StaffLoginView(LoginView):
    """登录: the password, then the second factor for the roles that need it."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm

    def get_default_redirect_url(self) -> str:
        return default_landing()

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        services.signed_in(user=user)
        if needs_two_factor(user):
            return HttpResponseRedirect(_with_next("accounts:otp_verify", self.get_success_url()))
        return response


class StaffLogoutView(LogoutView):
    """退出 (POST only, as Django requires), back to the sign-in page."""

    next_page = "accounts:login"


def _signed_in_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return None


@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """二次验证: the six-digit code from the user's confirmed device."""
    stop = _signed_in_only(request)
    if stop:
        return stop
    user = request.user
    assert isinstance(user, User)
    next_url = safe_next(request)
    if is_two_factor_verified(user):
        return redirect(next_url)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect(_with_next("accounts:otp_setup", next_url))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _device_accepting(devices, form.cleaned_data["code"], form)
        if device is not None:
            django_otp.login(request, device)
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


def _device_accepting(devices: list[TOTPDevice], code: str, form: Form) -> TOTPDevice | None:
    """The device that accepts `code`; otherwise the reason goes on the form."""
    throttled = False
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(code):
            return device
    form.add_error("code", _("Too many wrong codes in a row. Wait a little, then enter the newest code.") if throttled
                   else _("The code is not right. Check the time on your phone and enter the newest code."))
    return None


@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: the secret as text, then a first code to confirm it."""
    stop = _signed_in_only(request)
    if stop:
        return stop
    user = request.user
    assert isinstance(user, User)
    next_url = safe_next(request)
    if services.has_confirmed_device(user):
        # A password alone must never add a second device: that would defeat the second factor.
        return redirect(_with_next("accounts:otp_verify", next_url))
    device = services.two_factor_device_for_setup(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted = _device_accepting([device], form.cleaned_data["code"], form)
        if accepted is not None:
            services.two_factor_confirmed(user=user, device=accepted)
            django_otp.login(request, accepted)
            messages.success(request, _("Two-factor sign-in is set up."))
            return redirect(next_url)
    secret = _base32_secret(device)
    return render(request, "accounts/otp_setup.html", {
        "form": form, "next": next_url, "secret": secret, "secret_groups": _groups(secret),
        "config_url": device.config_url})


def _base32_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (RFC 4648 base32)."""
    return b32encode(device.bin_key).decode()


def _groups(secret: str, size: int = 4) -> str:
    """The secret in groups of four, easier to type into a phone."""
    return " ".join(secret[i:i + size] for i in range(0, len(secret), size))


# ---- the user's own page -----------------------------------------------------------------

@staff_required()
def me(request: HttpRequest) -> HttpResponse:
    """我的账户: who I am, my role and area, and whether two-factor sign-in is on."""
    user = request.user
    assert isinstance(user, User)
    return render(request, "accounts/me.html", {
        "two_factor": services.has_confirmed_device(user),
        "needs_two_factor": needs_two_factor(user),
    })


@staff_required()
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.own_password_change(user=user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect("accounts:me")
    return render(request, "accounts/password_change.html", {"form": form})


# ---- user administration -----------------------------------------------------------------

def _managed_user(request: HttpRequest, pk: int) -> User:
    """A user inside the administrator's area, or 404: outside users do not exist for them."""
    by = request.user
    assert isinstance(by, User)
    return get_object_or_404(services.users_for(by), pk=pk)


@staff_required(Action.ADMIN_USERS)
def users(request: HttpRequest) -> HttpResponse:
    """用户管理: the users inside my area."""
    by = request.user
    assert isinstance(by, User)
    query = request.GET.get("q", "").strip()
    listed = services.users_for(by).annotate(
        devices=Count("totpdevice", filter=Q(totpdevice__confirmed=True))).order_by("area__code", "username")
    if query:
        listed = listed.filter(Q(username__icontains=query) | Q(first_name__icontains=query))
    page = Paginator(listed, 100).get_page(request.GET.get("page"))
    return render(request, "accounts/users.html", {
        "page": page, "query": query, "query_string": urlencode({"q": query}) if query else ""})


@staff_required(Action.ADMIN_USERS)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    form = UserCreateForm(request.POST or None, areas=services.areas_for(by))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.user_create(by=by, username=data["username"], name=data["name"], role=data["role"],
                                    area=data["area"], password=data["password1"], id_number=data["id_number"])
        messages.success(request, _("User %(username)s is created.") % {"username": user.username})
        return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


def _detail(request: HttpRequest, user: User, status: int = 200, **forms: Any) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    context: dict[str, Any] = {
        "managed": user,
        "is_self": user.pk == by.pk,
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
        "two_factor": services.has_confirmed_device(user),
        "needs_two_factor": needs_two_factor(user),
        "edit_form": UserEditForm(areas=services.areas_for(by), prefix="edit", initial={
            "name": user.first_name, "role": user.role, "area": user.area_id, "id_number": user.id_number}),
        "password_form": PasswordSetForm(user=user, prefix="password"),
        "token_form": ApiTokenForm(prefix="token"),
        "reason_form": ReasonForm(prefix="active"),
        "new_token": None,
    }
    context.update(forms)
    return render(request, "accounts/user_detail.html", context, status=status)


@staff_required(Action.ADMIN_USERS)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _managed_user(request, pk))


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    form = UserEditForm(request.POST, areas=services.areas_for(by), prefix="edit")
    if not form.is_valid():
        return _detail(request, user, status=400, edit_form=form)
    data = form.cleaned_data
    services.user_update(by=by, user=user, name=data["name"], role=data["role"], area=data["area"],
                         id_number=data["id_number"])
    messages.success(request, _("The changes are saved."))
    return redirect("accounts:user_detail", pk=user.pk)


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    """停用 or 启用, by the `active` field of the form."""
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    form = ReasonForm(request.POST, prefix="active")
    if not form.is_valid():
        return _detail(request, user, status=400, reason_form=form)
    active = request.POST.get("active") == "1"
    services.user_set_active(by=by, user=user, active=active, reason=form.cleaned_data["reason"])
    messages.success(request, _("The user is reactivated.") if active else _("The user is deactivated."))
    return redirect("accounts:user_detail", pk=user.pk)


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    form = PasswordSetForm(request.POST, user=user, prefix="password")
    if not form.is_valid():
        return _detail(request, user, status=400, password_form=form)
    services.user_set_password(by=by, user=user, password=form.cleaned_data["password1"])
    messages.success(request, _("The new password is set. Hand it over in person."))
    return redirect("accounts:user_detail", pk=user.pk)


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    form = ReasonForm(request.POST, prefix="reset")
    if not form.is_valid():
        return _detail(request, user, status=400)
    services.two_factor_reset(by=by, user=user, reason=form.cleaned_data["reason"])
    messages.success(request, _("Two-factor sign-in is reset; the user sets it up again at the next sign-in."))
    return redirect("accounts:user_detail", pk=user.pk)


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a token and show it on this response only: it is not stored and not redirected."""
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    form = ApiTokenForm(request.POST, prefix="token")
    if not form.is_valid():
        return _detail(request, user, status=400, token_form=form)
    _token, plain = services.api_token_issue(by=by, user=user, name=form.cleaned_data["name"])
    response = _detail(request, user, new_token=plain)
    response["Cache-Control"] = "no-store"
    return response


@staff_required(Action.ADMIN_USERS)
@require_POST
def user_token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    by = request.user
    assert isinstance(by, User)
    user = _managed_user(request, pk)
    token = get_object_or_404(ApiToken, pk=token_pk, user=user)
    services.api_token_revoke(by=by, token=token)
    messages.success(request, _("The API token is revoked."))
    return redirect("accounts:user_detail", pk=user.pk)


# ---- audit log -----------------------------------------------------------------------------

@staff_required(Action.READ_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    """审计日志: the entries about my area, newest first, filtered by object."""
    by = request.user
    assert isinstance(by, User)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = services.audit_entries_for(by, object_type=filters.get("object_type", "").strip(),
                                         object_id=filters.get("object_id", "").strip())
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit.html", {"form": form, "page": page, "query": query.urlencode()})


@staff_required(Action.READ_AUDIT)
def audit_chain(request: HttpRequest) -> HttpResponse:
    """The whole chain checked now. Slow on a big log, so the audit page loads it separately."""
    check = audit.verify()
    template = "accounts/audit.html#chain" if request.headers.get("HX-Request") else "accounts/audit_chain.html"
    return render(request, template, {"check": check})


# ---- error pages (handler403, handler404) ----------------------------------------------------

def _error_layout(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return "staff/base.html" if user is not None and user.is_authenticated else "base.html"


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    """403: our PermissionDenied reasons name a role and an action, never a record."""
    reason = str(exception) if exception is not None and str(exception) else ""
    return render(request, "403.html", {"layout": _error_layout(request), "reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    """404: says nothing about whether the record exists outside the user's area."""
    return render(request, "404.html", {"layout": _error_layout(request)}, status=404)

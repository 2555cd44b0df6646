"""One error shape for the whole API, whatever raised it.

Clients fix their input from a list of `{path, message}` (the same shape the rules
engine's CLI prints, STYLE.md "Bad input"), so a schema error found by ninja/pydantic
and a rule broken inside a service read alike: HTTP 422, dotted paths such as
`members[1].id_number`, messages in the request's language. Everything else is
`{"detail": ...}`: 401 no or bad token, 403 not your duty, 404 not in your area (never
"exists elsewhere"), 409 someone saved first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from jiuzhu.registry.services import StaleVersion

#: Where ninja says a parameter came from; the first element of every pydantic location.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})


def dotted_path(loc: Sequence[Any], *, source_params: int = 1) -> str:
    """("members", 1, "id_number") → "members[1].id_number"."""
    path = ""
    for part in loc[source_params:]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _schema_path(loc: Sequence[Any]) -> str:
    """Drop ninja's source ("body") and, for a body, the name of the view's argument."""
    if not loc or loc[0] not in _SOURCES:
        return dotted_path(loc, source_params=0)
    return dotted_path(loc, source_params=2 if loc[0] in ("body", "form") else 1)


def _limit(ctx: dict[str, Any], *names: str) -> Any:
    return next((ctx[n] for n in names if n in ctx), "")


def schema_message(error: dict[str, Any]) -> str:
    """A translated message for a pydantic error; pydantic's own English one as a last resort."""
    kind: str = error.get("type", "")
    ctx: dict[str, Any] = error.get("ctx") or {}
    messages: dict[str, str] = {
        "missing": _("is required"),
        "int_type": _("must be a whole number"),
        "int_parsing": _("must be a whole number"),
        "int_from_float": _("must be a whole number"),
        "float_type": _("must be a number"),
        "float_parsing": _("must be a number"),
        "decimal_type": _("must be a number"),
        "decimal_parsing": _("must be a number"),
        "finite_number": _("must be a finite number"),
        "decimal_max_digits": _("has too many digits"),
        "decimal_max_places": _("has too many decimal places"),
        "decimal_whole_digits": _("has too many digits before the decimal point"),
        "bool_type": _("must be true or false"),
        "bool_parsing": _("must be true or false"),
        "string_type": _("must be text"),
        "string_unicode": _("must be text"),
        "string_pattern_mismatch": _("is not in the expected form"),
        "date_type": _("must be a date (YYYY-MM-DD)"),
        "date_parsing": _("must be a date (YYYY-MM-DD)"),
        "date_from_datetime_parsing": _("must be a date (YYYY-MM-DD)"),
        "date_from_datetime_inexact": _("must be a date (YYYY-MM-DD)"),
        "list_type": _("must be a list"),
        "dict_type": _("must be an object"),
        "model_type": _("must be an object"),
        "model_attributes_type": _("must be an object"),
        "extra_forbidden": _("is not a known field"),
        "json_invalid": _("is not valid JSON"),
        "json_type": _("is not valid JSON"),
        "none_required": _("must be empty"),
    }
    if kind in messages:
        return messages[kind]
    if kind == "string_too_short":
        return _("must not be empty") if ctx.get("min_length") == 1 else \
            _("must be at least %(n)s characters long") % {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("must be at most %(n)s characters long") % {"n": ctx.get("max_length")}
    if kind == "too_short":
        return _("needs at least %(n)s items") % {"n": _limit(ctx, "min_length")}
    if kind == "too_long":
        return _("takes at most %(n)s items") % {"n": _limit(ctx, "max_length")}
    if kind in ("greater_than_equal", "greater_than"):
        word = _("must be at least %(limit)s") if kind == "greater_than_equal" else _("must be more than %(limit)s")
        return word % {"limit": _limit(ctx, "ge", "gt")}
    if kind in ("less_than_equal", "less_than"):
        word = _("must be at most %(limit)s") if kind == "less_than_equal" else _("must be less than %(limit)s")
        return word % {"limit": _limit(ctx, "le", "lt")}
    if kind in ("literal_error", "enum"):
        return _("must be one of: %(choices)s") % {"choices": ctx.get("expected", "")}
    # PydanticCustomError raised by our own validators already carries a translated message.
    return str(error.get("msg", _("is not valid")))


def problems_from_schema(errors: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"path": _schema_path(e.get("loc", ())), "message": schema_message(e)} for e in errors]


def problems_from_django(exc: DjangoValidationError) -> list[dict[str, str]]:
    """A service's message dict → one item per message; a plain list → path ""."""
    if hasattr(exc, "error_dict"):
        return [{"path": "" if field == "__all__" else field, "message": str(message)}
                for field, messages in exc.message_dict.items() for message in messages]
    return [{"path": "", "message": str(message)} for message in exc.messages]


def _errors(api: NinjaAPI, request: HttpRequest, problems: list[dict[str, str]]) -> HttpResponse:
    return api.create_response(request, {"errors": problems}, status=422)


def _detail(api: NinjaAPI, request: HttpRequest, detail: str, status: int, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (which answer in English and in another shape)."""

    @api.exception_handler(SchemaValidationError)
    def schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
        return _errors(api, request, problems_from_schema(exc.errors))

    @api.exception_handler(DjangoValidationError)
    def service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return _errors(api, request, problems_from_django(exc))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _detail(api, request, str(exc) or _("You may not do this."), 403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _detail(api, request, _("No such record in your area."), 404)

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return not_found(request, exc)

    @api.exception_handler(StaleVersion)
    def stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
        model: Any = type(exc.obj)
        current = model._default_manager.filter(pk=exc.obj.pk).values_list("version", flat=True).first()
        return _detail(api, request, str(exc), 409, current_version=current)

    @api.exception_handler(IntegrityError)
    def clash(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # The services check uniqueness first; this is the rare race of two saves at once.
        return _detail(api, request, _("Someone saved a conflicting change at the same time; reload and try again."),
                       409)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _detail(api, request, _("Send a valid API token: “Authorization: Bearer <token>”."), 401)
        response["WWW-Authenticate"] = 'Bearer realm="jiuzhu"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # the only one ninja raises itself: a body that is not JSON
            return _detail(api, request, _("The request body is not valid JSON."), 400)
        return _detail(api, request, str(exc), exc.status_code)

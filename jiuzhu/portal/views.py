"""The means-test calculator page and its JSON twin; both only translate HTTP for the engine."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.portal.forms import Calculator
from jiuzhu.portal.selectors import fact_names, parameter_names, region_name
from jiuzhu.portal.services import evaluate
from jiuzhu.rules.errors import InvalidCase

LANGUAGES = ("zh-hans", "en")


def engine_language(request: HttpRequest) -> str:
    """The engine's language for this request: `?lang=` if given, else the page's language."""
    asked = request.GET.get("lang", "")
    return asked if asked in LANGUAGES else (get_language() or LANGUAGES[0])


@require_http_methods(["GET", "POST"])
def calculator(request: HttpRequest) -> HttpResponse:
    """低保测算: enter one household, see eligibility, amounts and how they were reached."""
    lang = engine_language(request)
    form = Calculator(request.POST if request.method == "POST" else None)
    case: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        case = form.to_case()
        try:
            result = evaluate(case, lang)
        except InvalidCase as exc:
            form.add_problems(exc.as_list(lang))
    context = {
        "calculator": form,
        "messages_": form.messages() if request.method == "POST" else [],
        "result": result,
        "case": case,
        "region_name": region_name(case["region"]) if case and result else "",
        "case_json": json.dumps(case, ensure_ascii=False, indent=2) if case else "",
        "parameter_names": parameter_names(lang),
        "fact_names": fact_names(form.region, lang),
    }
    return render(request, "portal/calculator.html", context)


@csrf_exempt
@require_POST
def api_evaluate(request: HttpRequest) -> JsonResponse:
    """POST one case (or a list of cases) as JSON; get the result(s), or 400 with every problem.

    The engine's contract (DOMAIN.md §13) in and out; `?lang=en` picks the language of the
    explanation and messages. Nothing is stored, so no session and no CSRF token are needed."""
    lang = engine_language(request)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        with override(lang):
            return problems_response([{"path": "", "message": _("the request body is not valid JSON")}])
    try:
        result = evaluate(payload, lang)
    except InvalidCase as exc:
        return problems_response(exc.as_list(lang))
    return JsonResponse(result, safe=False, json_dumps_params={"ensure_ascii": False})


def problems_response(problems: list[dict[str, str]]) -> JsonResponse:
    return JsonResponse(problems, status=400, safe=False, json_dumps_params={"ensure_ascii": False})

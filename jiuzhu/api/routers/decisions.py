"""Decisions exactly as they were made: the engine's stored input, result, parameter
versions and explanation, never recomputed. ID numbers inside the stored case are
masked on the way out, like everywhere else in the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import P, PathEx, Router

from jiuzhu.accounts.models import User
from jiuzhu.api import schemas as s
from jiuzhu.api.auth import user_of
from jiuzhu.casework.models import Decision
from jiuzhu.casework.selectors import applications_for
from jiuzhu.registry.masking import mask_id_number

router = Router(tags=["decisions"])

ObjectId = PathEx[int, P(ge=1, le=s.MAX_ID)]


def masked(value: Any) -> Any:
    """A copy of stored JSON with every `id_number` masked, at any depth."""
    if isinstance(value, dict):
        return {k: mask_id_number(v) if k == "id_number" and isinstance(v, str) else masked(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def decisions_for(user: User) -> QuerySet[Decision]:
    """Decisions of applications in the user's area (scoped through `applications_for`)."""
    return Decision.objects.filter(application__in=applications_for(user)).select_related("decided_by")


def decision_out(decision: Decision) -> dict[str, Any]:
    by = decision.decided_by
    return {"id": decision.pk, "application": decision.application_id, "household": decision.household_id,
            "kind": decision.kind, "reasons": decision.reasons, "annual_amount": decision.annual_amount,
            "monthly_amount": decision.monthly_amount, "effective_from": decision.effective_from,
            "decided_by": by.get_full_name() or by.username, "decided_at": decision.decided_at,
            "assessment": decision.assessment_id, "case": masked(decision.case), "result": masked(decision.result),
            "parameters": masked(decision.parameters), "explanation_zh": decision.explanation_zh,
            "explanation_en": decision.explanation_en}


@router.get("/decisions/{decision_id}", response={200: s.DecisionOut, **s.ERRORS})
def get_decision(request: HttpRequest, decision_id: ObjectId) -> dict[str, Any]:
    return decision_out(decisions_for(user_of(request)).get(pk=decision_id))


@router.get("/applications/{application_id}/decisions", response={200: list[s.DecisionOut], **s.ERRORS})
def application_decisions(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """Every decision on the application, the newest first."""
    user = user_of(request)
    application = applications_for(user).get(pk=application_id)
    return [decision_out(d) for d in decisions_for(user).filter(application=application)]

"""The procedure of DOMAIN.md §7 as an explicit state machine.

`TRANSITIONS` is the whole table: from a state, which states may follow and which duty
(`Action`) moving there needs. `transition` is the only code that writes
`Application.state`; it checks the table, the user's role and area, separation of
duties and the relatives register, then records the move and audits it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.casework.models import FINAL_STATES, Application, RelativeDeclaration, State, Transition
from jiuzhu.registry.models import Person
from jiuzhu.registry.services import StaleVersion

S = State
TRANSITIONS: dict[str, dict[str, str]] = {
    S.RECEIVED: {S.ACCEPTED: Action.ACCEPT},
    S.ACCEPTED: {S.INVESTIGATING: Action.INVESTIGATE},
    S.INVESTIGATING: {S.ASSESSED: Action.ASSESS},
    S.ASSESSED: {S.FIRST_REVIEW: Action.FIRST_REVIEW, S.ASSESSED: Action.ASSESS},
    S.FIRST_REVIEW: {S.NOTICE: Action.PUBLISH_NOTICE, S.ASSESSED: Action.ASSESS},
    S.NOTICE: {S.OBJECTION: Action.RECORD_OBJECTION, S.APPROVED: Action.DECIDE, S.REFUSED: Action.DECIDE},
    S.OBJECTION: {S.RECHECK: Action.FIRST_REVIEW},
    S.RECHECK: {S.APPROVED: Action.DECIDE, S.REFUSED: Action.DECIDE, S.OBJECTION: Action.RECORD_OBJECTION},
    S.APPROVED: {S.ENROLLED: Action.ENROL},
    S.REFUSED: {},
    S.ENROLLED: {},
    S.WITHDRAWN: {},
}
#: Withdrawal is possible from every state that is not final.
for _state in TRANSITIONS:
    if _state not in FINAL_STATES and _state != S.APPROVED:
        TRANSITIONS[_state][S.WITHDRAWN] = Action.WITHDRAW


def allowed_next(application: Application) -> dict[str, str]:
    return TRANSITIONS.get(application.state, {})


def relatives_of(household_id: int) -> list[RelativeDeclaration]:
    """Declarations naming a current member of the household."""
    numbers = Person.objects.filter(memberships__household=household_id,
                                    memberships__end__isnull=True).values("id_number")
    return list(RelativeDeclaration.objects.filter(relative_id_number__in=numbers))  # one query


def relatives_in(application: Application) -> list[RelativeDeclaration]:
    return relatives_of(application.household_id)


def ensure_may_handle(user: User, application: Application) -> None:
    """A relative of the household may not handle its application in any step (§7)."""
    for declaration in relatives_in(application):
        if declaration.declarant_id == user.pk:
            raise PermissionDenied(_("You declared a member of this household as your relative "
                                     "(%(relation)s), so you may not handle this application.")
                                   % {"relation": declaration.relation})
    if user.id_number and Person.objects.filter(
            id_number=user.id_number, memberships__household=application.household_id,
            memberships__end__isnull=True).exists():
        raise PermissionDenied(_("You are a member of this household and may not handle its application."))


def ensure_may_decide(user: User, application: Application) -> None:
    """Separation of duties: whoever entered or accepted the case does not approve it."""
    if application.entered_by_id == user.pk:
        raise PermissionDenied(_("You entered this application, so someone else must decide it."))
    if application.accepted_by_id == user.pk:
        raise PermissionDenied(_("You accepted this application, so someone else must decide it."))


def check_transition(user: User, application: Application, to: str) -> str:
    """The duty the move needs, after every check; raises with a reason when not allowed."""
    action = allowed_next(application).get(to)
    if action is None:
        raise ValidationError(
            _("An application that is “%(current)s” cannot become “%(target)s”.")
            % {"current": State(application.state).label, "target": State(to).label})
    ensure_can(user, action, application.area_code)
    ensure_may_handle(user, application)
    if action == Action.DECIDE:
        ensure_may_decide(user, application)
    return action


@transaction.atomic
def transition(application: Application, *, to: str, by: User, reason: str = "",
               expected_version: int | None = None) -> Application:
    """Move the application to `to`. With `expected_version`, refuse a stale move (409)."""
    check_transition(by, application, to)
    version = application.version if expected_version is None else expected_version
    before = application.state
    updated = Application.objects.filter(pk=application.pk, version=version, state=before).update(
        state=to, version=F("version") + 1)
    if not updated:
        raise StaleVersion(application, version)
    application.refresh_from_db()
    Transition.objects.create(application=application, from_state=before, to_state=to, by=by, reason=reason)
    audit.record(actor=by, action=f"application.{to}", obj=application, area=application.area_code,
                 before={"state": before}, after={"state": to}, reason=reason)
    return application

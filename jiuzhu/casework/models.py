"""Applications and everything the procedure of DOMAIN.md §7 and §9–10 records.

The state lives in `Application.state` and changes only through `casework.workflow`,
which checks the transition table, the user's duty and area, and writes a
`Transition` row and an audit entry in the same transaction.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.models import Versioned


class State(models.TextChoices):
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    INVESTIGATING = "investigating", _("investigating")
    ASSESSED = "assessed", _("assessed")
    FIRST_REVIEW = "first_review", _("first review given")
    NOTICE = "notice", _("public notice")
    OBJECTION = "objection", _("objection raised")
    RECHECK = "recheck", _("re-checked")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")
    ENROLLED = "enrolled", _("enrolled")
    WITHDRAWN = "withdrawn", _("withdrawn")


FINAL_STATES = frozenset({State.REFUSED, State.ENROLLED, State.WITHDRAWN})


class Channel(models.TextChoices):
    VILLAGE = "village", _("village window")
    TOWNSHIP = "township", _("township window")
    ONLINE = "online", _("online, entered on the applicant's behalf")


class Intake(models.Model):
    """One visit to the window: a household may apply for several programmes at once."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="intakes")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    entered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    applicant = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("applicant"))
    truth_promise = models.BooleanField(_("promise of truth signed"), default=False)
    #: Programme facts asked by the catalogue: {"household": {...}, "members": {person_id: {...}}}.
    facts = models.JSONField(_("programme facts"), default=dict, blank=True)
    #: The consents to verification signed at this window visit; they outlive the intake.
    consents = models.ManyToManyField("verification.Consent", related_name="intakes", blank=True,
                                      verbose_name=_("consents to verification"))


class Application(Versioned):
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="applications")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="applications",
                                  verbose_name=_("household"))
    programme = models.CharField(_("programme"), max_length=40)
    state = models.CharField(_("state"), max_length=14, choices=State.choices, default=State.RECEIVED,
                             db_index=True)
    #: Copied from the household so scoped queries need no join.
    area_code = models.CharField(max_length=12, db_index=True)
    entered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="entered_applications")
    accepted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="accepted_applications")
    received_at = models.DateTimeField(_("received at"))
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    delegated = models.BooleanField(_("approval delegated to the township"), default=True)
    #: Relatives of staff or cadres in the household (§7): needs a county visit.
    relative_flag = models.BooleanField(_("relative of staff"), default=False)
    #: Deadline of the current step, and of the whole procedure; provisional when a year's
    #: official holiday schedule was missing when it was computed.
    step_deadline = models.DateField(_("step due"), null=True, blank=True, db_index=True)
    step_deadline_provisional = models.BooleanField(default=False)
    final_deadline = models.DateField(_("procedure due"), null=True, blank=True)
    final_deadline_provisional = models.BooleanField(default=False)
    clock_stopped = models.BooleanField(_("clock stopped"), default=False)
    opinion = models.CharField(_("first-review opinion"), max_length=10, blank=True,
                               choices=[("approve", _("approve")), ("refuse", _("refuse"))])
    opinion_reason = models.TextField(_("opinion reason"), blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["area_code", "state"])]

    def __str__(self) -> str:
        return f"{self.pk} {self.programme}"


class Transition(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=14, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=14, choices=State.choices)
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class ClockStop(models.Model):
    """补正: the clock stops while the applicant is asked for missing items."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="clock_stops")
    started_on = models.DateField(_("stopped on"))
    ended_on = models.DateField(_("resumed on"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application"], condition=Q(ended_on__isnull=True),
                                               name="one_open_clock_stop")]


class MissingItem(models.Model):
    """An item listed once at acceptance (一次性告知) on the printable slip."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="missing_items")
    description = models.CharField(_("missing item"), max_length=200)
    received_on = models.DateField(_("received on"), null=True, blank=True)


class Visit(models.Model):
    """入户调查: at least two investigators, a date, findings, a signed record."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("visited on"))
    investigators = models.ManyToManyField("accounts.User", related_name="visits", verbose_name=_("investigators"))
    county_visit = models.BooleanField(_("county visit"), default=False)
    findings = models.TextField(_("findings"))
    living_conditions = models.TextField(_("living conditions"), blank=True)
    signed_by_household = models.CharField(_("signed by (household)"), max_length=50)
    signed_on = models.DateField(_("signed on"))
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")


class Assessment(models.Model):
    """One run of the rules engine, kept whole so it can be shown as it was years later."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assessments")
    ran_at = models.DateTimeField(auto_now_add=True)
    ran_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    case = models.JSONField()
    #: Which inputs came from declarations rather than verified records: paths into `case`.
    declared_paths = models.JSONField(default=list)
    result = models.JSONField()
    explanation_zh = models.JSONField(default=list)
    explanation_en = models.JSONField(default=list)
    eligible = models.BooleanField()
    annual_amount = models.DecimalField(max_digits=12, decimal_places=2)
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-ran_at", "-id"]


class DecisionKind(models.TextChoices):
    APPROVE = "approve", _("approval")
    REFUSE = "refuse", _("refusal")
    INCREASE = "increase", _("increase")
    DECREASE = "decrease", _("decrease")
    UNCHANGED = "unchanged", _("no change")
    STOP = "stop", _("stop")


class Decision(models.Model):
    """审批决定: the engine's result, the parameters it used, and who approved it."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    parameters = models.JSONField(default=list)
    explanation_zh = models.JSONField(default=list)
    explanation_en = models.JSONField(default=list)
    annual_amount = models.DecimalField(_("yuan per year"), max_digits=12, decimal_places=2, default=0)
    monthly_amount = models.DecimalField(_("yuan per month"), max_digits=12, decimal_places=2, default=0)
    reasons = models.TextField(_("reasons"))
    decided_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]


class Enrolment(models.Model):
    """A benefit being paid: from the month after approval until stopped (§6, §9)."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="enrolments")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="enrolments")
    programme = models.CharField(max_length=40)
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2)
    start_month = models.DateField()
    end_month = models.DateField(null=True, blank=True)
    gradual_exit_until = models.DateField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True, db_index=True)
    review_class = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)


class NoticeKind(models.TextChoices):
    FIRST_REVIEW = "first_review", _("first-review opinions (公示)")
    APPROVAL = "approval", _("approvals (公布)")


class Notice(models.Model):
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=14, choices=NoticeKind.choices)
    published_on = models.DateField()
    ends_on = models.DateField()
    published_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")


class NoticeEntry(models.Model):
    """What a notice shows, and only that (§10): masked name, household size, amount."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="entries")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notice_entries")
    masked_name = models.CharField(max_length=50)
    household_size = models.PositiveSmallIntegerField()
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2)
    opinion = models.CharField(max_length=10, blank=True)


class Objection(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="objections")
    notice_entry = models.ForeignKey(NoticeEntry, on_delete=models.PROTECT, null=True, blank=True)
    received_on = models.DateField(_("received on"))
    raised_by = models.CharField(_("raised by"), max_length=100, blank=True)
    content = models.TextField(_("content"))
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("handled by"), max_length=12, blank=True,
                              choices=[("recheck", _("re-investigation")), ("appraisal", _("democratic appraisal"))])
    outcome = models.TextField(_("outcome"), blank=True)
    resolved_on = models.DateField(null=True, blank=True)


class RelativeDeclaration(models.Model):
    """近亲属备案: staff and village cadres declare their close relatives (§7)."""

    declarant = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="relative_declarations", verbose_name=_("staff member"))
    declarant_name = models.CharField(_("declared by"), max_length=50)
    declarant_post = models.CharField(_("post"), max_length=50)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    relative_name = models.CharField(_("relative's name"), max_length=50)
    relative_id_number = models.CharField(_("relative's ID number"), max_length=18, db_index=True)
    relation = models.CharField(_("relation"), max_length=30)
    declared_on = models.DateField(auto_now_add=True)


class ChangeReport(models.Model):
    """A change the household reported or staff learnt of (§9), which may trigger a review."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="change_reports")
    kind = models.CharField(max_length=20, choices=[
        ("income", _("income changed")), ("members", _("members changed")), ("death", _("a member died")),
        ("assets", _("assets changed")), ("other", _("other"))])
    occurred_on = models.DateField()
    reported_on = models.DateField()
    description = models.TextField()
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recheck_due = models.DateField(null=True, blank=True)
    handled = models.BooleanField(default=False)

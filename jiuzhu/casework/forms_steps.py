"""The action forms of the application page: one small form per step of the procedure (§7).

Each carries the application's `version` as it was when the page was drawn, so an
action on a page that someone else has changed meanwhile is refused (409) instead of
acting on what the user no longer sees.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import PERMISSIONS, Action
from jiuzhu.casework.models import Application, Objection

DATE_INPUT = forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}, format="%Y-%m-%d")


class StepForm(forms.Form):
    """Every action form: the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", application.version)
        super().__init__(*args, **kwargs)
        self.application = application


class AcceptForm(StepForm):
    reason = forms.CharField(label=_("Note (optional)"), required=False, max_length=2000,
                             widget=forms.TextInput)


class ClockStopForm(StepForm):
    reason = forms.CharField(label=_("Items asked for"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("say which items are asked for")})


class ClockResumeForm(StepForm):
    pass


class InvestigationStartForm(StepForm):
    pass


def investigators_for(application: Application) -> QuerySet[User]:
    """Active users whose area covers the household's village and whose role may investigate."""
    code = application.area_code
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12) if len(code) >= n]
    roles = [role for role, actions in PERMISSIONS.items() if Action.INVESTIGATE in actions]
    return (User.objects.filter(is_active=True, role__in=roles)
            .filter(Q(area_id__in=prefixes)).select_related("area").order_by("area_id", "first_name", "username"))


class InvestigatorsField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name} · {obj.get_role_display()}"


class VisitForm(StepForm):
    """入户调查: date, at least two investigators, findings, and who signed the record."""

    visited_on = forms.DateField(label=_("Visited on"), widget=DATE_INPUT)
    investigators = InvestigatorsField(label=_("Investigators (at least two)"), queryset=User.objects.none(),
                                       widget=forms.CheckboxSelectMultiple)
    findings = forms.CharField(label=_("Findings"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    living_conditions = forms.CharField(label=_("Living conditions"), required=False, max_length=10000,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    signed_by_household = forms.CharField(label=_("Signed by (household member)"), max_length=50)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE_INPUT)
    county_visit = forms.BooleanField(label=_("County visit"), required=False, label_suffix="")

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        field = self.fields["investigators"]
        assert isinstance(field, InvestigatorsField)
        field.queryset = investigators_for(application)

    def clean_investigators(self) -> Any:
        chosen = self.cleaned_data["investigators"]
        if len(chosen) < 2:
            raise forms.ValidationError(_("a household visit needs at least two investigators"))
        return chosen


class AssessForm(StepForm):
    pass


OPINIONS = [("approve", _("approve")), ("refuse", _("refuse"))]


class FirstReviewForm(StepForm):
    opinion = forms.ChoiceField(label=_("First-review opinion"), choices=OPINIONS, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reasons"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ObjectionForm(StepForm):
    received_on = forms.DateField(label=_("Received on"), widget=DATE_INPUT)
    raised_by = forms.CharField(label=_("Raised by"), max_length=100, required=False)
    content = forms.CharField(label=_("What the objection says"), max_length=10000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class ObjectionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Objection) -> str:
        return f"{obj.received_on:%Y-%m-%d} {obj.content[:40]}"


class ObjectionResolveForm(StepForm):
    """After re-investigation or democratic appraisal (民主评议): how, and what came of it."""

    objection = ObjectionChoiceField(label=_("Objection"), queryset=Objection.objects.none(), empty_label=None)
    method = forms.ChoiceField(label=_("Handled by"), widget=forms.RadioSelect,
                               choices=[("recheck", _("re-investigation")), ("appraisal", _("democratic appraisal"))])
    outcome = forms.CharField(label=_("Outcome"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        field = self.fields["objection"]
        assert isinstance(field, ObjectionChoiceField)
        field.queryset = application.objections.filter(resolved_on__isnull=True).order_by("-received_on", "-id")


class DecideForm(StepForm):
    """审批: approve or refuse, with the reasons that go on the certificate or the refusal notice."""

    outcome = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                choices=[("approve", _("approve")), ("refuse", _("refuse"))])
    reasons = forms.CharField(label=_("Reasons"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("A refusal's reasons are printed on the refusal notice."))

    def __init__(self, *args: Any, application: Application, may_approve: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        if not may_approve:
            self.fields["outcome"].choices = [("refuse", _("refuse"))]  # type: ignore[attr-defined]


class EnrolForm(StepForm):
    pass


class WithdrawForm(StepForm):
    reason = forms.CharField(label=_("Why the application is withdrawn"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 2}))

"""Forms of the list pages: queue filters, household edits, notices, objections, relatives.

They parse and check what was typed; the services decide whether the user may do it and
whether the record allows it. `add_service_errors` puts a service's refusal beside the
field it names, so the page shows it where the user typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.models import User
from jiuzhu.areas.models import Area
from jiuzhu.casework.dynamic import CHANGE_KINDS
from jiuzhu.casework.models import Application, ChangeReport, NoticeEntry, State
from jiuzhu.casework.programmes import ProgrammeInfo
from jiuzhu.registry.models import AREA_TYPE_CHOICES, Membership


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class QueueFilterForm(forms.Form):
    """我的待办 filters (GET): an unknown value is an error on the form, never a crash."""

    state = forms.ChoiceField(label=_("State"), required=False)
    programme = forms.ChoiceField(label=_("Programme"), required=False)

    def __init__(self, *args: Any, programmes: list[ProgrammeInfo], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        open_states = [(s.value, s.label) for s in State if s not in (State.REFUSED, State.ENROLLED, State.WITHDRAWN)]
        self.fields["state"].choices = [("", _("all states")), *open_states]  # type: ignore[attr-defined]
        self.fields["programme"].choices = [  # type: ignore[attr-defined]
            ("", _("all programmes")), *[(p.id, p.name) for p in programmes]]


class HouseholdEditForm(forms.Form):
    """Address and urban/rural, with the version the page was read at (optimistic locking)."""

    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    area_type = forms.ChoiceField(label=_("Urban or rural"), choices=AREA_TYPE_CHOICES)
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MemberField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Membership) -> str:
        return obj.person.name


class EntryField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A notice entry as the notice shows it: masked name, household size, amount."""

    def label_from_instance(self, obj: NoticeEntry) -> str:
        return f"{obj.masked_name} · {obj.household_size} · {obj.monthly_amount}"


class DeathForm(forms.Form):
    """A member's death: it ends the membership and brings the household's review forward."""

    member = MemberField(label=_("Member"), queryset=Membership.objects.none())
    on = forms.DateField(label=_("Date of death"), widget=DateInput())

    def __init__(self, *args: Any, members: QuerySet[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = members.select_related("person")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        membership, on = data.get("member"), data.get("on")
        if on and on > timezone.localdate():
            self.add_error("on", _("cannot be in the future"))
        elif membership is not None and on and on < membership.person.birth_date:
            self.add_error("on", _("cannot be before the birth date"))
        return data


class ChangeReportForm(forms.Form):
    """变更报告: what changed, when, as the household told it."""

    kind = forms.ChoiceField(label=_("What changed"),
                             choices=[c for c in ChangeReport._meta.get_field("kind").choices or []
                                      if c[0] in CHANGE_KINDS and c[0] != "death"])
    occurred_on = forms.DateField(label=_("Changed on"), widget=DateInput())
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class NoticePublishForm(forms.Form):
    """公示: the applications of one village that have their first-review opinion."""

    applications = forms.ModelMultipleChoiceField(
        label=_("Applications"), queryset=Application.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick the applications to put on the notice.")})

    def __init__(self, *args: Any, ready: QuerySet[Application], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["applications"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = ready


class ObjectionForm(forms.Form):
    """异议: against one entry of the notice, as it was received."""

    entry = EntryField(label=_("Entry of the notice"), queryset=NoticeEntry.objects.none())
    raised_by = forms.CharField(label=_("Raised by"), max_length=100, required=False,
                                help_text=_("May stay empty: objections can be anonymous."))
    content = forms.CharField(label=_("What the objection says"), widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=5000)
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())

    def __init__(self, *args: Any, entries: QuerySet[NoticeEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["entry"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = entries

    def clean_received_on(self) -> dt.date:
        received: dt.date = self.cleaned_data["received_on"]
        if received > timezone.localdate():
            raise ValidationError(_("cannot be in the future"))
        return received


class AreaField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.name_zh} ({obj.code})"


class StaffField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.get_full_name() or obj.get_username()} · {obj.get_role_display()}"


class RelativeForm(forms.Form):
    """近亲属备案: a staff member in the area, or a village cadre by name and post."""

    declarant = StaffField(label=_("Staff member"), queryset=User.objects.none(), required=False,
                           help_text=_("Leave empty for a village cadre who has no account; give the name and "
                                       "post below."))
    declarant_name = forms.CharField(label=_("Declared by (name)"), max_length=50, required=False)
    declarant_post = forms.CharField(label=_("Post"), max_length=50)
    area = AreaField(label=_("Area where the declarant works"), queryset=Area.objects.none())
    relative_name = forms.CharField(label=_("Relative's name"), max_length=50)
    relative_id_number = forms.CharField(label=_("Relative's ID number"), max_length=25)
    relation = forms.CharField(label=_("Relation"), max_length=30, help_text=_("e.g. spouse, parent, sibling"))

    def __init__(self, *args: Any, staff: QuerySet[User], areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declarant, area = self.fields["declarant"], self.fields["area"]
        assert isinstance(declarant, forms.ModelChoiceField) and isinstance(area, forms.ModelChoiceField)
        declarant.queryset = staff
        area.queryset = areas

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        declarant = data.get("declarant")
        if declarant is not None and not data.get("declarant_name"):
            data["declarant_name"] = declarant.get_full_name() or declarant.get_username()
        if declarant is None and not data.get("declarant_name") and "declarant_name" not in self.errors:
            self.add_error("declarant_name", _("Choose a staff member or give the declarant's name."))
        return data


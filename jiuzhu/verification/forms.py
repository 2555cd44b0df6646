"""Forms of the verification pages (核对): export, import, request, confirm a row, override.

They parse what was typed; the services decide whether it may be done. `add_service_errors`
puts a service's refusal beside the field it names. It repeats the helper of the casework
forms because this app sits below casework and may not import from it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.choices import LABELS
from jiuzhu.registry.models import Person
from jiuzhu.verification.answers import KINDS
from jiuzhu.verification.models import Department
from jiuzhu.verification.selectors import Discrepancy

#: Why linkage was unsure of a row, from `linkage` reason codes to words an officer reads.
LINK_REASONS: dict[str, str | Promise] = {
    "name_missing": _("no name on the record"),
    "name_homophone": _("the name sounds the same but is written differently"),
    "name_similar": _("the name is similar"),
    "name_differs": _("the name differs"),
    "birth_date_missing": _("no birth date on the record"),
    "birth_date_one_off": _("the birth date differs by one digit or swapped day and month"),
    "birth_date_differs": _("the birth date differs"),
    "sex_differs": _("the sex differs"),
    "area_township": _("another village of the same township"),
    "area_differs": _("another area"),
    "id_typo": _("the ID number differs by a typing error"),
    "id_differs": _("the ID number differs"),
    "id_missing": _("no ID number on the record"),
    "id_checksum_bad": _("the ID number on the record is not valid (check digit)"),
    "id_conflict": _("the ID number on the record belongs to another registered person"),
    "id_unknown": _("the ID number on the record is not in the register"),
    "ambiguous": _("more than one registered person fits"),
    "no_candidate": _("no registered person comes close"),
}

RECORD_LABELS: dict[str, str | Promise] = {"income": _("income"), "asset": _("asset"), "expense": _("expense")}


def link_reasons(codes: str) -> list[str]:
    """The ";"-joined reason codes of a row as words; an unknown code is shown as it is."""
    return [str(LINK_REASONS.get(code, code)) for code in codes.split(";") if code]


def target_label(record: str, kind: str) -> str:
    return f"{LABELS.get(kind, kind)} ({RECORD_LABELS.get(record, record)})"


class DepartmentField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Department) -> str:
        return obj.name


class DepartmentsField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Department) -> str:
        return obj.name


class PersonField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Person) -> str:
        return obj.name


class ExportForm(forms.Form):
    """The request file of one department, in one of the formats this installation writes."""

    department = DepartmentField(label=_("Department"), queryset=Department.objects.none(), widget=forms.HiddenInput)
    format = forms.ChoiceField(label=_("Format"))

    def __init__(self, *args: Any, departments: QuerySet[Department], formats: tuple[str, ...],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments
        self.fields["format"].choices = [(f, f.upper()) for f in formats]  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    """A department's answer file or list, as it came."""

    department = DepartmentField(label=_("Department"), queryset=Department.objects.none(),
                                 empty_label=_("— choose —"))
    kind = forms.ChoiceField(
        label=_("What the file holds"), initial="answer", widget=forms.RadioSelect,
        choices=[(k, label) for k, label in (("answer", _("answers to our request file")),
                                             ("list", _("a list the department sends on its own (deaths, "
                                                        "certificates, claims)"))) if k in KINDS])
    file = forms.FileField(label=_("File"), help_text=_("CSV, Excel (xlsx) or JSON in the exchange format; the "
                                                        "file name's ending says which."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.json"}))

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments


class RequestForm(forms.Form):
    """发起核对: which departments are asked about the household, and why."""

    departments = DepartmentsField(label=_("Departments to ask"), queryset=Department.objects.none(),
                                   widget=forms.CheckboxSelectMultiple,
                                   error_messages={"required": _("Choose at least one department.")})
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Kept with every request and in the audit log, e.g. “dibao application, "
                                         "first verification”."),
                             error_messages={"required": _("Say why the household is checked.")})

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["departments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = departments


class ConfirmForm(forms.Form):
    """An officer's word on one row linkage was unsure of."""

    decision = forms.ChoiceField(label=_("Is the record about this person?"), widget=forms.RadioSelect,
                                 choices=[("same", _("same person")), ("other", _("not this person"))],
                                 error_messages={"required": _("Say whether it is the same person.")})
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("What you checked, e.g. “same name and birth date; the ID number on the "
                                         "bank's record has two digits swapped”."),
                             error_messages={"required": _("Write why you decided so.")})


class OverrideForm(forms.Form):
    """The figure an officer sets over the verified one for one discrepancy; the reason is
    required by the service, which says so when it is missing."""

    target = forms.CharField(widget=forms.HiddenInput, required=False)
    person = PersonField(label=_("Member"), queryset=Person.objects.none(), required=False,
                         empty_label=_("— the household as a whole —"),
                         help_text=_("Choose the member whose verified figure this replaces. A figure for the "
                                     "household as a whole replaces only a whole-household figure; the members' "
                                     "verified figures are still counted beside it."))
    amount = forms.DecimalField(label=_("Figure to use (yuan)"), min_value=0, max_digits=12, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, discrepancies: list[Discrepancy], members: QuerySet[Person],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {f"{d.record}:{d.kind}": (d.record, d.kind) for d in discrepancies}
        field = self.fields["person"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = members

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") not in self.targets:
            # The hidden field names the row; said on top, as there is nothing the user can correct in it.
            self.add_error(None, _("There is no such discrepancy (any more) in this household's file; reload the "
                                   "report."))
        return data

    def chosen(self) -> tuple[str, str]:
        return self.targets[self.cleaned_data["target"]]

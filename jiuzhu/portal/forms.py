"""The means-test calculator's forms and their translation into the engine's JSON case.

The forms only parse what was typed (a date is a date, a number a number); whether
the household makes sense is the engine's judgement, so the page and the command line
give the same messages (DOMAIN.md §13). Each section's rows remember which engine path
they became, so a problem at `household.members[1].birth_date` lands beside that field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import BaseFormSet, formset_factory
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiuzhu.portal import choices

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
DATE_FORMATS = ["%Y-%m-%d"]
#: Integers beyond this are passed as floats (a float's exact range), so 1e400 reaches the
#: engine as infinity, which it refuses as "must be a number".
EXACT_INTEGERS = 2**53


def json_value(value: Any) -> Any:
    """A cleaned form value as the engine reads it: dates as text, 3200 an integer, 0.25 a float."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        whole = value == value.to_integral_value() and abs(value) < EXACT_INTEGERS
        return int(value) if whole else float(value)
    return value


def given(cleaned: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The named values that were entered (an empty field or an unticked box is left out)."""
    return {
        name: json_value(cleaned[name])
        for name in names
        if cleaned.get(name) is not None and cleaned[name] not in ("", []) and cleaned[name] is not False
    }


class CaseForm(forms.Form):
    """The case's context and the household-level fields."""

    region = forms.CharField(
        label=_("Region (division code)"), required=False, initial="220882", max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 12}),
    )
    date = forms.DateField(
        label=_("Date the rules apply"), required=False, initial=dt.date.today,
        widget=DATE_WIDGET, input_formats=DATE_FORMATS,
    )
    area_type = forms.ChoiceField(
        label=_("Area type"), required=False, choices=choices.AREA_TYPES, initial="rural",
    )
    household_id = forms.CharField(label=_("Household ID"), required=False, initial="H1", max_length=64)
    previous_topup = forms.DecimalField(
        label=_("Top-up before employment started (yuan/year)"), required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    employment_started = forms.DateField(
        label=_("Employment started (gradual exit)"), required=False,
        widget=DATE_WIDGET, input_formats=DATE_FORMATS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # labels sit above their inputs
        super().__init__(*args, **kwargs)


class RowForm(forms.Form):
    """One row of a section. Its inputs have no <label>, so the field label becomes aria-label."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                field.widget.attrs.setdefault("aria-label", field.label)

    def is_removed(self) -> bool:
        """Marked for removal with the row's remove button (the formset's DELETE box)."""
        return bool(self.cleaned_data.get("DELETE")) if hasattr(self, "cleaned_data") else False

    def to_case(self) -> dict[str, Any]:
        """This row as a list item of the case: the fields entered, named as in the contract."""
        return given(self.cleaned_data, (name for name in self.fields if name != "DELETE"))


def amount_field(label: StrOrPromise) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, widget=forms.NumberInput(attrs={"step": "any"}))


def member_field() -> forms.CharField:
    return forms.CharField(label=_("Member ID"), required=False, max_length=64,
                           widget=forms.TextInput(attrs={"size": 5}))


def kind_field(kinds: choices.Choices) -> forms.ChoiceField:
    return forms.ChoiceField(label=_("Kind"), required=False, choices=choices.with_blank(kinds))


class MemberForm(RowForm):
    id = member_field()
    relation = forms.ChoiceField(label=_("Relation"), required=False,
                                 choices=choices.with_blank(choices.RELATIONS))
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=choices.with_blank(choices.SEXES))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_WIDGET,
                                 input_formats=DATE_FORMATS)
    disability_grade = forms.IntegerField(label=_("Disability grade (1–10)"), required=False)
    health_coefficient = forms.DecimalField(label=_("Health coefficient (0–1)"), required=False,
                                            widget=forms.NumberInput(attrs={"step": "any"}))
    categories = forms.MultipleChoiceField(label=_("Categories"), required=False,
                                           choices=choices.CATEGORIES, widget=forms.CheckboxSelectMultiple)
    not_counted_reason = forms.ChoiceField(label=_("Not counted because"), required=False,
                                           choices=choices.with_blank(choices.NOT_COUNTED_REASONS))
    refused_work = forms.BooleanField(label=_("Refused suitable work"), required=False)


class IncomeForm(RowForm):
    kind = kind_field(choices.INCOME_KINDS)
    amount = amount_field(_("Amount (yuan/year)"))
    member = member_field()
    occupation = forms.ChoiceField(label=_("Occupation (imputed wage)"), required=False,
                                   choices=choices.with_blank(choices.OCCUPATIONS))
    monthly_reference = amount_field(_("Reference earnings (yuan/month)"))
    months = forms.DecimalField(label=_("Months worked"), required=False,
                                widget=forms.NumberInput(attrs={"step": "any"}))


class AssetForm(RowForm):
    kind = kind_field(choices.ASSET_KINDS)
    value = amount_field(_("Value (yuan)"))
    count = forms.IntegerField(label=_("Count (homes)"), required=False)
    exempt = forms.BooleanField(label=_("Exempt (e.g. a disability vehicle)"), required=False)
    member = member_field()


class ExpenseForm(RowForm):
    kind = kind_field(choices.EXPENSE_KINDS)
    amount = amount_field(_("Amount (yuan/year)"))
    member = member_field()


class ParameterForm(RowForm):
    name = forms.CharField(label=_("Parameter"), required=False, max_length=200,
                           widget=forms.TextInput(attrs={"list": "parameter-names", "size": 44}))
    value = forms.CharField(label=_("Value"), required=False, max_length=500,
                            help_text=_("A number, true/false, a JSON list, or text."))

    def override(self) -> tuple[str, Any]:
        """The dotted name and its value: JSON where it parses (3600, 0.25, true), text otherwise."""
        raw = self.cleaned_data.get("value") or ""
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        return self.cleaned_data.get("name") or "", value


MemberFormSet = formset_factory(MemberForm, extra=1, can_delete=True)
IncomeFormSet = formset_factory(IncomeForm, extra=1, can_delete=True)
AssetFormSet = formset_factory(AssetForm, extra=1, can_delete=True)
ExpenseFormSet = formset_factory(ExpenseForm, extra=1, can_delete=True)
ParameterFormSet = formset_factory(ParameterForm, extra=0, can_delete=True)

#: section prefix (also its key in the case) → formset class, heading, label of its add button
SECTIONS: dict[str, tuple[type[BaseFormSet[Any]], str | Promise, str | Promise]] = {
    "members": (MemberFormSet, _("Members"), _("Add a member")),
    "income": (IncomeFormSet, _("Income"), _("Add an income item")),
    "assets": (AssetFormSet, _("Assets"), _("Add an asset")),
    "expenses": (ExpenseFormSet, _("Expenses and deductions"), _("Add an expense")),
    "parameters": (ParameterFormSet, _("Parameter overrides"), _("Add an override")),
}
HOUSEHOLD_SECTIONS = ("members", "income", "assets", "expenses")
#: engine path → field of the case form
CASE_FIELDS = {
    "region": "region", "date": "date", "area_type": "area_type", "household.id": "household_id",
    "household.previous_topup": "previous_topup", "household.employment_started": "employment_started",
}

_ROW_PATH = re.compile(r"^household\.(?P<section>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")
_PARAMETER_PATH = re.compile(r"""^parameters(?:\.|\[["']?)(?P<name>[\w.]*?)(?:["']?\])?$""")


@dataclass(frozen=True)
class Message:
    """One line of the summary above the form: where (translated), what, and the field's id."""

    where: str
    text: str
    field_id: str | None = None


@dataclass(frozen=True)
class Section:
    """What the template needs to draw one section of rows."""

    prefix: str
    title: str | Promise
    add_label: str | Promise
    formset: BaseFormSet[Any]
    errors: list[str]


class Calculator:
    """The whole calculator: the case fields and one formset per section."""

    def __init__(self, data: Any = None) -> None:
        self.case_form = CaseForm(data)
        self.formsets = {prefix: spec[0](data, prefix=prefix) for prefix, spec in SECTIONS.items()}
        #: section → its filled rows, in the order they became the case's list items
        self.rows: dict[str, list[RowForm]] = {}
        #: section → problems about the section as a whole ("at least one member")
        self.section_errors: dict[str, list[str]] = {prefix: [] for prefix in SECTIONS}
        self.unplaced: list[Message] = []

    @property
    def sections(self) -> list[Section]:
        return [
            Section(prefix, title, add_label, self.formsets[prefix], self.section_errors[prefix])
            for prefix, (_cls, title, add_label) in SECTIONS.items()
        ]

    def is_valid(self) -> bool:
        valid = self.case_form.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        return valid

    def to_case(self) -> dict[str, Any]:
        """The engine's input (DOMAIN.md §13) from valid forms; empty and removed rows left out."""
        data = self.case_form.cleaned_data
        case = given(data, ("region", "date", "area_type"))
        self.rows = {prefix: self._filled(prefix) for prefix in SECTIONS}
        overrides = dict(cast(ParameterForm, form).override() for form in self.rows["parameters"])
        if overrides:
            case["parameters"] = overrides
        household = given(data, ("household_id", "previous_topup", "employment_started"))
        if "household_id" in household:
            household = {"id": household.pop("household_id"), **household}
        for prefix in HOUSEHOLD_SECTIONS:
            household[prefix] = [form.to_case() for form in self.rows[prefix]]
        case["household"] = household
        return case

    def _filled(self, prefix: str) -> list[RowForm]:
        forms_ = cast(list[RowForm], self.formsets[prefix].forms)
        return [form for form in forms_ if form.has_changed() and not form.is_removed()]

    def add_problems(self, problems: list[dict[str, str]]) -> None:
        """Puts each engine problem beside its field; what has no field goes to the summary."""
        for problem in problems:
            path, message = problem["path"], problem["message"]
            section = path.removeprefix("household.") if path.startswith("household.") else path
            if section in self.section_errors:
                self.section_errors[section].append(message)
                continue
            form, field = self._locate(path)
            if form is None:
                self.unplaced.append(Message(path, message))
            else:
                form.add_error(field, message)

    def _locate(self, path: str) -> tuple[forms.Form | None, str | None]:
        """The form and field (None: the form as a whole) a problem's path points at."""
        if path in CASE_FIELDS:
            return self.case_form, CASE_FIELDS[path]
        if match := _ROW_PATH.match(path):
            rows = self.rows.get(match["section"], [])
            index = int(match["index"])
            if match["section"] in HOUSEHOLD_SECTIONS and index < len(rows):
                form = rows[index]
                return form, match["field"] if match["field"] in form.fields else None
        if match := _PARAMETER_PATH.match(path):
            for form in self.rows.get("parameters", []):
                if form.cleaned_data.get("name") == match["name"]:
                    return form, "value"
        if path == "household" or path.startswith(("household.", "parameters")):
            return self.case_form, None
        return None, None

    def messages(self) -> list[Message]:
        """Every error, in page order, for the summary at the top."""
        found = self._form_messages(self.case_form, "")
        for section in self.sections:
            title = str(section.title)
            found.extend(Message(title, str(error)) for error in section.formset.non_form_errors())
            found.extend(Message(title, error) for error in section.errors)
            visible = [form for form in section.formset.forms if not form.is_removed()]
            for row, form in enumerate(visible, start=1):
                where = gettext("%(section)s, row %(row)d") % {"section": title, "row": row}
                found.extend(self._form_messages(form, where))
        found.extend(self.unplaced)
        return found

    @staticmethod
    def _form_messages(form: forms.Form, where: str) -> list[Message]:
        found: list[Message] = []
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                label, field_id = where, None
            else:
                bound = form[name]
                label = f"{where} · {bound.label}" if where else str(bound.label)
                field_id = bound.id_for_label
            found.extend(Message(label, str(error), field_id) for error in errors)
        return found

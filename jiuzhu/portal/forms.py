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
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import BaseFormSet, formset_factory
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiuzhu.portal.selectors import FactKinds, fact_kinds
from jiuzhu.registry import choices

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
    local_hukou = forms.BooleanField(label=_("Local household registration (hukou)"), required=False,
                                     initial=True)
    single_applicant = forms.CharField(
        label=_("Member applying alone (single-person household)"), required=False, max_length=64,
        widget=forms.TextInput(attrs={"size": 5}),
    )
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


#: How a caseworker may type a yes or no fact.
BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "是": True, "否": False,
                 "1": True, "0": False}


def fact_value(raw: str, kind: str | None) -> Any:
    """A typed fact as its declared type: true/false, a number, text otherwise (dates as ISO text).

    What does not read as its type, and every fact the region does not know, is passed as
    typed, so the engine names the problem in its own words."""
    text = raw.strip()
    if kind == "boolean":
        return BOOLEAN_WORDS.get(text.lower(), text)
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return json_value(number) if number.is_finite() else text
    return text


class FactForm(RowForm):
    """One programme fact (fire, special disease, tekun …): a member's, or the household's."""

    member = forms.CharField(label=_("Member ID (empty: the household)"), required=False, max_length=64,
                             widget=forms.TextInput(attrs={"size": 5}))
    name = forms.CharField(label=_("Fact"), required=False, max_length=100,
                           widget=forms.TextInput(attrs={"list": "fact-names", "size": 28}))
    value = forms.CharField(label=_("Value"), required=False, max_length=500,
                            help_text=_("true/false, a number, a date (YYYY-MM-DD), or one of the "
                                        "choices the name list shows."))

    @property
    def member_id(self) -> str:
        return str(self.cleaned_data.get("member") or "")

    @property
    def fact_name(self) -> str:
        return str(self.cleaned_data.get("name") or "")


MemberFormSet = formset_factory(MemberForm, extra=1, can_delete=True)
IncomeFormSet = formset_factory(IncomeForm, extra=1, can_delete=True)
AssetFormSet = formset_factory(AssetForm, extra=1, can_delete=True)
ExpenseFormSet = formset_factory(ExpenseForm, extra=1, can_delete=True)
FactFormSet = formset_factory(FactForm, extra=0, can_delete=True)
ParameterFormSet = formset_factory(ParameterForm, extra=0, can_delete=True)

#: section prefix (also its key in the case) → formset class, heading, label of its add button
SECTIONS: dict[str, tuple[type[BaseFormSet[Any]], str | Promise, str | Promise]] = {
    "members": (MemberFormSet, _("Members"), _("Add a member")),
    "income": (IncomeFormSet, _("Income"), _("Add an income item")),
    "assets": (AssetFormSet, _("Assets"), _("Add an asset")),
    "expenses": (ExpenseFormSet, _("Expenses and deductions"), _("Add an expense")),
    "facts": (FactFormSet, _("Programme facts"), _("Add a fact")),
    "parameters": (ParameterFormSet, _("Parameter overrides"), _("Add an override")),
}
HOUSEHOLD_SECTIONS = ("members", "income", "assets", "expenses")
#: engine path → field of the case form
CASE_FIELDS = {
    "region": "region", "date": "date", "area_type": "area_type", "household.id": "household_id",
    "household.previous_topup": "previous_topup", "household.employment_started": "employment_started",
    "household.local_hukou": "local_hukou", "household.single_applicant": "single_applicant",
}

_FACT_PATH = re.compile(r"^household\.(?:members\[(?P<index>\d+)\]\.)?facts\.(?P<name>.*)$")
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
        #: engine path of each fact row → the row and the field its problems belong beside
        self.fact_rows: dict[str, tuple[FactForm, str]] = {}

    @property
    def sections(self) -> list[Section]:
        return [
            Section(prefix, title, add_label, self.formsets[prefix], self.section_errors[prefix])
            for prefix, (_cls, title, add_label) in SECTIONS.items()
        ]

    @property
    def region(self) -> str:
        """The region typed in the form; the initial one before a post or when it is not a code."""
        typed = str(self.case_form.data.get("region", "")).strip()
        return typed if typed.isdigit() else str(self.case_form.fields["region"].initial)

    def is_valid(self) -> bool:
        valid = self.case_form.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        return valid and self._facts_are_placed()

    def _facts_are_placed(self) -> bool:
        """Each fact row names a member of the household (or none), and no fact is given twice.

        The case has nowhere to put a fact of an unknown member, so the page says so itself."""
        ids = {form.cleaned_data.get("id") for form in self._filled("members")}
        seen: set[tuple[str, str]] = set()
        placed = True
        for form in cast(list[FactForm], self._filled("facts")):
            member, name = form.member_id, form.fact_name
            if (member, name) in seen:
                form.add_error("name", gettext("is already given in an earlier row"))
                placed = False
            seen.add((member, name))
            if member and member not in ids:
                form.add_error("member", gettext("refers to member “{member}”, who is not in the household")
                               .format(member=member))
                placed = False
        return placed

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
        household["local_hukou"] = bool(data.get("local_hukou"))
        if data.get("single_applicant"):
            household["single_applicant"] = data["single_applicant"]
        for prefix in HOUSEHOLD_SECTIONS:
            household[prefix] = [form.to_case() for form in self.rows[prefix]]
        self._add_facts(household, fact_kinds(str(case.get("region", ""))))
        case["household"] = household
        return case

    def _add_facts(self, household: dict[str, Any], kinds: FactKinds) -> None:
        """Each fact row into `household.facts` or its member's `facts`, typed as the region declares.

        Remembers each row's engine path, and which field a problem there is about: the
        value for a known fact, the member for a fact of the other kind, else the name."""
        members: list[dict[str, Any]] = household["members"]
        index: dict[str, int] = {}
        for i, row in enumerate(members):
            index.setdefault(row.get("id", ""), i)
        self.fact_rows = {}
        for form in cast(list[FactForm], self.rows["facts"]):
            member, name = form.member_id, form.fact_name
            own, other = (kinds.members, kinds.household) if member else (kinds.household, kinds.members)
            value = fact_value(form.cleaned_data.get("value") or "", own.get(name))
            if member:
                at = index[member]  # `is_valid` refused a member the household does not have
                members[at].setdefault("facts", {})[name] = value
                path = f"household.members[{at}].facts.{name}"
            else:
                household.setdefault("facts", {})[name] = value
                path = f"household.facts.{name}"
            self.fact_rows[path] = (form, "value" if name in own else "member" if name in other else "name")

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
            if path in self.fact_rows:
                row, field_name = self.fact_rows[path]
                row.add_error(field_name, message)
                continue
            if match := _FACT_PATH.match(path):
                self.section_errors["facts"].append(self._missing_fact(match, message))
                continue
            form, field = self._locate(path)
            if form is None:
                self.unplaced.append(Message(path, message))
            else:
                form.add_error(field, message)

    def _missing_fact(self, match: re.Match[str], message: str) -> str:
        """A problem about a fact no row gives (one a programme needs): named in the section's errors."""
        if match["index"] is None:
            where = gettext("the household")
        else:
            index = int(match["index"])
            members = self.rows.get("members", [])
            member = members[index].cleaned_data.get("id") if index < len(members) else None
            where = gettext("member %(member)s") % {"member": member or index + 1}
        return gettext("%(fact)s (%(where)s): %(message)s") % {
            "fact": match["name"], "where": where, "message": message}

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

"""Forms of the intake wizard (一门受理): household and members, declared facts, programmes.

They only parse what was typed. Member and fact rows are plain forms with a row prefix
(``members-0-id_number``), so an untouched row is skipped and a row with an error keeps
everything typed in it. The registry and casework services still decide whether the
household, the persons and the intake may be written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from jiuzhu.areas.models import Area
from jiuzhu.casework.models import Channel
from jiuzhu.registry import choices as labels
from jiuzhu.registry.models import AREA_TYPE_CHOICES, DISABILITY_TYPES, NOT_COUNTED_LABELS, RELATION_LABELS, SEX_CHOICES
from jiuzhu.rules import vocabulary as v

#: More rows than any household has; a forged row count cannot make the server build thousands of forms.
MAX_ROWS = 30
BLANK: list[tuple[str, Any]] = [("", "---------")]
DATE_INPUT = forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}, format="%Y-%m-%d")


class SearchForm(forms.Form):
    """Find the household first: one ID, one person, one household file."""

    q = forms.CharField(label=_("Name, ID number or file number"), max_length=50, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))


class VillageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.name_zh} ({obj.code})"


class HouseholdForm(forms.Form):
    """A new household: where it lives. Its members come as rows below it."""

    village = VillageChoiceField(label=_("Village or community"), queryset=Area.objects.none())
    area_type = forms.ChoiceField(label=_("Urban or rural"), choices=AREA_TYPE_CHOICES, initial="rural")
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def __init__(self, *args: Any, villages: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["village"]
        assert isinstance(field, VillageChoiceField)
        field.queryset = villages
        if villages.count() == 1:
            field.initial = villages.first()


class RowForm(forms.Form):
    """One row of a repeated group; left blank, it is skipped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_permitted", True)
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    def fields_with_paths(self) -> list[tuple[Any, str]]:
        """Each bound field with its path as the services name it: ``members-1`` → ``members[1].name``."""
        group, _dash, index = (self.prefix or "").rpartition("-")
        return [(self[name], f"{group}[{index}].{name}") for name in self.fields]

    def raw_values(self) -> dict[str, Any]:
        """What was typed, as it was typed, to show again as the initial values of a new row."""
        return {name: self[name].value() for name in self.fields}


class MemberForm(RowForm):
    """One member (§3): identity, relation, counted or not (with the reason), disability."""

    id_number = forms.CharField(label=_("ID number"), max_length=25,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text",
                                                              "size": 20}))
    name = forms.CharField(label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"size": 8}))
    sex = forms.ChoiceField(label=_("Sex"), choices=BLANK + SEX_CHOICES, required=False,
                            help_text=_("Blank: read from the ID number."))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_INPUT,
                                 help_text=_("Blank: read from the ID number."))
    hukou_type = forms.ChoiceField(label=_("Hukou type"), choices=AREA_TYPE_CHOICES, initial="rural")
    relation = forms.ChoiceField(label=_("Relation to the head"),
                                 choices=BLANK + [(r, RELATION_LABELS.get(r, r)) for r in v.RELATIONS])
    counted = forms.ChoiceField(label=_("Counted member"), initial="yes",
                                choices=[("yes", _("counted")), ("no", _("not counted"))])
    not_counted_reason = forms.ChoiceField(
        label=_("Why not counted"), required=False,
        choices=BLANK + [(r, NOT_COUNTED_LABELS.get(r, r)) for r in v.NOT_COUNTED_REASONS])
    disability_grade = forms.TypedChoiceField(label=_("Disability grade"), required=False, coerce=int,
                                              empty_value=None,
                                              choices=BLANK + [(str(g), str(g)) for g in range(1, 11)])
    disability_type = forms.ChoiceField(label=_("Disability type"), required=False,
                                        choices=BLANK + list(DISABILITY_TYPES))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        counted = data.get("counted") == "yes"
        if not counted and not data.get("not_counted_reason"):
            self.add_error("not_counted_reason", _("say why this member is not counted"))
        if counted and data.get("not_counted_reason"):
            self.add_error("not_counted_reason", _("only for a member who is not counted"))
        if data.get("disability_type") and not data.get("disability_grade"):
            self.add_error("disability_grade", _("give the grade with the type"))
        return data


class IncomeForm(RowForm):
    """Declared income, yuan per year; an imputed wage as reference earnings × months (§4.1)."""

    kind = forms.ChoiceField(label=_("Kind of income"), choices=BLANK + labels.INCOME_KINDS)
    member = forms.ChoiceField(label=_("Member"), required=False, choices=BLANK)
    amount = forms.DecimalField(label=_("Yuan per year"), required=False, max_digits=12, decimal_places=2,
                                min_value=Decimal(0))
    monthly_reference = forms.DecimalField(label=_("Reference yuan per month"), required=False, max_digits=10,
                                           decimal_places=2, min_value=Decimal(0))
    months = forms.DecimalField(label=_("Months"), required=False, max_digits=4, decimal_places=1,
                                min_value=Decimal(0), max_value=Decimal(12))

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = BLANK + members  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == v.IMPUTED_WAGE:
            for name in ("monthly_reference", "months"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("an imputed wage needs the monthly reference and the months"))
            if data.get("amount") is not None:
                self.add_error("amount", _("an imputed wage is computed: leave the yearly amount blank"))
        elif data.get("kind"):
            if data.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", _("give the amount"))
            for name in ("monthly_reference", "months"):
                if data.get(name) is not None:
                    self.add_error(name, _("only for an imputed wage"))
        return data


class AssetForm(RowForm):
    kind = forms.ChoiceField(label=_("Kind of asset"), choices=BLANK + labels.ASSET_KINDS)
    member = forms.ChoiceField(label=_("Member"), required=False, choices=BLANK)
    value = forms.DecimalField(label=_("Value (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal(0))

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = BLANK + members  # type: ignore[attr-defined]


class ExpenseForm(RowForm):
    kind = forms.ChoiceField(label=_("Kind of expense"), choices=BLANK + labels.EXPENSE_KINDS)
    member = forms.ChoiceField(label=_("Member"), required=False, choices=BLANK)
    amount = forms.DecimalField(label=_("Yuan per year"), max_digits=12, decimal_places=2, min_value=Decimal(0))

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = BLANK + members  # type: ignore[attr-defined]


class Rows:
    """A repeated group of row forms named ``<prefix>-<i>-<field>`` with ``<prefix>-TOTAL``.

    Bound to a POST, every row is parsed and blank ones are skipped; unbound, the rows
    show `initial` (what was saved in the wizard) and `extra` blank rows after them."""

    def __init__(self, form_class: type[RowForm], prefix: str, *, data: QueryDict | None = None,
                 initial: list[dict[str, Any]] | None = None, extra: int = 1, **form_kwargs: Any) -> None:
        self.prefix = prefix
        self.form_class = form_class
        self.form_kwargs = form_kwargs
        self.forms: list[RowForm]
        if data is not None:
            count = _row_count(data.get(f"{prefix}-TOTAL"))
            self.forms = [form_class(data, prefix=f"{prefix}-{i}", **form_kwargs) for i in range(count)]
        else:
            rows = list(initial or [])
            self.forms = [form_class(prefix=f"{prefix}-{i}", initial=row, **form_kwargs)
                          for i, row in enumerate(rows)]
            self.forms += [form_class(prefix=f"{prefix}-{len(rows) + i}", **form_kwargs) for i in range(extra)]

    def __iter__(self) -> Iterator[RowForm]:
        return iter(self.forms)

    @property
    def total(self) -> int:
        return len(self.forms)

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms])  # every row validated, so each shows its errors

    def filled(self) -> list[tuple[int, RowForm]]:
        """The rows something was typed in, with their index in the page (for error paths)."""
        return [(i, form) for i, form in enumerate(self.forms) if form.has_changed()]

    def with_extra_row(self) -> Rows:
        """The same rows, unbound, showing what was typed, and one blank row more."""
        rows = [form.raw_values() for form in self.forms][:MAX_ROWS - 1]
        return Rows(self.form_class, self.prefix, initial=rows, extra=1, **self.form_kwargs)


def _row_count(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), MAX_ROWS))
    except ValueError:
        return 0


class ProgrammesForm(forms.Form):
    """Step 3: programmes (several at once), channel, applicant, consents, promise, missing items.

    One consent pair (a recorded signature or a scan) per adult counted member, named by
    the member's key so that the error of one member shows beside that member."""

    programmes = forms.MultipleChoiceField(label=_("Programmes applied for"), widget=forms.CheckboxSelectMultiple,
                                           error_messages={"required": _("choose at least one programme")})
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect)
    applicant = forms.ChoiceField(label=_("Applicant"))
    truth_promise = forms.BooleanField(
        label=_("The applicant has signed the promise that everything declared is true and complete"), label_suffix="",
        error_messages={"required": _("the applicant must sign the promise of truth")})
    missing_items = forms.CharField(
        label=_("Missing items (one per line)"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Listed once on the printable slip (一次性告知书): everything still to bring."))

    def __init__(self, *args: Any, programmes: list[tuple[str, str]], members: list[dict[str, Any]],
                 adults: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programmes"].choices = programmes  # type: ignore[attr-defined]
        self.fields["applicant"].choices = [(m["key"], m["name"]) for m in members]  # type: ignore[attr-defined]
        head = next((m["key"] for m in members if m.get("relation") == "head"), None)
        if head:
            self.fields["applicant"].initial = head
        self.adults = adults
        for member in adults:
            key = member["key"]
            self.fields[f"signature_{key}"] = forms.CharField(
                label=_("Recorded signature of %(name)s") % {"name": member["name"]}, required=False,
                max_length=200, help_text=_("The name as signed, typed or drawn."))
            self.fields[f"scan_{key}"] = forms.FileField(
                label=_("or a scan of the signed consent"), required=False,
                widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}))

    def consent_rows(self) -> list[dict[str, Any]]:
        """Per adult member: the member and the bound fields of their consent."""
        return [{"member": m, "signature": self[f"signature_{m['key']}"], "scan": self[f"scan_{m['key']}"]}
                for m in self.adults]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for member in self.adults:
            key = member["key"]
            if not (data.get(f"signature_{key}") or "").strip() and not data.get(f"scan_{key}"):
                self.add_error(f"signature_{key}",
                               _("%(name)s is an adult member: record their signature or upload the signed "
                                 "consent") % {"name": member["name"]})
        return data

    def missing_item_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("missing_items", "").splitlines() if line.strip()]


def member_row_state(form: MemberForm, *, sex: str, birth_date: dt.date, person_id: int | None) -> dict[str, Any]:
    """A member row as the wizard keeps it in the session (JSON: dates as YYYY-MM-DD)."""
    data = form.cleaned_data
    return {
        "id_number": data["id_number"], "name": data["name"].strip(), "sex": sex,
        "birth_date": birth_date.isoformat(), "hukou_type": data["hukou_type"], "relation": data["relation"],
        "counted": data["counted"], "not_counted_reason": data.get("not_counted_reason") or "",
        "disability_grade": data.get("disability_grade"), "disability_type": data.get("disability_type") or "",
        "person_id": person_id,
    }


def fact_row_state(form: RowForm) -> dict[str, Any]:
    """A fact row for the session: amounts as strings, so no float ever touches money."""
    return {name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in form.cleaned_data.items() if value not in (None, "")}


def check_unique(rows: list[tuple[int, RowForm]], field: str, message: Any) -> None:
    """Flag every row whose `field` repeats an earlier row's value."""
    seen: set[str] = set()
    for _index, form in rows:
        value = str(form.cleaned_data.get(field) or "").strip().upper()
        if value and value in seen:
            form.add_error(field, message)
        seen.add(value)


"""Forms of the account pages: sign-in, the second factor, and the user administration.

They only parse and validate what was typed; the services decide whether the
administrator may do it.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.models import Area


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: by field where the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message if target or field == "__all__" else f"{field}: {message}")
    else:
        for message in error.messages:
            form.add_error(None, message)

class SignInForm(AuthenticationForm):
    """Django's sign-in form (axes counts its failures) with browser hints for password managers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class TokenForm(forms.Form):
    """The six digits the authenticator app shows now."""

    code = forms.CharField(
        label=_("Code from the authenticator app"), min_length=6, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}",
                                      "autofocus": True, "size": 8}),
        error_messages={"min_length": _("Enter the 6 digits."), "max_length": _("Enter the 6 digits.")},
    )

    def clean_code(self) -> str:
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if not code.isdigit():
            raise ValidationError(_("Enter the 6 digits."))
        return code


class AreaChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.code} {obj.name_zh}"


def clean_id_number(value: str) -> str:
    """Blank, or 17 digits and a check character (ISO 7064 MOD 11-2)."""
    number = re.sub(r"[\s-]+", "", value).upper()
    if not number:
        return ""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number) or ric.calc_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("This is not a valid resident ID number."))
    return number


class UserFieldsForm(forms.Form):
    """Name, role, area and ID number, shared by the create and edit forms."""

    name = forms.CharField(label=_("Name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none(),
                           help_text=_("Only your own area and the areas inside it."))
    id_number = forms.CharField(label=_("Resident ID number"), max_length=25, required=False,
                                help_text=_("Optional; lets the relatives register find the user's own family."))

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area"]
        assert isinstance(area_field, AreaChoiceField)
        area_field.queryset = areas

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])


class PasswordPairMixin(forms.Form):
    """A new password typed twice and checked against the password validators."""

    password1 = forms.CharField(label=_("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def password_user(self) -> User | None:
        """The user the password will belong to, for the similarity check."""
        return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first, self.password_user())
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserCreateForm(PasswordPairMixin, UserFieldsForm):
    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and @ . + - _ only; used to sign in."))
    field_order = ("username", "name", "role", "area", "id_number", "password1", "password2")

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def password_user(self) -> User | None:
        return User(username=self.cleaned_data.get("username", ""), first_name=self.cleaned_data.get("name", ""))


class UserEditForm(UserFieldsForm):
    pass


class PasswordSetForm(PasswordPairMixin):
    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def password_user(self) -> User | None:
        return self.user


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100,
                           help_text=_("For example the system or script that will use it."))


class AuditFilterForm(forms.Form):
    object_type = forms.CharField(label=_("Object type"), max_length=60, required=False,
                                  help_text=_("For example accounts.user"))
    object_id = forms.CharField(label=_("Object id"), max_length=40, required=False)

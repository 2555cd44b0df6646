"""The county admin's page of data-sharing agreements (数据共享协议) with partner systems.

Until now only the operator's CLI (`jiuzhu dci agreement-add`) kept them. Here a county
admin sees which partners may ask our social registry, about which area, with which
queries, fields and events, and adds, changes or switches off an agreement; the same
`agreement_save` checks every field and writes the audit entry. The page also shows our
own sender id and public key, which the partner registers on its side.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from jiuzhu.accounts import services as account_services
from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.api.dci import keys
from jiuzhu.api.dci.agreements import agreement_save
from jiuzhu.api.models import DciAgreement, EventType
from jiuzhu.areas.models import Level
from jiuzhu.dci import envelope, query

#: What each query type lets a partner do, in words an admin can weigh.
QUERY_TYPE_LABELS = {
    "idtype-value": gettext_lazy("look up by ID number"),
    "predicate": gettext_lazy("search by attributes (household size, area, urban/rural, programme)"),
    "expression": gettext_lazy("search by an expression of attributes"),
}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class AgreementForm(forms.Form):
    sender_id = forms.CharField(label=gettext_lazy("Partner sender id"), max_length=100,
                                help_text=gettext_lazy("The name the partner signs its messages with."))
    name = forms.CharField(label=gettext_lazy("Partner name"), max_length=200)
    area = forms.ChoiceField(label=gettext_lazy("Area the partner may ask about"))
    public_key = forms.CharField(label=gettext_lazy("Partner public key (Ed25519, PEM or base64)"),
                                 widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}))
    key_id = forms.CharField(label=gettext_lazy("Registered key id"), max_length=100, required=False,
                             help_text=gettext_lazy("Empty: any key id, as long as the signature verifies."))
    # Text, not a URLField: the service checks it with the other fields, so every problem shows at once.
    callback_base_url = forms.CharField(label=gettext_lazy("Callback base URL"), required=False, max_length=500,
                                       help_text=gettext_lazy("Where answers to asynchronous searches and "
                                                              "notifications of events are delivered."))
    query_types = forms.MultipleChoiceField(label=gettext_lazy("Queries allowed"), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            choices=[(q, QUERY_TYPE_LABELS.get(q, q)) for q in query.QUERY_TYPES])
    grants = forms.CharField(label=gettext_lazy("Fields allowed to leave, one per line"), required=False,
                             widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
                             help_text=gettext_lazy("As in the standard's response fields, e.g. Group.group_size, "
                                                    "Person.name, Group.additional_attributes.programmes. "
                                                    "Nothing else of a record is sent."))
    event_types = forms.MultipleChoiceField(label=gettext_lazy("Events it may subscribe to"), required=False,
                                            widget=forms.CheckboxSelectMultiple, choices=EventType.choices)
    active = forms.BooleanField(label=gettext_lazy("Active (switch off to refuse every message at once)"),
                                required=False)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)
        area.choices = areas

    def clean_grants(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["grants"].splitlines() if line.strip()]


def _areas(user: User) -> list[tuple[str, str]]:
    """Whole counties, townships and villages: a partner's scope is rarely narrower than a township."""
    return [(a.code, ("\u2003" if a.level == Level.VILLAGE else "") + f"{a.name_zh} ({a.code})")
            for a in account_services.areas_for(user)]


def _initial(agreement: DciAgreement) -> dict[str, Any]:
    return {"sender_id": agreement.sender_id, "name": agreement.name, "area": agreement.area_id,
            "public_key": agreement.public_key, "key_id": agreement.key_id,
            "callback_base_url": agreement.callback_base_url, "query_types": agreement.allowed_query_types,
            "grants": "\n".join(agreement.allowed_fields), "event_types": agreement.allowed_event_types,
            "active": agreement.active}


def _ours() -> dict[str, str]:
    """Our sender id, key id and public key, to hand to a partner; or why the key is missing.

    The key file is made on first use; a folder that cannot be written must not take the
    list of agreements down with it."""
    try:
        key = keys.signing_key()
    except (OSError, ValueError) as exc:
        return {"sender_id": keys.sender_id(), "problem": _("Our signing key cannot be read or made "
                                                            "(%(error)s): ask the operator to run "
                                                            "“jiuzhu dci keygen”.") % {"error": exc}}
    return {"sender_id": keys.sender_id(), "key_id": key.key_id,
            "public_key": envelope.public_key_pem(key.public_key)}


@staff_required(Action.ADMIN_AGREEMENTS)
@require_GET
def agreements(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = (DciAgreement.objects.filter(area__code__startswith=user.scope_code).select_related("area")
            .order_by("-active", "name"))
    return render(request, "dci/agreements.html", {"agreements": rows, "ours": _ours(),
                                                   "query_labels": QUERY_TYPE_LABELS})


@staff_required(Action.ADMIN_AGREEMENTS)
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    agreement = None
    if pk is not None:
        agreement = DciAgreement.objects.filter(pk=pk, area__code__startswith=user.scope_code).first()
        if agreement is None:
            raise Http404(_("No such agreement in your area."))
    areas = _areas(user)
    if request.method == "GET":
        form = AgreementForm(initial=_initial(agreement) if agreement else {"active": True}, areas=areas)
        return render(request, "dci/agreement_edit.html", {"form": form, "agreement": agreement})
    posted = request.POST.copy()
    if agreement is not None:
        posted["sender_id"] = agreement.sender_id  # a partner's sender id is its key: it does not change
    form = AgreementForm(posted, areas=areas)
    if form.is_valid():
        data = form.cleaned_data
        if agreement is None and DciAgreement.objects.filter(sender_id=data["sender_id"].strip()).exists():
            form.add_error("sender_id", _("An agreement with this sender id exists already: change that one."))
        else:
            try:
                saved = agreement_save(
                    by=user, sender_id=data["sender_id"], name=data["name"], public_key=data["public_key"],
                    area_code=data["area"], callback_base_url=data["callback_base_url"] or "",
                    query_types=data["query_types"], allowed_fields=data["grants"],
                    event_types=data["event_types"], key_id=data["key_id"], active=data["active"])
            except ValidationError as error:
                # The service names the grants "fields", as the CLI and the model do.
                add_service_errors(form, ValidationError(
                    {"grants" if k == "fields" else k: v for k, v in error.message_dict.items()}))
            except PermissionDenied as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(request, _("The agreement with %(name)s is saved.") % {"name": saved.name})
                return redirect("dci_pages:agreements")
    return render(request, "dci/agreement_edit.html", {"form": form, "agreement": agreement}, status=400)


"""The DCI endpoints over our registry, in this process: the partner's real client talks to the
Django app through WSGI; callbacks go over real HTTP to a partner endpoint in a thread."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.api.dci import keys
from jiuzhu.api.dci.agreements import agreement_save
from jiuzhu.api.dci.events import collect_events
from jiuzhu.api.dci.outbox import deliver_pending
from jiuzhu.api.models import DciAgreement, DciMessage, DciNotification, DciSubscription, OutboxStatus
from jiuzhu.casework import dynamic, services
from jiuzhu.dci import codes, envelope
from jiuzhu.dci.client import DciClient, DciError, by_attributes, by_identifier, search_item
from jiuzhu.dci.envelope import SigningKey
from jiuzhu.registry import services as registry_services
from jiuzhu.registry.models import Household, IncomeRecord, Source
from tests import factories as f
from tests.api.support import decided_application, staff
from tests.dci.support import PARTNER, CallbackServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

FIELDS = ["Group.group_identifier", "Group.group_size", "Group.member_list", "Group.additional_attributes.programmes",
          "Group.additional_attributes.event_programme", "Group.additional_attributes.event_month",
          "Member.demographic_info", "Member.additional_attributes.date_of_death",
          "Member.additional_attributes.household", "Person.name", "Person.sex", "Person.identifier"]


@dataclass
class Exchange:
    client: DciClient
    partner: SigningKey
    agreement: DciAgreement
    callbacks: CallbackServer
    family: Household
    single: Household
    elsewhere: Household

    def head_id(self, household: Household) -> str:
        return household.memberships.get(relation="head").person.id_number


class _App:
    """Django as a WSGI app inside the test's transaction: like Django's test client, it keeps the
    request signals from closing the test's database connection (which would end the transaction
    on PostgreSQL)."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            body = b"".join(result)
            result.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def _client(partner: SigningKey, **options: Any) -> DciClient:
    http = httpx.Client(transport=httpx.WSGITransport(app=_App()), base_url="http://testserver")
    return DciClient("http://testserver/api/v1/dci", partner, server_id="jiuzhu",
                     server_public_key=keys.signing_key().public_key, http=http, **options)


@pytest.fixture
def exchange(settings: Any, tmp_path: Path) -> Iterator[Exchange]:
    settings.DCI_PRIVATE_KEY_PATH = tmp_path / "server.pem"
    settings.DCI_SENDER_ID = "jiuzhu"
    settings.DCI_DELIVER_IMMEDIATELY = False
    f.county_tree()
    family, single, elsewhere = f.poor_family(), f.household(f.VILLAGE), f.poor_family(f.OTHER_VILLAGE)
    partner = SigningKey(PARTNER, envelope.generate_private_key())
    with CallbackServer() as callbacks:
        agreement = agreement_save(sender_id=PARTNER, name="民政数据交换平台", area_code=f.TOWNSHIP,
                                   public_key=envelope.public_key_pem(partner.public_key),
                                   callback_base_url=callbacks.base_url,
                                   query_types=["idtype-value", "predicate", "expression"], allowed_fields=FIELDS,
                                   event_types=["enrolment", "exit", "death"])
        client = _client(partner, callback_uri=callbacks.base_url)
        callbacks.client = client
        yield Exchange(client, partner, agreement, callbacks, family, single, elsewhere)


def _number(group: dict[str, Any]) -> str:
    return str(group["group_identifier"][0]["identifier_value"])


# -- search ------------------------------------------------------------------------------

def test_a_sync_search_by_id_number_finds_the_household_with_only_the_agreed_fields(exchange: Exchange) -> None:
    reply = exchange.client.sync_search(by_identifier(exchange.head_id(exchange.family)))
    assert reply.header["status"] == "succ" and reply.header["action"] == "on-search"
    [group] = reply.records()
    assert _number(group) == exchange.family.number
    assert group["group_size"] == 3
    assert set(group) == {"@type", "group_identifier", "group_size", "member_list"}  # no programmes: none active
    member = group["member_list"][0]
    assert set(member) == {"@type", "demographic_info"}
    assert set(member["demographic_info"]) == {"@type", "name", "sex", "identifier"}
    assert member["demographic_info"]["name"] == {"@type": "Name", "surname": "王", "given_name": "大明"}


def test_narrower_agreement_sends_less(exchange: Exchange) -> None:
    exchange.agreement.allowed_fields = ["Group.group_size", "Person.identifier"]
    exchange.agreement.save()
    [group] = exchange.client.sync_search(by_identifier(exchange.head_id(exchange.family))).records()
    assert group == {"@type": "Group", "group_size": 3}


def test_a_partner_may_not_search_on_a_field_it_is_not_granted(exchange: Exchange) -> None:
    """Searching "programme = dibao" would tell a partner who is assisted even if it may not see
    the programmes: the search is refused like the field would be."""
    exchange.agreement.allowed_fields = ["Group.group_size"]
    exchange.agreement.save()
    reply = exchange.client.sync_search(by_attributes(("programme", "eq", "dibao")))
    assert reply.items[0]["status"] == "rjct"
    assert reply.items[0]["status_reason_code"] == "rjct.search_criteria.invalid"
    assert reply.records() == []
    by_size = exchange.client.sync_search(by_attributes(("group_size", "ge", 1)))
    assert by_size.items[0]["status"] == "succ"


def test_search_by_group_size_and_by_expression(exchange: Exchange) -> None:
    big = exchange.client.sync_search(by_attributes(("group_size", "ge", 3)))
    assert [_number(g) for g in big.records()] == [exchange.family.number]  # `elsewhere` is outside the agreement
    assert big.items[0]["pagination"] == {"page_size": 100, "page_number": 1, "total_count": 1}
    small = exchange.client.sync_search(search_item("expression", {"type": "ns:org:QueryType:NoSql", "value": {
        "expression": {"collection": "Group", "query": {"$and": [{"group_size": {"$lt": 2}}]}}}}))
    assert [_number(g) for g in small.records()] == [exchange.single.number]


def test_a_batch_answers_each_item_and_pages(exchange: Exchange) -> None:
    exchange.agreement.allowed_fields = [*FIELDS, "Group.additional_attributes.area_code"]  # to search by area
    exchange.agreement.save()
    reply = exchange.client.sync_search(
        by_attributes(("area", "eq", f.VILLAGE), page_size=1, page_number=2, sort=[("group_size", "desc")]),
        by_attributes(("poverty_score", "lt", 5)))
    first, second = reply.items
    assert first["status"] == "succ" and first["pagination"]["total_count"] == 2
    assert [_number(g) for g in first["data"]["reg_records"]] == [exchange.single.number]
    assert second["status"] == "rjct" and second["status_reason_code"] == "rjct.search_criteria.invalid"
    assert "poverty_score" in second["status_reason_message"]
    assert reply.header["completed_count"] == 2


def test_households_outside_the_agreements_area_are_never_found(exchange: Exchange) -> None:
    reply = exchange.client.sync_search(by_identifier(exchange.head_id(exchange.elsewhere)))
    assert reply.items[0]["status"] == "succ" and reply.records() == []


def test_a_query_type_the_agreement_does_not_allow_is_refused(exchange: Exchange) -> None:
    exchange.agreement.allowed_query_types = ["idtype-value"]
    exchange.agreement.save()
    reply = exchange.client.sync_search(by_attributes(("group_size", "ge", 1)))
    assert reply.items[0]["status"] == "rjct"
    assert reply.items[0]["status_reason_code"] == "rjct.search_criteria.invalid"
    assert "does not allow predicate" in reply.items[0]["status_reason_message"]


def test_every_answer_is_audited_with_who_asked_and_about_whom(exchange: Exchange) -> None:
    exchange.client.sync_search(by_identifier(exchange.head_id(exchange.family)))
    entry = AuditEntry.objects.filter(action="dci.search").get()
    assert entry.object_id == str(exchange.agreement.pk) and entry.area == f.TOWNSHIP
    assert entry.after["partner"] == PARTNER
    assert entry.after["items"][0]["households"] == [exchange.family.number]
    assert entry.after["items"][0]["query"] == ["identifier", "eq", exchange.head_id(exchange.family)]


def test_refusals_are_signed_envelopes_with_the_code_and_a_message(exchange: Exchange) -> None:
    unsigned = exchange.client.envelope("search", {"transaction_id": "t", "search_request": []})
    unsigned["signature"] = ""
    answer = exchange.client.http.post("/api/v1/dci/registry/sync/search", json=unsigned,
                                       headers={"Accept-Language": "en"})
    assert answer.status_code == 401
    reply = exchange.client.open_reply(answer.json(), http_status=answer.status_code)
    assert reply.header["status"] == "rjct" and reply.message["ack_status"] == "ERR"
    assert reply.message["error"] == {"code": "err.signature.missing", "message": "The message is not signed."}
    garbage = exchange.client.http.post("/api/v1/dci/registry/search", content=b"{not json")
    assert garbage.status_code == 400
    refused = exchange.client.open_reply(garbage.json(), http_status=400)
    assert refused.message["error"]["code"] == "err.request.bad" and refused.header["action"] == "search"


# -- refusals ----------------------------------------------------------------------------

def test_a_forged_signature_is_refused_and_nothing_is_answered(exchange: Exchange) -> None:
    mallory = _client(SigningKey(PARTNER, envelope.generate_private_key()))
    with pytest.raises(DciError) as refused:
        mallory.sync_search(by_identifier(exchange.head_id(exchange.family)))
    assert refused.value.code == "err.signature.invalid" and refused.value.http_status == 401
    assert not DciMessage.objects.exists() and not AuditEntry.objects.filter(action="dci.search").exists()


def test_a_message_changed_after_signing_is_refused(exchange: Exchange) -> None:
    body = exchange.client.envelope("search", {"transaction_id": "t1", "search_request": [
        by_identifier(exchange.head_id(exchange.single))]})
    body["message"]["search_request"][0]["search_criteria"]["query"]["value"] = exchange.head_id(exchange.family)
    with pytest.raises(DciError) as refused:
        exchange.client.post("sync_search", body)
    assert refused.value.code == codes.SIGNATURE_INVALID


def test_a_stale_timestamp_is_refused_with_the_standards_reason(exchange: Exchange) -> None:
    old = envelope.utc_now() - dt.timedelta(minutes=10)
    header = envelope.request_header(action="search", sender_id=PARTNER, receiver_id="jiuzhu", now=old)
    body = envelope.build(header, {"transaction_id": "t", "search_request": [by_identifier("x")]}, exchange.partner)
    with pytest.raises(DciError) as refused:
        exchange.client.post("sync_search", body)
    assert refused.value.reason_code == "rjct.message_ts.invalid" and refused.value.code == "err.request.bad"
    expired = exchange.client.envelope("search", {"transaction_id": "t", "search_request": [by_identifier("x")]},
                                       now=old - dt.timedelta(minutes=10))
    with pytest.raises(DciError) as too_late:
        exchange.client.post("sync_search", expired)
    assert too_late.value.code == "err.signature.invalid"


def test_the_same_message_id_twice_is_refused_as_a_duplicate(exchange: Exchange) -> None:
    body = exchange.client.envelope("search", {"transaction_id": "t", "search_request": [
        by_identifier(exchange.head_id(exchange.family))]})
    exchange.client.post("sync_search", body)
    with pytest.raises(DciError) as refused:
        exchange.client.post("sync_search", body)
    assert refused.value.reason_code == "rjct.message_id.duplicate" and refused.value.http_status == 409
    assert DciMessage.objects.count() == 1


def test_an_unknown_or_inactive_partner_is_refused(exchange: Exchange) -> None:
    exchange.agreement.active = False
    exchange.agreement.save()
    with pytest.raises(DciError) as refused:
        exchange.client.sync_search(by_identifier(exchange.head_id(exchange.family)))
    assert refused.value.code == "err.sender_id.invalid"


def test_a_wrong_total_count_is_refused(exchange: Exchange) -> None:
    body = exchange.client.envelope("search", {"transaction_id": "t", "search_request": [by_identifier("x")]},
                                    total_count=2)
    with pytest.raises(DciError) as refused:
        exchange.client.post("sync_search", body)
    assert refused.value.reason_code == "rjct.total_count.invalid"


def test_an_answer_not_signed_by_the_registry_is_not_believed(exchange: Exchange) -> None:
    impostor = DciClient("http://testserver/api/v1/dci", exchange.partner, server_id="jiuzhu",
                         server_public_key=envelope.generate_private_key().public_key(), http=exchange.client.http)
    with pytest.raises(DciError) as refused:
        impostor.sync_search(by_identifier(exchange.head_id(exchange.family)))
    assert type(refused.value).__name__ == "ResponseNotTrusted" and refused.value.code == "err.signature.invalid"


# -- asynchronous search and transaction status ---------------------------------------

def test_an_async_search_is_acknowledged_then_answered_at_the_callers_on_search(exchange: Exchange) -> None:
    ack = exchange.client.search(by_identifier(exchange.head_id(exchange.family)), transaction_id="txn-async")
    assert ack.message["ack_status"] == "ACK" and ack.header["status"] == "rcvd"
    pending = exchange.client.txn_status("txn-async")
    assert pending.message["txnstatus_response"]["txn_status"]["search_response"][0]["status"] == "pdng"

    assert deliver_pending().sent == 1
    received = exchange.callbacks.next()
    assert received.path == "/partner/registry/on-search" and received.refusal is None
    assert received.opened is not None and received.opened.header["action"] == "on-search"
    [item] = received.opened.message["search_response"]
    assert _number(item["data"]["reg_records"][0]) == exchange.family.number
    assert received.opened.message["correlation_id"] == ack.correlation_id

    done = exchange.client.txn_status("txn-async")
    assert done.message["txnstatus_response"]["txn_status"]["search_response"][0]["status"] == "succ"
    assert DciNotification.objects.get().status == OutboxStatus.SENT
    assert AuditEntry.objects.filter(action="dci.on-search").exists()


def test_an_async_callback_goes_only_under_the_agreed_address(exchange: Exchange) -> None:
    with pytest.raises(DciError) as refused:
        exchange.client.search(by_identifier(exchange.head_id(exchange.family)),
                               callback_uri="http://attacker.example/cb")
    assert refused.value.code == "err.sender_uri.invalid"


def test_an_unknown_transaction_is_not_found(exchange: Exchange) -> None:
    with pytest.raises(DciError) as refused:
        exchange.client.txn_status("no-such-transaction")
    assert refused.value.code == "err.request.not_found" and refused.value.http_status == 404


def test_a_partner_that_is_down_is_retried_later(exchange: Exchange) -> None:
    exchange.agreement.callback_base_url = "http://127.0.0.1:9/partner"  # discard port: nothing listens
    exchange.agreement.save()
    exchange.client.search(by_identifier(exchange.head_id(exchange.family)),
                           callback_uri="http://127.0.0.1:9/partner")
    result = deliver_pending()
    assert (result.answered, result.sent, result.retrying) == (1, 0, 1)
    row = DciNotification.objects.get()
    assert row.attempts == 1 and row.last_error and row.status == OutboxStatus.PENDING
    assert deliver_pending().retrying == 0  # not due yet


# -- subscriptions and events ------------------------------------------------------------

def _subscribed(exchange: Exchange, *events: str, area: str | None = None) -> dict[str, str]:
    exchange.client.subscribe(*events, area=area)
    deliver_pending()
    received = exchange.callbacks.next()
    assert received.path == "/partner/registry/on-subscribe" and received.opened is not None
    return {i["subscriptions"][0]["reg_event_type"]: i["subscriptions"][0]["code"]
            for i in received.opened.message["subscribe_response"] if i["status"] == "succ"}


def test_subscribe_then_a_death_is_notified_with_the_member(exchange: Exchange) -> None:
    subscribed = _subscribed(exchange, "death", area=f.VILLAGE)
    assert set(subscribed) == {"death"}
    people = staff()
    spouse = exchange.family.memberships.get(relation="spouse").person
    registry_services.person_record_death(by=people["officer"], person=spouse, on=dt.date(2026, 10, 30),
                                          area_code=f.VILLAGE)
    elsewhere = exchange.elsewhere.memberships.get(relation="spouse").person
    registry_services.person_record_death(by=people["stranger"], person=elsewhere, on=dt.date(2026, 10, 30),
                                          area_code=f.OTHER_VILLAGE)
    assert collect_events() == 1
    assert deliver_pending().sent == 1
    received = exchange.callbacks.next()
    assert received.path == "/partner/registry/notify" and received.opened is not None
    assert received.opened.header["action"] == "notify"
    [event] = received.opened.message["notify_event"]
    data = event["data"]
    assert data["reg_event_type"] == "death" and data["subscription_code"] == subscribed["death"]
    assert data["reg_record_type"] == "Member"
    person = data["reg_records"]["demographic_info"]
    assert person["identifier"][0]["identifier_value"] == spouse.id_number
    assert "birth_date" not in person
    assert data["reg_records"]["additional_attributes"] == [
        {"name": "date_of_death", "value": "2026-10-30"}, {"name": "household", "value": exchange.family.number}]
    assert collect_events() == 0  # the cursor moved on
    assert AuditEntry.objects.filter(action="dci.notify").get().after["households"] == [exchange.family.number]


def test_enrolment_and_exit_are_notified_from_the_audit_log(exchange: Exchange) -> None:
    _subscribed(exchange, "enrolment", "exit")
    people = staff()
    application, _decision = decided_application(people)
    enrolment = services.enrol(by=people["officer"], application=application, on=dt.date(2026, 11, 16))
    IncomeRecord.objects.create(household=enrolment.household, kind="wage", amount=Decimal("200000"),
                                source=Source.VERIFIED)
    assessment = dynamic.reassess(by=people["officer"], enrolment=enrolment, on=dt.date(2027, 5, 20))
    stop = dynamic.review_decide(by=people["approver"], enrolment=enrolment, assessment=assessment,
                                 reasons="收入超过标准", on=dt.date(2027, 5, 21))
    assert stop.kind == "stop"
    assert collect_events() == 2
    assert deliver_pending().sent == 2
    events = sorted((r.opened.message["notify_event"][0]["data"] for r in exchange.callbacks.drain() if r.opened),
                    key=lambda d: d["reg_event_type"])
    assert [d["reg_event_type"] for d in events] == ["enrolment", "exit"]
    enrolled, stopped = events[0]["reg_records"], events[1]["reg_records"]
    assert _number(enrolled) == _number(stopped) == enrolment.household.number
    # Collected after the stop: the household receives nothing now, the events say what happened.
    assert enrolled["additional_attributes"] == [{"name": "event_programme", "value": "dibao"},
                                                 {"name": "event_month", "value": "2026-12-01"}]
    assert stopped["additional_attributes"] == [{"name": "event_programme", "value": "dibao"},
                                                {"name": "event_month", "value": "2027-06-01"}]


def test_subscriptions_outside_the_agreement_are_refused_item_by_item(exchange: Exchange) -> None:
    exchange.agreement.allowed_event_types = ["death"]
    exchange.agreement.save()
    exchange.client.subscribe("enrolment", "birth", area=f.TOWNSHIP)
    exchange.client.subscribe("death", area=f.OTHER_TOWNSHIP)
    deliver_pending()
    reasons = [i.get("status_reason_code") for r in exchange.callbacks.drain() if r.opened
               for i in r.opened.message["subscribe_response"]]
    assert reasons == ["rjct.notify_types.invalid", "rjct.notify_types.invalid", "rjct.notify_details.invalid"]
    assert not DciSubscription.objects.exists()


def test_unsubscribe_ends_notifications(exchange: Exchange) -> None:
    code = _subscribed(exchange, "death")["death"]
    exchange.client.unsubscribe(code)
    again = exchange.client.unsubscribe(code)
    assert again.message["ack_status"] == "ACK"
    deliver_pending()
    answers = [r.opened.message for r in exchange.callbacks.drain() if r.opened]
    assert [a["status"] for a in answers] == ["succ", "rjct"]
    assert answers[1]["status_reason_code"] == "rjct.event.already_unsubscribed"
    people = staff()
    registry_services.person_record_death(by=people["officer"], person=exchange.single.memberships.get().person,
                                          on=dt.date(2026, 10, 30), area_code=f.VILLAGE)
    assert collect_events() == 0


def test_callbacks_carry_our_signature_and_a_replayed_one_is_refused(exchange: Exchange) -> None:
    exchange.client.search(by_identifier(exchange.head_id(exchange.family)))
    deliver_pending()
    received = exchange.callbacks.next()
    assert received.opened is not None
    replay = httpx.post(exchange.callbacks.base_url + "/registry/on-search", content=json.dumps(received.body))
    assert replay.status_code == 409
    assert exchange.callbacks.next().refusal is not None

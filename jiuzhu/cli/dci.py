"""`jiuzhu dci`: the DCI social-registry exchange from the command line.

    jiuzhu dci keygen          our signing key (made if missing): key id and public key to give partners
    jiuzhu dci agreement-add   register or replace a partner's agreement
    jiuzhu dci collect         queue notifications for new audited events (enrolment, exit, death)
    jiuzhu dci deliver         answer waiting asynchronous searches and send what the outbox owes
    jiuzhu dci prune           delete answered messages and sent notifications past retention

`collect` then `deliver` is what a timer (cron, systemd) runs every minute or so; `prune`
once a day.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from jiuzhu.cli._io import BAD_INPUT, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("dci", help="the DCI social-registry exchange (keys, agreements, events, delivery)")
    commands = group.add_subparsers(dest="command", required=True)

    keygen = commands.add_parser("keygen", help="print our signing key's id and public key (made on first use)",
                                 description="Prints {sender_id, kid, key_id, public_key_pem, jwk}. The private key "
                                             "stays in DCI_PRIVATE_KEY_PATH (mode 0600).")
    keygen.set_defaults(func=run_keygen)

    add = commands.add_parser("agreement-add", help="register or replace a partner's data-sharing agreement")
    add.add_argument("--sender-id", required=True, help="the sender_id the partner signs with")
    add.add_argument("--name", default="", help="the partner's name")
    add.add_argument("--public-key", required=True, type=Path, metavar="FILE",
                     help="the partner's Ed25519 public key (PEM, or base64 of the 32 bytes)")
    add.add_argument("--key-id", default="", help="accept only this key id in the signature (default: any)")
    add.add_argument("--area", required=True, help="area code the partner may see (e.g. 220882)")
    add.add_argument("--callback", default="", help="base URL of the partner's callbacks (on-search, notify, ...)")
    add.add_argument("--query-types", default="idtype-value",
                     help="comma-separated: idtype-value, predicate, expression (idtype-value)")
    add.add_argument("--fields", default="", help="comma-separated fields that may leave, e.g. "
                                                  "Group.group_identifier,Group.group_size,Person.name")
    add.add_argument("--events", default="", help="comma-separated events it may subscribe to: enrolment,exit,death")
    add.add_argument("--inactive", action="store_true", help="record the agreement switched off")
    add.set_defaults(func=run_agreement_add)

    collect = commands.add_parser("collect", help="queue notifications for audited events after the last run")
    collect.set_defaults(func=run_collect)

    deliver = commands.add_parser("deliver", help="answer waiting searches and send the outbox")
    deliver.set_defaults(func=run_deliver)

    prune = commands.add_parser("prune", help="delete answered messages and sent notifications past retention",
                                description="Keeps DCI_MESSAGE_RETENTION_DAYS (90) unless --days is given; "
                                            "messages still being answered or sent are kept.")
    prune.add_argument("--days", type=int, help="keep this many days instead")
    prune.set_defaults(func=run_prune)


def _setup() -> None:
    from jiuzhu.cli.django_commands import setup

    setup()


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def run_keygen(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.api.dci import keys
    from jiuzhu.dci import envelope

    try:
        key = keys.signing_key()
    except (OSError, ValueError) as exc:
        print(f"cannot read or make the signing key: {exc}", file=sys.stderr)
        return BAD_INPUT
    print_json({"sender_id": key.sender_id, "kid": key.kid, "key_id": key.key_id,
                "public_key_pem": envelope.public_key_pem(key.public_key), "jwk": envelope.jwk(key.public_key)})
    return 0


def run_agreement_add(args: argparse.Namespace) -> int:
    try:
        public_key = args.public_key.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {args.public_key}: {exc.strerror or exc}", file=sys.stderr)
        return BAD_INPUT
    _setup()
    from django.core.exceptions import ValidationError

    from jiuzhu.api.dci.agreements import agreement_save

    try:
        agreement = agreement_save(sender_id=args.sender_id, name=args.name, public_key=public_key,
                                   area_code=args.area, callback_base_url=args.callback, key_id=args.key_id,
                                   query_types=_words(args.query_types), allowed_fields=_words(args.fields),
                                   event_types=_words(args.events), active=not args.inactive)
    except ValidationError as exc:
        print_json([{"path": path, "message": str(message)} for path, messages in exc.message_dict.items()
                    for message in messages])
        return BAD_INPUT
    print_json({"sender_id": agreement.sender_id, "name": agreement.name, "area": agreement.area_id,
                "callback_base_url": agreement.callback_base_url, "query_types": agreement.allowed_query_types,
                "fields": agreement.allowed_fields, "events": agreement.allowed_event_types,
                "active": agreement.active})
    return 0


def run_collect(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.api.dci.events import collect_events

    print_json({"queued": collect_events()})
    return 0


def run_deliver(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.api.dci.outbox import deliver_pending

    print_json(dataclasses.asdict(deliver_pending()))
    return 0


def run_prune(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.api.dci.retention import prune

    try:
        print_json(dataclasses.asdict(prune(args.days)))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return BAD_INPUT
    return 0

"""Prepare or change the registry the cross-process test's server runs on (its own SQLite file).

    python -m tests.dci.seed_server seed --partner-key FILE --callback URL
        migrate, load a township with three households and register the partner's agreement;
        prints {"family": file number, "family_head": ID number, "spouse": ID number, "single": ...}
    python -m tests.dci.seed_server county --partner-id ID --partner-key FILE
        migrate, load a household enrolled in dibao and let the partner (a county asking
        about its own applicants) search by ID number; prints the enrolled head's identity
    python -m tests.dci.seed_server death ID_NUMBER
        record that person's death through the registry service (audited, as staff would)

The database comes from DATABASE_URL and our signing key from JIUZHU_DCI_PRIVATE_KEY, exactly
as for the server process started beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed")
    seed.add_argument("--partner-id", required=True)
    seed.add_argument("--partner-key", required=True, type=Path)
    seed.add_argument("--callback", required=True)
    county = sub.add_parser("county")
    county.add_argument("--partner-id", required=True)
    county.add_argument("--partner-key", required=True, type=Path)
    death = sub.add_parser("death")
    death.add_argument("id_number")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiuzhu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from jiuzhu.accounts.roles import Role
    from jiuzhu.registry import services
    from jiuzhu.registry.models import Person
    from tests import factories as f

    if args.command == "death":
        from jiuzhu.accounts.models import User

        officer = (User.objects.filter(username="dci-test-officer").first()
                   or f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP, username="dci-test-officer"))
        person = Person.objects.get(id_number=args.id_number)
        area = person.memberships.get(end__isnull=True).household.area_id
        services.person_record_death(by=officer, person=person, on=dt.date.today(), area_code=area)
        print(json.dumps({"dead": person.id_number}))
        return 0

    call_command("migrate", verbosity=0)
    from jiuzhu.api.dci.agreements import agreement_save

    if args.command == "county":
        return _county(args)

    f.county_tree()
    family, single = f.poor_family(), f.household(f.VILLAGE)
    f.poor_family(f.OTHER_VILLAGE)
    agreement_save(sender_id=args.partner_id, name="民政数据交换平台", area_code=f.TOWNSHIP,
                   public_key=args.partner_key.read_text(), callback_base_url=args.callback,
                   query_types=["idtype-value", "predicate"], event_types=["death", "enrolment"],
                   allowed_fields=["Group.group_identifier", "Group.group_size", "Group.member_list",
                                   "Member.demographic_info", "Member.additional_attributes.date_of_death",
                                   "Person.name", "Person.identifier"])
    print(json.dumps({
        "family": family.number, "single": single.number,
        "family_head": family.memberships.get(relation="head").person.id_number,
        "spouse": family.memberships.get(relation="spouse").person.id_number,
    }))
    return 0


def _county(args: argparse.Namespace) -> int:
    """Another county's registry: one household enrolled in dibao there."""
    from decimal import Decimal

    from django.utils import timezone

    from jiuzhu.accounts.roles import Role
    from jiuzhu.api.dci.agreements import agreement_save
    from jiuzhu.casework.models import Application, Enrolment, Intake, State
    from tests import factories as f

    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    family = f.poor_family()
    head = family.memberships.get(relation="head").person
    intake = Intake.objects.create(household=family, channel="village", entered_by=officer, applicant=head,
                                   truth_promise=True)
    application = Application.objects.create(intake=intake, household=family, programme="dibao",
                                             area_code=family.area_id, entered_by=officer,
                                             received_at=timezone.now(), state=State.ENROLLED)
    Enrolment.objects.create(household=family, application=application, programme="dibao",
                             monthly_amount=Decimal("350.00"), start_month=dt.date(2026, 1, 1))
    agreement_save(sender_id=args.partner_id, name="大安市民政局", area_code=f.COUNTY,
                   public_key=args.partner_key.read_text(), query_types=["idtype-value"],
                   allowed_fields=["Group.group_identifier", "Group.additional_attributes.programmes",
                                   "Group.additional_attributes.area_code", "Person.identifier"])
    print(json.dumps({"id_number": head.id_number, "name": head.name, "birth_date": head.birth_date.isoformat(),
                      "sex": head.sex, "area_code": family.area_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The department catalogue: shipped YAML loads, bad YAML is reported whole, the table follows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.verification import catalogue, services
from jiuzhu.verification.models import Department

SHIPPED = {"public_security", "vehicles", "banks", "housing", "social_insurance", "medical_insurance", "tax",
           "business_registration", "disability"}


def test_the_shipped_catalogue_loads_with_the_departments_of_section_8() -> None:
    departments = catalogue.load_departments()
    assert set(departments) >= SHIPPED
    vehicles = departments["vehicles"]
    assert [item.name for item in vehicles.items] == ["plate", "vehicle_type", "value", "owner_id_number"]
    assert vehicles.items[2].type == "money"
    assert vehicles.legal_basis and vehicles.name_zh and vehicles.name_en
    assert departments["public_security"].asks_about == "members"


def test_a_bad_file_is_reported_with_file_key_and_reason_for_every_problem(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text((catalogue.DEPARTMENTS_DIR / "tax.yaml").read_text(encoding="utf-8")
                                        .replace("id: tax", "id: good"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(
        "id: other\n"
        "name: {zh-hans: 坏部门, en: Bad}\n"
        "exchange_format: pdf\n"
        "answer_working_days: 0\n"
        "asks_about: adults\n"
        "items:\n"
        "  - {name: plate, type: float, description: {zh-hans: 号牌, en: Plate}}\n"
        "  - {name: plate, type: text, description: {zh-hans: 号牌}}\n", encoding="utf-8")
    with pytest.raises(catalogue.CatalogueError) as caught:
        catalogue.load_departments(tmp_path)
    found = {(p.file, p.key) for p in caught.value.problems}
    assert found == {("bad.yaml", "id"), ("bad.yaml", "legal_basis"), ("bad.yaml", "exchange_format"),
                     ("bad.yaml", "answer_working_days"), ("bad.yaml", "items[0].type"),
                     ("bad.yaml", "items[1].name"), ("bad.yaml", "items[1].description.en")}
    message = str(caught.value)
    assert "bad.yaml: exchange_format: must be one of csv, xlsx, json, not 'pdf'" in message
    assert "bad.yaml: legal_basis: is missing" in message
    assert "good.yaml" not in message


@pytest.mark.django_db
def test_the_table_is_seeded_from_the_files_and_sync_is_idempotent() -> None:
    assert set(Department.objects.values_list("code", flat=True)) >= SHIPPED
    assert services.sync_departments() == services.SyncResult([], [])
    Department.objects.filter(code="banks").update(answer_working_days=30)
    Department.objects.filter(code="vehicles").delete()
    assert services.sync_departments() == services.SyncResult(["vehicles"], ["banks"])
    assert Department.objects.get(code="banks").answer_working_days == 10
    assert services.sync_departments() == services.SyncResult([], [])
    assert AuditEntry.objects.filter(action__startswith="verification.department_").count() == 2


@pytest.mark.django_db
def test_items_entered_by_an_admin_are_held_to_the_catalogue_rules() -> None:
    department = Department(code="forestry", name_zh="林业局", name_en="Forestry bureau", legal_basis="…",
                            exchange_format="csv", answer_working_days=5, asks_about="adults",
                            items=[{"name": "Forest Area", "type": "hectares", "description": {"zh-hans": "林地"}}])
    with pytest.raises(ValidationError) as caught:
        department.full_clean()
    messages = caught.value.message_dict["items"]
    assert any(m.startswith("items[0].name") for m in messages)
    assert any(m.startswith("items[0].type") for m in messages)
    assert any(m.startswith("items[0].description.en") for m in messages)

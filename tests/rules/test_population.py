"""The synthetic county: reproducible, in the batch schema, and shaped like a real county."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jiuzhu.rules.population import SIZE_PROBABILITIES, completed_years, generate
from jiuzhu.rules.vocabulary import CATEGORIES, EXPENSE_KINDS, INCOME_KINDS, RELATIONS

DATE = dt.date(2018, 7, 1)


@cache
def county(n: int = 20_000, seed: int = 11) -> tuple[pa.Table, pa.Table]:
    return generate(n, seed, "220882", DATE)


def column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False))


def ages(members: pa.Table) -> np.ndarray:
    return completed_years(column(members, "birth_date"), DATE)


def test_completed_years_count_only_birthdays_reached() -> None:
    births = np.array(["1958-07-01", "1958-07-02", "2000-02-29", "2018-06-30"], dtype="datetime64[D]")
    assert completed_years(births, DATE).tolist() == [60, 59, 18, 0]
    assert completed_years(births[2:3], dt.date(2018, 2, 28)).tolist() == [17]


def test_same_seed_gives_identical_tables() -> None:
    first, second = generate(2_000, 5), generate(2_000, 5)
    assert first[0].equals(second[0])
    assert first[1].equals(second[1])


def test_different_seed_gives_a_different_county() -> None:
    households, members = generate(2_000, 5)
    other_households, other_members = generate(2_000, 6)
    assert not households.equals(other_households)
    assert not members.equals(other_members)


def test_households_follow_the_batch_schema() -> None:
    households, _ = county()
    schema = households.schema
    assert schema.field("household_id").type == pa.string()
    assert schema.field("region").type == pa.string()
    assert schema.field("date").type == pa.date32()
    assert schema.field("area_type").type == pa.string()
    for kind in INCOME_KINDS:
        assert schema.field(f"income_{kind}").type == pa.float64()
    for kind in EXPENSE_KINDS:
        assert schema.field(f"expense_{kind}").type == pa.float64()
    assert schema.field("assets_financial").type == pa.float64()
    assert schema.field("homes").type == pa.int32()
    assert schema.field("vehicle_value").type == pa.float64()
    assert schema.field("previous_topup").type == pa.float64()
    assert schema.field("employment_started").type == pa.date32()
    assert households.num_rows == 20_000
    assert len(pc.unique(households["household_id"])) == 20_000
    assert set(households["date"].to_pylist()) == {DATE}


def test_members_follow_the_batch_schema() -> None:
    households, members = county()
    expected = {
        "household_id": pa.string(), "member_id": pa.string(), "relation": pa.string(), "sex": pa.string(),
        "birth_date": pa.date32(), "disability_grade": pa.int8(), "health_coefficient": pa.float64(),
        "categories": pa.string(), "counted": pa.bool_(), "imputed_monthly_reference": pa.float64(),
        "imputed_months": pa.float64(), "refused_work": pa.bool_(),
    }
    assert {f.name: f.type for f in members.schema} == expected
    assert set(column(members, "household_id")) == set(column(households, "household_id"))
    keys = pc.binary_join_element_wise(members["household_id"], members["member_id"], "/")
    assert len(pc.unique(keys)) == members.num_rows
    assert set(column(members, "relation")) <= set(RELATIONS)
    assert set(column(members, "sex")) == {"male", "female"}
    tags = {tag for value in members["categories"].drop_null().to_pylist() for tag in value.split(",")}
    assert tags <= set(CATEGORIES)


def test_household_sizes_follow_the_specified_distribution() -> None:
    _, members = county()
    sizes = np.unique(column(members, "household_id"), return_counts=True)[1]
    shares = np.bincount(sizes, minlength=7)[1:] / len(sizes)
    assert shares == pytest.approx(SIZE_PROBABILITIES, abs=0.012)


def test_every_birth_date_is_before_the_date() -> None:
    _, members = county()
    births = column(members, "birth_date")
    assert births.max() < np.datetime64(DATE)
    assert births.min() >= np.datetime64("1918-01-01")


def test_birth_dates_are_before_another_chosen_date() -> None:
    date = dt.date(2023, 1, 1)
    households, members = generate(500, 3, "511703", date)
    assert set(households["date"].to_pylist()) == {date}
    assert column(members, "birth_date").max() < np.datetime64(date)


def test_codes_are_twelve_digit_village_codes_under_the_county() -> None:
    households, _ = county()
    regions = column(households, "region")
    assert all(len(r) == 12 and r.isdigit() and r.startswith("220882") for r in set(regions))
    townships = {int(r[6:9]) for r in regions}
    assert {t // 100 for t in townships} == {0, 1, 2}
    assert all(1 <= int(r[9:]) <= 99 for r in regions)


def test_area_type_follows_the_township_type() -> None:
    households, _ = county()
    regions, area = column(households, "region"), column(households, "area_type")
    township = np.array([int(r[6:9]) for r in regions])
    village = np.array([int(r[9:]) for r in regions])
    expected_urban = (township < 100) | ((township < 200) & (village == 1))
    assert np.array_equal(area == "urban", expected_urban)
    assert (area == "urban").mean() == pytest.approx(0.40, abs=0.03)


def test_relations_agree_with_ages_and_sexes() -> None:
    _, members = county()
    years = ages(members)
    relation, sex = column(members, "relation"), column(members, "sex")
    household = column(members, "household_id")
    head = relation == "head"
    assert np.array_equal(column(members, "member_id")[head], np.full(head.sum(), "m1"))
    head_of = dict(zip(household[head], zip(years[head], sex[head], strict=True), strict=True))
    head_age = np.array([head_of[h][0] for h in household])
    head_sex = np.array([head_of[h][1] for h in household])
    assert (years[head] >= 18).all()
    spouse = relation == "spouse"
    assert (sex[spouse] != head_sex[spouse]).all()
    assert (np.abs(years[spouse] - head_age[spouse]) < 15).all()
    child = relation == "child"
    assert ((head_age[child] - years[child]) >= 20).all()
    grandchild = relation == "grandchild"
    assert ((head_age[grandchild] - years[grandchild]) >= 40).all()
    parent = relation == "parent"
    assert ((years[parent] - head_age[parent]) >= 15).all()


def test_population_is_ageing() -> None:
    _, members = county()
    years = ages(members)
    children = (years < 15).mean()
    fifties_and_sixties = ((years >= 50) & (years < 70)).mean()
    assert 0.10 < children < 0.20
    assert fifties_and_sixties > 0.28
    assert fifties_and_sixties > 2 * children


def test_disability_is_about_six_percent_and_mostly_mild() -> None:
    _, members = county()
    grade = members["disability_grade"]
    disabled = grade.drop_null().to_numpy()
    assert len(disabled) / members.num_rows == pytest.approx(0.06, abs=0.012)
    assert set(np.unique(disabled)) <= set(range(1, 11))
    assert (disabled >= 6).mean() > 0.6
    severe_tag = pc.fill_null(pc.match_substring(members["categories"], "severe_disability"), False)
    severe_grade = pc.fill_null(pc.less_equal(grade, 2), False)
    assert severe_tag.equals(severe_grade)
    ill = pc.fill_null(pc.match_substring(members["categories"], "serious_illness"), False)
    assert 0.01 < pc.mean(ill.cast(pa.float64())).as_py() < 0.04


def test_imputed_income_is_for_rural_working_age_members() -> None:
    households, members = county()
    months, reference = column(members, "imputed_months"), column(members, "imputed_monthly_reference")
    imputed = reference > 0
    assert imputed.any()
    assert ((reference[imputed] >= 1500) & (reference[imputed] <= 2500)).all()
    assert ((months >= 0) & (months <= 10)).all()
    assert (months[~imputed] == 0).all()
    years = ages(members)
    assert ((years[imputed] >= 18) & (years[imputed] < 60)).all()
    rural = set(column(households, "household_id")[column(households, "area_type") == "rural"])
    assert set(column(members, "household_id")[imputed]) <= rural
    assert 0 < column(members, "refused_work").sum() < 0.01 * members.num_rows


def test_roughly_five_to_ten_percent_are_under_the_da_an_2018_standards() -> None:
    """A simplified Da'an 2018 means test, written independently of the engine."""
    households, members = county()
    excluded = {"preferential_pension", "family_planning_reward", "scholarship", "bravery_award",
                "social_assistance"}
    income = sum(column(households, f"income_{k}") for k in INCOME_KINDS if k not in excluded)
    ids = column(households, "household_id")
    position = {h: i for i, h in enumerate(ids)}
    member_household = np.array([position[h] for h in column(members, "household_id")])
    counted = column(members, "counted")
    size = np.bincount(member_household, weights=counted, minlength=len(ids))
    imputed = column(members, "imputed_monthly_reference") * column(members, "imputed_months")
    net = (income + np.bincount(member_household, weights=imputed, minlength=len(ids))
           - column(households, "expense_social_contribution")
           - column(households, "expense_medical_out_of_pocket"))
    standard = np.where(column(households, "area_type") == "urban", 5760.0, 3600.0)
    eligible = (net / size < standard) & (column(households, "assets_financial") / size < standard)
    assert 0.05 <= eligible.mean() <= 0.10
    assert (net / size < 1.5 * standard).mean() > eligible.mean()


def test_money_columns_are_realistic() -> None:
    households, _ = county()
    assert (column(households, "income_wage") >= 0).all()
    assert (column(households, "assets_financial") >= 0).all()
    assert set(np.unique(column(households, "homes"))) <= {0, 1, 2}
    assert (column(households, "vehicle_value") == 0).mean() > 0.6
    assert column(households, "income_scholarship").sum() > 0
    assert column(households, "income_social_assistance").sum() > 0
    assert (column(households, "expense_medical_out_of_pocket") > 0).any()
    rural = column(households, "area_type") == "rural"
    assert np.median(column(households, "income_business")[rural]) > 0


def test_only_county_codes_are_accepted() -> None:
    for region in ("220800", "220000", "22088", "220882100"):
        with pytest.raises(ValueError, match="county code"):
            generate(10, 1, region)

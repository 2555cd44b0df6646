"""Linking department records to registered persons: by ID number first, then Splink's scores.

Pure module: no database. The registry below is small but hand-made so that each record
has exactly one right answer, worked out in the comments.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from stdnum.cn import ric

from jiuzhu.registry.identity import check_resident_id
from jiuzhu.verification import linkage
from jiuzhu.verification.linkage import LINKS, LinkageSettings, candidates, link

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = "220882100201"
OTHER_VILLAGE = "220882101203"


def id_number(birth: dt.date, sequence: int, area: str = "220882") -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def mistype(number: str) -> str:
    """One digit of the sequence changed: the check character no longer fits."""
    digit = "7" if number[15] != "7" else "3"
    return number[:15] + digit + number[16:]


WANG = dt.date(1980, 1, 2)
LI = dt.date(1975, 3, 4)
ZHANG = dt.date(1990, 5, 6)
ZHAO = dt.date(1960, 7, 8)
LIU = dt.date(1958, 11, 30)
PEOPLE = [  # person_id, id_number, name, birth_date, sex, area_code
    (1, id_number(WANG, 12), "王丽", WANG, "female", VILLAGE),
    (2, id_number(LI, 21), "李明", LI, "male", VILLAGE),
    (3, id_number(ZHANG, 31), "张伟", ZHANG, "male", OTHER_VILLAGE),
    # 4 and 5: same name, birth date, sex and village (two namesakes, not the same person).
    (4, id_number(ZHAO, 42), "赵敏", ZHAO, "female", VILLAGE),
    (5, id_number(ZHAO, 44), "赵敏", ZHAO, "female", VILLAGE),
    (6, id_number(LIU, 51, "110105"), "刘秀兰", LIU, "female", OTHER_VILLAGE),
]


def persons() -> pl.DataFrame:
    return pl.DataFrame(PEOPLE, schema=linkage.PERSONS, orient="row")


def records(rows: Sequence[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=linkage.RECORDS, orient="row")


def one(frame: pl.DataFrame, key: int) -> dict[str, object]:
    return frame.filter(pl.col("record_key") == key).row(0, named=True)


def test_a_valid_id_number_held_by_a_person_links_by_id() -> None:
    result = link(persons(), records([(10, PEOPLE[1][1], "李明", LI, "male", VILLAGE)]))
    assert result.row(0, named=True) == {"record_key": 10, "person_id": 2, "method": "id", "match_weight": None,
                                         "match_probability": 1.0, "status": "linked", "reasons": "",
                                         "candidates": 1}


def test_a_mistyped_name_with_the_right_id_number_is_still_linked_by_id() -> None:
    # 王莉 for 王丽: the number is valid and held by person 1, and the birth date agrees.
    result = link(persons(), records([(11, PEOPLE[0][1], "王莉", WANG, "female", None)]))
    row = result.row(0, named=True)
    assert (row["person_id"], row["method"], row["status"], row["reasons"]) == (1, "id", "linked", "name_differs")


def test_a_mistyped_id_number_is_linked_probabilistically_to_the_right_person() -> None:
    typed = mistype(PEOPLE[2][1])
    assert not check_resident_id(typed, today=dt.date(2030, 1, 1)).valid
    result = link(persons(), records([(12, typed, "张伟", ZHANG, "male", OTHER_VILLAGE)]))
    row = result.row(0, named=True)
    assert (row["person_id"], row["method"], row["status"]) == (3, "probabilistic", "linked")
    assert row["reasons"].split(";") == ["id_checksum_bad", "id_typo"]
    # log2(m/u) of name, birth date, sex, village and near-miss ID (the module's table) + log2 of the prior odds
    expected = (math.log2(0.90 / 1e-4) + math.log2(0.95 / 3.5e-5) + math.log2(0.98 / 0.5) + math.log2(0.85 / 3e-3)
                + math.log2(0.08 / 3e-3) + math.log2(1e-6 / (1 - 1e-6)))  # 13.14 + 14.73 + 0.97 + 8.15 + 4.74 − 19.93
    assert row["match_weight"] == pytest.approx(expected, abs=1e-6)
    assert row["match_probability"] > 0.999


def test_a_homophone_of_the_name_without_an_id_number_is_linked() -> None:
    # 王莉 reads "wang li" like 王丽: +6.6 instead of +13.1, still ≈ 10.5 bits, p ≈ 0.9993 ≥ 0.99.
    result = link(persons(), records([(13, None, "王莉", WANG, "female", VILLAGE)]))
    row = result.row(0, named=True)
    assert (row["person_id"], row["method"], row["status"]) == (1, "probabilistic", "linked")
    assert row["reasons"] == "id_missing;name_homophone"
    assert 0.99 <= row["match_probability"] < 0.9999


def test_day_and_month_swapped_is_a_near_miss_of_the_birth_date() -> None:
    # 1980-02-01 for 1980-01-02 (two digits apart): found through the name-and-birth-year block,
    # scored +4.9 instead of +14.7: 13.1 + 4.9 + 1.0 + 8.1 − 19.9 ≈ 7.2 bits, p ≈ 0.993.
    row = link(persons(), records([(18, None, "王丽", dt.date(1980, 2, 1), "female", VILLAGE)])).row(0, named=True)
    assert (row["person_id"], row["status"], row["reasons"]) == (1, "linked", "id_missing;birth_date_one_off")
    assert row["match_weight"] == pytest.approx(7.2, abs=0.05)


def test_a_record_about_nobody_in_the_registry_is_unmatched() -> None:
    stranger = id_number(dt.date(1999, 9, 9), 77)
    result = link(persons(), records([(14, stranger, "钱多多", dt.date(1999, 9, 9), "male", VILLAGE)]))
    row = result.row(0, named=True)
    assert row["person_id"] is None and row["status"] == "unmatched" and row["method"] == "none"
    assert row["reasons"] == "id_unknown;no_candidate"


def test_two_equally_good_candidates_wait_for_an_officer() -> None:
    # No ID number; persons 4 and 5 agree on everything given: each pair scores ≈ 17 bits, so either
    # alone would be linked, but together the best one is only about even odds.
    result = link(persons(), records([(15, None, "赵敏", ZHAO, "female", VILLAGE)]))
    row = result.row(0, named=True)
    assert row["status"] == "to_confirm" and row["person_id"] == 4  # the lower person_id on a tie
    assert row["candidates"] == 2 and row["reasons"] == "id_missing;ambiguous"
    assert row["match_probability"] > 0.99  # each pair alone is convincing
    both = candidates(persons(), records([(15, None, "赵敏", ZHAO, "female", VILLAGE)]))
    assert both.schema == pl.Schema(linkage.CANDIDATES)
    assert both.select("person_id", "reasons").rows() == [(4, ""), (5, "")]  # they agree on all given
    assert both.item(0, "match_weight") == both.item(1, "match_weight")


def test_a_valid_number_naming_someone_else_is_never_linked_automatically() -> None:
    # Everything agrees with person 2 except the number, which is valid but not his (nor anyone's we hold).
    other = id_number(LI, 23)
    row = link(persons(), records([(16, other, "李明", LI, "male", VILLAGE)])).row(0, named=True)
    assert row["status"] == "to_confirm" and row["person_id"] == 2
    assert row["reasons"] == "id_unknown;id_differs"


def test_a_registered_number_with_another_name_and_birth_date_goes_to_an_officer_with_its_owner() -> None:
    # Person 3's number, but neither name nor birth date is his: not linked by ID, too weak to link by score.
    row = link(persons(), records([(17, PEOPLE[2][1], "孙悟空", dt.date(2001, 1, 1), "male", None)])).row(
        0, named=True)
    assert (row["person_id"], row["status"], row["method"]) == (3, "to_confirm", "probabilistic")
    assert row["reasons"] == "id_conflict;name_differs;birth_date_differs"
    assert row["match_probability"] < 0.8


def test_one_row_per_record_in_the_records_order_whatever_happens_to_each() -> None:
    rows = [
        (30, None, "赵敏", ZHAO, "female", VILLAGE),                              # ambiguous
        (21, PEOPLE[5][1][:-1] + PEOPLE[5][1][-1].lower(), "刘秀兰", None, None, None),  # lower-case x, no date
        (25, f" {PEOPLE[1][1][:6]} {PEOPLE[1][1][6:]} ", " 李明 ", LI, "MALE", VILLAGE),  # spaces, upper-case sex
        (22, "not a number", None, None, None, None),                             # nothing to go on
        (23, mistype(PEOPLE[2][1]), "张伟", ZHANG, "male", OTHER_VILLAGE),        # mistyped number
        (24, None, "王莉", WANG, "female", VILLAGE),                              # homophone
    ]
    result = link(persons(), records(rows))
    assert result.columns == list(LINKS) and result.schema == pl.Schema(LINKS)
    assert result.get_column("record_key").to_list() == [30, 21, 25, 22, 23, 24]
    assert result.get_column("person_id").to_list() == [4, 6, 2, None, 3, 1]
    assert result.get_column("status").to_list() == ["to_confirm", "linked", "linked", "unmatched", "linked",
                                                     "linked"]
    assert one(result, 21)["reasons"] == "birth_date_missing"
    assert one(result, 22)["reasons"] == "id_checksum_bad;no_candidate"


def test_the_same_input_gives_the_same_output() -> None:
    rng = random.Random(7)
    rows: list[tuple[object, ...]] = []
    for key in range(200):
        person = PEOPLE[rng.randrange(len(PEOPLE))]
        number = rng.choice([person[1], mistype(person[1]), None])
        rows.append((key, number, person[2], person[3], person[4], rng.choice([person[5], None])))
    first = link(persons(), records(rows))
    second = link(persons(), records(list(reversed(rows))))
    assert first.height == 200
    assert first.equals(second.sort(by=pl.col("record_key").replace_strict(
        first.get_column("record_key"), range(200))))
    assert first.equals(link(persons(), records(rows)))


def test_empty_records_give_an_empty_frame_of_the_contract() -> None:
    result = link(persons(), records([]))
    assert result.height == 0 and result.schema == pl.Schema(LINKS)


def test_with_nobody_registered_every_record_is_unmatched() -> None:
    result = link(persons().clear(), records([(1, PEOPLE[0][1], "王丽", WANG, "female", VILLAGE),
                                              (2, None, "李明", LI, "male", None)]))
    assert result.select("person_id", "method", "status", "reasons").rows() == [
        (None, "none", "unmatched", "id_unknown;no_candidate"), (None, "none", "unmatched", "id_missing;no_candidate")]


def test_id_valid_agrees_with_the_registry_check() -> None:
    rng = random.Random(11)
    numbers = []
    for _ in range(300):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365))
        good = id_number(birth, rng.randrange(1000))
        numbers += [good, mistype(good), good[:17] + rng.choice("0123456789X"), good[:6] + "19991331" + good[14:]]
    numbers += ["11010519491231002X", "", "123", "11010519491231002x"]
    got = pl.DataFrame({"id_number": numbers}).select(linkage.id_valid()).to_series().to_list()
    want = [check_resident_id(n, today=dt.date(2100, 1, 1)).valid and n == n.upper() for n in numbers]
    assert got == want
    assert sum(want) > 300  # the sample holds both kinds


def test_pinyin_is_toneless_and_shared_by_homophones() -> None:
    names = pl.Series(["王丽", "王莉", "李明", None, "王丽", "Anna"])
    assert linkage.pinyin(names).to_list() == ["wang li", "wang li", "li ming", None, "wang li", "a n n a"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop("name"), "records: missing column(s) name"),
    (lambda f: pl.concat([f, f]), "records.record_key: must be unique"),
    (lambda f: f.with_columns(pl.lit("1980-01-02").alias("birth_date")).with_columns(
        pl.when(pl.col("record_key") == 1).then(pl.lit("2 Jan")).otherwise("birth_date").alias("birth_date")),
     "records.birth_date: expected Date"),
    (lambda f: f.with_columns(pl.lit(None, pl.Int64).alias("record_key")), "records.record_key: 2 row(s) without"),
])
def test_bad_input_is_refused_with_the_column_named(change: object, message: str) -> None:
    frame = records([(1, None, "王丽", WANG, "female", VILLAGE), (2, None, "李明", LI, "male", VILLAGE)])
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        link(persons(), change(frame))  # type: ignore[operator]


def test_two_persons_with_one_id_number_are_refused() -> None:
    doubled = persons().with_columns(pl.when(pl.col("person_id") == 2).then(pl.lit(PEOPLE[0][1]))
                                     .otherwise("id_number").alias("id_number"))
    with pytest.raises(ValueError, match=r"person_id 1 and 2"):
        link(doubled, records([(1, None, "王丽", WANG, "female", VILLAGE)]))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="review_probability <= link_probability"):
        LinkageSettings(link_probability=0.8, review_probability=0.9)


def test_the_pure_modules_do_not_load_django() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = ("import sys, jiuzhu.verification.linkage, jiuzhu.verification.findings; "
            "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"

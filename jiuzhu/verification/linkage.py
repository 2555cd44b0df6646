"""Who is this record about? Linking other departments' records to our registered persons.

An answer from a department (vehicles, banks, tax, …) names a person by resident ID
number, name, birth date, sex and area, as that department has them. Most carry the
right ID number, and then the link is a join; the rest — a mistyped ID, no ID at all,
an ID we do not hold, or an ID whose name and birth date both belong to someone else —
are scored against every plausible registered person with a Fellegi-Sunter model
(Splink on DuckDB) and either linked, put before an officer (`to_confirm`), or left
unmatched. A wrong link puts someone else's car or deposit into a poor family's means
test, so the thresholds favour asking an officer over guessing.

Pure: polars, numpy, duckdb, splink, pypinyin; no Django (the verification app calls it).

The model's m and u probabilities are fixed, not trained, so a run is reproducible to the
bit and takes no training time; they are the judgement of how often each level occurs
among true links (m) and among random pairs of persons in a county registry (u):

=========== ============================================= ====== ======== ============
comparison  level                                          m      u        weight (bits)
=========== ============================================= ====== ======== ============
name        identical                                      0.90   1e-4     +13.1
            same pinyin without tones (王丽/王莉)           0.04   4e-4     +6.6
            Jaro-Winkler of the pinyin ≥ 0.88              0.03   0.01     +1.6
            else                                           0.03   0.9894   −5.0
birth date  identical                                      0.95   3.5e-5   +14.7
            one digit off, or day and month swapped        0.03   1e-3     +4.9
            else                                           0.02   0.999    −5.6
sex         same / different                               0.98 / 0.02   0.5 / 0.5
area        same village (12 digits)                       0.85   3e-3     +8.1
            same township (first 9)                        0.08   0.05     +0.7
            else                                           0.07   0.947    −3.8
id number   identical                                      0.90   1e-6     +19.8
            ≤ 2 edits, one side's check character wrong    0.08   3e-3     +4.7
            else (two valid numbers that differ)           0.02   0.997    −5.6
=========== ============================================= ====== ======== ============

A missing value on either side is a null level (no evidence either way). The prior that
a record and a random registered person are the same is 1e-6 (a county registry).

The near-miss ID level is weighted modestly on purpose: an ID number embeds the birth
date and the birthplace, which are compared on their own, and among people born on the
same day in the same county two numbers within two edits are common (the sequence and
check characters are all that differ). Counted as independent evidence (13 bits), it
linked, in the benchmark, the mistyped number of someone outside the registry to a
registered person of another name born the same day in the same village; at 4.7 bits such
a pair waits for an officer, while the true owner of a mistyped number (name and birth
date agreeing) still scores above 20 bits.

Ambiguity: Splink scores each pair on its own, but a record is about one person at most.
The probability that the record is about its best candidate rather than anyone else or
nobody is odds₁ / (1 + Σ oddsⱼ) over all its scored candidates; a record is linked only
when that reaches `link_probability`. Two namesakes born the same day in the same village
therefore put the record before an officer, while a far weaker second candidate does not. A record whose
valid ID number names a different registered person is never linked automatically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np
import polars as pl
import splink.comparison_level_library as cll
from pypinyin import Style, lazy_pinyin
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.comparison_library import CustomComparison
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from jiuzhu.verification.frames import typed

PERSONS: dict[str, pl.DataType] = {
    "person_id": pl.Int64(), "id_number": pl.String(), "name": pl.String(), "birth_date": pl.Date(),
    "sex": pl.String(), "area_code": pl.String(),
}
RECORDS: dict[str, pl.DataType] = {
    "record_key": pl.Int64(), "id_number": pl.String(), "name": pl.String(), "birth_date": pl.Date(),
    "sex": pl.String(), "area_code": pl.String(),
}
#: The frame `link` returns, one row per record.
LINKS: dict[str, pl.DataType] = {
    "record_key": pl.Int64(), "person_id": pl.Int64(), "method": pl.String(), "match_weight": pl.Float64(),
    "match_probability": pl.Float64(), "status": pl.String(), "reasons": pl.String(), "candidates": pl.UInt32(),
}
#: The frame `candidates` returns, one row per scored (record, person) pair.
CANDIDATES: dict[str, pl.DataType] = {
    "record_key": pl.Int64(), "person_id": pl.Int64(), "match_weight": pl.Float64(),
    "match_probability": pl.Float64(), "reasons": pl.String(),
}

#: ISO 7064 MOD 11-2 as GB 11643 uses it: the weights of the 17 digits.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_SHAPE = r"^[0-9]{17}[0-9X]$"


@dataclass(frozen=True)
class LinkageSettings:
    """Thresholds on the probability that a record is about its best candidate.

    `link_probability`: linked automatically at or above. `review_probability`: at or
    above (and below the link threshold, or ambiguous) the record waits for an officer
    with its candidate; below, unmatched. `prior` is the probability that a record and a
    random registered person are the same (see the module docstring).
    """

    link_probability: float = 0.99
    review_probability: float = 0.80
    prior: float = 1e-6

    def __post_init__(self) -> None:
        if not 0.0 < self.review_probability <= self.link_probability <= 1.0:
            raise ValueError("LinkageSettings: need 0 < review_probability <= link_probability <= 1, got "
                             f"{self.review_probability} and {self.link_probability}")
        if not 0.0 < self.prior < 1.0:
            raise ValueError(f"LinkageSettings: prior must lie strictly between 0 and 1, got {self.prior}")


# --- input -----------------------------------------------------------------------------------------


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str, key: str) -> pl.DataFrame:
    """The contract's columns in the contract's types, cleaned, with the ID number as one
    integer (`_id_key`); a clear error naming the column otherwise."""
    out = typed(frame, schema, what)
    keys = out.get_column(key)
    if keys.null_count():
        raise ValueError(f"{what}.{key}: {keys.null_count()} row(s) without a {key}, e.g. row "
                         f"{out.select(pl.arg_where(pl.col(key).is_null())).item(0, 0) + 1}")
    if keys.n_unique() != len(keys):
        repeated = out.filter(pl.col(key).is_duplicated()).get_column(key)
        raise ValueError(f"{what}.{key}: must be unique; {repeated.n_unique()} value(s) repeated, e.g. "
                         f"{repeated.sort().to_list()[0]}")

    # Text as typed: spaces around or inside ID numbers and names, a lower-case x, "MALE", "".
    # Files from other systems are mostly clean, so a column is rewritten only when it needs it.
    cleaning = {
        "id_number": (r"[\s\-a-z]|^$", pl.col("id_number").str.replace_all(r"[\s\-]+", "").str.to_uppercase()),
        "name": (r"\s|^$", pl.col("name").str.replace_all(r"\s+", "")),
        "sex": (r"[^a-z]|^$", pl.col("sex").str.strip_chars().str.to_lowercase()),
        "area_code": (r"\s|^$", pl.col("area_code").str.strip_chars()),
    }
    dirty = out.select([pl.col(name).str.contains(pattern).any().alias(name)
                        for name, (pattern, _fix) in cleaning.items()]).row(0, named=True)
    fixes = [pl.when(fixed.str.len_chars() > 0).then(fixed).otherwise(None).alias(name)
             for name, (_pattern, fixed) in cleaning.items() if dirty[name]]
    return out.lazy().with_columns(fixes).with_columns(_id_key("id_number")).collect()


def _id_key(column: str) -> pl.Expr:
    """The number as one integer, 17 digits × 11 + the check value (X = 10), for fast joins;
    null unless the text has the shape of an ID number (17 digits and a digit or X)."""
    number = pl.col(column)
    last = number.str.slice(17, 1)
    check = pl.when(last == "X").then(pl.lit(10, pl.Int64)).otherwise(last.str.to_integer(strict=False))
    body = number.str.slice(0, 17).str.to_integer(strict=False)
    return pl.when(number.str.contains(_ID_SHAPE)).then(body * 11 + check).alias("_id_key")


def _id_valid(column: str) -> pl.Expr:
    """GB 11643-valid: the shape, a real birth date and the right ISO 7064 MOD 11-2 check
    character. The 17 digits are taken apart arithmetically, not by 17 string slices; in a
    lazy query the parsed number is computed once."""
    number = pl.col(column)
    shaped = number.str.contains(_ID_SHAPE).fill_null(False)
    body = pl.when(shaped).then(number.str.slice(0, 17).str.to_integer(strict=False))
    last = number.str.slice(17, 1)
    check = pl.when(last == "X").then(pl.lit(10, pl.Int64)).otherwise(last.str.to_integer(strict=False))
    total = pl.sum_horizontal([((body // 10 ** (16 - i)) % 10) * weight for i, weight in enumerate(_WEIGHTS)])
    real_date = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).is_not_null()
    # ISO 7064 MOD 11-2: the check value is (12 − Σ digit × weight mod 11) mod 11, 10 written X.
    return (shaped & real_date & (((12 - total % 11) % 11) == check)).fill_null(False).alias("_id_valid")


def _with_validity(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.lazy().with_columns(_id_valid("id_number")).collect()


def id_valid(column: str = "id_number") -> pl.Expr:
    """True where the text is a valid GB 11643 number (upper-case X; see `_id_valid`).
    Best used in a lazy query or on a modest frame: eagerly, the number is parsed per weight."""
    return _id_valid(column).alias("id_valid")


# --- pinyin ----------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _syllable(character: str) -> str:
    """Toneless pinyin of one character (non-Han characters stand for themselves, lower-cased)."""
    return lazy_pinyin(character, style=Style.NORMAL)[0].lower()


def pinyin(names: pl.Series) -> pl.Series:
    """Toneless pinyin, syllables separated by a space ("王丽" → "wang li"), for a whole column.

    Computed per distinct character and joined back, so a million names cost a few
    thousand pypinyin calls. Per-character reading ignores pypinyin's phrase context; both
    sides of a comparison are read the same way, which is what matching needs."""
    distinct = names.drop_nulls().unique()
    characters = distinct.str.split("").explode().drop_nulls().unique().to_list()
    mapping = {c: _syllable(c) for c in characters}
    spelled = (distinct.to_frame("name")
               .with_columns(pl.col("name").str.split("")
                             .list.eval(pl.element().replace_strict(mapping, return_dtype=pl.String))
                             .list.join(" ").alias("pinyin")))
    return (names.to_frame("name").join(spelled, on="name", how="left", maintain_order="left")
            .get_column("pinyin").alias("pinyin"))


# --- the model -------------------------------------------------------------------------------------

#: (label, SQL condition, m, u) for each comparison, most specific first; a null level comes first.
_LEVELS: dict[str, tuple[str, list[tuple[str, str, float, float]]]] = {
    "name": ("name", [
        ("exact", "name_l = name_r", 0.90, 1e-4),
        ("homophone", "pinyin_l = pinyin_r", 0.04, 4e-4),
        ("similar", "jaro_winkler_similarity(pinyin_l, pinyin_r) >= 0.88", 0.03, 0.01),
    ]),
    "birth_date": ("birth_date", [
        ("exact", "birth_date_l = birth_date_r", 0.95, 3.5e-5),
        ("one_off", "levenshtein(strftime(birth_date_l, '%Y%m%d'), strftime(birth_date_r, '%Y%m%d')) = 1 OR ("
                    "year(birth_date_l) = year(birth_date_r) AND month(birth_date_l) = day(birth_date_r) "
                    "AND day(birth_date_l) = month(birth_date_r))", 0.03, 1e-3),
    ]),
    "sex": ("sex", [("exact", "sex_l = sex_r", 0.98, 0.5)]),
    "area_code": ("area_code", [
        ("village", "area_code_l = area_code_r", 0.85, 3e-3),
        ("township", "substr(area_code_l, 1, 9) = substr(area_code_r, 1, 9)", 0.08, 0.05),
    ]),
    "id_number": ("id_number", [
        ("exact", "id_number_l = id_number_r", 0.90, 1e-6),
        ("typo", "levenshtein(id_number_l, id_number_r) <= 2 AND NOT (id_valid_l AND id_valid_r)", 0.08, 3e-3),
    ]),
}
_ELSE: dict[str, tuple[float, float]] = {
    "name": (0.03, 0.9894), "birth_date": (0.02, 0.999), "sex": (0.02, 0.5), "area_code": (0.07, 0.947),
    "id_number": (0.02, 1.0 - 1e-6 - 3e-3),
}
#: Reason word for each non-agreeing level of the best candidate (gamma value → word), per comparison.
_GAMMA_REASONS: dict[str, dict[int, str]] = {
    "name": {-1: "name_missing", 2: "name_homophone", 1: "name_similar", 0: "name_differs"},
    "birth_date": {-1: "birth_date_missing", 1: "birth_date_one_off", 0: "birth_date_differs"},
    "sex": {0: "sex_differs"},
    "area_code": {1: "area_township", 0: "area_differs"},
    "id_number": {1: "id_typo", 0: "id_differs"},
}
#: Equality blocks, so only plausible pairs are scored: same pinyin and birth year (catches a
#: mistyped birth date); same name and village; the same ID number (its owner, when name and
#: birth date disagree); and, for records whose ID number is missing or mistyped only, the same
#: birth date and the same first 14 characters (birth place and date). A record with a valid
#: number we do not hold is not paired by birth date alone: its number disagreeing (−5.6), a
#: candidate whose name is not at least a homophone — which the pinyin block finds — cannot
#: reach review (≈ −0.1 bits at best), and such pairs were four fifths of all in the benchmark.
_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("birth_block",), ("pinyin", "birth_year"), ("id14",), ("id_number",), ("name", "area_code"))
_MODEL_COLUMNS = ("unique_id", "id_number", "id_valid", "id14", "name", "pinyin", "birth_date", "birth_year", "sex",
                  "area_code", "birth_block")


def _settings(prior: float) -> SettingsCreator:
    comparisons: list[ComparisonCreator | dict[str, Any]] = []
    for name, (column, levels) in _LEVELS.items():
        built: list[ComparisonLevelCreator | dict[str, Any]] = [cll.NullLevel(column)]
        for label, sql, m, u in levels:
            built.append(cll.CustomLevel(sql, label_for_charts=label).configure(m_probability=m, u_probability=u))
        m_else, u_else = _ELSE[name]
        built.append(cll.ElseLevel().configure(m_probability=m_else, u_probability=u_else))
        comparisons.append(CustomComparison(built, output_column_name=name))
    return SettingsCreator(
        link_type="link_only", comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*columns) for columns in _BLOCKS],
        probability_two_random_records_match=prior, retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
    )


def _model_frame(frame: pl.DataFrame, key: str, *, registered: bool) -> pl.DataFrame:
    """The columns the model compares and blocks on; `registered` for the persons' side."""
    id14 = pl.col("id_number").str.slice(0, 14)
    birth_block = pl.col("birth_date")
    if not registered:
        id14, birth_block = pl.when(~pl.col("_id_valid")).then(id14), pl.when(~pl.col("_id_valid")).then(birth_block)
    return frame.select(
        pl.col(key).alias("unique_id"), "id_number", pl.col("_id_valid").alias("id_valid"),
        id14.alias("id14"), "name", pinyin(frame.get_column("name")),
        "birth_date", pl.col("birth_date").dt.year().alias("birth_year"), "sex", "area_code",
        birth_block.alias("birth_block"),
    )


def _plausible(people: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The persons sharing at least one block with some record: a small import is then scored
    against a handful of persons, not the whole registry."""
    keep = np.zeros(people.height, dtype=np.bool_)
    for columns in _BLOCKS:
        keys = records.select(columns).drop_nulls().unique()
        if keys.height:
            hits = people.select(columns).with_row_index("_row").join(keys, on=list(columns), how="semi")
            keep[hits.get_column("_row").to_numpy()] = True
    return people.filter(pl.Series(keep))


def _score(people: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    """Every blocked (record, person) pair with Splink's weight, probability and gamma levels."""
    empty = pl.DataFrame(schema={"record_key": pl.Int64, "person_id": pl.Int64, "match_weight": pl.Float64,
                                 "match_probability": pl.Float64,
                                 **{f"gamma_{name}": pl.Int32 for name in _LEVELS}})
    if records.height == 0 or people.height == 0:
        return empty
    left = people.select(_MODEL_COLUMNS)
    right = records.select(_MODEL_COLUMNS)
    connection = duckdb.connect(":memory:")
    try:
        db = DuckDBAPI(connection)
        linker = Linker([db.register(left, dataset_display_name="persons"),
                         db.register(right, dataset_display_name="records")],
                        _settings(settings.prior), log_level=None)
        predicted = linker.inference.predict(warning_mode="never")
        table = predicted.as_duckdbpyrelation().select(
            "source_dataset_l, unique_id_l, unique_id_r, match_weight, match_probability, "
            + ", ".join(f"mw_{name}" for name in _LEVELS)).to_arrow_table()
    finally:
        connection.close()
    pairs = pl.from_arrow(table)
    assert isinstance(pairs, pl.DataFrame)
    if pairs.height == 0:
        return empty
    persons_left = pl.col("source_dataset_l") == "persons"
    return pairs.select(
        pl.when(persons_left).then("unique_id_r").otherwise("unique_id_l").cast(pl.Int64).alias("record_key"),
        pl.when(persons_left).then("unique_id_l").otherwise("unique_id_r").cast(pl.Int64).alias("person_id"),
        pl.col("match_weight").cast(pl.Float64), pl.col("match_probability").cast(pl.Float64),
        *(_gamma_from_weight(name) for name in _LEVELS),
    )


def _gamma_from_weight(name: str) -> pl.Expr:
    """Splink's comparison level (its gamma: −1 null, 0 else, higher = closer) read back from the
    level's weight log2(m/u), which is distinct per level; Splink hands out the gamma columns
    only together with every matching column, which would double the pairs' size."""
    _column, levels = _LEVELS[name]
    weights = {0.0: -1}
    for position, (_label, _sql, m, u) in enumerate(levels):
        weights[round(math.log2(m / u), 6)] = len(levels) - position
    m_else, u_else = _ELSE[name]
    weights[round(math.log2(m_else / u_else), 6)] = 0
    assert len(weights) == len(levels) + 2, f"two levels of {name} share a weight"
    return (pl.col(f"mw_{name}").cast(pl.Float64).round(6)
            .replace_strict(list(weights), list(weights.values()), return_dtype=pl.Int32).alias(f"gamma_{name}"))


def _gamma_reasons() -> pl.Expr:
    """The best candidate's disagreements as reason words, in a fixed order (null when none)."""
    parts = []
    for name, words in _GAMMA_REASONS.items():
        gamma = pl.col(f"gamma_{name}")
        parts.append(gamma.replace_strict(list(words), list(words.values()), default=None, return_dtype=pl.String))
    return _join_reasons(*parts)


def _join_reasons(*parts: pl.Expr) -> pl.Expr:
    """Reason words joined with ";"; each part is a word or null; null when there is none."""
    joined = pl.concat_str(parts, separator=";", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


# --- the public functions --------------------------------------------------------------------------


def _prepare(persons: pl.DataFrame, records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    people = _with_validity(_conform(persons, PERSONS, "persons", "person_id"))
    recs = _conform(records, RECORDS, "records", "record_key")
    doubled = people.filter(pl.col("_id_key").is_not_null() & pl.col("_id_key").is_duplicated())
    if doubled.height:
        ids = doubled.sort("id_number", "person_id").get_column("person_id").head(2).to_list()
        raise ValueError(f"persons.id_number: two registered persons share one ID number (person_id {ids[0]} "
                         f"and {ids[1]})")
    return people, recs


def _by_id(people: pl.DataFrame, recs: pl.DataFrame) -> pl.DataFrame:
    """Records with a valid ID number held by a registered person: person, agreement, reasons."""
    owners = people.filter(pl.col("_id_valid")).select(
        "person_id", "_id_key", pl.col("name").alias("p_name"), pl.col("birth_date").alias("p_birth"),
        pl.col("sex").alias("p_sex"))
    # Equal keys are equal texts, and the owner's number is valid: so is the record's.
    joined = recs.filter(pl.col("_id_key").is_not_null()).join(owners, on="_id_key", how="inner")
    name_differs = pl.col("name").is_not_null() & (pl.col("name") != pl.col("p_name"))
    birth_differs = pl.col("birth_date").is_not_null() & (pl.col("birth_date") != pl.col("p_birth"))
    sex_differs = pl.col("sex").is_not_null() & pl.col("p_sex").is_not_null() & (pl.col("sex") != pl.col("p_sex"))
    reasons = _join_reasons(
        pl.when(pl.col("name").is_null()).then(pl.lit("name_missing"))
        .when(name_differs).then(pl.lit("name_differs")),
        pl.when(pl.col("birth_date").is_null()).then(pl.lit("birth_date_missing"))
        .when(birth_differs).then(pl.lit("birth_date_differs")),
        pl.when(sex_differs).then(pl.lit("sex_differs")),
    )
    return joined.select("record_key", "person_id", (name_differs & birth_differs).alias("conflict"),
                         reasons.fill_null("").alias("reasons"))


def candidates(persons: pl.DataFrame, records: pl.DataFrame,
               settings: LinkageSettings = LinkageSettings()) -> pl.DataFrame:
    """Every registered person a record may be about, for an officer confirming a `to_confirm`
    record (pass those records): the scored pairs at or above `review_probability`, best first,
    with Splink's pairwise weight and how the person differs (CANDIDATES). Every record given
    is scored, whatever its ID number; the ID join of `link` is not repeated here."""
    people, recs = _prepare(persons, records)
    scored = _score_records(people, _with_validity(recs), settings)
    return (scored.filter(pl.col("match_probability") >= settings.review_probability)
            .select("record_key", "person_id", "match_weight", "match_probability",
                    _gamma_reasons().fill_null("").alias("reasons"))
            .sort(["record_key", "match_weight", "person_id"], descending=[False, True, False])
            .select([pl.col(name).cast(dtype) for name, dtype in CANDIDATES.items()]))


def _score_records(people: pl.DataFrame, recs: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    model_people = _model_frame(people, "person_id", registered=True)
    model_records = _model_frame(recs, "record_key", registered=False)
    return _score(_plausible(model_people, model_records), model_records, settings)


def link(persons: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings = LinkageSettings()) -> pl.DataFrame:
    """One row per record, in the records' order: `record_key, person_id, method, match_weight,
    match_probability, status, reasons, candidates` (see LINKS).

    `method` is "id" (valid ID number held by a registered person whose name or birth date
    agrees; a missing name or birth date does not disagree), "probabilistic" (scored
    against candidates) or "none" (no candidate shared a block). `status` is "linked",
    "to_confirm" or "unmatched"; `person_id` is null only when unmatched. For scored
    records `match_weight` and `match_probability` are Splink's for the best candidate
    (kept for unmatched records too, as a diagnostic); `candidates` counts the persons
    at or above `review_probability`. `reasons`: why the ID did not settle it
    (id_missing, id_checksum_bad, id_unknown, id_conflict), how the candidate differs
    (name_homophone, name_similar, name_differs, birth_date_one_off, birth_date_differs,
    sex_differs, area_township, area_differs, id_typo, id_differs, …_missing),
    ambiguous, no_candidate.
    """
    people, recs = _prepare(persons, records)
    by_id = _by_id(people, recs)
    linked_by_id = by_id.filter(~pl.col("conflict"))

    rest = _with_validity(recs.join(linked_by_id.select("record_key"), on="record_key", how="anti"))
    conflicts = by_id.filter(pl.col("conflict")).select("record_key", pl.col("person_id").alias("id_owner"))
    rest = (rest.join(conflicts, on="record_key", how="left")
            .with_columns(
                pl.when(pl.col("id_number").is_null()).then(pl.lit("id_missing"))
                .when(~pl.col("_id_valid")).then(pl.lit("id_checksum_bad"))
                .when(pl.col("id_owner").is_not_null()).then(pl.lit("id_conflict"))
                .otherwise(pl.lit("id_unknown")).alias("why")))

    scored = _score_records(people, rest, settings)
    best = _decide(scored, rest, settings)

    id_rows = linked_by_id.select(
        "record_key", "person_id", pl.lit("id").alias("method"), pl.lit(None, pl.Float64).alias("match_weight"),
        pl.lit(1.0).alias("match_probability"), pl.lit("linked").alias("status"), "reasons",
        pl.lit(1, pl.UInt32).alias("candidates"))
    result = pl.concat([id_rows, best.select(list(LINKS))], how="vertical_relaxed")
    return (recs.select("record_key").join(result, on="record_key", how="left", maintain_order="left")
            .select([pl.col(name).cast(dtype) for name, dtype in LINKS.items()]))


def _decide(scored: pl.DataFrame, rest: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    """The best candidate per scored record and what to do with it (see the module docstring)."""
    summary = scored.group_by("record_key").agg(
        pl.col("match_weight").max().alias("_top"),
        (pl.lit(2.0).pow(pl.col("match_weight") - pl.col("match_weight").max())).sum().alias("_relative"),
        (pl.col("match_probability") >= settings.review_probability).sum().cast(pl.UInt32).alias("candidates"),
    )
    # The best pair of each record; on a tie of weights, the lower person_id (deterministic).
    tops = scored.filter(pl.col("match_weight") == pl.col("match_weight").max().over("record_key"))
    best = (tops.filter(pl.col("person_id") == pl.col("person_id").min().over("record_key"))
            .join(summary, on="record_key"))
    # P(best | at most one candidate) = odds₁ / (1 + Σ oddsⱼ) = 1 / (2^−w₁ + Σ 2^(wⱼ − w₁))
    best = best.with_columns((1.0 / (pl.lit(2.0).pow(-pl.col("_top")) + pl.col("_relative"))).alias("_exclusive"))
    frame = rest.select("record_key", "why", "id_owner").join(best, on="record_key", how="left")

    has_candidate = pl.col("person_id").is_not_null()
    other_valid_id = pl.col("why").is_in(["id_unknown", "id_conflict"]) & (pl.col("gamma_id_number") == 0)
    linked = has_candidate & (pl.col("_exclusive") >= settings.link_probability) & ~other_valid_id
    review = has_candidate & (pl.col("match_probability") >= settings.review_probability)
    # Not linked because another candidate is plausible too (never said of a record naming someone else).
    ambiguous = review & ~linked & ~other_valid_id & (
        (pl.col("candidates") >= 2) | (pl.col("match_probability") >= settings.link_probability))
    frame = frame.with_columns(
        pl.when(linked).then(pl.lit("linked")).when(review).then(pl.lit("to_confirm"))
        .otherwise(pl.lit("unmatched")).alias("status"),
        ambiguous.alias("_ambiguous"))

    # A valid ID number held by a registered person whose name and birth date both differ is put
    # before an officer with that person, when no candidate did better: never silently unmatched.
    pair_columns = ["person_id", "match_weight", "match_probability", *(f"gamma_{name}" for name in _LEVELS)]
    owner = scored.join(frame.filter(pl.col("status") == "unmatched")
                        .select("record_key", pl.col("id_owner").alias("person_id")),
                        on=["record_key", "person_id"], how="inner")
    frame = frame.join(owner.select("record_key", *(pl.col(c).alias(f"_owner_{c}") for c in pair_columns)),
                       on="record_key", how="left")
    fallback = pl.col("_owner_person_id").is_not_null()
    frame = frame.with_columns(
        *(pl.when(fallback).then(f"_owner_{c}").otherwise(c).alias(c) for c in pair_columns),
        pl.when(fallback).then(pl.lit("to_confirm")).otherwise("status").alias("status"))

    return frame.with_columns(
        pl.when(pl.col("status") == "unmatched").then(None).otherwise("person_id").alias("person_id"),
        pl.when(has_candidate).then(pl.lit("probabilistic")).otherwise(pl.lit("none")).alias("method"),
        _join_reasons(
            pl.col("why"),
            pl.when(has_candidate).then(_gamma_reasons()),
            pl.when(pl.col("_ambiguous")).then(pl.lit("ambiguous")),
            pl.when(~has_candidate).then(pl.lit("no_candidate")),
        ).fill_null("").alias("reasons"),
        pl.col("candidates").fill_null(0),
    )

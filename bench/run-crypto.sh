#!/usr/bin/env bash
# The cost of encrypting personal data (issue 22), not a test: run by hand.
# Usage: bench/run-crypto.sh [HOUSEHOLDS]   (default 100000); writes bench/CRYPTO.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ducha/target}"
cargo build --release -q -p ducha-bench --bin vault-bench --bin exchange-bench --bin checks-bench
BIN="$CARGO_TARGET_DIR/release"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

run() { # command... → its last line, then its peak RSS
  /usr/bin/time -v "$@" 2> "$WORK/time.txt" | tail -n 1 | tr -d '\n'
  printf ' peak_rss_mb=%s\n' "$(awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$WORK/time.txt")"
}
field() { printf '%s' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

VAULT=$("$BIN/vault-bench" 1000000); echo "$VAULT"
rows=""
for suite in intl sm; do
  export DUCHA_CRYPTO=$suite
  dir="$WORK/$suite"; mkdir -p "$dir"
  SETUP=$(run "$BIN/exchange-bench" setup "sqlite://$dir/source.db" "$N"); echo "$suite $SETUP"
  EXPORT=$(run "$BIN/exchange-bench" export "sqlite://$dir/source.db" "$dir/households.xlsx"); echo "$suite $EXPORT"
  IMPORT=$(run "$BIN/exchange-bench" import "sqlite://$dir/target.db" "$dir/households.xlsx"); echo "$suite $IMPORT"
  /usr/bin/time -v "$BIN/checks-bench" run "sqlite://$dir/source.db" > "$WORK/audit.txt" 2> "$WORK/time.txt"
  FIRST=$(grep '^run_first' "$WORK/audit.txt"); STEADY=$(grep '^run_steady' "$WORK/audit.txt")
  AUDIT_RSS=$(awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$WORK/time.txt")
  echo "$suite $FIRST"; echo "$suite $STEADY peak_rss_mb=$AUDIT_RSS"
  rows="$rows| $suite | $(field "$SETUP" seconds) | $(field "$EXPORT" seconds) ($(field "$EXPORT" cells_per_second) cells/s) | $(field "$IMPORT" seconds) ($(field "$IMPORT" rows_per_second) rows/s) | $(field "$FIRST" seconds) / $(field "$STEADY" seconds) |
"
  MEMBERS=$(field "$SETUP" members)
done
unset DUCHA_CRYPTO
intl_line=$(printf '%s\n' "$VAULT" | grep 'suite=intl')
sm_line=$(printf '%s\n' "$VAULT" | grep 'suite=sm')
# Values sealed by an import of the file: per member an ID number, a health fact and a phone (most
# have one), per household a phone and an account; each ID number also gets a blind lookup.
VALUES=$(( MEMBERS * 3 + N * 2 ))
share() { awk -v v="$VALUES" -v m="$MEMBERS" -v s="$(field "$1" seal_ns)" -v l="$(field "$1" lookup_ns)" 'BEGIN {printf "%.2f", (v * s + m * l) / 1e9}'; }

cat > bench/CRYPTO.md <<MD
# The cost of encrypting personal data

Run with \`bench/run-crypto.sh $N\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m),
release build, SQLite files in a temporary directory. $(printf '%s\n' "$VAULT" | head -n 1).

Method: \`vault-bench\` seals, opens and indexes a million 18-character ID numbers on one thread
under each suite (AES-256-GCM with HMAC-SHA-256, SM4-GCM with HMAC-SM3, all from RustCrypto).
Then, for each suite (\`DUCHA_CRYPTO\`), the same work a user waits for, each phase its own process:
the demo city of $N households without deliberate defects ("setup", every value sealed as it is
written), the export of every household (every value opened), the import of that file into an
empty registry (every value sealed, every ID number indexed), and \`checks::run\` over the whole
registry twice (first run, then steady: every member's ID number opened to compute the rules).
Encryption cannot be switched off (it is on in the demo and in every test), so its share is given
from the per-value cost: values × cost per value, against the phase's time.

| per value (ns, one thread) | seal | open | lookup |
|---|---|---|---|
| intl (AES-256-GCM, HMAC-SHA-256) | $(field "$intl_line" seal_ns) | $(field "$intl_line" open_ns) | $(field "$intl_line" lookup_ns) |
| sm (SM4-GCM, HMAC-SM3) | $(field "$sm_line" seal_ns) | $(field "$sm_line" open_ns) | $(field "$sm_line" lookup_ns) |

| suite | setup (s) | export (s) | import (s) | audit first / steady (s) |
|---|---|---|---|---|
$rows
- The import of $N households seals about $VALUES values and indexes $MEMBERS ID numbers: about
  $(share "$intl_line") s of its time under intl and $(share "$sm_line") s under sm.
- SM4 against AES: sealing costs $(awk -v a="$(field "$sm_line" seal_ns)" -v b="$(field "$intl_line" seal_ns)" 'BEGIN {printf "%.1f", a / b}')× as much, opening $(awk -v a="$(field "$sm_line" open_ns)" -v b="$(field "$intl_line" open_ns)" 'BEGIN {printf "%.1f", a / b}')× (AES-GCM runs on the CPU's AES instructions; SM4 has none on x86 and runs in software).
MD
cat bench/CRYPTO.md

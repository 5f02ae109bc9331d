#!/usr/bin/env bash
# Fuzz what parses input (cargo-fuzz, libFuzzer, AddressSanitizer), each target for a bounded time
# under a memory limit, and print per target: runs, crashes, peak memory.
#   scripts/fuzz.sh [SECONDS] [TARGET…]      (60 s per target by default; all targets)
# Targets (fuzz/fuzz_targets/): sheet (the sheet reader on raw bytes), sheet_xlsx (workbooks whose
# XML parts the fuzzer writes), bundle (the voucher bundle reader), id_number (ID numbers and the
# masks), regions (the division file of `ducha regions import`), api_json (every JSON body of the
# API, through ApiJson and each handler's checks).
# Environment: FUZZ_RSS_MB (2048) and FUZZ_MALLOC_MB (1024) are the limits of one process and of
# one allocation: above what the readers' own bounds allow (sheet::LIMITS: 10 million cells,
# 512 MB inflated), so that reaching them means a bound is missing; FUZZ_JOBS (1)
# processes per target. Crashes are kept in fuzz/artifacts/TARGET/, logs in fuzz/logs/, the
# corpus grows in fuzz/corpus/TARGET/ (seeds: fuzz/seeds/, made by fuzz/seeds.sh).
# Stable Rust is enough: RUSTC_BOOTSTRAP lets it take cargo-fuzz's nightly flags. Not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sheet sheet_xlsx bundle id_number regions api_json)
rss_mb="${FUZZ_RSS_MB:-2048}"
malloc_mb="${FUZZ_MALLOC_MB:-1024}"
jobs="${FUZZ_JOBS:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "安装 cargo-fuzz……"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# Its own build directory: the fuzz build's flags differ from the workspace's.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
cargo fuzz build --fuzz-dir fuzz
bin_dir="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"

mkdir -p fuzz/logs
summary=()
total_crashes=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before="$(ls "fuzz/artifacts/$t" | wc -l)"
  log="fuzz/logs/$t.log"
  echo "== $t: ${seconds} 秒……"
  start=$(date +%s)
  # Fork mode goes on after a crash, an out-of-memory or a timeout (each kept as an artifact),
  # so that one known crash does not end the run. /usr/bin/time gives the largest resident set
  # of the process tree.
  /usr/bin/time -f 'peak_rss_kb=%M' -o "fuzz/logs/$t.time" \
    "$bin_dir/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" \
      -fork="$jobs" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" \
      -detect_leaks=0 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || true
  took=$(( $(date +%s) - start ))
  # Fork mode's status lines: "#RUNS: cov: … exec/s N oom/timeout/crash: A/B/C time: Ts …".
  last="$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)"
  runs="$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")"
  otc="$(sed -nE 's/.*oom\/timeout\/crash: ([0-9]+\/[0-9]+\/[0-9]+).*/\1/p' <<<"$last")"
  peak_kb="$(sed -nE 's/^peak_rss_kb=([0-9]+)/\1/p' "fuzz/logs/$t.time")"
  after="$(ls "fuzz/artifacts/$t" | wc -l)"
  new=$(( after - before ))
  total_crashes=$(( total_crashes + new ))
  summary+=("$(printf '%-11s %6ss %12s   %-9s %6s   %6s MB   %6s' "$t" "$took" "${runs:-?}" "${otc:-0/0/0}" "$new" "$(( ${peak_kb:-0} / 1024 ))" "$(ls "fuzz/corpus/$t" | wc -l)")")
done

echo
printf '%-11s %7s %12s   %-9s %6s   %9s   %6s\n' target time runs oom/t/c new-files peak-rss corpus
printf '%s\n' "${summary[@]}"
if [ "$total_crashes" -gt 0 ]; then
  echo "发现 $total_crashes 个导致崩溃、内存超限或超时的输入，见 fuzz/artifacts/（重现：fuzz/target/x86_64-unknown-linux-gnu/release/TARGET 文件）。" >&2
  exit 1
fi

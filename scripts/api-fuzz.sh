#!/usr/bin/env bash
# Fuzz the JSON API from its OpenAPI document with schemathesis: a `ducha serve --demo` on a
# temporary SQLite file and a free port, tested as several roles (city, district and town
# offices, read-only leader) with their Bearer tokens, each operation's path ids set to records
# that role can see (so that the handlers behind the 404s are reached) and, in a second pass,
# to another town's (so that scope refusals are exercised too).
#   scripts/api-fuzz.sh [EXAMPLES] [SECONDS]    (per operation and role; 30 examples, 120 s a role)
# Fails when any response is a server error (5xx) or the server stops. Reports in
# target/api-fuzz/ (JUnit XML per role, the server's log). Not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
seconds="${2:-120}"
roles=(${API_FUZZ_ROLES:-city taishan haiyan leader})

# schemathesis in its own virtualenv (a newer Python where there is one).
venv="${API_FUZZ_VENV:-$HOME/.cache/ducha/schemathesis}"
if [ ! -x "$venv/bin/st" ]; then
  py="$(command -v python3.13 || command -v python3.12 || command -v python3)"
  echo "安装 schemathesis（$py）……"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis
fi
st="$venv/bin/st"

cargo build -q -p ducha
ducha="${CARGO_TARGET_DIR:-target}/debug/ducha"
out="${CARGO_TARGET_DIR:-target}/api-fuzz"
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
db="sqlite://$work/api.db"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$ducha" --db "$db" serve --demo --addr "127.0.0.1:$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 120); do
  curl -sf "$base/healthz" >/dev/null && break
  kill -0 $server 2>/dev/null || { echo "服务没有启动：" >&2; tail "$out/server.log" >&2; exit 1; }
  sleep 1
done

# The ids a role can see (first of each list), and another town's (for the scope pass).
ids_for() { # ROLE TOKEN -> schemathesis.toml with its operations' path parameters
  python3 - "$base" "$2" "$work/api.db" "$1" <<'PY'
import json, sqlite3, sys, urllib.request
base, token, dbfile, role = sys.argv[1:5]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except Exception:
        return None
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except Exception:
        return None
def first(v, *keys):
    for k in keys:
        if isinstance(v, dict) and isinstance(k, str):
            v = v.get(k)
        elif isinstance(v, list) and isinstance(k, int):
            v = v[k] if len(v) > k else None
        else:
            return None
    return v
me = get("/api/v1/me") or {}
region = me.get("region_code") or ""
db = sqlite3.connect(dbfile)
def one(sql, *args):
    row = db.execute(sql, args).fetchone()
    return row[0] if row else None
# Ids in the role's scope (from its own lists where the API has one).
hh = first(get("/api/v1/households"), "items", 0, "id")
mine = {
    "households": hh,
    "members": first(get(f"/api/v1/households/{hh}") if hh else None, "members", 0, "id"),
    "changes": first(get("/api/v1/changes?status=all"), 0, "id") or (hh and first(post(f"/api/v1/households/{hh}/changes", {"kind": "removal", "reason": "接口模糊测试：待审核的请求"}), "id")),
    "postings": first(get("/api/v1/postings"), 0, "id"),
    "institutions": first(get("/api/v1/institutions"), "institutions", 0, "id")
        or one("SELECT id FROM medical_institutions WHERE district_code = ? ORDER BY id", region[:6]),
    "projects": one("SELECT id FROM projects WHERE place_code LIKE ? ORDER BY id", region + "%"),
    "campaigns": first(get("/api/v1/campaigns"), 0, "id"),
    "findings": first(get("/api/v1/checks/findings?limit=1"), "findings", 0, "id"),
    "allocations": one("SELECT id FROM fund_allocations WHERE region_code LIKE ? ORDER BY id", region + "%"),
    "evidence": one("SELECT id FROM evidence WHERE household_id IN (SELECT id FROM households WHERE village_code LIKE ?) ORDER BY id", region + "%"),
}
# Another district's records (恩平市 440785), out of scope for every office but the city's.
other = {
    "households": one("SELECT id FROM households WHERE district_code = '440785' ORDER BY id"),
    "members": one("SELECT m.id FROM members m JOIN households h ON h.id = m.household_id WHERE h.district_code = '440785' ORDER BY m.id"),
    "allocations": one("SELECT id FROM fund_allocations WHERE region_code LIKE '440785%' ORDER BY id"),
}
paths = {
    "households": r"^/api/v1/households/\{id\}",
    "members": r"^/api/v1/members/\{id\}",
    "changes": r"^/api/v1/changes/\{id\}",
    "postings": r"^/api/v1/postings/\{id\}",
    "institutions": r"^/api/v1/institutions/\{id\}",
    "projects": r"^/api/v1/projects/\{id\}",
    "campaigns": r"^/api/v1/campaigns/\{id\}",
    "findings": r"^/api/v1/checks/findings/\{id\}",
    "allocations": r"^/api/v1/allocations/\{id\}",
    "evidence": r"^/api/v1/evidence/\{id\}",
}
for name, ids in (("mine", mine), ("other", {**mine, **{k: v for k, v in other.items() if v}})):
    with open(f"{sys.argv[3].rsplit('/', 1)[0]}/{role}-{name}.toml", "w") as f:
        for key, regex in paths.items():
            if ids.get(key):
                f.write(f"[[operations]]\ninclude-path-regex = '{regex}'\nparameters = {{ \"path.id\" = {ids[key]} }}\n\n")
        f.write('[[operations]]\ninclude-path-regex = "^/api/v1/checks/params/"\nparameters = { "path.key" = "attendance_min_percent" }\n\n')
        f.write("[[operations]]\ninclude-path-regex = '^/api/v1/regions/\\{code\\}'\nparameters = { \"path.code\" = \"440781111\" }\n")
print(json.dumps({"role": role, "region": region, "mine": mine}, ensure_ascii=False))
PY
}

failed=0
summary=()
for role in "${roles[@]}"; do
  token="$("$ducha" --db "$db" user token "$role" --name 接口模糊测试 2>/dev/null | grep -oE "ducha_[0-9a-f]+" | head -n 1)"
  ids_for "$role" "$token" >"$out/$role-ids.json"
  for pass in mine other; do
    echo "== $role（$pass）……"
    start=$(date +%s)
    set +e
    "$st" --config-file "$work/$role-$pass.toml" run "$base/api/v1/openapi.json" \
      -H "Authorization: Bearer $token" --checks not_a_server_error \
      --max-examples "$examples" --max-time "$seconds" --workers 2 --seed 20171106 \
      --suppress-health-check all --request-timeout 30 --continue-on-failure \
      --report junit --report-junit-path "$out/$role-$pass.xml" >"$out/$role-$pass.log" 2>&1
    code=$?
    set -e
    took=$(( $(date +%s) - start ))
    cases="$(grep -oE '[0-9]+ generated' "$out/$role-$pass.log" | tail -n 1 | cut -d' ' -f1 || true)"
    server_errors="$(grep -cE 'Server error|Status code: 5[0-9][0-9]' "$out/$role-$pass.log" || true)"
    alive=yes
    kill -0 $server 2>/dev/null || alive=no
    summary+=("$(printf '%-8s %-6s %6s cases  %3s server errors  exit %s  %4ss  server alive: %s' "$role" "$pass" "${cases:-?}" "$server_errors" "$code" "$took" "$alive")")
    if [ "$code" != 0 ] || [ "$alive" != yes ]; then failed=1; fi
    [ "$alive" = yes ] || break 2
  done
done
printf '%s\n' "${summary[@]}"
if grep -q 'panicked' "$out/server.log"; then
  echo "服务日志中有 panic：" >&2
  grep -m 5 'panicked' "$out/server.log" >&2
  failed=1
fi
[ "$failed" = 0 ] || { echo "接口模糊测试发现问题，详见 $out/" >&2; exit 1; }

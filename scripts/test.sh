#!/usr/bin/env bash
# Run every test of ducha: unit tests, and the integration tests on SQLite and on PostgreSQL.
# Starts the local PostgreSQL if it is installed but stopped; the PostgreSQL tests fail with a
# clear message when there is none (set DUCHA_TEST_PG_URL to use another server).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DUCHA_TEST_PG_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "启动本机 PostgreSQL……"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi
if [ -z "${DUCHA_TEST_PG_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "注意：127.0.0.1:5432 上没有 PostgreSQL，PostgreSQL 测试将失败（可用 DUCHA_TEST_PG_URL 指定服务器）。" >&2
fi

# PostgreSQL as deployed is reached over TCP with TLS: the local cluster serves TLS with a
# certificate for localhost and 127.0.0.1 signed by a CA made here (self-signed, for the tests
# only), and the TLS tests verify it with that CA (DUCHA_TEST_PG_CA). The Unix socket is unchanged.
tls_dir=/var/lib/postgresql/ducha-test-tls
if [ -z "${DUCHA_TEST_PG_URL:-}" ] && [ -z "${DUCHA_TEST_PG_CA:-}" ] && [ "$(id -u)" = 0 ] \
   && command -v openssl >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  psql_admin() { psql -X -q -h 127.0.0.1 -U postgres -d postgres "$@"; }
  if [ ! -f "$tls_dir/ca.crt" ] || [ "$(psql_admin -At -c 'SHOW ssl_cert_file')" != "$tls_dir/server.crt" ] \
     || [ "$(psql_admin -At -c 'SHOW ssl')" != on ]; then
    echo "为本机 PostgreSQL 打开 TLS（测试用的自签 CA 和证书，在 $tls_dir）……"
    rm -rf "$tls_dir" && mkdir -p "$tls_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=ducha test CA" \
      -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$tls_dir/server.key" -out "$tls_dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$tls_dir/server.ext"
    openssl x509 -req -in "$tls_dir/server.csr" -CA "$tls_dir/ca.crt" -CAkey "$tls_dir/ca.key" -CAcreateserial \
      -days 3650 -extfile "$tls_dir/server.ext" -out "$tls_dir/server.crt" 2>/dev/null
    chown -R postgres:postgres "$tls_dir" && chmod 600 "$tls_dir/server.key" "$tls_dir/ca.key"
    psql_admin -c "ALTER SYSTEM SET ssl = on" -c "ALTER SYSTEM SET ssl_cert_file = '$tls_dir/server.crt'" \
      -c "ALTER SYSTEM SET ssl_key_file = '$tls_dir/server.key'" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  export DUCHA_TEST_PG_CA="$tls_dir/ca.crt"
fi

# The browser tests drive Debian's Chromium through chromedriver; Chinese text needs CJK fonts
# (without them the screenshots show boxes).
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || ! [ -d /usr/share/fonts/opentype/noto ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "安装 chromium、chromium-driver 和中文字体（浏览器测试需要）……"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; }
  else
    echo "注意：没有 chromium/chromedriver，浏览器测试将失败（请安装 chromium chromium-driver）。" >&2
  fi
fi

# The proxy test runs Debian's nginx in front of ducha (its own configuration, on a free port; the
# package's own server is not started).
if ! command -v nginx >/dev/null 2>&1 && ! [ -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "安装 nginx（反向代理测试需要）……"
    RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null \
      || { apt-get update -q >/dev/null && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null; }
  else
    echo "注意：没有 nginx，反向代理测试将失败（请安装 nginx-light）。" >&2
  fi
fi

# The import test converts a CSV with LibreOffice Calc, so that ducha reads an xlsx another program
# wrote; the circular's tests open its docx with LibreOffice Writer and read its PDF with poppler;
# fonts-cwtex-fs is Debian's free FangSong (仿宋, traditional characters only), which the PDF's
# body takes when it holds every character.
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 || ! dpkg -s libreoffice-writer-nogui >/dev/null 2>&1 || ! dpkg -s fonts-cwtex-fs >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "安装 LibreOffice、poppler-utils 和中文字体（导入与通报测试需要）……"
    pkgs="libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-noto-cjk fonts-arphic-ukai fonts-cwtex-fs"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null; }
  else
    echo "注意：没有 LibreOffice 或 poppler-utils，导入与通报测试将失败（请安装 libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-noto-cjk）。" >&2
  fi
fi

# DEPLOY.md's systemd unit, checked where systemd-analyze is (its ExecStart pointed at a binary
# that exists here: the release binary is installed only when deploying).
if command -v systemd-analyze >/dev/null 2>&1; then
  unit_dir="$(mktemp -d)"
  sed 's|/usr/local/bin/ducha|/bin/true|' deploy/ducha.service > "$unit_dir/ducha.service"
  systemd-analyze verify "$unit_dir/ducha.service"
  rm -rf "$unit_dir"
  echo "deploy/ducha.service：systemd-analyze verify 通过"
fi

exec cargo test --workspace "$@"

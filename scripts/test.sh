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

exec cargo test --workspace "$@"

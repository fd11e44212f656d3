#!/usr/bin/env bash
# Install the Debian packages the tests use, only those missing: Chromium (browser tests of the
# maps), a CJK font (Chinese labels in screenshots), PostgreSQL with PostGIS (database tests).
# On a system without apt-get it installs nothing and says so; those tests then skip with a
# reason (and fail under CI=true).
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1 || need+=(fonts-wqy-microhei)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-postgis)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-debian-deps: chromium, fonts, PostgreSQL and PostGIS already present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-debian-deps: no apt-get here; install ${need[*]} yourself (tests needing them skip)"
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "install-debian-deps: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"

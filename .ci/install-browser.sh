#!/usr/bin/env bash
# Debian packages for the headless-browser map tests (tests/browser.py):
#   chromium        the browser Playwright drives at /usr/bin/chromium (no Playwright download)
#   fonts-noto-cjk  Chinese glyphs for township and school labels in screenshots
# Idempotent: installs only the packages that are missing, and runs apt-get only then.
# Needs root (as on CI). Run it with: bash .ci/install-browser.sh
set -euo pipefail

packages=(chromium fonts-noto-cjk)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-browser: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null

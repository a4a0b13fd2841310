#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright can't download its own browsers here).
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
echo "Installing Debian's chromium for the browser tests..."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
[ -x "$path" ] || { echo "chromium is still missing at $path"; exit 1; }

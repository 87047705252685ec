#!/usr/bin/env bash
# Make Debian's chromium available for tests/test_report.py, which opens the HTML report in a real
# headless browser. Does nothing when chromium is already installed; otherwise installs it with
# apt-get (needs root). Exits non-zero when chromium is missing and cannot be installed.
set -euo pipefail
if command -v chromium >/dev/null; then
  echo "install-chromium: $(chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-chromium: chromium missing; install it as root: apt-get install chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "install-chromium: $(chromium --version 2>/dev/null) installed"

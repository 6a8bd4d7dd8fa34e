#!/usr/bin/env bash
# Make a Chromium available for the Playwright tests:
# Debian's /usr/bin/chromium if present; else install it with apt-get when we
# can; else let Playwright download its own build.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
  fi
  if [ "$SUDO" != none ]; then
    echo "Installing Debian's chromium for the browser tests..."
    $SUDO apt-get update -qq
    if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
      exit 0
    fi
  fi
fi
echo "Falling back to Playwright's own Chromium..."
"${VENV:-.venv}/bin/playwright" install chromium

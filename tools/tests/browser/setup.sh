#!/bin/sh
# Installs what the dashboard's browser test needs when it is missing:
# Debian's Chromium (as root, via apt-get) and the pinned playwright-core
# (npm ci from package-lock.json; it downloads no browser). Prints why and
# exits non-zero when it cannot, so the test fails rather than skips.
set -eu
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "Chromium is missing and this is not root: run 'apt-get install chromium'" >&2
        exit 1
    fi
    echo "installing Debian's chromium for the dashboard's browser test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
if ! command -v node >/dev/null 2>&1; then
    echo "Node.js is missing: run 'apt-get install nodejs npm'" >&2
    exit 1
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
    npm ci --no-audit --no-fund --silent
fi

#!/usr/bin/env bash
# Browser tests drive Debian's chromium (/usr/bin/chromium) with playwright-python.
# Installs it when missing and we may (root + apt); otherwise those tests skip with a reason.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  printf '[bootstrap] installing Debian chromium for the browser tests\n' >&2
  if ! { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; then
    printf '[bootstrap] could not install chromium; browser tests will be skipped\n' >&2
  fi
else
  printf '[bootstrap] /usr/bin/chromium missing (install Debian chromium); browser tests will be skipped\n' >&2
fi
exit 0

#!/usr/bin/env bash
# `make test-scale` starts throwaway servers itself: PostgreSQL from the machine's binaries (initdb), Redis
# (redis-server) and a Chroma server (`chroma run`, from .venv). Installs Redis when missing and we may
# (root + apt); otherwise the tests that need a missing server skip with a reason.
set -uo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  printf '[bootstrap] installing redis-server for the scale-out tests\n' >&2
  if ! { apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq redis-server >/dev/null 2>&1; }; }; then
    printf '[bootstrap] could not install redis-server; multi-replica tests will be skipped\n' >&2
  fi
else
  printf '[bootstrap] redis-server missing (apt-get install redis-server); multi-replica tests will be skipped\n' >&2
fi
exit 0

#!/usr/bin/env bash
# Everything the tests and the benchmark need besides npm packages, installed from scratch and
# idempotent (a second run takes a second, and runs apt only for a missing tool): Debian tools, the
# real Linux Azure agent unpacked (never installed), a real PowerShell, and the Linux build of the
# Node the package ships (the bundled handler and agent run on it). Run by `npm test` before
# jest and by `npm run bench` before it measures (their pre scripts); safe to run by hand.
# `npm run test:unit` needs none of it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages: openssl (CMS), unzip (the package as the manager sees it), Debian's python3 (the
# agent), GNU time (benchmark peak memory), xmllint from libxml2-utils (task XML against the XSD).
needed=()
command -v openssl >/dev/null 2>&1 || needed+=(openssl)
command -v unzip >/dev/null 2>&1 || needed+=(unzip)
[ -x /usr/bin/python3 ] || needed+=(python3)
[ -x /usr/bin/time ] || needed+=(time)
command -v xmllint >/dev/null 2>&1 || needed+=(libxml2-utils)
if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test-tools: missing Debian packages: ${needed[*]}; run: sudo apt-get update && sudo apt-get install -y ${needed[*]}" >&2
    exit 1
  fi
  echo "setup-test-tools: installing ${needed[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >&2
fi

bash "$repo/scripts/dev/unpack-waagent.sh" >/dev/null
bash "$repo/scripts/dev/install-pwsh.sh" >/dev/null
"$repo/node_modules/.bin/tsx" "$repo/scripts/build/shipped-node.ts" >/dev/null

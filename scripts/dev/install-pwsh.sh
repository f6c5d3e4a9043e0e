#!/usr/bin/env bash
# Installs a real PowerShell (the "PowerShell" .NET global tool) into <repo>/.tools/pwsh/ so the
# tests can run our Windows scripts with the real parser and runtime on Linux. Idempotent: a
# working pwsh already there is kept. Prints the path of pwsh on stdout (progress goes to stderr).
#
# Needs the .NET SDK (`dotnet`) and a NuGet source. PWSH_VERSION overrides the pinned version.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tool_dir="$repo/.tools/pwsh"
pwsh="$tool_dir/pwsh"
export POWERSHELL_TELEMETRY_OPTOUT=1
# Pinned so every machine tests against the same PowerShell; override with PWSH_VERSION.
PWSH_VERSION="${PWSH_VERSION:-7.6.9}"

# Already installed, runnable and the pinned version: nothing to do (bumping the pin reinstalls).
if [ -x "$pwsh" ]; then
  installed="$("$pwsh" -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null || true)"
  if [ -n "$installed" ] && [ "$installed" = "$PWSH_VERSION" ]; then
    echo "$pwsh"
    exit 0
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-pwsh: the .NET SDK ('dotnet') is not on PATH; install it first." >&2
  exit 1
fi

# Keep the first-run banner and telemetry of the SDK out of CI logs.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# A half-finished earlier attempt leaves a directory dotnet refuses to reuse.
rm -rf "$tool_dir"
mkdir -p "$tool_dir"

args=(tool install PowerShell --tool-path "$tool_dir" --version "$PWSH_VERSION")
echo "install-pwsh: dotnet ${args[*]}" >&2
dotnet "${args[@]}" >&2

if ! "$pwsh" -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' >&2; then
  echo "install-pwsh: $pwsh was installed but does not run." >&2
  exit 1
fi
echo "$pwsh"

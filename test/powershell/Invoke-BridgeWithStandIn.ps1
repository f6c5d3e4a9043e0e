<#
.SYNOPSIS
Runs windows/powershell/HostBridge.ps1 on Linux pwsh against the stand-in Windows (WindowsStandIn.psm1).

.DESCRIPTION
The entry script PowerShellHost starts in tests instead of HostBridge.ps1: it loads the stand-in
commands into the global scope (where the bridge's module finds them before any real cmdlet) and
its programs (bin/) onto PATH,
makes the model's local node current with its C: drive, then runs the real bridge, which reads the
request from this process's stdin. Needs $env:ARS_MACHINE_MODEL and $env:ARS_MACHINE_ROOT.
#>

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Stand-in Windows programs (wevtutil.exe) come first on PATH.
$env:PATH = (Join-Path $PSScriptRoot 'bin') + [System.IO.Path]::PathSeparator + $env:PATH
Import-Module (Join-Path $PSScriptRoot 'WindowsStandIn.psm1') -Global -Force -DisableNameChecking
Initialize-StandIn

$bridge = Join-Path $PSScriptRoot (Join-Path '..' (Join-Path '..' (Join-Path 'windows' (Join-Path 'powershell' 'HostBridge.ps1'))))
& $bridge
exit $LASTEXITCODE

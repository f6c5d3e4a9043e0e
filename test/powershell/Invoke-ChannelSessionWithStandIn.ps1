<#
.SYNOPSIS
Runs windows/powershell/ChannelSession.ps1 on Linux pwsh against the stand-in Windows.

.DESCRIPTION
The entry script PowerShellSessionLauncher starts in tests instead of ChannelSession.ps1: it loads
the stand-in commands into the global scope (WindowsStandIn.psm1: Set-LocalUser, New-PSSession...),
makes the model's local node current with its C: drive, loads the compiled stand-ins of the JEA
roles' Windows commands (test/support/jea/JeaRunspace.psm1, from the file $env:ARS_JEA_STANDINS
that installJeaStandIns wrote), then runs the real script with the same parameters. Needs
$env:ARS_MACHINE_MODEL, $env:ARS_MACHINE_ROOT and $env:ARS_JEA_STANDINS. Optional:
$env:ARS_STANDIN_NODE, the node the session runs on (default the model's localNode), and
$env:ARS_CHANNEL_SESSION_SCRIPT, the ChannelSession.ps1 to run (default this checkout's; the
channel loop runs the package's, sim/windows/pwsh-sessions.ts).
#>
param([string] $UserName, [string] $ConfigurationName)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

Import-Module (Join-Path $PSScriptRoot 'WindowsStandIn.psm1') -Global -Force -DisableNameChecking
Initialize-StandIn $env:ARS_STANDIN_NODE
Import-Module (Join-Path $PSScriptRoot (Join-Path '..' (Join-Path 'support' (Join-Path 'jea' 'JeaRunspace.psm1')))) -Global -Force
$standIns = Get-Content -Raw -LiteralPath $env:ARS_JEA_STANDINS | ConvertFrom-Json
Import-JeaStandIns $standIns.state $standIns.services

$script = $env:ARS_CHANNEL_SESSION_SCRIPT
if (-not $script) { $script = Join-Path $PSScriptRoot (Join-Path '..' (Join-Path '..' (Join-Path 'windows' (Join-Path 'powershell' 'ChannelSession.ps1')))) }
& $script -UserName $UserName -ConfigurationName $ConfigurationName
exit $LASTEXITCODE

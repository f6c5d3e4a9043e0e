<#
.SYNOPSIS
Runs one command of the owner's module (windows/powershell/ArcRemoteSupport) on Linux pwsh against the
stand-in Windows (WindowsStandIn.psm1), and prints what it returned as one JSON document.

.DESCRIPTION
Loads the stand-in commands into the global scope (where the owner's module finds them before any
real cmdlet), makes the model's local node current with its C: drive mapped to
$env:ARS_MACHINE_ROOT/<NODE>/C, imports the owner's module and runs -Command. Prints
{"output":[...],"warnings":[...],"errors":[...]}: the command's output objects, and the text of
its warnings and errors (a terminating error ends up in errors too). Needs $env:ARS_MACHINE_MODEL
and $env:ARS_MACHINE_ROOT.
#>
param([Parameter(Mandatory = $true)] [string] $Command)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

Import-Module (Join-Path $PSScriptRoot 'WindowsStandIn.psm1') -Global -Force -DisableNameChecking
Initialize-StandIn
$module = Join-Path $PSScriptRoot (Join-Path '..' (Join-Path '..' (Join-Path 'windows' (Join-Path 'powershell' (Join-Path 'ArcRemoteSupport' 'ArcRemoteSupport.psd1')))))
Import-Module $module -Force

$output = New-Object System.Collections.ArrayList
$warnings = New-Object System.Collections.ArrayList
$errors = New-Object System.Collections.ArrayList
# Errors the command reports without stopping are collected, not fatal.
$ErrorActionPreference = 'Continue'
try {
    foreach ($item in @(& ([scriptblock]::Create($Command)) 2>&1 3>&1)) {
        if ($item -is [System.Management.Automation.WarningRecord]) { $null = $warnings.Add($item.Message) }
        elseif ($item -is [System.Management.Automation.ErrorRecord]) { $null = $errors.Add($item.Exception.Message) }
        else { $null = $output.Add($item) }
    }
}
catch {
    $null = $errors.Add($_.Exception.Message)
}
ConvertTo-Json -InputObject ([ordered]@{ output = $output; warnings = $warnings; errors = $errors }) -Depth 6 -Compress

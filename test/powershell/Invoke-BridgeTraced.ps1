<#
.SYNOPSIS
Runs Invoke-BridgeWithStandIn.ps1 (the real bridge on the stand-in Windows) under
Trace-Command -Name ParameterBinding, into the file $env:ARS_BINDING_TRACE.

.DESCRIPTION
The trace records every argument bound to every command, with its value as text: cmdlets,
functions of modules and scripts, script blocks, pipeline input. That is a superset of what
PowerShell module logging (event 4103) records, the bound parameters of module commands, so a
secret that reaches any command parameter on the bridge's path shows up in the file.
#>

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
if (-not $env:ARS_BINDING_TRACE) { throw 'ARS_BINDING_TRACE is not set.' }

$entry = Join-Path $PSScriptRoot 'Invoke-BridgeWithStandIn.ps1'
Trace-Command -Name ParameterBinding -FilePath $env:ARS_BINDING_TRACE -Expression { & $entry }
exit $LASTEXITCODE

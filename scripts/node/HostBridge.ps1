<#
.SYNOPSIS
Runs one batch of Windows host operations (handlers/host/operations.ts) for the Node.js handler.

.DESCRIPTION
Windows PowerShell 5.1 compatible. One process runs a whole batch (a handler phase), because each
start of powershell.exe costs hundreds of milliseconds. Protocol with handlers/host/powershell-host.ts:

  stdin   one JSON request, UTF-8: {"phase":"...","node":"NAME"|null,"stopOnError":true,
          "operations":[{"op":"probe"},{"op":"ensureDirectory","path":"C:\\...","sddl":"..."}, ...]}
  stdout  one JSON line per operation, in order, each written as soon as the operation completes:
            {"index":0,"ok":true,"value":{...}}
            {"index":1,"ok":false,"error":{"operation":"...","code":"NotFound","message":"...","target":"..."}}
          then a last line {"done":true}. Nothing else is ever written to stdout: the other
          PowerShell streams are silenced, and lines are written as raw UTF-8 bytes.
  exit 0  the batch ran (operations may have failed: their lines say so).
  exit 1  the batch could not run (unreadable request, module missing); one line on stderr says why.

After a failed operation with stopOnError (the default), the rest are reported with code Skipped.
A batch for another node of the cluster runs there through Invoke-Command, carrying the module's
text; if the node cannot be reached, every operation without a result is reported NodeUnreachable
(or AccessDenied when the node refused the connection).
#>

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
# Progress, warnings and host output would land on stdout (5.1 writes them to the console streams).
$global:ProgressPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'
$DebugPreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'

# The protocol's channel: the raw stdout stream. Console.Out is then muted so that nothing a .NET
# library writes can slip in between result lines.
$script:Stdout = [Console]::OpenStandardOutput()
[Console]::SetOut([System.IO.TextWriter]::Null)
$script:Utf8 = New-Object System.Text.UTF8Encoding($false)

function Write-ProtocolLine([string] $Line) {
    $bytes = $script:Utf8.GetBytes($Line + "`n")
    $script:Stdout.Write($bytes, 0, $bytes.Length)
    $script:Stdout.Flush()
}

function Exit-Fatal([string] $Message) {
    [Console]::Error.WriteLine('HostBridge: ' + (($Message -replace '\s+', ' ').Trim()))
    exit 1
}

function Read-Request {
    $reader = New-Object System.IO.StreamReader([Console]::OpenStandardInput(), $script:Utf8)
    $text = $reader.ReadToEnd()
    $request = ConvertFrom-RequestJson $text
    if ($null -eq $request -or $null -eq $request.PSObject.Properties['operations']) {
        throw 'The request has no operations.'
    }
    return @{ Text = $text; Request = $request }
}

# "NODE1", "node1.contoso.com", "localhost" and "." all name this computer.
function Test-LocalNode($Node) {
    if ($null -eq $Node -or [string] $Node -eq '') { return $true }
    $short = ([string] $Node).Split('.')[0]
    if ($short -eq '' -or $short -eq 'localhost') { return $true }
    return ($short -eq [Environment]::GetEnvironmentVariable('COMPUTERNAME'))
}

# A remoting failure as a port code: refused (access denied, authentication) or unreachable.
function Get-RemoteFailureCode($ErrorRecord) {
    $id = [string] $ErrorRecord.FullyQualifiedErrorId
    $exception = $ErrorRecord.Exception
    $transport = $exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]
    if ($id -like 'AccessDenied*' -or $id -like 'AuthenticationFailed*') { return 'AccessDenied' }
    if ($transport -and ($exception.ErrorCode -eq 5 -or $exception.ErrorCode -eq -2147024891)) { return 'AccessDenied' }
    if ($transport -or $id -like '*PSSessionStateBroken*') { return 'NodeUnreachable' }
    return 'Failed'
}

# Runs on the other node: loads the module from its text and runs the same batch loop there.
$RemoteBatch = {
    param([string] $ModuleText, [string] $RequestText)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    $WarningPreference = 'SilentlyContinue'
    $null = New-Module -Name 'ArcRemoteSupport.Host' -ScriptBlock ([ScriptBlock]::Create($ModuleText)) | Import-Module
    $request = ConvertFrom-RequestJson $RequestText
    $stopOnError = $true
    if ($null -ne $request.PSObject.Properties['stopOnError'] -and $request.stopOnError -is [bool]) { $stopOnError = $request.stopOnError }
    Invoke-HostBatch -Operations @($request.operations) -StopOnError $stopOnError 3>$null 4>$null 5>$null 6>$null
}

try {
    $modulePath = Join-Path $PSScriptRoot 'ArcRemoteSupport.Host.psm1'
    Import-Module $modulePath -Force -DisableNameChecking 3>$null 4>$null 6>$null
    $received = Read-Request
    $request = $received.Request
}
catch {
    Exit-Fatal ('Cannot start the batch: ' + $_.Exception.Message)
}

$operations = @($request.operations)
$node = $null
if ($null -ne $request.PSObject.Properties['node']) { $node = $request.node }
$stopOnError = $true
if ($null -ne $request.PSObject.Properties['stopOnError'] -and $request.stopOnError -is [bool]) { $stopOnError = $request.stopOnError }

try {
    if (Test-LocalNode $node) {
        Invoke-HostBatch -Operations $operations -StopOnError $stopOnError 3>$null 4>$null 5>$null 6>$null |
            ForEach-Object { Write-ProtocolLine $_ }
    }
    else {
        # Results stream back as the remote loop writes them; count them, so that a connection lost
        # midway reports exactly the operations that have no result.
        $reported = 0
        $moduleText = [System.IO.File]::ReadAllText($modulePath)
        try {
            Invoke-Command -ComputerName ([string] $node) -ScriptBlock $RemoteBatch -ArgumentList $moduleText, $received.Text `
                -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null |
                ForEach-Object { Write-ProtocolLine ([string] $_); $reported++ }
        }
        catch {
            $code = Get-RemoteFailureCode $_
            $message = Get-ShortMessage ("Node '$node': " + $_.Exception.Message)
            for ($i = $reported; $i -lt $operations.Count; $i++) {
                Write-ProtocolLine (Format-ErrorLine $i $operations[$i] $code $message (Get-OpTarget $operations[$i]))
            }
        }
    }
}
catch {
    Exit-Fatal ('The batch stopped: ' + $_.Exception.Message)
}

Write-ProtocolLine '{"done":true}'
exit 0

<#
.SYNOPSIS
One engineer's channel session on this node: a JEA session opened as the grant's local principal,
running the engineer's commands one at a time and streaming their output.

.DESCRIPTION
Windows PowerShell 5.1 compatible. The node agent (SYSTEM) starts one process per session
(windows/powershell-session.ts):

  powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File ChannelSession.ps1
                 -UserName ArcRS-3f2b8c1e -ConfigurationName ArcRemoteSupport

It gives the principal a fresh random password (made and dropped in this process, never written
anywhere: so nothing stored can be stolen, and the agent opens sessions one at a time), and opens
New-PSSession -ComputerName localhost -ConfigurationName <endpoint> -Credential COMPUTER\user.
The level is the principal's group: the endpoint's role definitions decide what it may run.

Protocol, UTF-8 JSON lines:
  stdout  {"type":"opened"}, or {"type":"failed","message":"..."} and exit 1.
  stdin   {"id":"<id>","command":"<text>"}: runs the text in the JEA runspace;
          {"type":"cancel","id":"<id>"}: stops that command;
          {"type":"close"} or end of input: removes the session, exit 0.
  stdout  per command, as its output comes: {"id":..,"stream":"output"|"error","text":..}
          (output objects formatted as Out-String -Stream formats them, one line each), then
          {"id":..,"type":"done","hadErrors":bool,"error":<message or null>}.
  stdout  {"type":"ended","reason":".."} and exit 2 when the JEA session broke on its own.

The text is sent the way a remote client sends a typed line to a NoLanguage endpoint: a single
pipeline of commands with constant arguments goes as commands; anything else goes as script text,
which the endpoint refuses. This script adds no language of its own: the JEA runspace decides
what runs.
#>
param(
    [Parameter(Mandatory = $true)] [ValidatePattern('^[A-Za-z0-9_.-]{1,20}$')] [string] $UserName,
    [Parameter(Mandatory = $true)] [ValidatePattern('^[A-Za-z0-9_.-]{1,64}$')] [string] $ConfigurationName
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'

# The protocol's channel is the raw stdout stream; Console.Out is muted so nothing else slips in.
$script:Utf8 = New-Object System.Text.UTF8Encoding($false)
$script:Stdout = [Console]::OpenStandardOutput()
[Console]::SetOut([System.IO.TextWriter]::Null)
$script:Stdin = New-Object System.IO.StreamReader([Console]::OpenStandardInput(), $script:Utf8)

Import-Module (Join-Path $PSScriptRoot 'ArcRemoteSupport.Host.psm1') -DisableNameChecking 3>$null 4>$null 6>$null

function Write-Message($Message) {
    $bytes = $script:Utf8.GetBytes((ConvertTo-BridgeJson $Message) + "`n")
    $script:Stdout.Write($bytes, 0, $bytes.Length)
    $script:Stdout.Flush()
}

function Read-Message([string] $Line) {
    try { $message = ConvertFrom-Json -InputObject $Line }
    catch { return $null }
    if ($null -eq $message -or $message -isnot [System.Management.Automation.PSCustomObject]) { return $null }
    return $message
}

function Get-Field($Message, [string] $Name) {
    $property = $Message.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return $null }
    return [string] $property.Value
}

function Open-ChannelSession {
    $password = New-PrincipalPassword
    try {
        Set-LocalUser -Name $UserName -Password $password -ErrorAction Stop
        $computerName = [Environment]::GetEnvironmentVariable('COMPUTERNAME')
        if (-not $computerName) { $computerName = [Environment]::MachineName }
        $credential = [System.Management.Automation.PSCredential]::new($computerName + '\' + $UserName, $password)
        return (New-PSSession -ComputerName 'localhost' -ConfigurationName $ConfigurationName -Credential $credential -ErrorAction Stop)
    }
    finally { $password.Dispose() }
}

# The line as a remote client sends it: a single pipeline of commands with constant arguments
# becomes those commands (a script block argument travels as its text, as over the wire);
# anything else stays script text, for the NoLanguage endpoint to refuse.
function New-SessionPipeline($Runspace, [string] $Text) {
    $ps = [powershell]::Create()
    $ps.Runspace = $Runspace
    $client = $null
    try { $client = [scriptblock]::Create($Text).GetPowerShell() }
    catch { $client = $null }
    if ($null -eq $client) {
        $null = $ps.AddScript($Text)
        return $ps
    }
    $commands = @($client.Commands.Commands)
    for ($i = 0; $i -lt $commands.Count; $i++) {
        $command = $commands[$i]
        $null = $ps.AddCommand($command.CommandText)
        foreach ($parameter in $command.Parameters) {
            $value = $parameter.Value
            if ($value -is [scriptblock]) { $value = $value.ToString() }
            if ($null -eq $parameter.Name) { $null = $ps.AddArgument($value) } else { $null = $ps.AddParameter($parameter.Name, $value) }
        }
        # Statements stay statements (a; b), as the client sends them.
        if ($command.IsEndOfStatement -and $i -lt $commands.Count - 1) { $null = $ps.AddStatement() }
    }
    $client.Dispose()
    return $ps
}

function Get-ErrorText($Exception) {
    $inner = $Exception
    while ($inner -is [System.Management.Automation.MethodInvocationException] -and $null -ne $inner.InnerException) { $inner = $inner.InnerException }
    return (Get-ShortMessage $inner.Message)
}

function Write-Lines([string] $Id, [string] $Stream, $Lines) {
    foreach ($line in @($Lines)) {
        if ($null -eq $line) { continue }
        Write-Message ([ordered]@{ id = $Id; stream = $Stream; text = [string] $line })
    }
}

# Runs one command, streaming its output; returns 'close' when a close came (or input ended) meanwhile.
function Invoke-SessionCommand($Runspace, [string] $Id, [string] $Text) {
    $ps = New-SessionPipeline $Runspace $Text
    $inputData = New-Object 'System.Management.Automation.PSDataCollection[psobject]'
    $inputData.Complete()
    $output = New-Object 'System.Management.Automation.PSDataCollection[psobject]'
    $formatter = { Out-String -Stream -Width 160 }.GetSteppablePipeline()
    $formatter.Begin($true)
    $failure = $null
    $after = $null
    $cancelled = $false
    $errors = 0
    try {
        $async = $ps.BeginInvoke($inputData, $output)
        while ($true) {
            $done = $async.AsyncWaitHandle.WaitOne(25)
            foreach ($item in $output.ReadAll()) { Write-Lines $Id 'output' $formatter.Process($item) }
            foreach ($record in $ps.Streams.Error.ReadAll()) { $errors++; Write-Lines $Id 'error' $record.ToString() }
            if ($done) { break }
            if ($null -eq $after -and $script:Pending.IsCompleted) {
                $line = $script:Pending.Result
                if ($null -eq $line) { $after = 'close' }
                else {
                    $script:Pending = $script:Stdin.ReadLineAsync()
                    $message = Read-Message $line
                    $type = $null
                    if ($null -ne $message) { $type = Get-Field $message 'type' }
                    if ($type -eq 'close') { $after = 'close' }
                    elseif ($type -eq 'cancel') { if ((Get-Field $message 'id') -eq $Id) { $cancelled = $true; $ps.Stop() } }
                    elseif ($null -ne $message -and $null -ne (Get-Field $message 'id')) {
                        Write-Message ([ordered]@{ id = (Get-Field $message 'id'); type = 'done'; hadErrors = $true; error = "Command '$Id' is still running: send one command at a time." })
                    }
                }
                if ($after -eq 'close') { $ps.Stop() }
            }
        }
        try { $null = $ps.EndInvoke($async) }
        catch { $failure = Get-ErrorText $_.Exception }
        foreach ($item in $output.ReadAll()) { Write-Lines $Id 'output' $formatter.Process($item) }
        foreach ($record in $ps.Streams.Error.ReadAll()) { $errors++; Write-Lines $Id 'error' $record.ToString() }
        Write-Lines $Id 'output' $formatter.End()
    }
    catch { $failure = Get-ErrorText $_.Exception }
    finally { $ps.Dispose() }
    if ($cancelled) { $failure = 'The command was cancelled.' }
    if ($null -ne $failure -and -not $cancelled) { Write-Lines $Id 'error' $failure }
    Write-Message ([ordered]@{ id = $Id; type = 'done'; hadErrors = ($errors -gt 0 -or $null -ne $failure); error = $failure })
    return $after
}

try { $session = Open-ChannelSession }
catch {
    Write-Message ([ordered]@{ type = 'failed'; message = (Get-ErrorText $_.Exception) })
    exit 1
}
Write-Message ([ordered]@{ type = 'opened' })

$script:Pending = $script:Stdin.ReadLineAsync()
$exitCode = 0
while ($true) {
    if (-not $script:Pending.Wait(200)) {
        $state = $session.Runspace.RunspaceStateInfo.State
        if ($state -ne [System.Management.Automation.Runspaces.RunspaceState]::Opened) {
            Write-Message ([ordered]@{ type = 'ended'; reason = "The JEA session is $state." })
            $exitCode = 2
            break
        }
        continue
    }
    $line = $script:Pending.Result
    if ($null -eq $line) { break }
    $script:Pending = $script:Stdin.ReadLineAsync()
    $message = Read-Message $line
    if ($null -eq $message) { continue }
    $type = Get-Field $message 'type'
    if ($type -eq 'close') { break }
    if ($null -ne $type) { continue }
    $id = Get-Field $message 'id'
    $command = Get-Field $message 'command'
    if ($null -eq $id -or $null -eq $command) { continue }
    if ((Invoke-SessionCommand $session.Runspace $id $command) -eq 'close') { break }
}
try { Remove-PSSession -Session $session -ErrorAction Stop } catch { $null = $_ }
exit $exitCode

<#
.SYNOPSIS
The machine owner's commands on each node: see the remote support access in force, read who did
what and when, and revoke access locally without Azure.

.DESCRIPTION
Windows PowerShell 5.1 compatible (no ?:, ??, &&, ||, ?.). The node agent that the extension
installs (node.exe and agent.js in its folder) does the work, with the same code as the
extension's handler and scheduled tasks: it reads the desired-state record, the history and the
session transcripts, and carries out the local revoke. These commands run it, and turn what it
reports into PowerShell objects, warnings and errors.

When the agent is missing or broken, the read commands stop with an error that says how to repair
it (reinstall the extension), and Disable-RemoteSupport still takes access away by itself: it
empties the access groups and ends the open sessions, and says what it could not record.

Everything the agent reads is readable by SYSTEM and Administrators only, so these commands need
an elevated PowerShell. Paths go through the PowerShell provider, not straight to .NET, so a
mapped C: drive is honoured (the tests map C: to a folder and run the module over stand-in
Windows cmdlets, with the real agent behind it).
#>

Set-StrictMode -Version 3.0

#region Layout: core/node-layout.ts (test/owner-module/owner-module.test.ts compares them)

$script:AgentNode = 'C:\Program Files\ArcRemoteSupport\node.exe'
$script:AgentScript = 'C:\Program Files\ArcRemoteSupport\agent.js'
# Only for removing access when the agent cannot: the level groups and the JEA endpoint.
$script:AccessGroups = @('ArcRemoteSupport Diagnostics', 'ArcRemoteSupport Repair')
$script:EndpointName = 'ArcRemoteSupport'

$script:RepairAdvice = 'To repair the agent, reinstall the ArcRemoteSupport extension on this machine (remove it and add it again from Azure, ' +
'or run the control plane''s deploy again): its install copies the agent back into C:\Program Files\ArcRemoteSupport.'

#endregion

#region Helpers

function Get-ObjectProperty($Object, [string] $Name) {
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# The file system path behind a Windows path, through the provider (keeps PSDrives working).
function Resolve-LocalPath([string] $Path) {
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Assert-Administrator {
    # Only Windows can tell; elsewhere (the tests on Linux) there is nothing to check.
    if ([Environment]::OSVersion.Platform -ne [PlatformID]::Win32NT) { return }
    $principal = New-Object System.Security.Principal.WindowsPrincipal([System.Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'Run PowerShell as Administrator: the remote support records are readable by SYSTEM and Administrators only.'
    }
}

function Get-CurrentUserName {
    if ([Environment]::OSVersion.Platform -eq [PlatformID]::Win32NT) {
        return [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
    }
    return [Environment]::UserDomainName + '\' + [Environment]::UserName
}

function Get-ComputerName {
    if ($env:COMPUTERNAME) { return $env:COMPUTERNAME }
    return [Environment]::MachineName
}

# JSON from the agent. PowerShell 7 turns date-like strings into DateTime unless told not to
# (7.5+: -DateKind String); 5.1 never does. ConvertTo-UtcTime accepts either.
function ConvertFrom-DataJson([string] $Text) {
    if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')) {
        return (ConvertFrom-Json -InputObject $Text -DateKind String)
    }
    return (ConvertFrom-Json -InputObject $Text)
}

# A UTC DateTime from an ISO time (or a DateTime), $null when it is not one.
function ConvertTo-UtcTime($Value) {
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime() }
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $parsed = [datetime]::MinValue
    if ([datetime]::TryParse([string] $Value, [Globalization.CultureInfo]::InvariantCulture, $styles, [ref] $parsed)) { return $parsed }
    return $null
}

# Shows the named properties by default; the others stay on the object.
function Set-DefaultDisplay($Object, [string[]] $Properties) {
    $set = New-Object System.Management.Automation.PSPropertySet('DefaultDisplayPropertySet', $Properties)
    $standard = [System.Management.Automation.PSMemberInfo[]] @($set)
    $Object | Add-Member -MemberType MemberSet -Name PSStandardMembers -Value $standard -Force
    return $Object
}

#endregion

#region The node agent

<#
Runs the installed agent: node.exe agent.js <Arguments>. Returns @{ Lines; Errors; ExitCode;
Problem }: its stdout lines, its stderr lines and exit code, or Problem when it could not run at
all (missing, or could not be started).
#>
function Invoke-NodeAgent([string[]] $Arguments) {
    $run = @{ Lines = @(); Errors = @(); ExitCode = $null; Problem = $null }
    $missing = @(@($script:AgentNode, $script:AgentScript) | Where-Object { -not [System.IO.File]::Exists((Resolve-LocalPath $_)) })
    if ($missing.Count -eq 1) { $run.Problem = "The node agent is missing: $($missing[0]) does not exist." }
    if ($missing.Count -eq 2) { $run.Problem = "The node agent is missing: $($missing[0]) and $($missing[1]) do not exist." }
    if ($null -ne $run.Problem) { return $run }
    $lines = New-Object System.Collections.ArrayList
    $errors = New-Object System.Collections.ArrayList
    # The agent's stderr lines arrive as error records: here they are its text, not errors of this command.
    $ErrorActionPreference = 'Continue'
    $PSNativeCommandUseErrorActionPreference = $false
    try {
        foreach ($line in @(& (Resolve-LocalPath $script:AgentNode) (Resolve-LocalPath $script:AgentScript) @Arguments 2>&1)) {
            if ($line -is [System.Management.Automation.ErrorRecord]) { $null = $errors.Add([string] $line) }
            else { $null = $lines.Add([string] $line) }
        }
    }
    catch {
        $run.Problem = "The node agent could not be started ($($script:AgentNode)): $($_.Exception.Message)"
        return $run
    }
    $run.ExitCode = $LASTEXITCODE
    $run.Lines = $lines.ToArray()
    $run.Errors = $errors.ToArray()
    return $run
}

# Why the agent gave no usable answer, from what it printed.
function Format-AgentFailure($Run, [string] $Detail) {
    # Its message lines, without the stack frames under them.
    $said = (@(@($Run.Errors) | Where-Object { $_ -notmatch '^\s*(at\s|$)' }) -join ' ').Trim()
    if ($said.Length -gt 1000) { $said = $said.Substring(0, 1000) + '...' }
    if ($said.Length -eq 0) { $said = 'it printed no error.' }
    if ($Run.ExitCode -ne 0) { return "The node agent failed (exit code $($Run.ExitCode)): $said" }
    return "The node agent's answer could not be read ($Detail)."
}

# The agent's one JSON report for Arguments, as @{ Report; Problem }.
function Get-AgentReport([string[]] $Arguments, [bool] $ReportOnFailure) {
    $run = Invoke-NodeAgent $Arguments
    if ($null -ne $run.Problem) { return @{ Report = $null; Problem = $run.Problem } }
    if ($run.ExitCode -ne 0 -and -not $ReportOnFailure) { return @{ Report = $null; Problem = (Format-AgentFailure $run '') } }
    $text = (@($run.Lines) -join "`n").Trim()
    $report = $null
    $detail = 'it printed nothing'
    if ($text.Length -gt 0) {
        try { $report = ConvertFrom-DataJson $text }
        catch { $detail = $_.Exception.Message }
    }
    if ($null -eq $report) { return @{ Report = $null; Problem = (Format-AgentFailure $run $detail) } }
    return @{ Report = $report; Problem = $null }
}

# `agent history --json` from $FromDate (MinValue: from the start), with $Extra arguments: its lines
# as objects ({"warning": "..."} or {"entry": {...}}, newest entry first), or the problem that stopped
# it. A line that cannot be read is a warning, and the others are still returned.
function Read-AgentHistory([datetime] $FromDate, [string[]] $Extra) {
    $arguments = @('history', '--json')
    # Local or unspecified dates are local time.
    if ($FromDate -ne [datetime]::MinValue) {
        $arguments += @('--from', $FromDate.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture))
    }
    $arguments += $Extra
    $run = Invoke-NodeAgent $arguments
    $problem = $run.Problem
    if ($null -eq $problem -and $run.ExitCode -ne 0) { $problem = Format-AgentFailure $run '' }
    if ($null -ne $problem) { return @{ Problem = $problem; Values = @() } }
    $values = foreach ($line in @($run.Lines)) {
        if ($line.Trim().Length -eq 0) { continue }
        try { ConvertFrom-DataJson $line }
        catch { Write-Warning "A line of the node agent's history could not be read: $($_.Exception.Message)" }
    }
    return @{ Problem = $null; Values = @($values) }
}

function New-AgentUnavailableError([string] $Problem) {
    $exception = New-Object System.InvalidOperationException("$Problem $script:RepairAdvice")
    return (New-Object System.Management.Automation.ErrorRecord($exception, 'NodeAgentUnavailable',
            [System.Management.Automation.ErrorCategory]::ResourceUnavailable, $script:AgentScript))
}

#endregion

#region Output objects

function New-GrantView($Grant) {
    $view = [pscustomobject]@{
        PSTypeName       = 'ArcRemoteSupport.Grant'
        Level            = [string] (Get-ObjectProperty $Grant 'level')
        State            = [string] (Get-ObjectProperty $Grant 'state')
        GrantId          = Get-ObjectProperty $Grant 'grantId'
        ExpiresAt        = ConvertTo-UtcTime (Get-ObjectProperty $Grant 'expiresAt')
        TimeLeft         = [TimeSpan]::FromSeconds([double] (Get-ObjectProperty $Grant 'timeLeftSeconds'))
        SupportRequestId = Get-ObjectProperty $Grant 'supportRequestId'
        TermsVersion     = Get-ObjectProperty $Grant 'termsVersion'
        AcceptedBy       = Get-ObjectProperty $Grant 'acceptedBy'
        AcceptedAt       = ConvertTo-UtcTime (Get-ObjectProperty $Grant 'acceptedAt')
        EndedAt          = ConvertTo-UtcTime (Get-ObjectProperty $Grant 'endedAt')
        EndedBy          = Get-ObjectProperty $Grant 'endedBy'
        Engineers        = [string[]] @(Get-ObjectProperty $Grant 'engineers')
        ConnectionStatus = Get-ObjectProperty $Grant 'connectionStatus'
        ConnectionDetail = Get-ObjectProperty $Grant 'connectionDetail'
    }
    return (Set-DefaultDisplay $view @('Level', 'State', 'ExpiresAt', 'TimeLeft', 'SupportRequestId', 'Engineers'))
}

function New-HistoryItem($Entry) {
    $item = [pscustomobject]@{
        PSTypeName        = 'ArcRemoteSupport.HistoryEntry'
        Time              = ConvertTo-UtcTime (Get-ObjectProperty $Entry 'time')
        Kind              = [string] (Get-ObjectProperty $Entry 'kind')
        By                = Get-ObjectProperty $Entry 'by'
        Level             = Get-ObjectProperty $Entry 'level'
        GrantId           = Get-ObjectProperty $Entry 'grantId'
        SupportRequestId  = Get-ObjectProperty $Entry 'supportRequestId'
        ExpiresAt         = ConvertTo-UtcTime (Get-ObjectProperty $Entry 'expiresAt')
        TermsVersion      = Get-ObjectProperty $Entry 'termsVersion'
        RunAsUser         = Get-ObjectProperty $Entry 'runAsUser'
        EndTime           = ConvertTo-UtcTime (Get-ObjectProperty $Entry 'endTime')
        Path              = Get-ObjectProperty $Entry 'path'
        Transcript        = Get-ObjectProperty $Entry 'transcript'
        SessionId         = Get-ObjectProperty $Entry 'sessionId'
        EndReason         = Get-ObjectProperty $Entry 'endReason'
        Detail            = Get-ObjectProperty $Entry 'detail'
        TicketId          = Get-ObjectProperty $Entry 'ticketId'
        RelayConnectionId = Get-ObjectProperty $Entry 'relayConnectionId'
        Account           = Get-ObjectProperty $Entry 'account'
        CommandCount      = Get-ObjectProperty $Entry 'commandCount'
        Commands          = $null
        TranscriptFolder  = Get-ObjectProperty $Entry 'transcriptFolder'
    }
    $commands = Get-ObjectProperty $Entry 'commands'
    if ($null -ne $commands) { $item.Commands = @(foreach ($command in @($commands)) { New-SessionCommand $command }) }
    return (Set-DefaultDisplay $item @('Time', 'Kind', 'By', 'Level', 'SupportRequestId'))
}

# One command of a channel session, as its record keeps it.
function New-SessionCommand($Command) {
    return [pscustomobject]@{
        PSTypeName  = 'ArcRemoteSupport.SessionCommand'
        Id          = Get-ObjectProperty $Command 'id'
        Command     = Get-ObjectProperty $Command 'command'
        StartedAt   = ConvertTo-UtcTime (Get-ObjectProperty $Command 'startedAt')
        EndedAt     = ConvertTo-UtcTime (Get-ObjectProperty $Command 'endedAt')
        Outcome     = Get-ObjectProperty $Command 'outcome'
        Error       = Get-ObjectProperty $Command 'error'
        OutputBytes = Get-ObjectProperty $Command 'outputBytes'
    }
}

#endregion

#region Without the agent

# Member names (DOMAIN\user) of a local group; none when the group does not exist.
function Get-GroupMemberNames([string] $Name) {
    try { $members = @(Get-LocalGroupMember -Name $Name -ErrorAction Stop) }
    catch {
        if ($_.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound) { return }
        throw
    }
    foreach ($member in $members) { [string] $member.Name }
}

<#
Takes access away with Windows' own commands, for when the agent cannot: empties the access
groups (first: nobody can open a new session then), and ends the open sessions of the endpoint.
Records nothing. Returns @{ MembersRemoved; SessionsEnded; Failures }.
#>
function Remove-AccessWithoutAgent {
    $removed = New-Object System.Collections.ArrayList
    $failures = New-Object System.Collections.ArrayList
    $ended = 0
    foreach ($group in $script:AccessGroups) {
        try {
            $members = [string[]] @(Get-GroupMemberNames $group)
            if ($members.Count -gt 0) {
                Remove-LocalGroupMember -Name $group -Member $members -ErrorAction Stop
                foreach ($member in $members) { $null = $removed.Add("$group`: $member") }
            }
        }
        catch { $null = $failures.Add("Could not empty the group '$group': $($_.Exception.Message)") }
    }
    try {
        # Each WinRM shell names the endpoint's resource URI; other endpoints are not touched.
        $uri = 'http://schemas.microsoft.com/powershell/' + $script:EndpointName
        foreach ($shell in @(Get-WSManInstance -ResourceURI 'shell' -Enumerate -ErrorAction Stop)) {
            if ([string] (Get-ObjectProperty $shell 'ResourceUri') -ne $uri) { continue }
            try {
                Remove-WSManInstance -ResourceURI 'shell' -SelectorSet @{ ShellId = [string] $shell.ShellId } -ErrorAction Stop
                $ended++
            }
            catch {
                # A shell that closed meanwhile is already ended.
                if ($_.CategoryInfo.Category -ne [System.Management.Automation.ErrorCategory]::ObjectNotFound) { throw }
            }
        }
    }
    catch { $null = $failures.Add("Could not end the open sessions of the $($script:EndpointName) endpoint: $($_.Exception.Message)") }
    return @{ MembersRemoved = [string[]] $removed.ToArray(); SessionsEnded = $ended; Failures = $failures.ToArray() }
}

#endregion

function Get-RemoteSupportAccess {
    <#
    .SYNOPSIS
    Shows the remote support access in force on this machine: level, expiry, support request and
    the support engineers who hold it.

    .DESCRIPTION
    Asks the node agent, which reads the desired-state record the extension keeps on this node
    (desired.json) and the local access groups. A grant is in force while the extension is enabled
    and its expiry has not passed. Returns one object for it, or NOTHING when no access is in
    force, so that `if (Get-RemoteSupportAccess) { ... }` reads naturally. When the agent is
    missing or broken, stops with an error that says how to repair it: no answer is not "no access".

    Engineers are the current members of the level's group (ArcRemoteSupport Diagnostics, or
    ArcRemoteSupport Repair for DiagnosticsAndRepair). A warning says so when no grant is in force
    but those groups still have members (the Reconcile task removes them; Disable-RemoteSupport
    removes them at once), or when the record is unreadable (access is then off).

    When the grant in force came with a channel (engineers connect through Azure Relay, the
    machine opening no inbound port), ConnectionStatus says how the node's listener is connected,
    as the node agent last reported it:
    - Connected: listening; engineers can open sessions.
    - Connecting: opening the connection to the relay.
    - Disconnected: not connected (between attempts, the agent stopped, or it has not reported for
      this grant yet).
    - Refused:<code>: the relay refused the listener, with its HTTP status (Refused:401 an invalid
      or expired listen token; Refused:403 a token without Listen, a disabled hybrid connection,
      or one that already has its maximum of listeners; Refused:404 no such hybrid connection);
      Refused alone when the refusal had no HTTP status (for example a listen token that expired).
    ConnectionDetail is one line for people: since when it is connected, or why it is not, with
    the last error. A state the agent wrote for another grant is never shown as this grant's: it is
    Disconnected, and ConnectionDetail says the state on the node is stale. Both are $null for a
    grant without a channel and for grants not in force. A warning says so when the node's channel
    state claims a connection while no grant with a channel is in force.

    Needs an elevated PowerShell: the data folder is readable by SYSTEM and Administrators only.

    .PARAMETER IncludeExpired
    Also returns the recorded grant after its expiry (State Expired, or Disabled while the
    extension is disabled) and the past grants found in history.jsonl (State Revoked, Expired, or
    Ended when replaced by a later grant), newest first after the recorded one. Past grants have
    no Engineers: group membership is not kept in the history.

    .OUTPUTS
    ArcRemoteSupport.Grant: Level (Diagnostics or DiagnosticsAndRepair), State, GrantId,
    ExpiresAt (UTC DateTime; .ToLocalTime() for this machine's clock), TimeLeft (zero unless
    Active), SupportRequestId, TermsVersion, AcceptedBy, AcceptedAt (UTC; from the history's
    'granted' entry time for past grants), EndedAt, EndedBy, Engineers, ConnectionStatus
    (Connected, Connecting, Disconnected, Refused:<code>; $null without a channel in force),
    ConnectionDetail.

    .EXAMPLE
    Get-RemoteSupportAccess

    Level DiagnosticsAndRepair, State Active, ExpiresAt, TimeLeft, the support request and the engineers.

    .EXAMPLE
    Get-RemoteSupportAccess -IncludeExpired | Format-Table Level, State, GrantId, ExpiresAt, EndedBy

    .EXAMPLE
    Get-RemoteSupportAccess | Format-List Level, ExpiresAt, ConnectionStatus, ConnectionDetail

    ConnectionStatus Connected, ConnectionDetail "connected since ..." while engineers can reach this node.
    #>
    [CmdletBinding()]
    [OutputType('ArcRemoteSupport.Grant')]
    param([switch] $IncludeExpired)

    Assert-Administrator
    $arguments = @('status', '--json')
    if ($IncludeExpired) { $arguments += '--include-expired' }
    $answer = Get-AgentReport $arguments $false
    if ($null -ne $answer.Problem) { $PSCmdlet.ThrowTerminatingError((New-AgentUnavailableError $answer.Problem)) }
    foreach ($warning in @(Get-ObjectProperty $answer.Report 'warnings')) { Write-Warning $warning }
    foreach ($grant in @(Get-ObjectProperty $answer.Report 'grants')) { New-GrantView $grant }
}

function Get-RemoteSupportSessionHistory {
    <#
    .SYNOPSIS
    Lists the access changes and the support engineers' sessions on this machine, newest first.

    .DESCRIPTION
    Two sources, which the node agent reads and merges into one list ordered by Time, NEWEST FIRST
    (like Get-WinEvent):
    - history.jsonl: every access change (Kind Granted, Changed, Revoked or Expired), who made it
      (By: the consenting owner, "expiry", "<DOMAIN\user> (local)" for Disable-RemoteSupport...),
      the level in force after it (None after a revoke or expiry), the grant and support request.
    - the JEA session transcripts (Kind Session): Time is the session's start, By the user who
      connected, RunAsUser the JEA virtual account, EndTime the end (none while the session is
      open or when it did not close cleanly), Path the transcript file.
    - the engineers' sessions over the channel (Kind ChannelSession), one record each, written
      when the session ends: Time is its start, By the engineer named in the ticket, Level and
      GrantId the grant's, EndTime its end, EndReason why it ended (closed, by the engineer or as
      the agent stopped; revoked; expired; limit; error; or refused: then no command ran), Detail
      one line about the end, SessionId (also in events 1101, 1102 and 1103 of the
      Application log), TicketId (the ticket's single-use id, never the ticket), RelayConnectionId,
      Account (the grant's local account the session ran as: its JEA transcript is a Session entry
      by that account), CommandCount, and Path the record file. With -IncludeTranscript also
      Commands (each command with Id, Command, StartedAt, EndedAt, Outcome, Error, OutputBytes)
      and TranscriptFolder, where the endpoint wrote the transcripts.
    Transcript times are written in the machine's local time; they are returned as UTC. When the
    agent is missing or broken, stops with an error that says how to repair it.

    The retention task deletes history, transcripts and channel session records older than the
    retention period (at most 90 days). Needs an elevated PowerShell.

    .PARAMETER FromDate
    Only entries at or after this time (sessions by their start). A date without a time zone is
    this machine's local time, as Get-Date gives it.

    .PARAMETER IncludeTranscript
    Adds each session's full transcript text (property Transcript; $null otherwise), and each
    channel session's commands and transcript folder (Commands, TranscriptFolder).

    .OUTPUTS
    ArcRemoteSupport.HistoryEntry: Time (UTC), Kind, By, Level, GrantId, SupportRequestId,
    ExpiresAt, TermsVersion, RunAsUser, EndTime, Path, Transcript; for a ChannelSession also
    SessionId, EndReason, Detail, TicketId, RelayConnectionId, Account, CommandCount, Commands,
    TranscriptFolder ($null for the other kinds).

    .EXAMPLE
    Get-RemoteSupportSessionHistory -FromDate (Get-Date).AddDays(-7)

    .EXAMPLE
    Get-RemoteSupportSessionHistory -IncludeTranscript | Where-Object Kind -eq 'Session' | Select-Object -First 1 -ExpandProperty Transcript

    .EXAMPLE
    Get-RemoteSupportSessionHistory -IncludeTranscript | Where-Object Kind -eq 'ChannelSession' | Select-Object -First 1 -ExpandProperty Commands

    The commands the engineer ran in the latest channel session, with their outcome and output size.
    #>
    [CmdletBinding()]
    [OutputType('ArcRemoteSupport.HistoryEntry')]
    param([datetime] $FromDate = [datetime]::MinValue, [switch] $IncludeTranscript)

    Assert-Administrator
    $extra = @()
    if ($IncludeTranscript) { $extra += '--include-transcript' }
    $history = Read-AgentHistory $FromDate $extra
    if ($null -ne $history.Problem) { $PSCmdlet.ThrowTerminatingError((New-AgentUnavailableError $history.Problem)) }
    foreach ($value in $history.Values) {
        $warning = Get-ObjectProperty $value 'warning'
        if ($null -ne $warning) { Write-Warning $warning; continue }
        $entry = Get-ObjectProperty $value 'entry'
        if ($null -ne $entry) { New-HistoryItem $entry }
    }
}

function Get-RemoteSupportLogCollectionHistory {
    <#
    .SYNOPSIS
    Lists the diagnostic log collections made on this machine, newest first.

    .DESCRIPTION
    Each collection leaves a record in the data folder's LogCollections folder, and event 1201
    (uploaded), 1202 (failed) or 1203 (cancelled) in the Application log. The node agent reads the
    records. Each entry says who asked (Trigger: owner, through the extension settings, or
    engineer), what it rests on (Consent: "owner request", or the grant), the window and the
    categories, the outcome and why (Detail), and for an uploaded bundle the storage container
    (account/container, never its SAS), the blob's name, its size, the number of files and of
    skipped sources (the bundle's manifest.json lists each). Bundles uploaded are the owner's to
    keep or delete in their storage account. When the agent is missing or broken, stops with an
    error that says how to repair it. Needs an elevated PowerShell.

    .PARAMETER FromDate
    Only collections started at or after this time. A date without a time zone is this machine's
    local time, as Get-Date gives it.

    .OUTPUTS
    ArcRemoteSupport.LogCollectionEntry: CollectionId, Trigger, RequestedBy, Consent, GrantId,
    SupportRequestId, WindowFrom, WindowTo (UTC), Categories, IncludeSecurityLog, StartedAt,
    EndedAt (UTC), Outcome, Detail, Container, BlobName, BundleBytes, FileCount, SkippedCount, Path.

    .EXAMPLE
    Get-RemoteSupportLogCollectionHistory | Select-Object -First 1

    .EXAMPLE
    Get-RemoteSupportLogCollectionHistory -FromDate (Get-Date).AddDays(-30) | Where-Object Outcome -ne 'uploaded'
    #>
    [CmdletBinding()]
    [OutputType('ArcRemoteSupport.LogCollectionEntry')]
    param([datetime] $FromDate = [datetime]::MinValue)

    Assert-Administrator
    $history = Read-AgentHistory $FromDate @()
    if ($null -ne $history.Problem) { $PSCmdlet.ThrowTerminatingError((New-AgentUnavailableError $history.Problem)) }
    foreach ($value in $history.Values) {
        $entry = Get-ObjectProperty $value 'entry'
        if ($null -eq $entry -or (Get-ObjectProperty $entry 'kind') -ne 'LogCollection') { continue }
        $record = Get-ObjectProperty $entry 'logCollection'
        if ($null -eq $record) { continue }
        $window = Get-ObjectProperty $record 'window'
        $item = [pscustomobject]@{
            PSTypeName         = 'ArcRemoteSupport.LogCollectionEntry'
            CollectionId       = Get-ObjectProperty $record 'collectionId'
            Trigger            = Get-ObjectProperty $record 'trigger'
            RequestedBy        = Get-ObjectProperty $record 'requestedBy'
            Consent            = Get-ObjectProperty $record 'consent'
            GrantId            = Get-ObjectProperty $record 'grantId'
            SupportRequestId   = Get-ObjectProperty $record 'supportRequestId'
            WindowFrom         = ConvertTo-UtcTime (Get-ObjectProperty $window 'from')
            WindowTo           = ConvertTo-UtcTime (Get-ObjectProperty $window 'to')
            Categories         = @(Get-ObjectProperty $record 'categories')
            IncludeSecurityLog = Get-ObjectProperty $record 'includeSecurityLog'
            StartedAt          = ConvertTo-UtcTime (Get-ObjectProperty $record 'startedAt')
            EndedAt            = ConvertTo-UtcTime (Get-ObjectProperty $record 'endedAt')
            Outcome            = Get-ObjectProperty $record 'outcome'
            Detail             = Get-ObjectProperty $record 'detail'
            Container          = Get-ObjectProperty $record 'container'
            BlobName           = Get-ObjectProperty $record 'blobName'
            BundleBytes        = Get-ObjectProperty $record 'bundleBytes'
            FileCount          = Get-ObjectProperty $record 'fileCount'
            SkippedCount       = Get-ObjectProperty $record 'skippedCount'
            Path               = Get-ObjectProperty $entry 'path'
        }
        Set-DefaultDisplay $item @('StartedAt', 'CollectionId', 'Trigger', 'Outcome', 'FileCount', 'BlobName')
    }
}

function Disable-RemoteSupport {
    <#
    .SYNOPSIS
    Revokes remote support access on this machine now, without Azure.

    .DESCRIPTION
    The owner's local revoke, for when the machine cannot reach Azure or access must end at once.
    The node agent carries it out, with the same code as the extension's Reconcile task:
    1. rewrites desired.json with no grant (enabled and retention kept), first, so that the
       Reconcile task, which converges to that record, keeps access off from then on;
    2. empties the ArcRemoteSupport Diagnostics and Repair groups (Engineers is left alone: it is
       the owner's list of who may be given access) and ends the open sessions of the
       ArcRemoteSupport endpoint (other endpoints are not touched);
    3. when access was in force or present, appends a 'revoked' line to history.jsonl, by
       "<DOMAIN\user> (local)", and writes event 1003 to the Application log: that line also keeps
       extension settings that still carry the same grant from giving it again;
    4. removes the grant's Expire-<grantId> task (every Expire- task of the extension).
    Access is taken away before the history and event are written, and a step that fails does not
    stop the others; each failure is reported as an error at the end.

    When the agent is missing or broken, this command still empties the two groups and ends the
    open sessions itself, warns that it did so without the agent, and reports as an error what it
    could not record: the extension may then give access again until the agent is repaired and
    this command runs again, or the access level is set to None in Azure.

    Azure does not know of this revoke: set the access level to None in Azure as well when you
    can. A new grant (a new grant id) gives access again.

    Needs an elevated PowerShell. Asks for confirmation (ConfirmImpact High) unless -Confirm:$false.

    .OUTPUTS
    One object: ComputerName, GrantId and Level of the revoked grant ($null and None without one;
    both $null when the agent could not tell), MembersRemoved, SessionsEnded, ExpireTasksRemoved,
    RecordCleared, HistoryWritten.

    .EXAMPLE
    Disable-RemoteSupport

    Asks, then ends all remote support access on this machine.

    .EXAMPLE
    Disable-RemoteSupport -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param()

    Assert-Administrator
    $computer = Get-ComputerName
    if (-not $PSCmdlet.ShouldProcess("remote support access on $computer", 'Revoke: clear the grant, empty the access groups, end the support sessions')) { return }

    # A revoke that failed in part still reports: exit code 1 with its report.
    $answer = Get-AgentReport @('revoke', '--local', '--by', (Get-CurrentUserName), '--json') $true
    $report = $answer.Report
    if ($null -eq $answer.Problem -and $null -eq $report.PSObject.Properties['failures']) {
        $answer.Problem = "The node agent's answer is not a revoke report."
    }
    if ($null -ne $answer.Problem) {
        $removal = Remove-AccessWithoutAgent
        Write-Warning ("$($answer.Problem) Disable-RemoteSupport took access away without it: it emptied the groups '" +
            ($script:AccessGroups -join "' and '") + "' ($(@($removal.MembersRemoved).Count) member(s) removed) and ended " +
            "$($removal.SessionsEnded) open session(s) of the $($script:EndpointName) endpoint.")
        foreach ($failure in @($removal.Failures)) { Write-Error -Message $failure -Category InvalidResult }
        Write-Error -Category NotInstalled -Message ('The revoke is not recorded: without the agent, desired.json may still hold the grant, ' +
            'the history and the Application log may lack the revoke, and the grant''s expiry task is left. The extension gives access ' +
            'again when it next applies settings that still grant it (after a reboot, or once repaired). Set the access level to None ' +
            "in Azure, repair the agent and run Disable-RemoteSupport again. $script:RepairAdvice")
        return [pscustomobject][ordered]@{
            ComputerName = $computer; GrantId = $null; Level = $null; MembersRemoved = [string[]] $removal.MembersRemoved
            SessionsEnded = [int] $removal.SessionsEnded; ExpireTasksRemoved = [string[]] @(); RecordCleared = $false; HistoryWritten = $false
        }
    }

    foreach ($warning in @(Get-ObjectProperty $report 'warnings')) { Write-Warning $warning }
    foreach ($failure in @(Get-ObjectProperty $report 'failures')) { Write-Error -Message $failure -Category InvalidResult }
    $reportedName = Get-ObjectProperty $report 'computerName'
    if ($reportedName) { $computer = [string] $reportedName }
    [pscustomobject][ordered]@{
        ComputerName       = $computer
        GrantId            = Get-ObjectProperty $report 'grantId'
        Level              = [string] (Get-ObjectProperty $report 'level')
        MembersRemoved     = [string[]] @(Get-ObjectProperty $report 'membersRemoved')
        SessionsEnded      = [int] (Get-ObjectProperty $report 'sessionsEnded')
        ExpireTasksRemoved = [string[]] @(Get-ObjectProperty $report 'expireTasksRemoved')
        RecordCleared      = [bool] (Get-ObjectProperty $report 'recordCleared')
        HistoryWritten     = [bool] (Get-ObjectProperty $report 'historyWritten')
    }
}

Export-ModuleMember -Function Get-RemoteSupportAccess, Get-RemoteSupportSessionHistory, Get-RemoteSupportLogCollectionHistory, Disable-RemoteSupport

<#
.SYNOPSIS
The machine owner's commands on each node: see the remote support access in force, read who did
what and when, and revoke access locally without Azure.

.DESCRIPTION
Windows PowerShell 5.1 compatible (no ?:, ??, &&, ||, ?.). Reads and writes the same files as the
extension's handler and node agent (core/node-layout.ts): desired.json, the record the
Reconcile and Expire tasks converge to; history.jsonl, one JSON line per access change; and the JEA
session transcripts. Everything there is readable by SYSTEM and Administrators only, so these
commands need an elevated PowerShell.

Paths go through the PowerShell provider, not straight to .NET, so a mapped C: drive is honoured
(the tests map C: to a folder and run the module over stand-in Windows cmdlets).
#>

Set-StrictMode -Version 3.0

#region Layout: core/node-layout.ts (test/node-module/owner-module.test.ts compares them)

$script:DataFolder = 'C:\ProgramData\ArcRemoteSupport'
$script:DesiredStateFile = $script:DataFolder + '\desired.json'
$script:HistoryFile = $script:DataFolder + '\history.jsonl'
$script:TranscriptFolder = $script:DataFolder + '\Transcripts'
$script:Groups = @{
    Engineers   = 'ArcRemoteSupport Engineers'
    Diagnostics = 'ArcRemoteSupport Diagnostics'
    Repair      = 'ArcRemoteSupport Repair'
}
$script:TaskFolder = '\ArcRemoteSupport\'
$script:ExpireTaskPrefix = 'Expire-'
$script:EndpointName = 'ArcRemoteSupport'
$script:EventSource = 'ArcRemoteSupport'
# node-intent.ts EVENT_IDS.revoked and desired-state.ts DEFAULT_RETENTION_DAYS.
$script:RevokedEventId = 1003
$script:DefaultRetentionDays = 90

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
        throw "Run PowerShell as Administrator: $script:DataFolder is readable by SYSTEM and Administrators only."
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

# JSON from our files. PowerShell 7 turns date-like strings into DateTime unless told not to
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

# UTC as core/desired-state.ts formatUtc writes it: ISO, ".000" left out.
function Format-UtcTime([datetime] $Time) {
    $text = $Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture)
    if ($text.EndsWith('.000Z')) { $text = $text.Substring(0, $text.Length - 5) + 'Z' }
    return $text
}

# A JSON value as JSON.stringify writes it (strings, numbers, booleans, null only).
function ConvertTo-JsonValue($Value) {
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [bool]) { if ($Value) { return 'true' } else { return 'false' } }
    if ($Value -is [int] -or $Value -is [long]) { return ([string] $Value) }
    $escaped = [regex]::Replace([string] $Value, '[\\"\x00-\x1f]', {
            param($match)
            switch ($match.Value) {
                '"' { return '\"' }
                '\' { return '\\' }
                "`n" { return '\n' }
                "`r" { return '\r' }
                "`t" { return '\t' }
            }
            return ('\u{0:x4}' -f [int] [char] $match.Value)
        })
    return '"' + $escaped + '"'
}

# Reads a whole text file that another process may still be writing (a live session's transcript).
function Read-SharedText([string] $FullPath) {
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    $stream = New-Object System.IO.FileStream($FullPath, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $share)
    try {
        # UTF-8 unless a byte order mark says otherwise (5.1 transcripts start with one).
        $reader = New-Object System.IO.StreamReader($stream, (New-Object System.Text.UTF8Encoding($false)), $true)
        return $reader.ReadToEnd()
    }
    finally { $stream.Dispose() }
}

# Writes through a temporary file beside the target so the Reconcile task never reads half a
# record; Replace keeps the existing file's ACL (SYSTEM and Administrators only).
function Write-FileAtomically([string] $FullPath, [string] $Text) {
    $temp = $FullPath + '.' + [Guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllText($temp, $Text, (New-Object System.Text.UTF8Encoding($false)))
    try {
        if ([System.IO.File]::Exists($FullPath)) { [System.IO.File]::Replace($temp, $FullPath, [NullString]::Value) }
        else { [System.IO.File]::Move($temp, $FullPath) }
    }
    finally {
        if ([System.IO.File]::Exists($temp)) { [System.IO.File]::Delete($temp) }
    }
}

#endregion

#region Records

<#
desired.json as core/desired-record.ts parseDesiredRecord reads it: missing means no
grant; unreadable or unexpected means no grant too (access fails closed), with Problem saying why.
#>
function Read-DesiredRecord {
    $record = @{ Exists = $false; Problem = $null; Enabled = $true; RetentionDays = $script:DefaultRetentionDays; Grant = $null; ManagedFrom = $null }
    $full = Resolve-LocalPath $script:DesiredStateFile
    if (-not [System.IO.File]::Exists($full)) { return $record }
    $record.Exists = $true
    try { $value = ConvertFrom-DataJson ([System.IO.File]::ReadAllText($full)) }
    catch [System.UnauthorizedAccessException] { throw "Cannot read $($script:DesiredStateFile): run PowerShell as Administrator." }
    catch { $value = $null }
    if ((Get-ObjectProperty $value 'schemaVersion') -ne 1 -or (Get-ObjectProperty $value 'enabled') -isnot [bool]) {
        $record.Problem = "$($script:DesiredStateFile) is unreadable or not a desired-state record; access is off until it is written again."
        return $record
    }
    $record.Enabled = [bool] $value.enabled
    $days = Get-ObjectProperty $value 'retentionDays'
    if ($days -is [int] -or $days -is [long]) { $record.RetentionDays = [int] $days }
    # A cluster peer covered by another node's extension names that node; kept when rewritten.
    $managedFrom = Get-ObjectProperty $value 'managedFrom'
    if ($managedFrom -is [string] -and $managedFrom.Length -gt 0) { $record.ManagedFrom = $managedFrom }
    $grant = Get-ObjectProperty $value 'grant'
    if ($null -ne $grant) {
        $consent = Get-ObjectProperty $grant 'consent'
        $expiresAt = ConvertTo-UtcTime (Get-ObjectProperty $grant 'expiresAt')
        if ($null -eq $expiresAt -or $null -eq $consent) {
            $record.Problem = "$($script:DesiredStateFile) has a grant without a valid expiry or consent; access is off until it is written again."
            return $record
        }
        $record.Grant = @{
            Level            = [string] (Get-ObjectProperty $grant 'level')
            GrantId          = [string] (Get-ObjectProperty $grant 'grantId')
            ExpiresAt        = $expiresAt
            SupportRequestId = [string] (Get-ObjectProperty $grant 'supportRequestId')
            TermsVersion     = [string] (Get-ObjectProperty $consent 'termsVersion')
            AcceptedAt       = ConvertTo-UtcTime (Get-ObjectProperty $consent 'acceptedAt')
            AcceptedBy       = [string] (Get-ObjectProperty $consent 'acceptedBy')
        }
    }
    return $record
}

# desired.json with no grant, byte for byte as serializeDesiredRecord writes it.
function Format-NoGrantRecord([bool] $Enabled, [int] $RetentionDays, [string] $ManagedFrom) {
    $lines = @('{', '  "schemaVersion": 1,', ('  "enabled": ' + (ConvertTo-JsonValue $Enabled) + ','),
        ('  "retentionDays": ' + $RetentionDays + ','))
    if ($ManagedFrom) { $lines += ('  "managedFrom": ' + (ConvertTo-JsonValue $ManagedFrom) + ',') }
    $lines += @('  "grant": null', '}')
    return ($lines -join "`n") + "`n"
}

# The level's access group: DiagnosticsAndRepair maps to Repair (node-plan.ts accessGroupFor).
function Get-LevelGroup([string] $Level) {
    if ($Level -eq 'DiagnosticsAndRepair') { return $script:Groups.Repair }
    return $script:Groups.Diagnostics
}

# The history lines, oldest first; lines that are not JSON access changes are skipped.
function Read-HistoryEntries {
    $full = Resolve-LocalPath $script:HistoryFile
    if (-not [System.IO.File]::Exists($full)) { return }
    foreach ($line in ([System.IO.File]::ReadAllText($full) -split "`n")) {
        if ($line.Trim().Length -eq 0) { continue }
        try { $value = ConvertFrom-DataJson $line } catch { Write-Verbose "Skipped a history line that is not JSON: $line"; continue }
        $at = ConvertTo-UtcTime (Get-ObjectProperty $value 'at')
        $change = [string] (Get-ObjectProperty $value 'change')
        if ($null -eq $at -or $change -notin @('granted', 'changed', 'revoked', 'expired')) { continue }
        [pscustomobject]@{
            At               = $at
            Change           = $change
            By               = [string] (Get-ObjectProperty $value 'by')
            Level            = [string] (Get-ObjectProperty $value 'level')
            GrantId          = Get-ObjectProperty $value 'grantId'
            ExpiresAt        = ConvertTo-UtcTime (Get-ObjectProperty $value 'expiresAt')
            SupportRequestId = Get-ObjectProperty $value 'supportRequestId'
            TermsVersion     = Get-ObjectProperty $value 'termsVersion'
        }
    }
}

# Member names (DOMAIN\user) of a local group; none when the group does not exist.
function Get-GroupMemberNames([string] $Name) {
    try { $members = @(Get-LocalGroupMember -Name $Name -ErrorAction Stop) }
    catch {
        if ($_.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound) { return }
        throw
    }
    foreach ($member in $members) { [string] $member.Name }
}

# Shows the named properties by default; the others stay on the object.
function Set-DefaultDisplay($Object, [string[]] $Properties) {
    $set = New-Object System.Management.Automation.PSPropertySet('DefaultDisplayPropertySet', $Properties)
    $standard = [System.Management.Automation.PSMemberInfo[]] @($set)
    $Object | Add-Member -MemberType MemberSet -Name PSStandardMembers -Value $standard -Force
    return $Object
}

function New-GrantView {
    param([string] $Level, [string] $State, $GrantId, $ExpiresAt, $SupportRequestId, $TermsVersion, $AcceptedBy, $AcceptedAt,
        $EndedAt, $EndedBy, [string[]] $Engineers = @())
    $timeLeft = [TimeSpan]::Zero
    if ($State -eq 'Active') {
        # Whole seconds: nobody needs the ticks.
        $timeLeft = [TimeSpan]::FromSeconds([Math]::Floor(($ExpiresAt - [DateTime]::UtcNow).TotalSeconds))
    }
    $view = [pscustomobject]@{
        PSTypeName       = 'ArcRemoteSupport.Grant'
        Level            = $Level
        State            = $State
        GrantId          = $GrantId
        ExpiresAt        = $ExpiresAt
        TimeLeft         = $timeLeft
        SupportRequestId = $SupportRequestId
        TermsVersion     = $TermsVersion
        AcceptedBy       = $AcceptedBy
        AcceptedAt       = $AcceptedAt
        EndedAt          = $EndedAt
        EndedBy          = $EndedBy
        Engineers        = [string[]] $Engineers
    }
    return (Set-DefaultDisplay $view @('Level', 'State', 'ExpiresAt', 'TimeLeft', 'SupportRequestId', 'Engineers'))
}

#endregion

#region Transcripts

# Header of a Windows PowerShell transcript: between two lines of asterisks, "Name: value" lines:
#   Windows PowerShell transcript start
#   Start time: 20260301101500          (yyyyMMddHHmmss, the machine's local time)
#   Username: CONTOSO\alice             (who connected)
#   RunAs User: WinRM Virtual Users\WinRM VA_1_CONTOSO_alice   (the JEA identity)
# and at the end, when the session closed cleanly, "End time: yyyyMMddHHmmss".
function Read-TranscriptFile([string] $FullPath, [bool] $IncludeText) {
    $text = Read-SharedText $FullPath
    $fields = @{}
    $stars = 0
    foreach ($line in ($text -split "`r?`n")) {
        if ($line -match '^\*{10,}\s*$') {
            $stars++
            if ($stars -ge 2) { break }
            continue
        }
        if ($stars -eq 1 -and $line -match '^([^:]+):\s*(.*?)\s*$' -and -not $fields.ContainsKey($Matches[1].Trim())) {
            $fields[$Matches[1].Trim()] = $Matches[2]
        }
    }
    $name = [System.IO.Path]::GetFileName($FullPath)
    $start = ConvertFrom-TranscriptTime ([string] $fields['Start time'])
    # Without a header time, the name carries the same local stamp: PowerShell_transcript.<computer>.<random>.<stamp>.txt.
    if ($null -eq $start -and $name -match '\.(\d{14})\.txt$') { $start = ConvertFrom-TranscriptTime $Matches[1] }
    if ($null -eq $start) { $start = [System.IO.File]::GetLastWriteTimeUtc($FullPath) }
    $end = $null
    $endMatches = [regex]::Matches($text, '(?m)^End time:\s*(\d{14})\s*$')
    if ($endMatches.Count -gt 0) { $end = ConvertFrom-TranscriptTime $endMatches[$endMatches.Count - 1].Groups[1].Value }
    $transcript = $null
    if ($IncludeText) { $transcript = $text }
    return @{ Start = $start; End = $end; User = $fields['Username']; RunAsUser = $fields['RunAs User']; Name = $name; Text = $transcript }
}

# yyyyMMddHHmmss in the machine's local time, to UTC; $null when it is not that.
function ConvertFrom-TranscriptTime([string] $Stamp) {
    $styles = [System.Globalization.DateTimeStyles]::AssumeLocal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal
    $parsed = [datetime]::MinValue
    if ([datetime]::TryParseExact($Stamp.Trim(), 'yyyyMMddHHmmss', [Globalization.CultureInfo]::InvariantCulture, $styles, [ref] $parsed)) { return $parsed }
    return $null
}

#endregion

function Get-RemoteSupportAccess {
    <#
    .SYNOPSIS
    Shows the remote support access in force on this machine: level, expiry, support request and
    the support engineers who hold it.

    .DESCRIPTION
    Reads the desired-state record the extension keeps on this node (desired.json) and the local
    access groups. A grant is in force while the extension is enabled and its expiry has not
    passed. Returns one object for it, or NOTHING when no access is in force, so that
    `if (Get-RemoteSupportAccess) { ... }` reads naturally.

    Engineers are the current members of the level's group (ArcRemoteSupport Diagnostics, or
    ArcRemoteSupport Repair for DiagnosticsAndRepair). A warning says so when no grant is in force
    but those groups still have members (the Reconcile task removes them; Disable-RemoteSupport
    removes them at once), or when the record is unreadable (access is then off).

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
    'granted' entry time for past grants), EndedAt, EndedBy, Engineers.

    .EXAMPLE
    Get-RemoteSupportAccess

    Level DiagnosticsAndRepair, State Active, ExpiresAt, TimeLeft, the support request and the engineers.

    .EXAMPLE
    Get-RemoteSupportAccess -IncludeExpired | Format-Table Level, State, GrantId, ExpiresAt, EndedBy
    #>
    [CmdletBinding()]
    [OutputType('ArcRemoteSupport.Grant')]
    param([switch] $IncludeExpired)

    Assert-Administrator
    $record = Read-DesiredRecord
    if ($null -ne $record.Problem) { Write-Warning $record.Problem }
    $now = [DateTime]::UtcNow
    $grant = $record.Grant
    $inForce = ($null -ne $grant) -and $record.Enabled -and ($grant.ExpiresAt -gt $now)

    if ($null -ne $grant -and ($inForce -or $IncludeExpired)) {
        $state = 'Active'
        $endedAt = $null
        $endedBy = $null
        if (-not $inForce) {
            if ($grant.ExpiresAt -le $now) { $state = 'Expired'; $endedAt = $grant.ExpiresAt; $endedBy = 'expiry' }
            else { $state = 'Disabled' }
        }
        New-GrantView -Level $grant.Level -State $state -GrantId $grant.GrantId -ExpiresAt $grant.ExpiresAt `
            -SupportRequestId $grant.SupportRequestId -TermsVersion $grant.TermsVersion -AcceptedBy $grant.AcceptedBy `
            -AcceptedAt $grant.AcceptedAt -EndedAt $endedAt -EndedBy $endedBy -Engineers @(Get-GroupMemberNames (Get-LevelGroup $grant.Level))
    }

    if (-not $inForce) {
        # Access is given by group membership: members without a grant are access nobody recorded.
        foreach ($group in @($script:Groups.Diagnostics, $script:Groups.Repair)) {
            $members = @(Get-GroupMemberNames $group)
            if ($members.Count -gt 0) {
                Write-Warning ("No grant is in force, but '$group' still has members: " + ($members -join ', ') +
                    '. The Reconcile task removes them; Disable-RemoteSupport removes them now.')
            }
        }
    }
    if (-not $IncludeExpired) { return }

    # Past grants: one per grant id in the history, from its entries in order.
    $past = [ordered]@{}
    foreach ($entry in @(Read-HistoryEntries)) {
        $id = $entry.GrantId
        if ($null -eq $id -or ($null -ne $grant -and [string] $id -eq $grant.GrantId)) { continue }
        if (-not $past.Contains([string] $id)) {
            $past[[string] $id] = @{ Level = 'None'; State = 'Ended'; ExpiresAt = $null; SupportRequestId = $null; TermsVersion = $null
                AcceptedBy = $null; AcceptedAt = $null; EndedAt = $null; EndedBy = $null; Last = $entry.At }
        }
        $item = $past[[string] $id]
        $item.Last = $entry.At
        if ($entry.Level -and $entry.Level -ne 'None') { $item.Level = $entry.Level }
        if ($null -ne $entry.ExpiresAt) { $item.ExpiresAt = $entry.ExpiresAt }
        if ($null -ne $entry.SupportRequestId) { $item.SupportRequestId = $entry.SupportRequestId }
        if ($null -ne $entry.TermsVersion) { $item.TermsVersion = $entry.TermsVersion }
        switch ($entry.Change) {
            'granted' { $item.AcceptedBy = $entry.By; $item.AcceptedAt = $entry.At; $item.State = 'Ended'; $item.EndedAt = $null; $item.EndedBy = $null }
            'revoked' { $item.State = 'Revoked'; $item.EndedAt = $entry.At; $item.EndedBy = $entry.By }
            'expired' { $item.State = 'Expired'; $item.EndedAt = $entry.At; $item.EndedBy = $entry.By }
        }
    }
    $ids = @($past.Keys | Sort-Object -Property @{ Expression = { $past[$_].Last } } -Descending)
    foreach ($id in $ids) {
        $item = $past[$id]
        New-GrantView -Level $item.Level -State $item.State -GrantId $id -ExpiresAt $item.ExpiresAt -SupportRequestId $item.SupportRequestId `
            -TermsVersion $item.TermsVersion -AcceptedBy $item.AcceptedBy -AcceptedAt $item.AcceptedAt -EndedAt $item.EndedAt -EndedBy $item.EndedBy
    }
}

function Get-RemoteSupportSessionHistory {
    <#
    .SYNOPSIS
    Lists the access changes and the support engineers' sessions on this machine, newest first.

    .DESCRIPTION
    Two sources, merged into one list ordered by Time, NEWEST FIRST (like Get-WinEvent):
    - history.jsonl: every access change (Kind Granted, Changed, Revoked or Expired), who made it
      (By: the consenting owner, "expiry", "<DOMAIN\user> (local)" for Disable-RemoteSupport...),
      the level in force after it (None after a revoke or expiry), the grant and support request.
    - the JEA session transcripts (Kind Session): Time is the session's start, By the user who
      connected, RunAsUser the JEA virtual account, EndTime the end (none while the session is
      open or when it did not close cleanly), Path the transcript file.
    Transcript times are written in the machine's local time; they are returned as UTC.

    The retention task deletes history and transcripts older than the retention period (at most
    90 days). Needs an elevated PowerShell.

    .PARAMETER FromDate
    Only entries at or after this time (sessions by their start). A date without a time zone is
    this machine's local time, as Get-Date gives it.

    .PARAMETER IncludeTranscript
    Adds each session's full transcript text (property Transcript; $null otherwise).

    .OUTPUTS
    ArcRemoteSupport.HistoryEntry: Time (UTC), Kind, By, Level, GrantId, SupportRequestId,
    ExpiresAt, TermsVersion, RunAsUser, EndTime, Path, Transcript.

    .EXAMPLE
    Get-RemoteSupportSessionHistory -FromDate (Get-Date).AddDays(-7)

    .EXAMPLE
    Get-RemoteSupportSessionHistory -IncludeTranscript | Where-Object Kind -eq 'Session' | Select-Object -First 1 -ExpandProperty Transcript
    #>
    [CmdletBinding()]
    [OutputType('ArcRemoteSupport.HistoryEntry')]
    param([datetime] $FromDate = [datetime]::MinValue, [switch] $IncludeTranscript)

    Assert-Administrator
    # Local or unspecified dates are local time; MinValue stays "from the start".
    $from = [datetime]::MinValue
    if ($FromDate -ne [datetime]::MinValue) { $from = $FromDate.ToUniversalTime() }

    $items = New-Object System.Collections.ArrayList
    foreach ($entry in @(Read-HistoryEntries)) {
        if ($entry.At -lt $from) { continue }
        $kind = $entry.Change.Substring(0, 1).ToUpperInvariant() + $entry.Change.Substring(1)
        $null = $items.Add((New-HistoryItem -Time $entry.At -Kind $kind -By $entry.By -Level $entry.Level -GrantId $entry.GrantId `
                    -SupportRequestId $entry.SupportRequestId -ExpiresAt $entry.ExpiresAt -TermsVersion $entry.TermsVersion))
    }
    $folder = Resolve-LocalPath $script:TranscriptFolder
    if ([System.IO.Directory]::Exists($folder)) {
        # Sub-folders too: PowerShell may file transcripts under a folder per day.
        foreach ($file in [System.IO.Directory]::GetFiles($folder, 'PowerShell_transcript.*.txt', [System.IO.SearchOption]::AllDirectories)) {
            try { $session = Read-TranscriptFile $file ([bool] $IncludeTranscript) }
            catch { Write-Warning "Cannot read the transcript ${file}: $($_.Exception.Message)"; continue }
            if ($session.Start -lt $from) { continue }
            $null = $items.Add((New-HistoryItem -Time $session.Start -Kind 'Session' -By $session.User -RunAsUser $session.RunAsUser `
                        -EndTime $session.End -Path ($script:TranscriptFolder + $file.Substring($folder.Length).Replace('/', '\')) -Transcript $session.Text))
        }
    }
    $items | Sort-Object -Property Time -Descending
}

function New-HistoryItem {
    param([datetime] $Time, [string] $Kind, $By, $Level, $GrantId, $SupportRequestId, $ExpiresAt, $TermsVersion, $RunAsUser, $EndTime, $Path, $Transcript)
    $item = [pscustomobject]@{
        PSTypeName       = 'ArcRemoteSupport.HistoryEntry'
        Time             = $Time
        Kind             = $Kind
        By               = $By
        Level            = $Level
        GrantId          = $GrantId
        SupportRequestId = $SupportRequestId
        ExpiresAt        = $ExpiresAt
        TermsVersion     = $TermsVersion
        RunAsUser        = $RunAsUser
        EndTime          = $EndTime
        Path             = $Path
        Transcript       = $Transcript
    }
    return (Set-DefaultDisplay $item @('Time', 'Kind', 'By', 'Level', 'SupportRequestId'))
}

function Disable-RemoteSupport {
    <#
    .SYNOPSIS
    Revokes remote support access on this machine now, without Azure.

    .DESCRIPTION
    The owner's local revoke, for when the machine cannot reach Azure or access must end at once:
    1. rewrites desired.json with no grant (enabled and retention kept), first, so that the
       Reconcile task, which converges to that record, keeps access off from then on;
    2. empties the ArcRemoteSupport Diagnostics and Repair groups (Engineers is left alone: it is
       the owner's list of who may be given access);
    3. ends the open sessions of the ArcRemoteSupport endpoint (other endpoints are not touched);
    4. removes the grant's Expire-<grantId> task (every Expire- task of the extension);
    5. when access was in force or present, appends a 'revoked' line to history.jsonl, by
       "<DOMAIN\user> (local)", and writes event 1003 to the Application log.
    A step that fails does not stop the others; each failure is reported as an error at the end.

    Azure does not know of this revoke: if the extension's settings still grant access, the next
    time the extension applies them (a settings change, or a re-run after a reboot) it may give
    access again. Set the access level to None in Azure as well when you can.

    Needs an elevated PowerShell. Asks for confirmation (ConfirmImpact High) unless -Confirm:$false.

    .OUTPUTS
    One object: ComputerName, GrantId and Level of the revoked grant ($null and None without one),
    MembersRemoved, SessionsEnded, ExpireTasksRemoved, RecordCleared, HistoryWritten.

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

    $record = Read-DesiredRecord
    if ($null -ne $record.Problem) { Write-Warning $record.Problem }
    $grant = $record.Grant
    $now = [DateTime]::UtcNow
    $inForce = ($null -ne $grant) -and $record.Enabled -and ($grant.ExpiresAt -gt $now)
    $failures = New-Object System.Collections.ArrayList
    $summary = [ordered]@{
        ComputerName = $computer; GrantId = $null; Level = 'None'; MembersRemoved = @(); SessionsEnded = 0
        ExpireTasksRemoved = @(); RecordCleared = $false; HistoryWritten = $false
    }
    if ($null -ne $grant) { $summary.GrantId = $grant.GrantId; $summary.Level = $grant.Level }

    # 1. The record first: emptied groups stay empty only if Reconcile no longer sees a grant.
    try {
        $full = Resolve-LocalPath $script:DesiredStateFile
        if ([System.IO.Directory]::Exists((Resolve-LocalPath $script:DataFolder))) {
            $text = Format-NoGrantRecord $record.Enabled $record.RetentionDays $record.ManagedFrom
            $current = $null
            if ([System.IO.File]::Exists($full)) { $current = [System.IO.File]::ReadAllText($full) }
            if ($current -cne $text) { Write-FileAtomically $full $text; $summary.RecordCleared = $true }
        }
        else { Write-Warning "$($script:DataFolder) does not exist: the extension has recorded nothing on this machine." }
    }
    catch { $null = $failures.Add("Could not clear the grant in $($script:DesiredStateFile): $($_.Exception.Message)") }

    # 2. Groups, before sessions: an engineer cannot open a new session once out of them.
    $removed = New-Object System.Collections.ArrayList
    foreach ($group in @($script:Groups.Diagnostics, $script:Groups.Repair)) {
        try {
            $members = [string[]] @(Get-GroupMemberNames $group)
            if ($members.Count -gt 0) {
                Remove-LocalGroupMember -Name $group -Member $members -ErrorAction Stop
                foreach ($member in $members) { $null = $removed.Add("$group`: $member") }
            }
        }
        catch { $null = $failures.Add("Could not empty the group '$group': $($_.Exception.Message)") }
    }
    $summary.MembersRemoved = [string[]] $removed.ToArray()

    # 3. Open sessions of our endpoint: each WinRM shell names the endpoint's resource URI.
    try {
        $uri = 'http://schemas.microsoft.com/powershell/' + $script:EndpointName
        foreach ($shell in @(Get-WSManInstance -ResourceURI 'shell' -Enumerate -ErrorAction Stop)) {
            if ([string] (Get-ObjectProperty $shell 'ResourceUri') -ne $uri) { continue }
            try {
                Remove-WSManInstance -ResourceURI 'shell' -SelectorSet @{ ShellId = [string] $shell.ShellId } -ErrorAction Stop
                $summary.SessionsEnded++
            }
            catch {
                # A shell that closed meanwhile is already ended.
                if ($_.CategoryInfo.Category -ne [System.Management.Automation.ErrorCategory]::ObjectNotFound) { throw }
            }
        }
    }
    catch { $null = $failures.Add("Could not end the open sessions of the $($script:EndpointName) endpoint: $($_.Exception.Message)") }

    # 4. Expiry tasks: with no grant none is wanted (Reconcile would delete them too).
    $tasksRemoved = New-Object System.Collections.ArrayList
    try {
        $tasks = @()
        try { $tasks = @(Get-ScheduledTask -TaskPath $script:TaskFolder -ErrorAction Stop) }
        catch { if ($_.CategoryInfo.Category -ne [System.Management.Automation.ErrorCategory]::ObjectNotFound) { throw } }
        foreach ($task in $tasks) {
            $name = [string] $task.TaskName
            if (-not $name.StartsWith($script:ExpireTaskPrefix, [StringComparison]::OrdinalIgnoreCase)) { continue }
            Unregister-ScheduledTask -TaskName $name -TaskPath $script:TaskFolder -Confirm:$false -ErrorAction Stop
            $null = $tasksRemoved.Add($name)
        }
    }
    catch { $null = $failures.Add("Could not remove the expiry task: $($_.Exception.Message)") }
    $summary.ExpireTasksRemoved = [string[]] $tasksRemoved.ToArray()

    # 5. History and event, as node-intent.ts writes them, when there was access to revoke.
    if ($inForce -or $removed.Count -gt 0 -or $summary.SessionsEnded -gt 0) {
        $by = (Get-CurrentUserName) + ' (local)'
        $expiresAt = $null
        $grantId = $null
        $supportRequestId = $null
        $termsVersion = $null
        if ($null -ne $grant) {
            $expiresAt = Format-UtcTime $grant.ExpiresAt
            $grantId = $grant.GrantId
            $supportRequestId = $grant.SupportRequestId
            $termsVersion = $grant.TermsVersion
        }
        # Whole seconds, as the agent's clock-stamped lines read.
        $at = Format-UtcTime $now.AddTicks(- ($now.Ticks % [TimeSpan]::TicksPerSecond))
        $fields = [ordered]@{ at = $at; change = 'revoked'; by = $by; level = 'None'; grantId = $grantId; expiresAt = $expiresAt
            supportRequestId = $supportRequestId; termsVersion = $termsVersion }
        $line = '{' + (@($fields.Keys | ForEach-Object { (ConvertTo-JsonValue $_) + ':' + (ConvertTo-JsonValue $fields[$_]) }) -join ',') + '}'
        try {
            $full = Resolve-LocalPath $script:HistoryFile
            if ([System.IO.Directory]::Exists((Resolve-LocalPath $script:DataFolder))) {
                # A file cut short by a crash must not glue our line onto its last one.
                $prefix = ''
                if ([System.IO.File]::Exists($full)) {
                    $old = [System.IO.File]::ReadAllText($full)
                    if ($old.Length -gt 0 -and -not $old.EndsWith("`n")) { $prefix = "`n" }
                }
                [System.IO.File]::AppendAllText($full, $prefix + $line + "`n", (New-Object System.Text.UTF8Encoding($false)))
                $summary.HistoryWritten = $true
            }
        }
        catch { $null = $failures.Add("Could not append to $($script:HistoryFile): $($_.Exception.Message)") }

        $message = "Remote support access revoked: level None, grant $(Format-OrNone $grantId 'none'), expires $(Format-OrNone $expiresAt 'n/a'), " +
        "support request $(Format-OrNone $supportRequestId 'n/a'), terms $(Format-OrNone $termsVersion 'n/a'), by $by."
        try { Write-RevokedEvent $message }
        catch { $null = $failures.Add("Could not write event $($script:RevokedEventId): $($_.Exception.Message)") }
    }

    foreach ($failure in $failures) { Write-Error -Message $failure -Category InvalidResult }
    [pscustomobject] $summary
}

function Format-OrNone($Value, [string] $None) {
    if ($null -eq $Value) { return $None }
    return [string] $Value
}

function Write-RevokedEvent([string] $Message) {
    if (Get-Command -Name Write-EventLog -ErrorAction SilentlyContinue) {
        $write = @{ LogName = 'Application'; Source = $script:EventSource; EventId = $script:RevokedEventId; EntryType = 'Warning'; Message = $Message }
        try { Write-EventLog @write -ErrorAction Stop }
        catch {
            # Most likely the source is not registered yet: register it and write again.
            New-EventLog -LogName Application -Source $script:EventSource -ErrorAction SilentlyContinue
            Write-EventLog @write -ErrorAction Stop
        }
        return
    }
    # PowerShell 7 has no *-EventLog cmdlets; .NET writes the same entry.
    if (-not [System.Diagnostics.EventLog]::SourceExists($script:EventSource)) { [System.Diagnostics.EventLog]::CreateEventSource($script:EventSource, 'Application') }
    [System.Diagnostics.EventLog]::WriteEntry($script:EventSource, $Message, [System.Diagnostics.EventLogEntryType]::Warning, $script:RevokedEventId)
}

Export-ModuleMember -Function Get-RemoteSupportAccess, Get-RemoteSupportSessionHistory, Disable-RemoteSupport

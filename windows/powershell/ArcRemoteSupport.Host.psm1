<#
.SYNOPSIS
The Windows side of the host port (windows/operations.ts): one function per operation, and
the batch loop that runs a list of them and writes one JSON result line per operation.

.DESCRIPTION
Windows PowerShell 5.1 compatible (no ?:, ??, &&, ||, no PS7-only cmdlets). HostBridge.ps1 imports
this module for the local node, and sends its text to another node with Invoke-Command, where it
is loaded with New-Module: it must therefore be self-contained.

Every operation function takes the request object (parsed JSON) and returns an ordered dictionary,
the operation's result. A failure is an exception; New-HostError makes one with a port error code,
and ConvertTo-HostErrorCode maps any other exception to one.

Set-StrictMode -Version 3.0 rules apply: a missing property throws, and .Count is only used on
values wrapped in @().
#>

Set-StrictMode -Version 3.0

#region Errors

# An exception that carries the port's error code (port.ts HostErrorCode) and the target.
function New-HostError([string] $Code, [string] $Message, $Target) {
    $exception = New-Object System.Exception($Message)
    $exception.Data['ArsCode'] = $Code
    $exception.Data['ArsTarget'] = $Target
    return $exception
}

# Whether an error record says "this does not exist". CommandNotFoundException also has category
# ObjectNotFound, but a missing cmdlet is a broken machine, not a missing target.
function Test-NotFoundError($ErrorRecord) {
    if ($ErrorRecord.Exception -is [System.Management.Automation.CommandNotFoundException]) { return $false }
    return ($ErrorRecord.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound)
}

# The port code for an error record: our own code first, then the exception types and HRESULTs
# that mean "access denied" or "not found" (walking inner exceptions: .NET method calls wrap them
# in MethodInvocationException), then the record's category. Anything else is Failed.
function ConvertTo-HostErrorCode($ErrorRecord) {
    $exception = $ErrorRecord.Exception
    if ($exception.Data.Contains('ArsCode')) { return [string] $exception.Data['ArsCode'] }
    if ($exception -is [System.Management.Automation.CommandNotFoundException]) { return 'Failed' }
    $inner = $exception
    while ($null -ne $inner) {
        if ($inner -is [System.UnauthorizedAccessException] -or $inner -is [System.Security.SecurityException]) { return 'AccessDenied' }
        # E_ACCESSDENIED (0x80070005), as COM and CIM report it.
        if ($inner.HResult -eq -2147024891) { return 'AccessDenied' }
        if ($inner -is [System.Management.Automation.ItemNotFoundException] -or
            $inner -is [System.IO.FileNotFoundException] -or
            $inner -is [System.IO.DirectoryNotFoundException]) { return 'NotFound' }
        $inner = $inner.InnerException
    }
    $category = $ErrorRecord.CategoryInfo.Category
    if ($category -eq [System.Management.Automation.ErrorCategory]::PermissionDenied) { return 'AccessDenied' }
    if ($category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound) { return 'NotFound' }
    return 'Failed'
}

# One line, short enough for a status message.
function Get-ShortMessage([string] $Text) {
    $line = ($Text -replace '\s+', ' ').Trim()
    if ($line.Length -gt 400) { $line = $line.Substring(0, 397) + '...' }
    if ($line.Length -eq 0) { $line = 'The Windows command failed without a message.' }
    return $line
}

#endregion

#region Request fields

# The request as objects. PowerShell 7 turns strings that look like dates into DateTime (a file's
# content could be an expiry time): from 7.5 on, -DateKind String keeps them as they were sent.
# Windows PowerShell 5.1 never converts them.
function ConvertFrom-RequestJson([string] $Text) {
    if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')) {
        return (ConvertFrom-Json -InputObject $Text -DateKind String)
    }
    return (ConvertFrom-Json -InputObject $Text)
}

function Get-ObjectProperty($Object, [string] $Name) {
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# A field of the request, checked: a missing or mistyped field is the caller's mistake
# (InvalidRequest), never a Windows failure.
function Get-OpField {
    param($Op, [string] $Name, [ValidateSet('string', 'bool', 'int', 'strings')] [string] $Kind = 'string',
        [switch] $Optional, [switch] $AllowEmpty)
    $property = $Op.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) {
        if ($Optional) { return $null }
        throw (New-HostError 'InvalidRequest' "The request has no '$Name' field." $null)
    }
    $value = $property.Value
    $valid = $true
    switch ($Kind) {
        'string' { $valid = ($value -is [string]) -and ($AllowEmpty -or $value.Trim().Length -gt 0) }
        'bool' { $valid = $value -is [bool] }
        'int' { $valid = ($value -is [int]) -or ($value -is [long]) }
        'strings' {
            foreach ($item in @($value)) { if ($item -isnot [string] -or $item.Trim().Length -eq 0) { $valid = $false } }
        }
    }
    if (-not $valid) { throw (New-HostError 'InvalidRequest' "The request field '$Name' is not a valid $Kind." $null) }
    # Unrolled on return: callers collect with @().
    if ($Kind -eq 'strings') { return [string[]] @($value) }
    return $value
}

# What an operation acts on, for error reports (the same for success and failure).
function Get-OpTarget($Op) {
    $name = [string] (Get-ObjectProperty $Op 'op')
    $field = $null
    switch -Regex ($name) {
        '^(ensureDirectory|writeFile|readFile|copyFromHandler|removePath|getPath|listDirectory)$' { $field = 'path' }
        '^(ensureLocalGroup|removeLocalGroup|getLocalGroup|setLocalGroupMembers)$' { $field = 'name' }
        '^(ensureLocalUser|removeLocalUser)$' { $field = 'name' }
        '^(listLocalUsers)$' { $field = 'prefix' }
        '^(endChannelSessionProcesses)$' { $field = 'scriptName' }
        '^(registerSessionConfiguration|unregisterSessionConfiguration|getSessionConfiguration)$' { $field = 'name' }
        '^(listSessions|endSessions)$' { $field = 'configurationName' }
        '^(listTasks)$' { $field = 'folder' }
        '^(writeEvent|readEvents)$' { $field = 'source' }
        '^(exportEventLog)$' { $field = 'channel' }
        '^(writeGeneratedLog)$' { $field = 'producer' }
        '^(writeSecretFile|readSecretFile)$' { $field = 'path' }
        '^(registerTask|getTask|setTaskEnabled|deleteTask)$' {
            $folder = Get-ObjectProperty $Op 'folder'
            $task = Get-ObjectProperty $Op 'name'
            if ($folder -is [string] -and $task -is [string]) { return (Get-TaskTarget $folder $task) }
            return $null
        }
    }
    if ($null -eq $field) { return $null }
    $value = Get-ObjectProperty $Op $field
    if ($value -is [string]) { return $value }
    return $null
}

#endregion

#region JSON output

# Our own JSON writer: ConvertTo-Json differs between 5.1 and 7 (depth cut-off at 2, dates,
# arrays that come out as {"value":..,"Count":..} on 5.1), and the protocol needs exact output.
function ConvertTo-BridgeJson($Value) {
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [System.Security.SecureString]) { return (Add-LineSecret $Value) }
    if ($Value -is [string] -or $Value -is [char] -or $Value -is [enum]) { return (ConvertTo-JsonString ([string] $Value)) }
    if ($Value -is [bool]) { if ($Value) { return 'true' } else { return 'false' } }
    if ($Value -is [datetime]) { return (ConvertTo-JsonString (Format-UtcTime $Value)) }
    $code = [Type]::GetTypeCode($Value.GetType())
    if ($code -ge [TypeCode]::SByte -and $code -le [TypeCode]::Decimal) {
        return ([Convert]::ToString($Value, [Globalization.CultureInfo]::InvariantCulture))
    }
    if ($Value -is [System.Collections.IDictionary]) {
        $parts = foreach ($key in $Value.Keys) { (ConvertTo-JsonString ([string] $key)) + ':' + (ConvertTo-BridgeJson $Value[$key]) }
        return '{' + (@($parts) -join ',') + '}'
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        $parts = foreach ($item in $Value) { ConvertTo-BridgeJson $item }
        return '[' + (@($parts) -join ',') + ']'
    }
    throw "Cannot write a value of type $($Value.GetType().FullName) as JSON."
}

function ConvertTo-JsonString([string] $Text) {
    # Quote, backslash and control characters are escaped; everything else travels as UTF-8.
    if ($Text -notmatch '[\\"\x00-\x1f]') { return '"' + $Text + '"' }
    $escaped = [regex]::Replace($Text, '[\\"\x00-\x1f]', {
            param($match)
            $c = $match.Value
            if ($c -eq '"') { return '\"' }
            if ($c -eq '\') { return '\\' }
            if ($c -eq "`n") { return '\n' }
            if ($c -eq "`r") { return '\r' }
            if ($c -eq "`t") { return '\t' }
            return ('\u{0:x4}' -f [int] [char] $c)
        })
    return '"' + $escaped + '"'
}

# UTC in the form JavaScript's toISOString() writes.
function Format-UtcTime([datetime] $Time) {
    return $Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture)
}

function Format-ResultLine([int] $Index, $Value) {
    $script:LineSecrets.Clear()
    $json = ConvertTo-BridgeJson ([ordered]@{ index = $Index; ok = $true; value = $Value })
    if ($script:LineSecrets.Count -eq 0) { return $json }
    return (New-SecretLine $json)
}

function Format-ErrorLine([int] $Index, $Op, [string] $Code, [string] $Message, $Target) {
    $detail = [ordered]@{
        operation = [string] (Get-ObjectProperty $Op 'op')
        code      = $Code
        message   = $Message
        target    = $Target
    }
    return (ConvertTo-BridgeJson ([ordered]@{ index = $Index; ok = $false; error = $detail }))
}

#endregion

#region Files and ACLs

# The path rules both hosts share (sim/windows/windows-path.ts): absolute X:\...;
# '/' counts as '\'; empty and '.' segments are dropped and '..' resolved (never above the root);
# no < > : " | ? * or control characters in a segment. The clean text has no trailing '\' except
# for a drive root ('C:\').
function ConvertTo-CleanPath([string] $Path) {
    $invalid = New-HostError 'InvalidRequest' "'$Path' is not an absolute Windows path such as C:\Folder\File." $Path
    $unified = $Path.Replace('/', '\')
    if ($unified -notmatch '(?s)^[A-Za-z]:(\\.*)?$') { throw $invalid }
    $segments = New-Object System.Collections.ArrayList
    foreach ($segment in $unified.Substring(2).Split('\')) {
        if ($segment -eq '' -or $segment -eq '.') { continue }
        if ($segment -eq '..') {
            if ($segments.Count -gt 0) { $segments.RemoveAt($segments.Count - 1) }
            continue
        }
        if ($segment -match '[<>:"|?*\x00-\x1f]') { throw $invalid }
        $null = $segments.Add($segment)
    }
    $drive = $unified.Substring(0, 2).ToUpperInvariant()
    if ($segments.Count -eq 0) { return $drive + '\' }
    return $drive + '\' + (@($segments) -join '\')
}

# The request's path: Text (clean Windows path, for cmdlets and messages), Full (the file system
# provider path that .NET file APIs take: going through the provider keeps PSDrives working, and
# the test stand-in maps C: to a folder), IsRoot, and Parent (clean text, null for a root).
function Get-OpPath($Op) {
    $text = ConvertTo-CleanPath (Get-OpField $Op 'path')
    $isRoot = $text.Length -eq 3
    $parent = $null
    if (-not $isRoot) {
        $parent = $text.Substring(0, $text.LastIndexOf('\'))
        if ($parent.Length -eq 2) { $parent += '\' }
    }
    return @{
        Text   = $text
        Full   = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($text)
        IsRoot = $isRoot
        Parent = $parent
    }
}

function Resolve-WindowsPath([string] $Path) {
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath((ConvertTo-CleanPath $Path))
}

# Lists in the order both hosts use: OrdinalIgnoreCase on names.
function Sort-Names([string[]] $Names) {
    if ($Names.Length -eq 0) { return }
    [Array]::Sort($Names, [StringComparer]::OrdinalIgnoreCase)
    foreach ($name in $Names) { $name }
}

# Dictionaries with a unique 'name', in name order. (Array.Sort(keys, items) cannot be used: the
# PowerShell binder passes a copy of the items array.)
function Sort-ByName([object[]] $Items) {
    $byName = New-Object 'System.Collections.Generic.Dictionary[string,object]' ([StringComparer]::Ordinal)
    foreach ($item in $Items) { $byName[[string] $item['name']] = $item }
    foreach ($name in @(Sort-Names ([string[]] @($byName.Keys)))) { $byName[$name] }
}

function Get-OpEncoding($Op) {
    $encoding = Get-OpField $Op 'encoding' -Optional
    if ($null -eq $encoding) { return 'utf8' }
    if ($encoding -ne 'utf8' -and $encoding -ne 'base64') {
        throw (New-HostError 'InvalidRequest' "The encoding '$encoding' is neither utf8 nor base64." $null)
    }
    return $encoding
}

function Get-PathSddl([string] $Path) {
    return [string] (Get-Acl -LiteralPath $Path).Sddl
}

# The DACL part of an SDDL string (what acl.ts compares: owner and group may read back differently).
function Get-DaclPart([string] $Sddl) {
    $start = $Sddl.IndexOf('D:')
    if ($start -lt 0) { return '' }
    $rest = $Sddl.Substring($start)
    $sacl = $rest.IndexOf('S:', 2)
    if ($sacl -lt 0) { return $rest }
    return $rest.Substring(0, $sacl)
}

# Whether a DACL's flags (between "D:" and the first ACE) include P, protected from inheritance.
function Test-ProtectedDacl([string] $Dacl) {
    $flags = $Dacl
    $ace = $Dacl.IndexOf('(')
    if ($ace -ge 0) { $flags = $Dacl.Substring(0, $ace) }
    return $flags.Contains('P')
}

# Applies an SDDL unless the item already has that DACL with the same protection; true when it
# changed something. Protection counts: an item that only inherits its access is not protected,
# so it gets its own DACL even when the inherited one reads the same.
function Set-PathSddl([string] $Path, [string] $Sddl) {
    $wanted = Get-DaclPart $Sddl
    if ($wanted.Length -eq 0) { throw (New-HostError 'InvalidRequest' "The SDDL '$Sddl' has no DACL (D:...)." $Path) }
    $acl = Get-Acl -LiteralPath $Path
    $protected = [bool] (Get-ObjectProperty $acl 'AreAccessRulesProtected')
    if ((Get-DaclPart ([string] $acl.Sddl)) -ceq $wanted -and $protected -eq (Test-ProtectedDacl $wanted)) { return $false }
    try {
        $acl.SetSecurityDescriptorSddlForm($Sddl)
    }
    catch {
        throw (New-HostError 'InvalidRequest' ("The SDDL '$Sddl' is not valid: " + $_.Exception.Message) $Path)
    }
    Set-Acl -LiteralPath $Path -AclObject $acl
    return $true
}

# Writes through a temporary file in the same folder, so a reader never sees half a file; Replace
# keeps the existing file's ACL.
function Write-FileBytes([string] $FullPath, [byte[]] $Bytes) {
    $temp = $FullPath + '.' + [Guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllBytes($temp, $Bytes)
    try {
        if ([System.IO.File]::Exists($FullPath)) { [System.IO.File]::Replace($temp, $FullPath, [NullString]::Value) }
        else { [System.IO.File]::Move($temp, $FullPath) }
    }
    finally {
        if ([System.IO.File]::Exists($temp)) { [System.IO.File]::Delete($temp) }
    }
}

function Invoke-EnsureDirectory($Op) {
    $path = Get-OpPath $Op
    $sddl = Get-OpField $Op 'sddl' -Optional
    if ([System.IO.File]::Exists($path.Full)) { throw (New-HostError 'Failed' "'$($path.Text)' is a file, not a folder." $null) }
    $created = $false
    if (-not [System.IO.Directory]::Exists($path.Full)) {
        # Creates missing parents too; a file in the way fails (IOException: Failed).
        $null = [System.IO.Directory]::CreateDirectory($path.Full)
        $created = $true
    }
    if ($null -ne $sddl) { $null = Set-PathSddl $path.Text $sddl }
    return [ordered]@{ created = $created }
}

# Creates the file whole, or not at all when one is at the path: the bytes go to a temporary file
# in the same folder, then one rename that never replaces (File.Move fails when the target exists,
# atomically) decides who went first. A reader never sees it half written.
function New-FileBytes([string] $FullPath, [string] $Text, [byte[]] $Bytes) {
    $temp = $FullPath + '.' + [Guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllBytes($temp, $Bytes)
    try {
        try { [System.IO.File]::Move($temp, $FullPath) }
        catch {
            if ([System.IO.File]::Exists($FullPath)) {
                throw (New-HostError 'Exists' "'$Text' already exists: it was left as it is." $Text)
            }
            throw
        }
    }
    finally {
        if ([System.IO.File]::Exists($temp)) { [System.IO.File]::Delete($temp) }
    }
}

function Invoke-WriteFile($Op) {
    $path = Get-OpPath $Op
    $content = Get-OpField $Op 'content' -AllowEmpty
    $encoding = Get-OpEncoding $Op
    $sddl = Get-OpField $Op 'sddl' -Optional
    $createNew = Get-OpField $Op 'createNew' -Kind bool -Optional
    $full = $path.Full
    if ($encoding -eq 'base64') {
        try { $bytes = [Convert]::FromBase64String($content) }
        catch { throw (New-HostError 'InvalidRequest' "The content for '$($path.Text)' is not valid base64." $null) }
    }
    else {
        $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($content)
    }
    if ($path.IsRoot -or [System.IO.Directory]::Exists($full)) { throw (New-HostError 'Failed' "'$($path.Text)' is a folder, not a file." $null) }
    if (-not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($full))) {
        throw (New-HostError 'NotFound' "Cannot write '$($path.Text)': the folder '$($path.Parent)' does not exist." $path.Parent)
    }
    if ($createNew -eq $true) {
        New-FileBytes $full $path.Text $bytes
        if ($null -ne $sddl) { $null = Set-PathSddl $path.Text $sddl }
        return [ordered]@{ changed = $true }
    }
    $changed = $true
    if ([System.IO.File]::Exists($full)) {
        $old = [System.IO.File]::ReadAllBytes($full)
        $changed = -not ([Convert]::ToBase64String($old) -ceq [Convert]::ToBase64String($bytes))
    }
    if ($changed) { Write-FileBytes $full $bytes }
    if ($null -ne $sddl) {
        if (Set-PathSddl $path.Text $sddl) { $changed = $true }
    }
    return [ordered]@{ changed = $changed }
}

# Copies a file of the machine running the handler (the package) to the node, unless the node's
# copy already has the same bytes (compared by SHA-256: the runtime is tens of megabytes). On a
# peer node the bridge has staged the file there first and passes the SHA-256 it sent: a staged
# file that no longer has it is not copied.
function Invoke-CopyFromHandler($Op) {
    $path = Get-OpPath $Op
    $source = Get-OpField $Op 'source'
    $expected = Get-OpField $Op 'sha256' -Optional
    # A Windows path resolves through the drive (the same path on Windows; the node's drive in tests).
    if ($source -match '^[A-Za-z]:\\') { $source = Resolve-WindowsPath $source }
    $full = $path.Full
    if (-not [System.IO.File]::Exists($source)) {
        throw (New-HostError 'NotFound' "The file '$source' to copy does not exist on the machine running the handler." $source)
    }
    if ($path.IsRoot -or [System.IO.Directory]::Exists($full)) { throw (New-HostError 'Failed' "'$($path.Text)' is a folder, not a file." $null) }
    if (-not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($full))) {
        throw (New-HostError 'NotFound' "Cannot write '$($path.Text)': the folder '$($path.Parent)' does not exist." $path.Parent)
    }
    $sourceHash = (Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash
    if ($null -ne $expected -and $sourceHash -ne $expected) {
        throw (New-HostError 'Failed' "The copy of '$($path.Text)' sent to this node changed before it was used (SHA-256 $sourceHash, sent $expected)." $path.Text)
    }
    if ([System.IO.File]::Exists($full)) {
        if ($sourceHash -eq (Get-FileHash -LiteralPath $full -Algorithm SHA256).Hash) { return [ordered]@{ copied = $false } }
    }
    [System.IO.File]::Copy($source, $full, $true)
    return [ordered]@{ copied = $true }
}

function Invoke-ReadFile($Op) {
    $path = Get-OpPath $Op
    $encoding = Get-OpEncoding $Op
    if ($path.IsRoot -or [System.IO.Directory]::Exists($path.Full)) { throw (New-HostError 'Failed' "Cannot read '$($path.Text)': it is a folder." $null) }
    if (-not [System.IO.File]::Exists($path.Full)) { return [ordered]@{ exists = $false; content = $null } }
    # Shared: another process may still be writing it (the transcript of a session in progress).
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    $stream = New-Object System.IO.FileStream($path.Full, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $share)
    try {
        if ($encoding -eq 'base64') {
            $bytes = New-Object System.IO.MemoryStream
            $stream.CopyTo($bytes)
            $content = [Convert]::ToBase64String($bytes.ToArray())
        }
        else {
            # UTF-8 unless a byte order mark says otherwise; the mark itself is dropped.
            $reader = New-Object System.IO.StreamReader($stream, (New-Object System.Text.UTF8Encoding($false)), $true)
            $content = $reader.ReadToEnd()
        }
    }
    finally { $stream.Dispose() }
    return [ordered]@{ exists = $true; content = $content }
}

function Invoke-RemovePath($Op) {
    $path = Get-OpPath $Op
    if ($path.IsRoot) { throw (New-HostError 'InvalidRequest' "Refusing to remove the drive root '$($path.Text)'." $null) }
    if (-not ([System.IO.File]::Exists($path.Full) -or [System.IO.Directory]::Exists($path.Full))) { return [ordered]@{ removed = $false } }
    Remove-Item -LiteralPath $path.Text -Recurse -Force
    return [ordered]@{ removed = $true }
}

function Invoke-GetPath($Op) {
    $path = Get-OpPath $Op
    $type = $null
    if ([System.IO.File]::Exists($path.Full)) { $type = 'file' }
    elseif ([System.IO.Directory]::Exists($path.Full)) { $type = 'directory' }
    if ($null -eq $type) { return [ordered]@{ exists = $false; type = $null; sddl = $null } }
    $sddl = Get-PathSddl $path.Text
    if ($sddl.Length -eq 0) { $sddl = $null }
    return [ordered]@{ exists = $true; type = $type; sddl = $sddl }
}

function Invoke-ListDirectory($Op) {
    $path = Get-OpPath $Op
    if ([System.IO.File]::Exists($path.Full)) { throw (New-HostError 'Failed' "Cannot list '$($path.Text)': it is a file." $null) }
    if (-not [System.IO.Directory]::Exists($path.Full)) { return [ordered]@{ exists = $false; entries = @() } }
    $entries = New-Object System.Collections.ArrayList
    foreach ($item in (New-Object System.IO.DirectoryInfo($path.Full)).GetFileSystemInfos()) {
        $type = 'file'
        if ($item -is [System.IO.DirectoryInfo]) { $type = 'directory' }
        $null = $entries.Add([ordered]@{ name = $item.Name; type = $type; lastWriteTimeUtc = (Format-UtcTime $item.LastWriteTimeUtc) })
    }
    return [ordered]@{ exists = $true; entries = @(Sort-ByName $entries.ToArray()) }
}

#endregion

#region Local groups

# Local group names (both hosts): at most 256 characters, none of " / \ [ ] : | < > + = ; , ? * @.
function Get-GroupName($Op) {
    $name = Get-OpField $Op 'name'
    if ($name.Length -gt 256 -or $name -match '["/\\\[\]:|<>+=;,?*@]') {
        throw (New-HostError 'InvalidRequest' "'$name' is not a valid local group name." $null)
    }
    return $name
}

function Find-LocalGroup([string] $Name) {
    try { return (Get-LocalGroup -Name $Name -ErrorAction Stop) }
    catch {
        if (Test-NotFoundError $_) { return $null }
        throw
    }
}

# Member names as DOMAIN\user; callers collect them with @().
function Get-GroupMemberNames([string] $Name) {
    foreach ($member in @(Get-LocalGroupMember -Name $Name -ErrorAction Stop)) { [string] $member.Name }
}

function Invoke-EnsureLocalGroup($Op) {
    $name = Get-GroupName $Op
    $description = Get-OpField $Op 'description' -AllowEmpty
    $group = Find-LocalGroup $name
    if ($null -ne $group) {
        if ([string] (Get-ObjectProperty $group 'Description') -cne $description) {
            Set-LocalGroup -Name $name -Description $description -ErrorAction Stop
        }
        return [ordered]@{ created = $false }
    }
    $null = New-LocalGroup -Name $name -Description $description -ErrorAction Stop
    return [ordered]@{ created = $true }
}

function Invoke-RemoveLocalGroup($Op) {
    $name = Get-GroupName $Op
    if ($null -eq (Find-LocalGroup $name)) { return [ordered]@{ removed = $false } }
    Remove-LocalGroup -Name $name -ErrorAction Stop
    return [ordered]@{ removed = $true }
}

function Invoke-GetLocalGroup($Op) {
    $name = Get-GroupName $Op
    if ($null -eq (Find-LocalGroup $name)) { return [ordered]@{ exists = $false; members = @() } }
    return [ordered]@{ exists = $true; members = @(Sort-Names @(Get-GroupMemberNames $name)) }
}

function Invoke-SetLocalGroupMembers($Op) {
    $name = Get-GroupName $Op
    $wanted = @(Get-OpField $Op 'members' -Kind strings)
    if ($null -eq (Find-LocalGroup $name)) { throw (New-HostError 'NotFound' "The local group '$name' does not exist." $name) }
    $current = @(Get-GroupMemberNames $name)
    # Names compare without case, as Windows does; -contains and -notcontains ignore case.
    $added = New-Object System.Collections.ArrayList
    foreach ($member in $wanted) { if ($current -notcontains $member -and $added -notcontains $member) { $null = $added.Add($member) } }
    $removed = New-Object System.Collections.ArrayList
    foreach ($member in $current) { if ($wanted -notcontains $member) { $null = $removed.Add($member) } }
    # Remove before adding: a change of level never holds both memberships at once.
    if ($removed.Count -gt 0) { Remove-LocalGroupMember -Name $name -Member ([string[]] $removed.ToArray()) -ErrorAction Stop }
    if ($added.Count -gt 0) { Add-LocalGroupMember -Name $name -Member ([string[]] $added.ToArray()) -ErrorAction Stop }
    return [ordered]@{ added = @(Sort-Names $added.ToArray()); removed = @(Sort-Names $removed.ToArray()) }
}

#endregion

#region Local users (the channel's per-grant account)

# Local user names (both hosts): 1 to 20 characters, not only dots and spaces, none of
# " / \ [ ] : ; | = , + * ? < > @. A prefix to list by follows the same rule.
function Assert-UserName([string] $Name, [string] $What) {
    if ($Name.Length -eq 0 -or $Name.Length -gt 20 -or $Name -match '^[. ]+$' -or $Name -match '["/\\\[\]:;|=,+*?<>@]') {
        throw (New-HostError 'InvalidRequest' "'$Name' is not a valid $($What): 1 to 20 characters, not only dots and spaces, none of `" / \ [ ] : ; | = , + * ? < > @." $Name)
    }
}

# A domain controller's accounts are the domain's: creating, listing or deleting "local" ones
# there would touch those. Win32_OperatingSystem.ProductType 2 is a domain controller.
function Assert-LocalAccounts([string] $Target) {
    $os = Get-CimInstance -ClassName 'Win32_OperatingSystem' -ErrorAction Stop | Select-Object -First 1
    if ([int] $os.ProductType -eq 2) {
        $computerName = [Environment]::GetEnvironmentVariable('COMPUTERNAME')
        if (-not $computerName) { $computerName = [Environment]::MachineName }
        throw (New-HostError 'DomainController' "'$computerName' is a domain controller: it has no local accounts, so the per-grant account '$Target' cannot exist there." $Target)
    }
}

function Find-LocalUser([string] $Name) {
    try { return (Get-LocalUser -Name $Name -ErrorAction Stop) }
    catch {
        if (Test-NotFoundError $_) { return $null }
        throw
    }
}

# A fresh random password for the channel's per-grant account, as a read-only SecureString that
# exists only in this process. 32 characters drawn uniformly (random bytes modulo 64) from 64
# letters, digits and symbols; drawn again in the unlikely case one of the four kinds is missing
# (Windows' complexity rule wants three). Built with method calls only: module logging (event 4103)
# records the values bound to a cmdlet's parameters, so no string of the password may ever reach a
# cmdlet, and none is made at all. ChannelSession.ps1 uses it too.
function New-PrincipalPassword {
    $alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?'
    $rng = New-Object System.Security.Cryptography.RNGCryptoServiceProvider
    $bytes = New-Object byte[] 32
    try {
        while ($true) {
            $rng.GetBytes($bytes)
            # Kinds by index: 0-23 upper case, 24-48 lower case, 49-56 digits, 57-63 symbols.
            $kinds = @{}
            $password = New-Object System.Security.SecureString
            foreach ($byte in $bytes) {
                $index = $byte % 64
                if ($index -lt 24) { $kinds['upper'] = $true } elseif ($index -lt 49) { $kinds['lower'] = $true } elseif ($index -lt 57) { $kinds['digit'] = $true } else { $kinds['symbol'] = $true }
                $password.AppendChar($alphabet[$index])
            }
            if ($kinds.Count -eq 4) {
                $password.MakeReadOnly()
                return $password
            }
            $password.Dispose()
        }
    }
    finally {
        [Array]::Clear($bytes, 0, $bytes.Length)
        $rng.Dispose()
    }
}

# The account gets a password nobody knows: generated here and dropped. The agent's session
# script sets another one for each session it opens.
function Invoke-EnsureLocalUser($Op) {
    $name = Get-OpField $Op 'name'
    Assert-UserName $name 'local user name'
    $description = Get-OpField $Op 'description' -AllowEmpty
    if ($description.Length -gt 48) {
        throw (New-HostError 'InvalidRequest' "The description of '$name' is $($description.Length) characters: Windows takes at most 48." $name)
    }
    Assert-LocalAccounts $name
    $password = New-PrincipalPassword
    try {
        if ($null -ne (Find-LocalUser $name)) {
            Set-LocalUser -Name $name -Password $password -Description $description -PasswordNeverExpires $true -UserMayChangePassword $false -AccountNeverExpires -ErrorAction Stop
            return [ordered]@{ created = $false }
        }
        $null = New-LocalUser -Name $name -Password $password -Description $description -PasswordNeverExpires -UserMayNotChangePassword -AccountNeverExpires -ErrorAction Stop
        return [ordered]@{ created = $true }
    }
    finally { $password.Dispose() }
}

# Windows takes a deleted account out of every group it was in.
function Invoke-RemoveLocalUser($Op) {
    $name = Get-OpField $Op 'name'
    Assert-UserName $name 'local user name'
    Assert-LocalAccounts $name
    if ($null -eq (Find-LocalUser $name)) { return [ordered]@{ removed = $false } }
    Remove-LocalUser -Name $name -ErrorAction Stop
    return [ordered]@{ removed = $true }
}

function Invoke-ListLocalUsers($Op) {
    $prefix = Get-OpField $Op 'prefix'
    Assert-UserName $prefix 'local user name prefix'
    Assert-LocalAccounts $prefix
    $names = New-Object System.Collections.ArrayList
    foreach ($user in @(Get-LocalUser -ErrorAction Stop)) {
        $userName = [string] $user.Name
        if ($userName.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { $null = $names.Add($userName) }
    }
    return [ordered]@{ names = @(Sort-Names ([string[]] $names.ToArray())) }
}

#endregion

#region The channel's session processes

# A plain .ps1 file name, matched in a command line as a whole file name (after a path separator,
# quote or space; before a quote, space or the end), so ChannelSession.ps1 never matches
# MyChannelSession.ps1.
function Invoke-EndChannelSessionProcesses($Op) {
    $scriptName = Get-OpField $Op 'scriptName'
    if ($scriptName -notmatch '^[A-Za-z0-9_.-]+\.ps1$') {
        throw (New-HostError 'InvalidRequest' "'$scriptName' is not a script file name: give the session script's file name, such as ChannelSession.ps1." $scriptName)
    }
    $pattern = '(^|[\\/"'' ])' + [regex]::Escape($scriptName) + '(["'' ]|$)'
    $ended = New-Object System.Collections.ArrayList
    foreach ($process in @(Get-CimInstance -ClassName 'Win32_Process' -ErrorAction Stop)) {
        $commandLine = [string] $process.CommandLine
        if ($commandLine -notmatch $pattern) { continue }
        $id = [int] $process.ProcessId
        try {
            Stop-Process -Id $id -Force -ErrorAction Stop
            $null = $ended.Add($id)
        }
        catch {
            # Gone on its own since the listing: nothing left to end.
            if (-not (Test-NotFoundError $_)) { throw }
        }
    }
    return [ordered]@{ ended = @([int[]] $ended.ToArray() | Sort-Object) }
}

#endregion

#region JEA session configurations and sessions

# The built-in endpoints (Microsoft.PowerShell, Microsoft.PowerShell32, ...) are never ours to change.
function Assert-NotBuiltInEndpoint([string] $Name) {
    if ($Name -like 'Microsoft.*') {
        throw (New-HostError 'InvalidRequest' "The session configuration '$Name' is built into Windows and is never changed." $Name)
    }
}

function Find-SessionConfiguration([string] $Name) {
    # -Name takes wildcards and reports "no match" as an error: read quietly, then match exactly.
    foreach ($configuration in @(Get-PSSessionConfiguration -Name $Name -ErrorAction SilentlyContinue)) {
        if ([string] $configuration.Name -eq $Name) { return $configuration }
    }
    return $null
}

function Invoke-RegisterSessionConfiguration($Op) {
    $name = Get-OpField $Op 'name'
    $path = Get-OpField $Op 'path'
    Assert-NotBuiltInEndpoint $name
    if (-not [System.IO.File]::Exists((Resolve-WindowsPath $path))) {
        throw (New-HostError 'NotFound' "The session configuration file '$path' does not exist." $path)
    }
    # An existing endpoint of that name is replaced (-Force). This restarts WinRM and drops every
    # remote session: callers register only when getSessionConfiguration says it is needed.
    $null = Register-PSSessionConfiguration -Name $name -Path $path -Force -NoServiceRestart:$false -ErrorAction Stop
    return [ordered]@{ registered = $true }
}

function Invoke-UnregisterSessionConfiguration($Op) {
    $name = Get-OpField $Op 'name'
    Assert-NotBuiltInEndpoint $name
    if ($null -eq (Find-SessionConfiguration $name)) { return [ordered]@{ removed = $false } }
    Unregister-PSSessionConfiguration -Name $name -Force -NoServiceRestart:$false -ErrorAction Stop
    return [ordered]@{ removed = $true }
}

function Invoke-GetSessionConfiguration($Op) {
    $name = Get-OpField $Op 'name'
    $configuration = Find-SessionConfiguration $name
    if ($null -eq $configuration) { return [ordered]@{ exists = $false; configFilePath = $null } }
    $path = Get-ObjectProperty $configuration 'ConfigFilePath'
    if ($null -ne $path) { $path = [string] $path }
    return [ordered]@{ exists = $true; configFilePath = $path }
}

# The open WinRM shells of an endpoint: each shell names the resource URI it was opened for.
# Callers collect them with @().
function Get-EndpointShells([string] $ConfigurationName) {
    $uri = 'http://schemas.microsoft.com/powershell/' + $ConfigurationName
    foreach ($shell in @(Get-WSManInstance -ResourceURI 'shell' -Enumerate -ErrorAction Stop)) {
        if ([string] (Get-ObjectProperty $shell 'ResourceUri') -eq $uri) { $shell }
    }
}

function Invoke-ListSessions($Op) {
    $name = Get-OpField $Op 'configurationName'
    $now = [DateTime]::UtcNow
    $sessions = New-Object System.Collections.ArrayList
    foreach ($shell in @(Get-EndpointShells $name)) {
        # A shell reports how long it has run (xs:duration), not when it started.
        $started = $now
        $runTime = Get-ObjectProperty $shell 'ShellRunTime'
        if ($null -ne $runTime) { $started = $now.Subtract([System.Xml.XmlConvert]::ToTimeSpan([string] $runTime)) }
        # Whole seconds, rounded: WinRM reports whole seconds.
        $started = $started.AddTicks([TimeSpan]::TicksPerSecond / 2)
        $started = $started.AddTicks(- ($started.Ticks % [TimeSpan]::TicksPerSecond))
        $null = $sessions.Add([ordered]@{
                id           = [string] (Get-ObjectProperty $shell 'ShellId')
                user         = [string] (Get-ObjectProperty $shell 'Owner')
                startedAtUtc = (Format-UtcTime $started)
            })
    }
    return [ordered]@{ sessions = $sessions }
}

function Invoke-EndSessions($Op) {
    $name = Get-OpField $Op 'configurationName'
    $ended = 0
    foreach ($shell in @(Get-EndpointShells $name)) {
        try {
            Remove-WSManInstance -ResourceURI 'shell' -SelectorSet @{ ShellId = [string] (Get-ObjectProperty $shell 'ShellId') } -ErrorAction Stop
            $ended++
        }
        catch {
            # A shell that closed meanwhile is already ended.
            if (-not (Test-NotFoundError $_)) { throw }
        }
    }
    return [ordered]@{ ended = $ended }
}

#endregion

#region Scheduled tasks

# A task folder as both hosts write it: '\' or '\A\B', whatever separators it came with.
function ConvertTo-TaskFolder([string] $Folder) {
    $segments = @($Folder.Split('\') | Where-Object { $_ -ne '' })
    return '\' + ($segments -join '\')
}

# "\Folder\Sub\" as the ScheduledTasks cmdlets want it ("\" for the root).
function Get-TaskPath([string] $Folder) {
    $clean = ConvertTo-TaskFolder $Folder
    if ($clean -eq '\') { return '\' }
    return $clean + '\'
}

# "\Folder\Name", the task's target in errors.
function Get-TaskTarget([string] $Folder, [string] $Name) {
    return (Get-TaskPath $Folder) + $Name
}

function Get-TasksInFolder([string] $Folder) {
    # A folder that does not exist has no tasks; Get-ScheduledTask reports it as not found.
    try { return @(Get-ScheduledTask -TaskPath (Get-TaskPath $Folder) -ErrorAction Stop) }
    catch {
        if (Test-NotFoundError $_) { return @() }
        throw
    }
}

function Find-ScheduledTask([string] $Folder, [string] $Name) {
    foreach ($task in @(Get-TasksInFolder $Folder)) {
        if ([string] $task.TaskName -eq $Name) { return $task }
    }
    return $null
}

# Folder and name of a task request; a name may not contain \ / : * ? " < > | (both hosts).
function Get-TaskOpFields($Op) {
    $folder = Get-OpField $Op 'folder' -AllowEmpty
    $name = Get-OpField $Op 'name'
    if ($name -match '[\\/:*?"<>|]') { throw (New-HostError 'InvalidRequest' "'$name' is not a valid task name." $null) }
    return @{ folder = $folder; name = $name }
}

function Invoke-RegisterTask($Op) {
    $task = Get-TaskOpFields $Op
    $xml = Get-OpField $Op 'xml'
    $existing = Find-ScheduledTask $task.folder $task.name
    try {
        $null = Register-ScheduledTask -Xml $xml -TaskName $task.name -TaskPath (Get-TaskPath $task.folder) `
            -User 'NT AUTHORITY\SYSTEM' -Force -ErrorAction Stop
    }
    catch {
        # The Task Scheduler's XML validation errors (SCHED_E_UNEXPECTEDNODE 0x80041316 to
        # SCHED_E_MALFORMEDXML 0x8004131A) are the request's fault.
        if ($_.FullyQualifiedErrorId -match '0x8004131[6-9a]' -or $_.Exception.HResult -in @(-2147216618, -2147216617, -2147216616, -2147216615, -2147216614)) {
            throw (New-HostError 'InvalidRequest' ('The task XML is not valid: ' + $_.Exception.Message) $null)
        }
        throw
    }
    return [ordered]@{ replaced = ($null -ne $existing) }
}

function Invoke-GetTask($Op) {
    $task = Get-TaskOpFields $Op
    $found = Find-ScheduledTask $task.folder $task.name
    if ($null -eq $found) { return [ordered]@{ exists = $false; state = $null; enabled = $null; xml = $null } }
    $xml = Export-ScheduledTask -TaskName $task.name -TaskPath (Get-TaskPath $task.folder) -ErrorAction Stop
    return [ordered]@{
        exists  = $true
        state   = [string] $found.State
        enabled = [bool] $found.Settings.Enabled
        xml     = [string] $xml
    }
}

function Invoke-SetTaskEnabled($Op) {
    $task = Get-TaskOpFields $Op
    $enabled = Get-OpField $Op 'enabled' -Kind bool
    $found = Find-ScheduledTask $task.folder $task.name
    if ($null -eq $found) {
        $key = Get-TaskTarget $task.folder $task.name
        throw (New-HostError 'NotFound' "The scheduled task '$key' does not exist." $null)
    }
    if ([bool] $found.Settings.Enabled -eq $enabled) { return [ordered]@{ changed = $false } }
    if ($enabled) { $null = Enable-ScheduledTask -TaskName $task.name -TaskPath (Get-TaskPath $task.folder) -ErrorAction Stop }
    else { $null = Disable-ScheduledTask -TaskName $task.name -TaskPath (Get-TaskPath $task.folder) -ErrorAction Stop }
    return [ordered]@{ changed = $true }
}

function Invoke-DeleteTask($Op) {
    $task = Get-TaskOpFields $Op
    if ($null -eq (Find-ScheduledTask $task.folder $task.name)) { return [ordered]@{ removed = $false } }
    Unregister-ScheduledTask -TaskName $task.name -TaskPath (Get-TaskPath $task.folder) -Confirm:$false -ErrorAction Stop
    return [ordered]@{ removed = $true }
}

function Invoke-ListTasks($Op) {
    $folder = Get-OpField $Op 'folder' -AllowEmpty
    $names = [string[]] @(Get-TasksInFolder $folder | ForEach-Object { [string] $_.TaskName })
    return [ordered]@{ names = @(Sort-Names $names) }
}

#endregion

#region Event log

function Invoke-WriteEvent($Op) {
    $source = Get-OpField $Op 'source'
    $eventId = Get-OpField $Op 'eventId' -Kind int
    $level = Get-OpField $Op 'level'
    $message = Get-OpField $Op 'message'
    if ($level -cnotin @('Information', 'Warning', 'Error')) {
        throw (New-HostError 'InvalidRequest' "The event level '$level' is not Information, Warning or Error." $source)
    }
    if ($eventId -lt 0 -or $eventId -gt 65535) { throw (New-HostError 'InvalidRequest' "The event id $eventId is not between 0 and 65535." $source) }
    $write = @{ LogName = 'Application'; Source = $source; EventId = [int] $eventId; EntryType = $level; Message = $message; Category = 0 }
    try {
        Write-EventLog @write -ErrorAction Stop
    }
    catch {
        # Most likely the source is not registered yet. Register it and write again; if it cannot be
        # registered (it already is, or access is denied), the first error is the one that matters.
        $first = $_
        try { New-EventLog -LogName Application -Source $source -ErrorAction Stop }
        catch { throw $first }
        Write-EventLog @write -ErrorAction Stop
    }
    return [ordered]@{ written = $true }
}

function Invoke-ReadEvents($Op) {
    $source = Get-OpField $Op 'source'
    try {
        $records = @(Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = $source } -ErrorAction Stop)
    }
    catch {
        # "No events were found that match the specified selection criteria."
        if (Test-NotFoundError $_) { $records = @() } else { throw }
    }
    $events = New-Object System.Collections.ArrayList
    # Get-WinEvent lists newest first; the port lists oldest first.
    foreach ($record in @($records | Sort-Object -Property RecordId)) {
        $level = 'Information'
        if ($record.Level -eq 1 -or $record.Level -eq 2) { $level = 'Error' }
        elseif ($record.Level -eq 3) { $level = 'Warning' }
        $message = Get-ObjectProperty $record 'Message'
        if ($null -eq $message) {
            # No message file to format it with: the text is the first insertion string.
            $message = ''
            $properties = @(Get-ObjectProperty $record 'Properties')
            if ($properties.Count -gt 0) { $message = [string] $properties[0].Value }
        }
        $null = $events.Add([ordered]@{
                eventId = [int] $record.Id
                level   = $level
                message = [string] $message
                timeUtc = (Format-UtcTime $record.TimeCreated)
            })
    }
    return [ordered]@{ events = $events }
}

# What exportEventLog lets reach wevtutil (diag/sources.ts CHANNEL_NAME_PATTERN, diag/reader.ts
# EVENT_LOG_QUERY_PATTERN, windows/operations.ts EXPORTED_LOGS_FOLDER): a plain channel name, the
# window query of two UTC times, and a .evtx file directly in the export folder (writeGeneratedLog:
# a .log file there). Nothing else, so no quote or option can ride in on a field.
$script:ChannelNamePattern = '^[A-Za-z0-9][A-Za-z0-9 ./-]*\z'
$script:EventQueryPattern = '^\*\[System\[TimeCreated\[@SystemTime>=''[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?Z'' and @SystemTime<=''[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?Z''\]\]\]\z'
$script:ExportedLogsFolder = 'C:\ProgramData\ArcRemoteSupport\LogStaging\Exports'
# ERROR_EVT_CHANNEL_NOT_FOUND: wevtutil exits with the Windows error code.
$script:ChannelNotFoundExitCode = 15007

# Runs wevtutil.exe (a program: no cmdlet of 5.1 exports .evtx) and returns its exit code and what it
# printed. 5.1 turns a native program's stderr into error records, which 'Stop' would make fatal.
function Invoke-Wevtutil([string[]] $Arguments) {
    # Windows' own copy by its full path, so no folder earlier on SYSTEM's PATH can stand in for it;
    # off Windows (the tests' stand-in) there is none, and PATH finds the program.
    $program = $null
    if ($env:SystemRoot) {
        $systemCopy = [System.IO.Path]::Combine($env:SystemRoot, 'System32', 'wevtutil.exe')
        if ([System.IO.File]::Exists($systemCopy)) { $program = $systemCopy }
    }
    if ($null -eq $program) {
        $found = Get-Command -Name 'wevtutil.exe' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -ne $found) { $program = $found.Path }
    }
    if ($null -eq $program) { throw (New-HostError 'Failed' 'wevtutil.exe is not on this node (it comes with every Windows Server).' $null) }
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try { $lines = @(& $program @Arguments 2>&1 | ForEach-Object { [string] $_ }) }
    finally { $ErrorActionPreference = $previous }
    return @{ ExitCode = $LASTEXITCODE; Lines = $lines }
}

# Exports the channel's events inside the query's window with wevtutil epl, replacing the file. A
# channel this node does not have (an optional role's) is present = $false and writes nothing.
function Invoke-ExportEventLog($Op) {
    $channel = Get-OpField $Op 'channel'
    $query = Get-OpField $Op 'query'
    if ($channel -cnotmatch $script:ChannelNamePattern) {
        throw (New-HostError 'InvalidRequest' "'$channel' is not an event log channel name (letters, digits, space, '.', '/', '-')." $channel)
    }
    if ($query -cnotmatch $script:EventQueryPattern) {
        throw (New-HostError 'InvalidRequest' "The query for the channel '$channel' is not a window of two UTC times: '$query'." $channel)
    }
    $path = Get-ExportPath $Op 'evtx'
    $logs = Invoke-Wevtutil @('el')
    if ($logs.ExitCode -ne 0) {
        throw (New-HostError 'Failed' "wevtutil could not list this node's event logs (exit code $($logs.ExitCode)): $($logs.Lines -join ' ')" $channel)
    }
    $present = $false
    foreach ($line in $logs.Lines) { if ([string]::Equals($line.Trim(), $channel, [StringComparison]::OrdinalIgnoreCase)) { $present = $true } }
    if (-not $present) { return [ordered]@{ present = $false; size = 0 } }
    $export = Invoke-Wevtutil @('epl', $channel, $path.Full, "/q:$query", '/ow:true')
    # Removed between the listing and the export (a role uninstalled): as absent.
    if ($export.ExitCode -eq $script:ChannelNotFoundExitCode) { return [ordered]@{ present = $false; size = 0 } }
    if ($export.ExitCode -ne 0) {
        throw (New-HostError 'Failed' "wevtutil could not export the event log channel '$channel' (exit code $($export.ExitCode)): $($export.Lines -join ' ')" $channel)
    }
    if (-not [System.IO.File]::Exists($path.Full)) {
        throw (New-HostError 'Failed' "wevtutil reported the channel '$channel' exported, but '$($path.Text)' was not written." $channel)
    }
    return [ordered]@{ present = $true; size = [long] (New-Object System.IO.FileInfo($path.Full)).Length }
}

# The request's path, refused unless it is a file directly in the export folder with this extension.
function Get-ExportPath($Op, [string] $Extension) {
    $path = Get-OpPath $Op
    $leaf = $path.Text.Substring($path.Text.LastIndexOf('\') + 1)
    if ($null -eq $path.Parent -or -not [string]::Equals($path.Parent, $script:ExportedLogsFolder, [StringComparison]::OrdinalIgnoreCase) -or
        $leaf -notmatch ('^[A-Za-z0-9_-]+\.' + $Extension + '\z')) {
        throw (New-HostError 'InvalidRequest' "The export path '$($path.Text)' is not a .$Extension file directly in '$($script:ExportedLogsFolder)'." $path.Text)
    }
    if (-not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($path.Full))) {
        throw (New-HostError 'NotFound' "Cannot write '$($path.Text)': the folder '$($path.Parent)' does not exist." $path.Parent)
    }
    return $path
}

# Writes the cluster log (from sinceUtc on, in UTC) or the Windows Update log to the export folder.
# Get-ClusterLog runs here, on the node, as SYSTEM: it cannot run remotely without CredSSP.
# Get-WindowsUpdateLog runs without -ForceFlush, which would stop the update services.
function Invoke-WriteGeneratedLog($Op) {
    $producer = Get-OpField $Op 'producer'
    $sinceText = Get-OpField $Op 'sinceUtc'
    if ($producer -cnotin @('clusterLog', 'windowsUpdateLog')) {
        throw (New-HostError 'InvalidRequest' "'$producer' is not clusterLog or windowsUpdateLog." $producer)
    }
    if ($sinceText -cnotmatch '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?Z\z') {
        throw (New-HostError 'InvalidRequest' "sinceUtc '$sinceText' is not a UTC time such as 2026-01-31T08:00:00Z." $producer)
    }
    $path = Get-ExportPath $Op 'log'
    $absent = [ordered]@{ present = $false; size = 0 }
    if ($producer -eq 'windowsUpdateLog') {
        if ($null -eq (Get-Command -Name 'Get-WindowsUpdateLog' -ErrorAction SilentlyContinue)) { return $absent }
        $null = Get-WindowsUpdateLog -LogPath $path.Full -ErrorAction Stop
    }
    else {
        # The Failover Clustering feature brings the cluster service; a node without it has no cluster log.
        if ($null -eq (Get-Service -Name 'ClusSvc' -ErrorAction SilentlyContinue)) { return $absent }
        if ($null -eq (Get-Command -Name 'Get-ClusterLog' -ErrorAction SilentlyContinue)) { return $absent }
        $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
        $since = [DateTime]::Parse($sinceText, [System.Globalization.CultureInfo]::InvariantCulture, $styles)
        # -TimeSpan counts minutes back from now: from the window's start, whole minutes, at least one.
        $minutes = [Math]::Max(1, [int] [Math]::Ceiling(([DateTime]::UtcNow - $since).TotalMinutes))
        # Get-ClusterLog names its own file (<node>_cluster.log) in the folder it is given: one of our own.
        $folder = Join-Path ([System.IO.Path]::GetDirectoryName($path.Full)) ('ClusterLog-' + [Guid]::NewGuid().ToString('N'))
        $null = [System.IO.Directory]::CreateDirectory($folder)
        try {
            $written = @(Get-ClusterLog -Node $env:COMPUTERNAME -Destination $folder -TimeSpan $minutes -UseLocalTime:$false -ErrorAction Stop)
            $file = $null
            foreach ($item in $written) { if ($item -is [System.IO.FileInfo]) { $file = $item } }
            if ($null -eq $file) { throw (New-HostError 'Failed' "Get-ClusterLog wrote no cluster log of $($env:COMPUTERNAME)." $producer) }
            [System.IO.File]::Copy($file.FullName, $path.Full, $true)
        }
        finally { [System.IO.Directory]::Delete($folder, $true) }
    }
    if (-not [System.IO.File]::Exists($path.Full)) {
        throw (New-HostError 'Failed' "The $producer was made, but '$($path.Text)' was not written." $producer)
    }
    return [ordered]@{ present = $true; size = [long] (New-Object System.IO.FileInfo($path.Full)).Length }
}

#endregion

#region Probe

function Get-InstallationType {
    $key = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
    $value = Get-ObjectProperty $key 'InstallationType'
    if ($null -eq $value) { return 'Unknown' }
    return [string] $value
}

function Get-ArcAgentInfo {
    $notInstalled = [ordered]@{ status = 'NotInstalled'; resourceId = $null; agentVersion = $null }
    $command = Get-Command -Name 'azcmagent' -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        # SYSTEM's PATH may predate the agent's installation: try its default folder.
        $programFiles = [Environment]::GetEnvironmentVariable('ProgramFiles')
        if ($programFiles) {
            $exe = Join-Path $programFiles 'AzureConnectedMachineAgent\azcmagent.exe'
            if ([System.IO.File]::Exists($exe)) { $command = $exe }
        }
    }
    if ($null -eq $command) { return $notInstalled }
    # Windows PowerShell 5.1 turns a native command's redirected stderr into errors, which 'Stop'
    # would make fatal: only the JSON on stdout matters here.
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        $lines = @(& $command show -j 2>$null)
    }
    catch [System.Management.Automation.CommandNotFoundException] {
        return $notInstalled
    }
    finally {
        $ErrorActionPreference = $previous
    }
    $text = (@($lines | ForEach-Object { [string] $_ }) -join "`n").Trim()
    try { $info = ConvertFrom-Json -InputObject $text }
    catch { $info = $null }
    if ($null -eq $info -or $text.Length -eq 0) { throw (New-HostError 'Failed' "'azcmagent show -j' did not return JSON." $null) }

    # Unknown states count as Disconnected: the prerequisite only passes on Connected.
    $status = 'Disconnected'
    foreach ($known in @('Connected', 'Disconnected', 'Expired')) {
        if ([string] (Get-ObjectProperty $info 'status') -eq $known) { $status = $known }
    }
    $resourceId = Get-ObjectProperty $info 'resourceId'
    if (-not $resourceId) {
        $subscription = Get-ObjectProperty $info 'subscriptionId'
        $group = Get-ObjectProperty $info 'resourceGroup'
        $machine = Get-ObjectProperty $info 'resourceName'
        $resourceId = $null
        if ($subscription -and $group -and $machine) {
            $resourceId = "/subscriptions/$subscription/resourceGroups/$group/providers/Microsoft.HybridCompute/machines/$machine"
        }
    }
    $version = Get-ObjectProperty $info 'agentVersion'
    if (-not $version) { $version = $null }
    return [ordered]@{ status = $status; resourceId = $resourceId; agentVersion = $version }
}

# MSCluster_Node.State: -1 unknown, 0 up, 1 down, 2 paused, 3 joining.
$script:ClusterNodeStates = @{ '0' = 'Up'; '1' = 'Down'; '2' = 'Paused'; '3' = 'Joining' }

function Get-ClusterInfo {
    try {
        $cluster = @(Get-CimInstance -Namespace 'root/MSCluster' -ClassName 'MSCluster_Cluster' -ErrorAction Stop) | Select-Object -First 1
    }
    catch {
        # No failover clustering on this node: the namespace (0x8004100E) or class (0x80041010) is missing.
        if ($_.FullyQualifiedErrorId -match '0x8004100e|0x80041010') { return $null }
        throw
    }
    if ($null -eq $cluster) { return $null }
    $nodes = New-Object System.Collections.ArrayList
    foreach ($node in @(Get-CimInstance -Namespace 'root/MSCluster' -ClassName 'MSCluster_Node' -ErrorAction Stop)) {
        $state = $script:ClusterNodeStates[[string] $node.State]
        if ($null -eq $state) { $state = 'Unknown' }
        $null = $nodes.Add([ordered]@{ name = [string] $node.Name; state = $state })
    }
    return [ordered]@{ name = [string] $cluster.Name; nodes = @(Sort-ByName $nodes.ToArray()) }
}

function Invoke-Probe($Op) {
    $os = Get-CimInstance -ClassName 'Win32_OperatingSystem' -ErrorAction Stop | Select-Object -First 1
    $installed = [long] 0
    foreach ($module in @(Get-CimInstance -ClassName 'Win32_PhysicalMemory' -ErrorAction Stop)) {
        if ($null -ne $module.Capacity) { $installed += [long] $module.Capacity }
    }
    $computer = Get-CimInstance -ClassName 'Win32_ComputerSystem' -ErrorAction Stop | Select-Object -First 1
    $computerName = [Environment]::GetEnvironmentVariable('COMPUTERNAME')
    if (-not $computerName) { $computerName = [Environment]::MachineName }
    return [ordered]@{
        computerName = $computerName
        os           = [ordered]@{
            caption          = ([string] $os.Caption).Trim()
            buildNumber      = [int] $os.BuildNumber
            productType      = [int] $os.ProductType
            installationType = (Get-InstallationType)
        }
        memory       = [ordered]@{ installedBytes = $installed; usableBytes = [long] $computer.TotalPhysicalMemory }
        arc          = (Get-ArcAgentInfo)
        cluster      = (Get-ClusterInfo)
    }
}

#endregion

#region Secrets

<#
A secret (the channel's listen token) never becomes a string here and is never bound to a command
parameter, where PowerShell module logging (event 4103) would record it: it travels as a
read-only SecureString, and its characters pass only through method calls and arrays that are
cleared after use. The bridge reads it from stdin apart from the JSON request and puts it in place
of its {"secretRef":n} (Set-RequestSecrets); a result holding a SecureString is written by the
bridge itself (New-SecretLine).

Secret files hold the secret encrypted with DPAPI in the LocalMachine scope, the product's purpose
strings as entropy: the blob decrypts on this node only, for any process of it. Not
ConvertFrom-SecureString: its CurrentUser scope binds the blob to the writer, and the handler
writes a peer's file over remoting as its computer account while the agent reads it as SYSTEM.
The data folder they live in is readable by SYSTEM and Administrators only. pwsh on Linux (tests)
has no DPAPI: test/powershell/WindowsStandIn.psm1 stands in for DpapiDataProtector there.
#>

# The node's data folder (core/node-layout.ts DATA_FOLDER): secret files are kept only inside it.
$script:SecretFileFolder = 'C:\ProgramData\ArcRemoteSupport'

# The secrets of the result line being written (Format-ResultLine).
$script:LineSecrets = New-Object System.Collections.ArrayList

# Puts each secret of the request in place of its {"secretRef":n} (a field of an operation).
function Set-RequestSecrets([object[]] $Operations, [object[]] $Secrets) {
    foreach ($op in $Operations) {
        foreach ($property in @($op.PSObject.Properties)) {
            $value = $property.Value
            if ($value -isnot [System.Management.Automation.PSCustomObject]) { continue }
            $ref = $value.PSObject.Properties['secretRef']
            if ($null -eq $ref) { continue }
            $index = $ref.Value
            if (-not (($index -is [int] -or $index -is [long]) -and $index -ge 0 -and $index -lt $Secrets.Count)) {
                throw "The request's field '$($property.Name)' refers to secret $index, which the request does not carry."
            }
            $property.Value = $Secrets[[int] $index]
        }
    }
}

# The operation's secret: a SecureString the bridge put there, never text from the JSON.
function Get-OpSecret($Op, [string] $Name) {
    $value = Get-ObjectProperty $Op $Name
    if ($value -isnot [System.Security.SecureString]) {
        throw (New-HostError 'InvalidRequest' "The request field '$Name' is not a secret: secrets travel apart from the JSON request (hostSecret())." $null)
    }
    return $value
}

# The JSON writer's stand-in for a SecureString: a marker, \u0001n\u0001 (control characters never
# occur unescaped in its output), that the bridge replaces with the secret as a JSON string.
function Add-LineSecret([System.Security.SecureString] $Secret) {
    $null = $script:LineSecrets.Add($Secret)
    return ([string] [char] 1) + [string] ($script:LineSecrets.Count - 1) + ([string] [char] 1)
}

# A result line with secrets: its JSON with markers and the secrets themselves, as one dictionary
# that crosses remoting with the SecureStrings encrypted.
function New-SecretLine([string] $Json) {
    $line = @{ ArsTemplate = $Json }
    for ($i = 0; $i -lt $script:LineSecrets.Count; $i++) { $line['ArsSecret' + $i] = $script:LineSecrets[$i] }
    $script:LineSecrets.Clear()
    return $line
}

# DPAPI, LocalMachine scope.
function New-MachineDataProtector {
    Add-Type -AssemblyName System.Security
    $protector = New-Object System.Security.Cryptography.DpapiDataProtector('ArcRemoteSupport', 'SecretFile', [string[]] @('v1'))
    $protector.Scope = [System.Security.Cryptography.DataProtectionScope]::LocalMachine
    return $protector
}

# The request's path, refused unless it is inside the data folder.
function Get-SecretFilePath($Op) {
    $path = Get-OpPath $Op
    $folder = $script:SecretFileFolder + '\'
    if ($path.Text.Length -le $folder.Length -or -not $path.Text.StartsWith($folder, [StringComparison]::OrdinalIgnoreCase)) {
        throw (New-HostError 'InvalidRequest' "The secret file path '$($path.Text)' is outside the data folder: secret files are kept only inside '$($script:SecretFileFolder)'." $path.Text)
    }
    return $path
}

# The secret a file holds, or $null when it does not decrypt on this machine.
function Read-SecretFileSecret($Protector, [string] $FullPath) {
    $blob = [System.IO.File]::ReadAllText($FullPath).Trim()
    try { $plain = $Protector.Unprotect([Convert]::FromBase64String($blob)) }
    catch { return $null }
    try {
        $secret = New-Object System.Security.SecureString
        for ($i = 0; $i + 1 -lt $plain.Length; $i += 2) { $secret.AppendChar([BitConverter]::ToChar($plain, $i)) }
        $secret.MakeReadOnly()
        return $secret
    }
    finally { [Array]::Clear($plain, 0, $plain.Length) }
}

# Whether two SecureStrings hold the same characters.
function Test-SameSecret([System.Security.SecureString] $A, [System.Security.SecureString] $B) {
    if ($A.Length -ne $B.Length) { return $false }
    $marshal = [System.Runtime.InteropServices.Marshal]
    $first = $marshal::SecureStringToBSTR($A)
    $second = [IntPtr]::Zero
    try {
        $second = $marshal::SecureStringToBSTR($B)
        $same = $true
        for ($i = 0; $i -lt $A.Length; $i++) {
            if ($marshal::ReadInt16($first, 2 * $i) -ne $marshal::ReadInt16($second, 2 * $i)) { $same = $false }
        }
        return $same
    }
    finally {
        $marshal::ZeroFreeBSTR($first)
        if ($second -ne [IntPtr]::Zero) { $marshal::ZeroFreeBSTR($second) }
    }
}

function Invoke-WriteSecretFile($Op) {
    $path = Get-SecretFilePath $Op
    $secret = Get-OpSecret $Op 'secret'
    $full = $path.Full
    if ([System.IO.Directory]::Exists($full)) { throw (New-HostError 'Failed' "'$($path.Text)' is a folder, not a file." $null) }
    if (-not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($full))) {
        throw (New-HostError 'NotFound' "Cannot write '$($path.Text)': the folder '$($path.Parent)' does not exist." $path.Parent)
    }
    $protector = New-MachineDataProtector
    if ([System.IO.File]::Exists($full)) {
        $current = Read-SecretFileSecret $protector $full
        if ($null -ne $current) {
            $same = Test-SameSecret $current $secret
            $current.Dispose()
            if ($same) { return [ordered]@{ written = $false } }
        }
    }
    $marshal = [System.Runtime.InteropServices.Marshal]
    $plain = New-Object byte[] ($secret.Length * 2)
    $bstr = $marshal::SecureStringToBSTR($secret)
    try {
        $marshal::Copy($bstr, $plain, 0, $plain.Length)
        $blob = [Convert]::ToBase64String($protector.Protect($plain))
    }
    finally {
        $marshal::ZeroFreeBSTR($bstr)
        [Array]::Clear($plain, 0, $plain.Length)
    }
    # Through a temporary file in the same folder: a reader never sees half a blob.
    Write-FileBytes $full ((New-Object System.Text.UTF8Encoding($false)).GetBytes($blob))
    return [ordered]@{ written = $true }
}

function Invoke-ReadSecretFile($Op) {
    $path = Get-SecretFilePath $Op
    if ([System.IO.Directory]::Exists($path.Full)) { throw (New-HostError 'Failed' "Cannot read '$($path.Text)': it is a folder." $null) }
    if (-not [System.IO.File]::Exists($path.Full)) { return [ordered]@{ secret = $null } }
    $secret = Read-SecretFileSecret (New-MachineDataProtector) $path.Full
    if ($null -eq $secret) {
        throw (New-HostError 'Failed' "The secret file '$($path.Text)' cannot be decrypted on this machine: it was written on another machine or is damaged. Write the secret again on this node." $path.Text)
    }
    return [ordered]@{ secret = $secret }
}

#endregion

#region Batch

# Operation name -> function. Anything else is an InvalidRequest.
$script:OperationFunctions = @{
    probe                          = 'Invoke-Probe'
    ensureDirectory                = 'Invoke-EnsureDirectory'
    writeFile                      = 'Invoke-WriteFile'
    readFile                       = 'Invoke-ReadFile'
    copyFromHandler                = 'Invoke-CopyFromHandler'
    removePath                     = 'Invoke-RemovePath'
    getPath                        = 'Invoke-GetPath'
    listDirectory                  = 'Invoke-ListDirectory'
    ensureLocalGroup               = 'Invoke-EnsureLocalGroup'
    removeLocalGroup               = 'Invoke-RemoveLocalGroup'
    getLocalGroup                  = 'Invoke-GetLocalGroup'
    setLocalGroupMembers           = 'Invoke-SetLocalGroupMembers'
    ensureLocalUser                = 'Invoke-EnsureLocalUser'
    removeLocalUser                = 'Invoke-RemoveLocalUser'
    listLocalUsers                 = 'Invoke-ListLocalUsers'
    endChannelSessionProcesses     = 'Invoke-EndChannelSessionProcesses'
    registerSessionConfiguration   = 'Invoke-RegisterSessionConfiguration'
    unregisterSessionConfiguration = 'Invoke-UnregisterSessionConfiguration'
    getSessionConfiguration        = 'Invoke-GetSessionConfiguration'
    listSessions                   = 'Invoke-ListSessions'
    endSessions                    = 'Invoke-EndSessions'
    registerTask                   = 'Invoke-RegisterTask'
    getTask                        = 'Invoke-GetTask'
    setTaskEnabled                 = 'Invoke-SetTaskEnabled'
    deleteTask                     = 'Invoke-DeleteTask'
    listTasks                      = 'Invoke-ListTasks'
    writeEvent                     = 'Invoke-WriteEvent'
    readEvents                     = 'Invoke-ReadEvents'
    exportEventLog                 = 'Invoke-ExportEventLog'
    writeGeneratedLog              = 'Invoke-WriteGeneratedLog'
    writeSecretFile                = 'Invoke-WriteSecretFile'
    readSecretFile                 = 'Invoke-ReadSecretFile'
}

function Invoke-Operation($Op) {
    $name = Get-ObjectProperty $Op 'op'
    # Case-sensitive: the hashtable would accept "Probe", the other implementations would not.
    if ($name -isnot [string] -or $script:OperationFunctions.Keys -cnotcontains $name) {
        throw (New-HostError 'InvalidRequest' "'$name' is not an operation of the Windows host." $null)
    }
    # Only the result dictionary counts; anything else a command wrote to the pipeline is dropped.
    $output = @(& $script:OperationFunctions[$name] $Op)
    for ($i = $output.Count - 1; $i -ge 0; $i--) {
        if ($output[$i] -is [System.Collections.IDictionary]) { return $output[$i] }
    }
    throw (New-HostError 'Failed' "The operation '$name' returned no result." $null)
}

<#
Runs the operations in order and writes one JSON line per operation to the pipeline as it
completes. After a failure with -StopOnError, the rest are reported as Skipped without running.
#>
function Invoke-HostBatch {
    param([object[]] $Operations, [bool] $StopOnError)
    $failed = $null
    for ($i = 0; $i -lt $Operations.Count; $i++) {
        $op = $Operations[$i]
        $target = Get-OpTarget $op
        if ($null -ne $failed) {
            Format-ErrorLine $i $op 'Skipped' ("Not run: operation $failed failed earlier in the batch.") $target
            continue
        }
        try {
            $value = Invoke-Operation $op
            Format-ResultLine $i $value
        }
        catch {
            $code = ConvertTo-HostErrorCode $_
            $errorTarget = $target
            if ($_.Exception.Data.Contains('ArsTarget') -and $null -ne $_.Exception.Data['ArsTarget']) {
                $errorTarget = [string] $_.Exception.Data['ArsTarget']
            }
            Format-ErrorLine $i $op $code (Get-ShortMessage $_.Exception.Message) $errorTarget
            if ($StopOnError) { $failed = "$i ($([string] (Get-ObjectProperty $op 'op')))" }
        }
    }
}

#endregion

Export-ModuleMember -Function New-PrincipalPassword, Invoke-HostBatch, ConvertFrom-RequestJson, Format-ErrorLine, Get-OpTarget, Get-ShortMessage, ConvertTo-BridgeJson, Get-ObjectProperty, Set-RequestSecrets

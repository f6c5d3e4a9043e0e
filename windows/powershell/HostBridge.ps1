<#
.SYNOPSIS
Runs one batch of Windows host operations (windows/operations.ts) for the Node.js handler.

.DESCRIPTION
Windows PowerShell 5.1 compatible. One process runs a whole batch (a handler phase), because each
start of powershell.exe costs hundreds of milliseconds. Protocol with windows/powershell-host.ts:

  stdin   one JSON request on the first line, UTF-8: {"phase":"...","node":"NAME"|null,"stopOnError":true,
          "operations":[{"op":"probe"},{"op":"ensureDirectory","path":"C:\\...","sddl":"..."}, ...]},
          in which each secret is {"secretRef":n}; then one line per secret, its UTF-8 in base64.
          Secrets become read-only SecureStrings straight from the bytes (method calls only: no
          command parameter, which module logging records, ever holds one) and take the place of
          their references; a result holding a SecureString is written here, the same way.
  stdout  one JSON line per operation, in order, each written as soon as the operation completes:
            {"index":0,"ok":true,"value":{...}}
            {"index":1,"ok":false,"error":{"operation":"...","code":"NotFound","message":"...","target":"..."}}
          then a last line {"done":true}. Nothing else is ever written to stdout: the other
          PowerShell streams are silenced, and lines are written as raw UTF-8 bytes.
  exit 0  the batch ran (operations may have failed: their lines say so).
  exit 1  the batch could not run (unreadable request, module missing); one line on stderr says why.

After a failed operation with stopOnError (the default), the rest are reported with code Skipped.
A batch for another node of the cluster runs there in one PSSession, carrying the module's text;
if the node cannot be reached, every operation without a result is reported NodeUnreachable (or
AccessDenied when the node refused the connection). copyFromHandler reads a file of this machine,
which the other node cannot see (remoting does not hand on credentials): each such file is first
sent with Copy-Item -ToSession into a staging folder there, unless the destination already has the
same bytes, and the operation then copies from that folder, checking the SHA-256 it was sent with.
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

# A line is a string, or a dictionary from the module's New-SecretLine: JSON with markers
# \u0001n\u0001 where the SecureString ArsSecret<n> goes, written as a JSON string.
function Write-ProtocolLine($Line) {
    if ($Line -is [System.Collections.IDictionary]) {
        $parts = ([string] $Line['ArsTemplate']).Split([char] 1)
        for ($i = 0; $i -lt $parts.Length; $i++) {
            if ($i % 2 -eq 0) { $bytes = $script:Utf8.GetBytes($parts[$i]); $script:Stdout.Write($bytes, 0, $bytes.Length) }
            else { Write-SecretJson $Line['ArsSecret' + $parts[$i]] }
        }
        $Line = ''
    }
    $bytes = $script:Utf8.GetBytes([string] $Line + "`n")
    $script:Stdout.Write($bytes, 0, $bytes.Length)
    $script:Stdout.Flush()
}

# Writes a SecureString to stdout as a JSON string, from its characters to UTF-8 bytes in arrays
# that are cleared afterwards.
function Write-SecretJson($Secret) {
    if ($Secret -isnot [System.Security.SecureString]) { throw 'A result line refers to a secret it does not carry.' }
    $marshal = [System.Runtime.InteropServices.Marshal]
    $hex = '0123456789abcdef'
    $chars = New-Object char[] (2 + 6 * $Secret.Length)
    $count = 0
    $bytes = $null
    $bstr = $marshal::SecureStringToBSTR($Secret)
    try {
        $chars[$count++] = [char] '"'
        for ($i = 0; $i -lt $Secret.Length; $i++) {
            $code = [int] $marshal::ReadInt16($bstr, 2 * $i) -band 0xFFFF
            if ($code -eq 34 -or $code -eq 92) { $chars[$count++] = [char] '\'; $chars[$count++] = [char] $code }
            elseif ($code -lt 32) {
                $chars[$count++] = [char] '\'; $chars[$count++] = [char] 'u'; $chars[$count++] = [char] '0'; $chars[$count++] = [char] '0'
                $chars[$count++] = $hex[$code -shr 4]; $chars[$count++] = $hex[$code -band 15]
            }
            else { $chars[$count++] = [char] $code }
        }
        $chars[$count++] = [char] '"'
        $bytes = $script:Utf8.GetBytes($chars, 0, $count)
        $script:Stdout.Write($bytes, 0, $bytes.Length)
    }
    finally {
        $marshal::ZeroFreeBSTR($bstr)
        [Array]::Clear($chars, 0, $chars.Length)
        if ($null -ne $bytes) { [Array]::Clear($bytes, 0, $bytes.Length) }
    }
}

function Exit-Fatal([string] $Message) {
    [Console]::Error.WriteLine('HostBridge: ' + (($Message -replace '\s+', ' ').Trim()))
    exit 1
}

# The request: its JSON line (Text), parsed (Request), and its secrets as read-only SecureStrings
# (Secrets), split off the bytes of stdin with method calls only; the bytes are cleared.
function Read-Request {
    $buffer = New-Object System.IO.MemoryStream
    [Console]::OpenStandardInput().CopyTo($buffer)
    $bytes = $buffer.GetBuffer()
    $length = [int] $buffer.Length
    $secrets = New-Object System.Collections.ArrayList
    try {
        $end = [Array]::IndexOf($bytes, [byte] 10, 0, $length)
        if ($end -lt 0) { $end = $length }
        $text = $script:Utf8.GetString($bytes, 0, $end)
        $start = $end + 1
        while ($start -lt $length) {
            $end = [Array]::IndexOf($bytes, [byte] 10, $start, $length - $start)
            if ($end -lt 0) { $end = $length }
            $count = $end - $start
            if ($count -gt 0 -and $bytes[$end - 1] -eq 13) { $count-- }
            if ($count -gt 0) {
                $base64 = [System.Text.Encoding]::ASCII.GetChars($bytes, $start, $count)
                $utf8 = $null
                $chars = $null
                try {
                    $utf8 = [Convert]::FromBase64CharArray($base64, 0, $base64.Length)
                    $chars = $script:Utf8.GetChars($utf8)
                    $secret = New-Object System.Security.SecureString
                    foreach ($char in $chars) { $secret.AppendChar($char) }
                    $secret.MakeReadOnly()
                    $null = $secrets.Add($secret)
                }
                finally {
                    [Array]::Clear($base64, 0, $base64.Length)
                    if ($null -ne $utf8) { [Array]::Clear($utf8, 0, $utf8.Length) }
                    if ($null -ne $chars) { [Array]::Clear($chars, 0, $chars.Length) }
                }
            }
            $start = $end + 1
        }
    }
    finally {
        [Array]::Clear($bytes, 0, $bytes.Length)
        $buffer.Dispose()
    }
    $request = ConvertFrom-RequestJson $text
    if ($null -eq $request -or $null -eq $request.PSObject.Properties['operations']) {
        throw 'The request has no operations.'
    }
    return @{ Text = $text; Request = $request; Secrets = $secrets.ToArray() }
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

# Runs on the other node: loads the module from its text and runs the same batch loop there, with
# the sources of copyFromHandler replaced by the files staged there (index -> source, sha256).
# The request's secrets follow the named arguments, as SecureStrings (remoting encrypts them with
# the session key; module logging shows their type name only).
$RemoteBatch = {
    param([string] $ModuleText, [string] $RequestText, [hashtable] $StagedSources)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    $WarningPreference = 'SilentlyContinue'
    $null = New-Module -Name 'ArcRemoteSupport.Host' -ScriptBlock ([ScriptBlock]::Create($ModuleText)) | Import-Module
    $request = ConvertFrom-RequestJson $RequestText
    $all = @($request.operations)
    Set-RequestSecrets $all @($args)
    foreach ($key in @($StagedSources.Keys)) {
        $staged = $StagedSources[$key]
        $all[[int] $key].source = [string] $staged.source
        $all[[int] $key] | Add-Member -NotePropertyName 'sha256' -NotePropertyValue ([string] $staged.sha256) -Force
    }
    $stopOnError = $true
    if ($null -ne $request.PSObject.Properties['stopOnError'] -and $request.stopOnError -is [bool]) { $stopOnError = $request.stopOnError }
    Invoke-HostBatch -Operations $all -StopOnError $stopOnError 3>$null 4>$null 5>$null 6>$null
}

# Sends the sources of the batch's copyFromHandler operations to the other node. A destination that
# already has the bytes is its own source (the copy is then a no-op there); other files go to a
# staging folder under the node's Windows\Temp. Returns the folder (or $null) and index -> source.
function Send-CopySources($Session, [object[]] $Operations) {
    $sources = @{}
    $wanted = @{}
    for ($i = 0; $i -lt $Operations.Count; $i++) {
        $op = $Operations[$i]
        if ([string] (Get-ObjectProperty $op 'op') -ne 'copyFromHandler') { continue }
        $source = [string] (Get-ObjectProperty $op 'source')
        # A missing source is left as it is: the operation reports it, named, on the node.
        if (-not [System.IO.File]::Exists($source)) { continue }
        $sources[[string] $i] = @{ source = $source; path = [string] (Get-ObjectProperty $op 'path'); sha256 = (Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash }
    }
    if ($sources.Count -eq 0) { return @{ Folder = $null; Staged = @{} } }
    $destinations = @{}
    foreach ($key in $sources.Keys) { $destinations[$key] = $sources[$key].path }
    $present = Invoke-Command -Session $Session -ErrorAction Stop -ArgumentList $destinations -ScriptBlock {
        param([hashtable] $Destinations)
        $hashes = @{}
        foreach ($key in @($Destinations.Keys)) {
            try { $hashes[$key] = (Get-FileHash -LiteralPath $Destinations[$key] -Algorithm SHA256 -ErrorAction Stop).Hash } catch { $hashes[$key] = $null }
        }
        $hashes
    }
    $folder = 'C:\Windows\Temp\ArcRemoteSupport-' + [Guid]::NewGuid().ToString('N')
    $created = $false
    foreach ($key in @($sources.Keys)) {
        $entry = $sources[$key]
        if ($present[$key] -eq $entry.sha256) { $wanted[$key] = @{ source = $entry.path; sha256 = $entry.sha256 }; continue }
        if (-not $created) {
            Invoke-Command -Session $Session -ErrorAction Stop -ArgumentList $folder -ScriptBlock { param([string] $Folder) $null = New-Item -ItemType Directory -Path $Folder -Force }
            $created = $true
        }
        $staged = $folder + '\' + $key + '.bin'
        Copy-Item -LiteralPath $entry.source -Destination $staged -ToSession $Session -ErrorAction Stop
        $wanted[$key] = @{ source = $staged; sha256 = $entry.sha256 }
    }
    if (-not $created) { $folder = $null }
    return @{ Folder = $folder; Staged = $wanted }
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
        Set-RequestSecrets $operations $received.Secrets
        Invoke-HostBatch -Operations $operations -StopOnError $stopOnError 3>$null 4>$null 5>$null 6>$null |
            ForEach-Object { Write-ProtocolLine $_ }
    }
    else {
        # Results stream back as the remote loop writes them; count them, so that a connection lost
        # midway reports exactly the operations that have no result.
        $reported = 0
        $moduleText = [System.IO.File]::ReadAllText($modulePath)
        $session = $null
        $staging = $null
        try {
            $session = New-PSSession -ComputerName ([string] $node) -ErrorAction Stop
            $sent = Send-CopySources $session $operations
            $staging = $sent.Folder
            $arguments = @($moduleText, $received.Text, $sent.Staged) + @($received.Secrets)
            Invoke-Command -Session $session -ScriptBlock $RemoteBatch -ArgumentList $arguments `
                -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null |
                ForEach-Object { Write-ProtocolLine $_; $reported++ }
        }
        catch {
            $code = Get-RemoteFailureCode $_
            $message = Get-ShortMessage ("Node '$node': " + $_.Exception.Message)
            for ($i = $reported; $i -lt $operations.Count; $i++) {
                Write-ProtocolLine (Format-ErrorLine $i $operations[$i] $code $message (Get-OpTarget $operations[$i]))
            }
        }
        finally {
            if ($null -ne $session) {
                if ($null -ne $staging) {
                    # Best effort: the batch's results stand either way (stderr would fail the batch), and
                    # what is left is a copy of the package's public files in the node's temp folder.
                    try { Invoke-Command -Session $session -ArgumentList $staging -ScriptBlock { param([string] $Folder) Remove-Item -LiteralPath $Folder -Recurse -Force } -ErrorAction Stop }
                    catch { $null = $_ }
                }
                Remove-PSSession -Session $session -ErrorAction SilentlyContinue
            }
        }
    }
}
catch {
    Exit-Fatal ('The batch stopped: ' + $_.Exception.Message)
}

Write-ProtocolLine '{"done":true}'
exit 0

<#
.SYNOPSIS
Stand-in Windows commands for running windows/powershell/HostBridge.ps1 on Linux pwsh in tests.

.DESCRIPTION
Every Windows-only command the bridge uses is a function here, working on the machine model
(sim/windows/machine-model.ts) in the JSON file $env:ARS_MACHINE_MODEL: the file is
read at each call and written back (temporary file, then rename) after each change, so the test,
the simulated host and this stand-in all see one machine. Imported with -Global, these functions
take precedence over cmdlets of the same name.

Files are real: a C: PSDrive maps to $env:ARS_MACHINE_ROOT/<NODE>/C, so the bridge's own file
code runs unchanged. The model's `files` entries only carry SDDL (Get-Acl/Set-Acl); Remove-Item
is wrapped to drop the SDDL of what it deletes.

The "current node" is the model's localNode, or the node an Invoke-Command runs on. Times the
stand-in stamps come from the model's clock (clock.nowUtc), so results compare with the simulated
host. Errors imitate Windows: same exception kinds, categories and error ids where the bridge
looks at them.

Runs on pwsh 7.5+ (ConvertFrom-Json -DateKind), but is written without PS7-only syntax like the
scripts it stands in for.
#>

Set-StrictMode -Version 3.0

$script:CurrentNode = $null

#region Model

function Read-StandInModel {
    $path = $env:ARS_MACHINE_MODEL
    if (-not $path) { throw 'ARS_MACHINE_MODEL is not set.' }
    # Dates stay strings: the model's text must survive a read and write unchanged.
    return (ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($path)) -AsHashtable -DateKind String -Depth 100)
}

function Save-StandInModel($Model) {
    $path = $env:ARS_MACHINE_MODEL
    $temp = $path + '.' + $PID + '.tmp'
    [System.IO.File]::WriteAllText($temp, (ConvertTo-Json -InputObject $Model -Depth 100), (New-Object System.Text.UTF8Encoding($false)))
    [System.IO.File]::Move($temp, $path, $true)
}

# With $env:ARS_STANDIN_MODEL_LOCK set (the channel's session script, which shares the model with
# running simulator processes: the agent, the handler), a change holds the model's lock as
# sim/windows/model-store.ts takes it: the folder <model>.lock, which only one process can create
# (mkdir), taken over when older than 5 s (its holder died). Held for one read, change and write,
# so neither side loses the other's write. Without the variable (one bridge at a time) no lock.
function Use-StandInModelLock([scriptblock] $Change) {
    if (-not $env:ARS_STANDIN_MODEL_LOCK) { return (& $Change) }
    $lock = $env:ARS_MACHINE_MODEL + '.lock'
    $giveUpAt = [DateTime]::UtcNow.AddSeconds(60)
    while ($true) {
        # .NET's CreateDirectory succeeds on an existing folder; mkdir(1) fails, as mkdirSync does.
        & '/bin/mkdir' $lock 2>$null
        if ($LASTEXITCODE -eq 0) { break }
        if ([System.IO.Directory]::Exists($lock) -and [System.IO.Directory]::GetLastWriteTimeUtc($lock) -lt [DateTime]::UtcNow.AddSeconds(-5)) {
            try { [System.IO.Directory]::Delete($lock) } catch { $null = $_ }
            continue
        }
        if ([DateTime]::UtcNow -gt $giveUpAt) { throw "The machine model's lock $lock was held by another process for 60 s." }
        Start-Sleep -Milliseconds (Get-Random -Minimum 10 -Maximum 40)
    }
    try { return (& $Change) }
    finally { try { [System.IO.Directory]::Delete($lock) } catch { $null = $_ } }
}

function Get-CurrentNodeName {
    if (-not $script:CurrentNode) { $script:CurrentNode = ([string] (Read-StandInModel).localNode).ToUpperInvariant() }
    return $script:CurrentNode
}

function Get-StandInNode($Model) {
    $name = Get-CurrentNodeName
    $node = $Model.nodes[$name]
    if ($null -eq $node) { throw "The machine model has no node '$name'." }
    return $node
}

function Get-ModelNow($Model) { return [string] $Model.clock.nowUtc }

function ConvertFrom-UtcText([string] $Text) {
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    return [DateTime]::Parse($Text, [System.Globalization.CultureInfo]::InvariantCulture, $styles)
}

# An error record as the Windows cmdlet would write it (the bridge reads category and exception).
function New-StandInError([string] $Message, [string] $ErrorId, [System.Management.Automation.ErrorCategory] $Category, $Target, $Exception) {
    if ($null -eq $Exception) {
        switch ($Category) {
            'ObjectNotFound' { $Exception = New-Object System.Management.Automation.ItemNotFoundException($Message) }
            'PermissionDenied' { $Exception = New-Object System.UnauthorizedAccessException($Message) }
            'InvalidArgument' { $Exception = New-Object System.ArgumentException($Message) }
            default { $Exception = New-Object System.InvalidOperationException($Message) }
        }
    }
    return (New-Object System.Management.Automation.ErrorRecord($Exception, $ErrorId, $Category, $Target))
}

function Select-FirstPath($LiteralPath, $Path) {
    if ($null -ne $LiteralPath -and @($LiteralPath).Length -gt 0) { return [string] @($LiteralPath)[0] }
    return [string] @($Path)[0]
}

#endregion

#region Nodes and the C: drive

# Makes $Node the current node: its computer name, and C: mapped to its folder.
function Set-StandInNode([string] $Node) {
    $script:CurrentNode = $Node.ToUpperInvariant()
    $env:COMPUTERNAME = $script:CurrentNode
    $root = Join-Path $env:ARS_MACHINE_ROOT (Join-Path $script:CurrentNode 'C')
    $null = [System.IO.Directory]::CreateDirectory($root)
    if (Get-PSDrive -Name C -ErrorAction SilentlyContinue) { Remove-PSDrive -Name C -Scope Global -Force }
    $null = New-PSDrive -Name C -PSProvider FileSystem -Root $root -Scope Global
}

# Makes $Node (default: the model's localNode) the current node.
function Initialize-StandIn([string] $Node) {
    if (-not $env:ARS_MACHINE_ROOT) { throw 'ARS_MACHINE_ROOT is not set.' }
    if (-not $Node) { $Node = [string] (Read-StandInModel).localNode }
    Set-StandInNode $Node
}

# Whether a remoting connection to $Name would open: the node must be on and must let us in. When
# not, writes the error Windows PowerShell writes (through $Cmdlet) and returns $false.
function Test-StandInConnection($Cmdlet, [string] $Name, [string] $Activity) {
    $model = Read-StandInModel
    $node = $model.nodes[$Name]
    if ($null -eq $node -or $node.power -eq 'Off') {
        $exception = New-Object System.Management.Automation.Remoting.PSRemotingTransportException(
            "Connecting to remote server $Name failed with the following error message : WinRM cannot complete the operation. " +
            'Verify that the specified computer name is valid, that the computer is accessible over the network, and that a ' +
            'firewall exception for the WinRM service is enabled and allows access from this computer.')
        $exception.ErrorCode = 53
        $Cmdlet.WriteError((New-StandInError $exception.Message "WinRMOperationTimeout,$Activity" OpenError $Name $exception))
        return $false
    }
    if ($node.remoteAccess -eq 'Denied') {
        $exception = New-Object System.Management.Automation.Remoting.PSRemotingTransportException(
            "Connecting to remote server $Name failed with the following error message : Access is denied.")
        $exception.ErrorCode = 5
        $Cmdlet.WriteError((New-StandInError $exception.Message "AccessDenied,$Activity" OpenError $Name $exception))
        return $false
    }
    return $true
}

# Runs $Action with $Name as the current node (its computer name and C: drive), then switches back.
function Invoke-OnStandInNode([string] $Name, [scriptblock] $Action) {
    $previous = Get-CurrentNodeName
    Set-StandInNode $Name
    try { & $Action }
    finally { Set-StandInNode $previous }
}

function ConvertTo-StandInNodeName([string] $ComputerName) { return $ComputerName.Split('.')[0].ToUpperInvariant() }

# New-PSSession -ComputerName: a session object naming the node, once the connection would open.
# With -ConfigurationName and -Credential (the channel's session script): a JEA session of the
# current node, see New-StandInJeaSession.
function New-PSSession {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string[]] $ComputerName, [string] $ConfigurationName, [System.Management.Automation.PSCredential] $Credential)
    if ($ConfigurationName) { return (New-StandInJeaSession $PSCmdlet ([string] $ComputerName[0]) $ConfigurationName $Credential) }
    $name = ConvertTo-StandInNodeName ([string] $ComputerName[0])
    if (-not (Test-StandInConnection $PSCmdlet $name 'PSSessionOpenFailed')) { return }
    [pscustomobject]@{ ComputerName = $name; State = 'Opened'; Availability = 'Available' }
}

function Write-JeaOpenError($Cmdlet, [string] $ComputerName, [string] $Reason, [string] $ErrorId) {
    $exception = New-Object System.Management.Automation.Remoting.PSRemotingTransportException("Connecting to remote server $ComputerName failed with the following error message : $Reason")
    $Cmdlet.WriteError((New-StandInError $exception.Message "$ErrorId,PSSessionOpenFailed" OpenError $ComputerName $exception))
}

# A loopback JEA session as WinRM opens it: the endpoint must be registered on the node, the
# credential must name a local user of the node (COMPUTER\name) with a password (the model keeps
# none, so any non-empty one logs on), and the user must be in a group of the endpoint's
# RequiredGroups. The session's Runspace is opened from the endpoint's .pssc (on the node's C:
# drive) with the role verifier saying the user is in exactly its groups, the role capabilities
# coming from the node's module folder, and transcripts going to the .pssc's folder on C:.
# Needs test/support/jea/JeaRunspace.psm1 imported with its stand-ins (Import-JeaStandIns).
# The session is also a WinRM shell of the node (listSessions sees it; Remove-PSSession ends it).
function New-StandInJeaSession($Cmdlet, [string] $ComputerName, [string] $ConfigurationName, $Credential) {
    if (@('localhost', '127.0.0.1', '.') -notcontains $ComputerName.ToLowerInvariant()) { throw 'The stand-in opens JEA sessions to localhost only.' }
    if ($null -eq (Get-Command -Name 'New-JeaRoleRunspace' -ErrorAction Ignore)) { throw 'Import test/support/jea/JeaRunspace.psm1 (Import-JeaStandIns) before opening a JEA session.' }
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $computer = Get-CurrentNodeName
    $endpoint = $node.sessionConfigurations[$ConfigurationName.ToLowerInvariant()]
    if ($null -eq $endpoint) {
        Write-JeaOpenError $Cmdlet $ComputerName "The WS-Management service cannot process the request. Cannot find the $ConfigurationName session configuration in the WSMan: drive on the $ComputerName computer." 'InvalidResourceUri'
        return
    }
    $parts = ([string] $Credential.UserName).Split('\')
    $user = $null
    if ($parts.Length -eq 2 -and $parts[0] -eq $computer) { $user = Get-UserEntry $node $parts[1] }
    if ($null -eq $user -or $Credential.Password.Length -eq 0) {
        Write-JeaOpenError $Cmdlet $ComputerName 'Access is denied.' 'AccessDenied'
        return
    }
    $member = $computer + '\' + [string] $user.name
    $groups = @(foreach ($key in @($node.groups.Keys)) {
            $group = $node.groups[$key]
            if (@(@($group.members) | Where-Object { [string] $_ -eq $member }).Length -gt 0) { $computer + '\' + [string] $group.name }
        })
    $pssc = Resolve-StandInPath ([string] $endpoint.configFilePath)
    $configuration = Import-PowerShellDataFile -LiteralPath $pssc
    $required = @($configuration.RequiredGroups.Or)
    if (@($groups | Where-Object { $required -contains $_ }).Length -eq 0) {
        Write-JeaOpenError $Cmdlet $ComputerName 'Access is denied.' 'AccessDenied'
        return
    }
    $modules = Resolve-StandInPath 'C:\Program Files\WindowsPowerShell\Modules'
    if (-not ($env:PSModulePath -split [IO.Path]::PathSeparator -contains $modules)) { $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath }
    $runspace = New-JeaRoleRunspace $pssc ([string[]] $groups) (Resolve-StandInPath ([string] $configuration.TranscriptDirectory))
    $shellId = [guid]::NewGuid().ToString().ToUpperInvariant()
    # The model as it is now: opening the runspace took a while, and others may have changed it.
    Use-StandInModelLock {
        $model = Read-StandInModel
        $node = Get-StandInNode $model
        $node['sessions'] = @(@($node.sessions) + @([ordered]@{ id = $shellId; configurationName = [string] $endpoint.name; user = $member; startedAtUtc = (Get-ModelNow $model) }))
        Save-StandInModel $model
    }
    [pscustomobject]@{ ComputerName = $ComputerName; ConfigurationName = [string] $endpoint.name; State = 'Opened'; Availability = 'Available'; Runspace = $runspace; ShellId = $shellId }
}

function Remove-PSSession {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] $Session)
    $Session.State = 'Closed'
    if ($null -eq $Session.PSObject.Properties['Runspace']) { return }
    $Session.Runspace.Dispose()
    Use-StandInModelLock {
        $model = Read-StandInModel
        $node = Get-StandInNode $model
        $node['sessions'] = @(@($node.sessions) | Where-Object { $_.id -ne $Session.ShellId })
        Save-StandInModel $model
    }
}

# Invoke-Command -ComputerName or -Session: the script block runs "there" (current node and C:
# switched), from its text as a remote session would receive it. $env:ARS_STANDIN_ARGUMENT_LOG,
# when set, gets one line per call with each argument as module logging renders the elements of
# -ArgumentList (their text, joined by ', '; here never cut short), which a parameter-binding
# trace shows only as System.Object[].
function Invoke-Command {
    [CmdletBinding(DefaultParameterSetName = 'ComputerName')]
    param([Parameter(Mandatory = $true, ParameterSetName = 'ComputerName')] [string[]] $ComputerName,
        [Parameter(Mandatory = $true, ParameterSetName = 'Session')] $Session,
        [Parameter(Mandatory = $true)] [scriptblock] $ScriptBlock,
        [object[]] $ArgumentList = @())
    if ($PSCmdlet.ParameterSetName -eq 'Session') {
        if ($Session.State -ne 'Opened') { throw 'The session is closed.' }
        $name = [string] $Session.ComputerName
    }
    else {
        $name = ConvertTo-StandInNodeName ([string] $ComputerName[0])
        if (-not (Test-StandInConnection $PSCmdlet $name 'PSSessionStateBroken')) { return }
    }
    if ($env:ARS_STANDIN_ARGUMENT_LOG) {
        $rendered = @(foreach ($argument in $ArgumentList) { [string] $argument }) -join ', '
        [System.IO.File]::AppendAllText($env:ARS_STANDIN_ARGUMENT_LOG, "Invoke-Command $name ArgumentList: $rendered`n")
    }
    $remote = [scriptblock]::Create($ScriptBlock.ToString())
    Invoke-OnStandInNode $name { & $remote @ArgumentList }
}

# Copy-Item -ToSession copies a file of this machine to the session's node (its C: drive); the
# real Copy-Item does everything else. $env:ARS_STANDIN_COPY_LOG, when set, gets one line per
# file sent, so tests can tell what crossed to the node.
function Copy-Item {
    [CmdletBinding()]
    param([string[]] $LiteralPath, [string[]] $Path, [Parameter(Position = 1)] [string] $Destination, $ToSession, [switch] $Force, [switch] $Recurse)
    if ($null -eq $ToSession) {
        $null = $PSBoundParameters.Remove('ToSession')
        Microsoft.PowerShell.Management\Copy-Item @PSBoundParameters
        return
    }
    $source = Select-FirstPath $LiteralPath $Path
    if ($ToSession.State -ne 'Opened') { throw 'The session is closed.' }
    $node = [string] $ToSession.ComputerName
    Invoke-OnStandInNode $node {
        $target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Destination)
        if (-not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($target))) {
            throw (New-StandInError "Could not find a part of the path '$Destination'." 'CopyError,Microsoft.PowerShell.Commands.CopyItemCommand' WriteError $Destination (New-Object System.IO.DirectoryNotFoundException("Could not find a part of the path '$Destination'.")))
        }
        [System.IO.File]::Copy($source, $target, $true)
    }
    if ($env:ARS_STANDIN_COPY_LOG) { [System.IO.File]::AppendAllText($env:ARS_STANDIN_COPY_LOG, "$node $Destination`n") }
}

#endregion

#region CIM and registry

function Get-CimInstance {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $ClassName, [string] $Namespace = 'root/cimv2')
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $ns = $Namespace.Replace('\', '/').ToLowerInvariant()
    $invalid = $null
    if ($ns -eq 'root/cimv2') {
        switch ($ClassName) {
            'Win32_OperatingSystem' {
                return [pscustomobject]@{
                    Caption = $node.os.caption; BuildNumber = [string] $node.os.buildNumber
                    ProductType = [uint32] $node.os.productType; CSName = (Get-CurrentNodeName)
                }
            }
            'Win32_PhysicalMemory' {
                foreach ($bytes in @($node.memory.moduleBytes)) { [pscustomobject]@{ Capacity = [uint64] $bytes } }
                return
            }
            'Win32_ComputerSystem' {
                return [pscustomobject]@{ Name = (Get-CurrentNodeName); TotalPhysicalMemory = [uint64] $node.memory.usableBytes }
            }
            # The processes the model knows of (the channel's session processes).
            'Win32_Process' {
                foreach ($process in @($node.processes)) {
                    [pscustomobject]@{ ProcessId = [uint32] $process.id; Name = [string] $process.name; CommandLine = [string] $process.commandLine }
                }
                return
            }
            default { $invalid = '0x80041010' }
        }
    }
    elseif ($ns -eq 'root/mscluster' -and $null -ne $model.cluster) {
        switch ($ClassName) {
            'MSCluster_Cluster' { return [pscustomobject]@{ Name = $model.cluster.name } }
            'MSCluster_Node' {
                $states = @{ Up = 0; Down = 1; Paused = 2; Joining = 3; Unknown = -1 }
                foreach ($key in @($model.nodes.Keys)) {
                    $member = $model.nodes[$key]
                    $state = 'Up'
                    if ($member.Contains('clusterState') -and $member.clusterState) { $state = [string] $member.clusterState }
                    if ($member.power -eq 'Off') { $state = 'Down' }
                    [pscustomobject]@{ Name = $key; State = [int] $states[$state] }
                }
                return
            }
            default { $invalid = '0x80041010' }
        }
    }
    else { $invalid = '0x8004100e' }
    $message = 'Invalid class '
    if ($invalid -eq '0x8004100e') { $message = 'Invalid namespace ' }
    $PSCmdlet.WriteError((New-StandInError $message "HRESULT $invalid,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand" MetadataError $Namespace $null))
}

# Registry reads only for the key the probe uses; anything else goes to the real cmdlet.
function Get-ItemProperty {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Path, [string[]] $LiteralPath, [Parameter(Position = 1)] [string[]] $Name)
    $target = Select-FirstPath $LiteralPath $Path
    if ($target -notlike 'HKLM:*' -and $target -notlike 'Registry::*') {
        Microsoft.PowerShell.Management\Get-ItemProperty @PSBoundParameters
        return
    }
    if ($target.TrimEnd('\') -ne 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion') {
        $PSCmdlet.WriteError((New-StandInError "Cannot find path '$target' because it does not exist." 'PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand' ObjectNotFound $target $null))
        return
    }
    $node = Get-StandInNode (Read-StandInModel)
    return [pscustomobject]@{
        InstallationType = $node.os.installationType
        CurrentBuild     = [string] $node.os.buildNumber
        ProductName      = $node.os.caption
    }
}

# The Arc agent's CLI; "not installed" is a command that does not exist.
function azcmagent {
    $node = Get-StandInNode (Read-StandInModel)
    if ($node.arc.status -eq 'NotInstalled') {
        throw (New-Object System.Management.Automation.CommandNotFoundException(
                "The term 'azcmagent' is not recognized as a name of a cmdlet, function, script file, or executable program."))
    }
    $resourceName = $null
    if ($node.arc.resourceId) { $resourceName = ([string] $node.arc.resourceId).Split('/')[-1] }
    $info = [ordered]@{
        resourceName = $resourceName
        resourceId   = $node.arc.resourceId
        agentVersion = $node.arc.agentVersion
        status       = $node.arc.status
    }
    $global:LASTEXITCODE = 0
    # Several lines, as the real tool prints them.
    (ConvertTo-Json -InputObject $info) -split "`r?`n"
}

#endregion

#region Files: ACLs as SDDL

# What a drive root reports, and what an item without SDDL on it or above it inherits: the
# simulated host's DEFAULT_VOLUME_SDDL (sim/windows/file-system.ts).
$script:DefaultVolumeSddl = 'O:SYG:SYD:AI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)'

# The item's own SDDL, else its nearest ancestor's (inheritance, simplified as the simulated host
# does: real Windows would mark inherited ACEs with ID), else the volume's.
function Get-EffectiveSddl($Files, [string] $Key) {
    $current = $Key
    while ($true) {
        $entry = $Files[$current]
        if ($null -ne $entry -and $entry.Contains('sddl') -and $null -ne $entry.sddl) { return [string] $entry.sddl }
        $cut = $current.LastIndexOf('\')
        if ($cut -lt 0) { return $script:DefaultVolumeSddl }
        $current = $current.Substring(0, $cut)
    }
}

function ConvertTo-FileKey([string] $Path) {
    return $Path.Replace('/', '\').TrimEnd('\').ToLowerInvariant()
}

function Resolve-StandInPath([string] $Path) {
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Test-StandInSddl([string] $Sddl) {
    # Owner/group optional, then a DACL of well-formed ACEs (6 fields each).
    return ($Sddl -match '^(O:[A-Z0-9-]+)?(G:[A-Z0-9-]+)?D:[A-Z]*(\([^;()]*;[^;()]*;[^;()]*;[^;()]*;[^;()]*;[^;()]*\))*$')
}

# Like FileSystemSecurity: Sddl, AreAccessRulesProtected (only an item's own DACL can be
# protected: one it inherits is not) and SetSecurityDescriptorSddlForm.
function New-StandInAcl([string] $Path, $Sddl, [bool] $Protected) {
    $acl = [pscustomobject]@{ Path = $Path; Sddl = $Sddl; AreAccessRulesProtected = $Protected }
    $acl | Add-Member -MemberType ScriptMethod -Name SetSecurityDescriptorSddlForm -Value {
        param([string] $NewSddl)
        if (-not (Test-StandInSddl $NewSddl)) { throw (New-Object System.ArgumentException('The SDDL form of a security descriptor object is invalid.')) }
        $this.Sddl = $NewSddl
    }
    return $acl
}

function Get-Acl {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Path, [string[]] $LiteralPath)
    $target = Select-FirstPath $LiteralPath $Path
    if (-not (Test-Path -LiteralPath (Resolve-StandInPath $target))) {
        $PSCmdlet.WriteError((New-StandInError "Cannot find path '$target' because it does not exist." 'GetAcl_PathNotFound_Exception,Microsoft.PowerShell.Commands.GetAclCommand' ObjectNotFound $target $null))
        return
    }
    $files = (Get-StandInNode (Read-StandInModel)).files
    $key = ConvertTo-FileKey $target
    $own = $files[$key]
    $protected = $false
    if ($null -ne $own -and $own.Contains('sddl') -and $null -ne $own.sddl) { $protected = ([string] $own.sddl) -match 'D:[A-Z]*P' }
    return (New-StandInAcl $target (Get-EffectiveSddl $files $key) $protected)
}

function Set-Acl {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Path, [string[]] $LiteralPath, [Parameter(Position = 1, Mandatory = $true)] $AclObject)
    $target = Select-FirstPath $LiteralPath $Path
    $disk = Resolve-StandInPath $target
    if (-not (Test-Path -LiteralPath $disk)) {
        $PSCmdlet.WriteError((New-StandInError "Cannot find path '$target' because it does not exist." 'SetAcl_PathNotFound_Exception,Microsoft.PowerShell.Commands.SetAclCommand' ObjectNotFound $target $null))
        return
    }
    $model = Read-StandInModel
    $files = (Get-StandInNode $model).files
    $key = ConvertTo-FileKey $target
    $entry = $files[$key]
    if ($null -eq $entry) {
        $type = 'file'
        if ([System.IO.Directory]::Exists($disk)) { $type = 'directory' }
        $entry = [ordered]@{ path = $target; type = $type; lastWriteTimeUtc = (Get-ModelNow $model) }
    }
    $entry['sddl'] = [string] $AclObject.Sddl
    $files[$key] = $entry
    Save-StandInModel $model
}

# The real Remove-Item, then the SDDL of everything it removed is forgotten.
function Remove-Item {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Position = 0)] [string[]] $Path, [string[]] $LiteralPath, [switch] $Recurse, [switch] $Force)
    Microsoft.PowerShell.Management\Remove-Item @PSBoundParameters
    $model = Read-StandInModel
    $files = (Get-StandInNode $model).files
    $changed = $false
    foreach ($target in @(@($LiteralPath) + @($Path))) {
        if ($null -eq $target -or $target -notmatch '^[A-Za-z]:[\\/]') { continue }
        $key = ConvertTo-FileKey $target
        foreach ($existing in @($files.Keys)) {
            if ($existing -eq $key -or $existing.StartsWith($key + '\')) { $files.Remove($existing); $changed = $true }
        }
    }
    if ($changed) { Save-StandInModel $model }
}

#endregion

#region Local groups (Microsoft.PowerShell.LocalAccounts)

function Get-GroupEntry($Node, [string] $Name) { return $Node.groups[$Name.ToLowerInvariant()] }

function ConvertTo-GroupObject($Entry) {
    return [pscustomobject]@{ Name = $Entry.name; Description = $Entry.description; PrincipalSource = 'Local'; ObjectClass = 'Group' }
}

function Write-GroupNotFound($Cmdlet, [string] $Name) {
    $exception = New-Object System.Management.Automation.ItemNotFoundException("Group $Name was not found.")
    $Cmdlet.WriteError((New-StandInError $exception.Message 'GroupNotFound,Microsoft.PowerShell.Commands.GetLocalGroupCommand' ObjectNotFound $Name $exception))
}

function Resolve-GroupName([string] $Name, $Group) {
    if ($Name) { return $Name }
    if ($Group -is [string]) { return $Group }
    return [string] $Group.Name
}

function Get-LocalGroup {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name)
    $node = Get-StandInNode (Read-StandInModel)
    if ($null -eq $Name) {
        foreach ($key in @($node.groups.Keys)) { ConvertTo-GroupObject $node.groups[$key] }
        return
    }
    foreach ($one in $Name) {
        $entry = Get-GroupEntry $node $one
        if ($null -eq $entry) { Write-GroupNotFound $PSCmdlet $one } else { ConvertTo-GroupObject $entry }
    }
}

function New-LocalGroup {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $Name, [string] $Description = '')
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    if ($null -ne (Get-GroupEntry $node $Name)) {
        $PSCmdlet.WriteError((New-StandInError "Group $Name already exists." 'GroupExists,Microsoft.PowerShell.Commands.NewLocalGroupCommand' ResourceExists $Name $null))
        return
    }
    $entry = [ordered]@{ name = $Name; description = $Description; members = @() }
    $node.groups[$Name.ToLowerInvariant()] = $entry
    Save-StandInModel $model
    return (ConvertTo-GroupObject $entry)
}

function Set-LocalGroup {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $Name, [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Description)
    $model = Read-StandInModel
    $entry = Get-GroupEntry (Get-StandInNode $model) $Name
    if ($null -eq $entry) { Write-GroupNotFound $PSCmdlet $Name; return }
    $entry['description'] = $Description
    Save-StandInModel $model
}

function Remove-LocalGroup {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $Name)
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    if ($null -eq (Get-GroupEntry $node $Name)) { Write-GroupNotFound $PSCmdlet $Name; return }
    $node.groups.Remove($Name.ToLowerInvariant())
    Save-StandInModel $model
}

function Get-LocalGroupMember {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Name, $Group)
    $groupName = Resolve-GroupName $Name $Group
    $entry = Get-GroupEntry (Get-StandInNode (Read-StandInModel)) $groupName
    if ($null -eq $entry) { Write-GroupNotFound $PSCmdlet $groupName; return }
    foreach ($member in @($entry.members)) {
        [pscustomobject]@{ Name = $member; ObjectClass = 'User'; PrincipalSource = 'ActiveDirectory' }
    }
}

function Add-LocalGroupMember {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Name, $Group, [Parameter(Mandatory = $true)] [object[]] $Member)
    $groupName = Resolve-GroupName $Name $Group
    $model = Read-StandInModel
    $entry = Get-GroupEntry (Get-StandInNode $model) $groupName
    if ($null -eq $entry) { Write-GroupNotFound $PSCmdlet $groupName; return }
    $members = New-Object System.Collections.ArrayList
    foreach ($existing in @($entry.members)) { $null = $members.Add($existing) }
    foreach ($one in $Member) {
        $text = [string] $one
        if ($members -contains $text) {
            $PSCmdlet.WriteError((New-StandInError "$text is already a member of group $groupName." 'MemberExists,Microsoft.PowerShell.Commands.AddLocalGroupMemberCommand' ResourceExists $text $null))
            continue
        }
        $null = $members.Add($text)
    }
    $entry['members'] = $members.ToArray()
    Save-StandInModel $model
}

function Remove-LocalGroupMember {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Name, $Group, [Parameter(Mandatory = $true)] [object[]] $Member)
    $groupName = Resolve-GroupName $Name $Group
    $model = Read-StandInModel
    $entry = Get-GroupEntry (Get-StandInNode $model) $groupName
    if ($null -eq $entry) { Write-GroupNotFound $PSCmdlet $groupName; return }
    $members = New-Object System.Collections.ArrayList
    foreach ($existing in @($entry.members)) { $null = $members.Add($existing) }
    foreach ($one in $Member) {
        $text = [string] $one
        $index = -1
        for ($i = 0; $i -lt $members.Count; $i++) { if ([string] $members[$i] -eq $text) { $index = $i } }
        if ($index -lt 0) {
            $PSCmdlet.WriteError((New-StandInError "Member $text was not found in group $groupName." 'MemberNotFound,Microsoft.PowerShell.Commands.RemoveLocalGroupMemberCommand' ObjectNotFound $text $null))
            continue
        }
        $members.RemoveAt($index)
    }
    $entry['members'] = $members.ToArray()
    Save-StandInModel $model
}

#endregion

#region Local users (Microsoft.PowerShell.LocalAccounts)

# Accounts keep no password: only when it was set. A domain controller has no local accounts:
# Windows would act on the domain's; the bridge refuses before it calls these.

function Get-UserEntry($Node, [string] $Name) { return $Node.users[$Name.ToLowerInvariant()] }

function ConvertTo-UserObject($Entry) {
    return [pscustomobject]@{
        Name = $Entry.name; Description = $Entry.description; Enabled = $true; PrincipalSource = 'Local'; ObjectClass = 'User'
        PasswordLastSet = $Entry.passwordLastSetUtc; UserMayChangePassword = $Entry.userMayChangePassword
    }
}

function Write-UserNotFound($Cmdlet, [string] $Name, [string] $Command) {
    $exception = New-Object System.Management.Automation.ItemNotFoundException("User $Name was not found.")
    $Cmdlet.WriteError((New-StandInError $exception.Message "UserNotFound,Microsoft.PowerShell.Commands.$Command" ObjectNotFound $Name $exception))
}

# The stand-in only checks that a password came as a SecureString; its value is dropped here.
function Assert-StandInPassword($Password) {
    if ($Password -isnot [System.Security.SecureString] -or $Password.Length -eq 0) { throw 'The stand-in expects a non-empty SecureString password.' }
}

function Get-LocalUser {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name)
    $node = Get-StandInNode (Read-StandInModel)
    if ($null -eq $Name) {
        foreach ($key in @($node.users.Keys)) { ConvertTo-UserObject $node.users[$key] }
        return
    }
    foreach ($one in $Name) {
        $entry = Get-UserEntry $node $one
        if ($null -eq $entry) { Write-UserNotFound $PSCmdlet $one 'GetLocalUserCommand' } else { ConvertTo-UserObject $entry }
    }
}

function New-LocalUser {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)] [string] $Name,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $Password,
        [string] $Description = '',
        [switch] $PasswordNeverExpires,
        [switch] $UserMayNotChangePassword,
        [switch] $AccountNeverExpires
    )
    Assert-StandInPassword $Password
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    if ($null -ne (Get-UserEntry $node $Name)) {
        $PSCmdlet.WriteError((New-StandInError "User $Name already exists." 'UserExists,Microsoft.PowerShell.Commands.NewLocalUserCommand' ResourceExists $Name $null))
        return
    }
    $entry = [ordered]@{
        name = $Name; description = $Description; passwordNeverExpires = [bool] $PasswordNeverExpires
        userMayChangePassword = -not $UserMayNotChangePassword; passwordLastSetUtc = (Get-ModelNow $model)
    }
    $node.users[$Name.ToLowerInvariant()] = $entry
    Save-StandInModel $model
    return (ConvertTo-UserObject $entry)
}

function Set-LocalUser {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)] [string] $Name,
        [System.Security.SecureString] $Password,
        [string] $Description,
        [bool] $PasswordNeverExpires,
        [bool] $UserMayChangePassword,
        [switch] $AccountNeverExpires
    )
    $bound = $PSBoundParameters
    $cmdlet = $PSCmdlet
    Use-StandInModelLock {
        $model = Read-StandInModel
        $entry = Get-UserEntry (Get-StandInNode $model) $Name
        if ($null -eq $entry) { Write-UserNotFound $cmdlet $Name 'SetLocalUserCommand'; return }
        if ($bound.ContainsKey('Password')) {
            Assert-StandInPassword $Password
            $entry['passwordLastSetUtc'] = Get-ModelNow $model
        }
        if ($bound.ContainsKey('Description')) { $entry['description'] = $Description }
        if ($bound.ContainsKey('PasswordNeverExpires')) { $entry['passwordNeverExpires'] = $PasswordNeverExpires }
        if ($bound.ContainsKey('UserMayChangePassword')) { $entry['userMayChangePassword'] = $UserMayChangePassword }
        Save-StandInModel $model
    }
}

# Windows takes a deleted account out of every group: members name it COMPUTER\name.
function Remove-LocalUser {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true, Position = 0)] [string[]] $Name)
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    foreach ($one in $Name) {
        $entry = Get-UserEntry $node $one
        if ($null -eq $entry) { Write-UserNotFound $PSCmdlet $one 'RemoveLocalUserCommand'; continue }
        $member = (Get-CurrentNodeName) + '\' + [string] $entry.name
        foreach ($key in @($node.groups.Keys)) {
            $group = $node.groups[$key]
            $group['members'] = @(@($group.members) | Where-Object { [string] $_ -ne $member })
        }
        $node.users.Remove($one.ToLowerInvariant())
    }
    Save-StandInModel $model
}

#endregion

#region Processes

# Stop-Process -Id ends a process of the model; any other use goes to the real cmdlet.
function Stop-Process {
    [CmdletBinding()]
    param([int[]] $Id, [switch] $Force, [Parameter(ValueFromPipeline = $true)] $InputObject, [string[]] $Name)
    if ($null -eq $Id) {
        Microsoft.PowerShell.Management\Stop-Process @PSBoundParameters
        return
    }
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    foreach ($one in $Id) {
        $kept = @(@($node.processes) | Where-Object { [int] $_.id -ne $one })
        if ($kept.Length -eq @($node.processes).Length) {
            $exception = New-Object System.Management.Automation.ItemNotFoundException("Cannot find a process with the process identifier $one.")
            $PSCmdlet.WriteError((New-StandInError $exception.Message 'NoProcessFoundForGivenId,Microsoft.PowerShell.Commands.StopProcessCommand' ObjectNotFound $one $exception))
            continue
        }
        $node['processes'] = $kept
    }
    Save-StandInModel $model
}

#endregion

#region Session configurations and WinRM shells

# Registering or unregistering restarts WinRM: counted, and every open shell of the node drops.
function Restart-StandInWinRM($Node) {
    $Node['winrmRestarts'] = [int] $Node.winrmRestarts + 1
    $Node['sessions'] = @()
}

function ConvertTo-SessionConfigurationObject($Entry) {
    return [pscustomobject]@{
        Name           = $Entry.name
        ConfigFilePath = $Entry.configFilePath
        ResourceUri    = 'http://schemas.microsoft.com/powershell/' + $Entry.name
        Permission     = ''
    }
}

function Get-PSSessionConfiguration {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name, [switch] $Force)
    $node = Get-StandInNode (Read-StandInModel)
    $patterns = @('*')
    if ($null -ne $Name) { $patterns = $Name }
    foreach ($pattern in $patterns) {
        $found = $false
        foreach ($key in @($node.sessionConfigurations.Keys)) {
            $entry = $node.sessionConfigurations[$key]
            if ($entry.name -like $pattern) { $found = $true; ConvertTo-SessionConfigurationObject $entry }
        }
        if (-not $found -and $pattern -ne '*') {
            $PSCmdlet.WriteError((New-StandInError "No session configuration matches criteria `"$pattern`"." 'Microsoft.PowerShell.Commands.WriteErrorException' ObjectNotFound $pattern $null))
        }
    }
}

function Register-PSSessionConfiguration {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $Name, [Parameter(Mandatory = $true)] [string] $Path,
        [switch] $Force, [switch] $NoServiceRestart)
    $disk = Resolve-StandInPath $Path
    if (-not [System.IO.File]::Exists($disk)) {
        $PSCmdlet.WriteError((New-StandInError "Cannot find path '$Path' because it does not exist." 'PathNotFound' ObjectNotFound $Path $null))
        return
    }
    try { $null = Import-PowerShellDataFile -LiteralPath $disk }
    catch {
        $PSCmdlet.WriteError((New-StandInError "The session configuration file '$Path' is not valid: $($_.Exception.Message)" 'InvalidPSSessionConfigurationFile' InvalidArgument $Path $null))
        return
    }
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $key = $Name.ToLowerInvariant()
    if ($node.sessionConfigurations.Contains($key) -and -not $Force) {
        $PSCmdlet.WriteError((New-StandInError "A session configuration named $Name already exists." 'PSSessionConfigurationExists' ResourceExists $Name $null))
        return
    }
    $node.sessionConfigurations[$key] = [ordered]@{ name = $Name; configFilePath = $Path }
    if (-not $NoServiceRestart) { Restart-StandInWinRM $node }
    Save-StandInModel $model
}

function Unregister-PSSessionConfiguration {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $Name, [switch] $Force, [switch] $NoServiceRestart)
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $key = $Name.ToLowerInvariant()
    if (-not $node.sessionConfigurations.Contains($key)) {
        $PSCmdlet.WriteError((New-StandInError "No session configuration matches criteria `"$Name`"." 'Microsoft.PowerShell.Commands.WriteErrorException' ObjectNotFound $Name $null))
        return
    }
    $node.sessionConfigurations.Remove($key)
    if (-not $NoServiceRestart) { Restart-StandInWinRM $node }
    Save-StandInModel $model
}

# WinRM shells, as Get-WSManInstance -ResourceURI shell -Enumerate returns them. ShellRunTime is
# measured against the real clock, so start time = now - run time gives back the model's value.
function Get-WSManInstance {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $ResourceURI, [switch] $Enumerate, [string] $ComputerName)
    if ($ResourceURI -ne 'shell' -or -not $Enumerate) { throw 'The stand-in only enumerates WinRM shells.' }
    $node = Get-StandInNode (Read-StandInModel)
    $now = [DateTime]::UtcNow
    foreach ($session in @($node.sessions)) {
        [pscustomobject]@{
            ShellId      = $session.id
            Name         = 'WinRM' + $session.id
            ResourceUri  = 'http://schemas.microsoft.com/powershell/' + $session.configurationName
            Owner        = $session.user
            ClientIP     = '10.0.0.10'
            State        = 'Connected'
            ShellRunTime = [System.Xml.XmlConvert]::ToString($now - (ConvertFrom-UtcText $session.startedAtUtc))
        }
    }
}

function Remove-WSManInstance {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $ResourceURI, [hashtable] $SelectorSet, [string] $ComputerName)
    $id = [string] $SelectorSet['ShellId']
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $kept = @(@($node.sessions) | Where-Object { $_.id -ne $id })
    if ($kept.Length -eq @($node.sessions).Length) {
        $PSCmdlet.WriteError((New-StandInError "The shell $id was not found." 'WsManError' ObjectNotFound $id $null))
        return
    }
    $node['sessions'] = $kept
    Save-StandInModel $model
}

#endregion

#region Scheduled tasks

function ConvertTo-TaskFolder([string] $TaskPath) {
    $segments = @($TaskPath.Split('\') | Where-Object { $_ -ne '' })
    return '\' + ($segments -join '\')
}

function Get-TaskKey([string] $Folder, [string] $Name) { return ($Folder.TrimEnd('\') + '\' + $Name).ToLowerInvariant() }

function ConvertTo-TaskObject($Entry) {
    $taskPath = $Entry.folder.TrimEnd('\') + '\'
    return [pscustomobject]@{
        TaskName = $Entry.name
        TaskPath = $taskPath
        State    = $Entry.state
        Settings = [pscustomobject]@{ Enabled = [bool] $Entry.enabled }
        URI      = $taskPath + $Entry.name
    }
}

function Write-TaskNotFound($Cmdlet, [string] $Property, [string] $Value) {
    $message = "No MSFT_ScheduledTask objects found with property '$Property' equal to '$Value'.  Verify the value of the property and retry."
    $Cmdlet.WriteError((New-StandInError $message "CmdletizationQuery_NotFound_$Property" ObjectNotFound $Value $null))
}

function Find-TaskEntry($Node, [string] $TaskName, [string] $TaskPath) {
    return $Node.tasks[(Get-TaskKey (ConvertTo-TaskFolder $TaskPath) $TaskName)]
}

function Register-ScheduledTask {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Xml, [Parameter(Mandatory = $true, Position = 0)] [string] $TaskName,
        [string] $TaskPath = '\', [string] $User, [switch] $Force)
    try { $document = [xml] $Xml }
    catch {
        $PSCmdlet.WriteError((New-StandInError "The task XML is malformed. $($_.Exception.Message)" 'HRESULT 0x8004131a,Register-ScheduledTask' InvalidArgument $TaskName $null))
        return
    }
    # The checks Task Scheduler makes first, with its error codes (the bridge maps them).
    $root = $document.DocumentElement
    $problem = $null
    if ($null -eq $root -or $root.LocalName -ne 'Task') { $problem = @('0x80041316', 'The task XML contains an unexpected node.') }
    elseif ($root.NamespaceURI -ne 'http://schemas.microsoft.com/windows/2004/02/mit/task') {
        $problem = @('0x80041317', 'The task XML contains an element or attribute from an unexpected namespace.')
    }
    elseif ($null -eq $document.SelectSingleNode("/*[local-name()='Task']/*[local-name()='Actions']")) {
        $problem = @('0x80041319', 'The task XML is missing a required element or attribute. (Actions)')
    }
    if ($null -ne $problem) {
        $PSCmdlet.WriteError((New-StandInError $problem[1] "HRESULT $($problem[0]),Register-ScheduledTask" InvalidArgument $TaskName $null))
        return
    }
    $enabledNode = $document.SelectSingleNode("/*[local-name()='Task']/*[local-name()='Settings']/*[local-name()='Enabled']")
    $enabled = ($null -eq $enabledNode) -or ($enabledNode.InnerText.Trim() -ne 'false')
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $folder = ConvertTo-TaskFolder $TaskPath
    $key = Get-TaskKey $folder $TaskName
    if ($node.tasks.Contains($key) -and -not $Force) {
        $PSCmdlet.WriteError((New-StandInError 'Cannot create a file when that file already exists.' 'HRESULT 0x800700b7,Register-ScheduledTask' ResourceExists $TaskName $null))
        return
    }
    $state = 'Disabled'
    if ($enabled) { $state = 'Ready' }
    $entry = [ordered]@{ folder = $folder; name = $TaskName; xml = $Xml; enabled = $enabled; state = $state; lastRunTimeUtc = $null; runCount = 0 }
    $node.tasks[$key] = $entry
    Save-StandInModel $model
    return (ConvertTo-TaskObject $entry)
}

function Get-ScheduledTask {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $TaskName, [string[]] $TaskPath)
    $node = Get-StandInNode (Read-StandInModel)
    $found = $false
    foreach ($key in @($node.tasks.Keys)) {
        $entry = $node.tasks[$key]
        $path = $entry.folder.TrimEnd('\') + '\'
        $pathMatches = ($null -eq $TaskPath) -or (@($TaskPath | Where-Object { $path -like $_ }).Length -gt 0)
        $nameMatches = ($null -eq $TaskName) -or (@($TaskName | Where-Object { $entry.name -like $_ }).Length -gt 0)
        if ($pathMatches -and $nameMatches) { $found = $true; ConvertTo-TaskObject $entry }
    }
    if (-not $found) {
        if ($null -ne $TaskName) { Write-TaskNotFound $PSCmdlet 'TaskName' ([string] $TaskName[0]) }
        elseif ($null -ne $TaskPath) { Write-TaskNotFound $PSCmdlet 'TaskPath' ([string] $TaskPath[0]) }
    }
}

function Export-ScheduledTask {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $TaskName, [string] $TaskPath = '\')
    $entry = Find-TaskEntry (Get-StandInNode (Read-StandInModel)) $TaskName $TaskPath
    if ($null -eq $entry) { Write-TaskNotFound $PSCmdlet 'TaskName' $TaskName; return }
    return [string] $entry.xml
}

function Set-StandInTaskEnabled($Cmdlet, [string] $TaskName, [string] $TaskPath, [bool] $Enabled) {
    $model = Read-StandInModel
    $entry = Find-TaskEntry (Get-StandInNode $model) $TaskName $TaskPath
    if ($null -eq $entry) { Write-TaskNotFound $Cmdlet 'TaskName' $TaskName; return }
    $entry['enabled'] = $Enabled
    # A running instance keeps running when its task is enabled again.
    if (-not $Enabled) { $entry['state'] = 'Disabled' }
    elseif ($entry.state -ne 'Running') { $entry['state'] = 'Ready' }
    Save-StandInModel $model
    return (ConvertTo-TaskObject $entry)
}

function Enable-ScheduledTask {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $TaskName, [string] $TaskPath = '\')
    Set-StandInTaskEnabled $PSCmdlet $TaskName $TaskPath $true
}

function Disable-ScheduledTask {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $TaskName, [string] $TaskPath = '\')
    Set-StandInTaskEnabled $PSCmdlet $TaskName $TaskPath $false
}

function Unregister-ScheduledTask {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $TaskName, [string] $TaskPath = '\')
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    $key = Get-TaskKey (ConvertTo-TaskFolder $TaskPath) $TaskName
    if (-not $node.tasks.Contains($key)) { Write-TaskNotFound $PSCmdlet 'TaskName' $TaskName; return }
    $node.tasks.Remove($key)
    Save-StandInModel $model
}

#endregion

#region Event log

function Test-EventSource($Node, [string] $Source) { return (@($Node.eventSources) -contains $Source) }

function New-EventLog {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $LogName, [Parameter(Mandatory = $true, Position = 1)] [string[]] $Source)
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    foreach ($one in $Source) {
        if (Test-EventSource $node $one) {
            $PSCmdlet.WriteError((New-StandInError "The `"$one`" source is already registered on the `"localhost`" computer." 'NewEventlogSourceExistsException,Microsoft.PowerShell.Commands.NewEventLogCommand' InvalidOperation $one $null))
            continue
        }
        $node['eventSources'] = @(@($node.eventSources) + $one)
    }
    Save-StandInModel $model
}

function Write-EventLog {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $LogName, [Parameter(Mandatory = $true, Position = 1)] [string] $Source,
        [Parameter(Mandatory = $true, Position = 3)] [int] $EventId, [Parameter(Position = 2)] [string] $EntryType = 'Information',
        [Parameter(Mandatory = $true, Position = 4)] [string] $Message, [int16] $Category = 0)
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    if (-not (Test-EventSource $node $Source)) {
        $PSCmdlet.WriteError((New-StandInError "The source name `"$Source`" does not exist on computer `"localhost`"." 'SourceNotFound,Microsoft.PowerShell.Commands.WriteEventLogCommand' InvalidOperation $Source $null))
        return
    }
    # The source keeps the spelling it was registered with.
    $known = @(@($node.eventSources) | Where-Object { $_ -eq $Source })[0]
    $written = [ordered]@{ source = $known; eventId = $EventId; level = $EntryType; message = $Message; timeUtc = (Get-ModelNow $model) }
    $node['events'] = @(@($node.events) + $written)
    Save-StandInModel $model
}

# Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName=...}: newest first, local times.
function Get-WinEvent {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable[]] $FilterHashtable, [int64] $MaxEvents = -1)
    $filter = $FilterHashtable[0]
    $provider = [string] $filter['ProviderName']
    $node = Get-StandInNode (Read-StandInModel)
    $levels = @{ Error = 2; Warning = 3; Information = 4 }
    $records = New-Object System.Collections.ArrayList
    $recordId = 0
    foreach ($entry in @($node.events)) {
        $recordId++
        if ($entry.source -ne $provider) { continue }
        $null = $records.Add([pscustomobject]@{
                Id           = [int] $entry.eventId
                Level        = [byte] $levels[[string] $entry.level]
                Message      = $entry.message
                TimeCreated  = (ConvertFrom-UtcText $entry.timeUtc).ToLocalTime()
                RecordId     = [int64] $recordId
                ProviderName = $entry.source
                LogName      = 'Application'
            })
    }
    if ($records.Count -eq 0) {
        $PSCmdlet.WriteError((New-StandInError 'No events were found that match the specified selection criteria.' 'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand' ObjectNotFound $null $null))
        return
    }
    $records.Reverse()
    $records
}

#endregion

#region DPAPI (secret files)

# DpapiDataProtector in the LocalMachine scope, played by AES-256-GCM under the current node's key in
# the model (NodeModel.dataProtectionKey, made on first use), with the blob layout the simulated
# host uses (sim/windows/secret-files.ts): nonce (12 bytes), ciphertext, tag (16 bytes). A blob
# from another node's key does not decrypt, as with DPAPI. pwsh on Linux has no DPAPI at all.
$script:DataProtectorSource = @'
using System;
using System.Security.Cryptography;
namespace ArsStandIn {
    public sealed class MachineDataProtector {
        private readonly byte[] key;
        public object Scope { get; set; }
        public MachineDataProtector(byte[] key) { this.key = key; }
        public byte[] Protect(byte[] userData) {
            RequireMachineScope();
            byte[] nonce = RandomNumberGenerator.GetBytes(12);
            byte[] sealedData = new byte[12 + userData.Length + 16];
            byte[] cipher = new byte[userData.Length];
            byte[] tag = new byte[16];
            using (var aes = new AesGcm(key, 16)) { aes.Encrypt(nonce, userData, cipher, tag); }
            Buffer.BlockCopy(nonce, 0, sealedData, 0, 12);
            Buffer.BlockCopy(cipher, 0, sealedData, 12, cipher.Length);
            Buffer.BlockCopy(tag, 0, sealedData, 12 + cipher.Length, 16);
            return sealedData;
        }
        public byte[] Unprotect(byte[] encryptedData) {
            RequireMachineScope();
            if (encryptedData.Length < 28) throw new CryptographicException("The data is invalid.");
            byte[] plain = new byte[encryptedData.Length - 28];
            try {
                using (var aes = new AesGcm(key, 16)) {
                    aes.Decrypt(new ReadOnlySpan<byte>(encryptedData, 0, 12), new ReadOnlySpan<byte>(encryptedData, 12, plain.Length),
                        new ReadOnlySpan<byte>(encryptedData, 12 + plain.Length, 16), plain);
                }
            } catch (AuthenticationTagMismatchException) {
                throw new CryptographicException("Key not valid for use in specified state.");
            }
            return plain;
        }
        private void RequireMachineScope() {
            if (Scope == null || Scope.ToString() != "LocalMachine") {
                throw new CryptographicException("The stand-in protects data in the LocalMachine scope only; set DpapiDataProtector.Scope.");
            }
        }
    }
}
'@

function New-StandInDataProtector {
    if (-not ('ArsStandIn.MachineDataProtector' -as [type])) { Add-Type -TypeDefinition $script:DataProtectorSource }
    $model = Read-StandInModel
    $node = Get-StandInNode $model
    if (-not $node.Contains('dataProtectionKey')) {
        $node['dataProtectionKey'] = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
        Save-StandInModel $model
    }
    return (Microsoft.PowerShell.Utility\New-Object ArsStandIn.MachineDataProtector(, [Convert]::FromBase64String([string] $node['dataProtectionKey'])))
}

# New-Object: the stand-in DpapiDataProtector; anything else is the real New-Object.
function New-Object {
    [CmdletBinding(DefaultParameterSetName = 'Net')]
    param([Parameter(ParameterSetName = 'Net', Mandatory = $true, Position = 0)] [string] $TypeName,
        [Parameter(ParameterSetName = 'Net', Position = 1)] [Alias('Args')] [object[]] $ArgumentList,
        [Parameter(ParameterSetName = 'Com', Mandatory = $true)] [string] $ComObject,
        [switch] $Strict, [hashtable] $Property)
    if ($TypeName -eq 'System.Security.Cryptography.DpapiDataProtector') { return (New-StandInDataProtector) }
    Microsoft.PowerShell.Utility\New-Object @PSBoundParameters
}

#endregion

#region Services and the logs Windows writes on request

# Each call of a stand-in below, as a JSON line in $env:ARS_STANDIN_CALLS (when set), so a test can
# assert the exact parameters; $env:ARS_STANDIN_FAIL names a command that fails as Windows' would.
function Add-StandInCall([string] $Command, [hashtable] $Parameters) {
    if ($env:ARS_STANDIN_CALLS) {
        $line = ConvertTo-Json -InputObject ([ordered]@{ command = $Command; parameters = $Parameters }) -Compress -Depth 5
        [System.IO.File]::AppendAllText($env:ARS_STANDIN_CALLS, $line + "`n")
    }
    if ($env:ARS_STANDIN_FAIL -eq $Command) { throw (New-StandInError "$Command failed: the stand-in was told to fail." 'StandInFailure' InvalidOperation $null $null) }
}

# Get-Service -Name: the node's services from the model; a name it lacks is ObjectNotFound.
function Get-Service {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [Alias('ServiceName')] [string[]] $Name)
    $node = Get-StandInNode (Read-StandInModel)
    foreach ($one in $Name) {
        $found = @(@($node.services) | Where-Object { [string]::Equals([string] $_.name, $one, [StringComparison]::OrdinalIgnoreCase) })
        if ($found.Count -eq 0) {
            $PSCmdlet.WriteError((New-StandInError "Cannot find any service with service name '$one'." 'NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand' ObjectNotFound $one $null))
            continue
        }
        [pscustomobject]@{ Name = [string] $found[0].name; DisplayName = [string] $found[0].displayName; Status = [string] $found[0].status }
    }
}

# Get-ClusterLog -Node -Destination -TimeSpan -UseLocalTime: writes <node>_cluster.log into the destination, as Windows names it.
function Get-ClusterLog {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Node, [string] $Destination, [Alias('Span')] [uint32] $TimeSpan, [Alias('lt')] [switch] $UseLocalTime)
    Add-StandInCall 'Get-ClusterLog' @{ Node = $Node; Destination = $Destination; TimeSpan = $TimeSpan; UseLocalTime = $UseLocalTime.IsPresent }
    foreach ($one in $Node) {
        $file = [System.IO.Path]::Combine($Destination, $one + '_cluster.log')
        [System.IO.File]::WriteAllText($file, "stand-in cluster log of $one, the last $TimeSpan minutes`r`n")
        [System.IO.FileInfo]::new($file)
    }
}

# Get-WindowsUpdateLog -LogPath: writes the merged log there.
function Get-WindowsUpdateLog {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [Alias('PsPath')] [string[]] $ETLPath, [Parameter(Position = 1)] [string] $LogPath, [switch] $ForceFlush)
    Add-StandInCall 'Get-WindowsUpdateLog' @{ LogPath = $LogPath; ForceFlush = $ForceFlush.IsPresent }
    [System.IO.File]::WriteAllText($LogPath, "stand-in Windows Update log`r`n")
}

#endregion

Export-ModuleMember -Function @(
    'Initialize-StandIn', 'Invoke-Command', 'New-PSSession', 'Remove-PSSession', 'Copy-Item',
    'Get-CimInstance', 'Get-ItemProperty', 'azcmagent',
    'Get-Acl', 'Set-Acl', 'Remove-Item',
    'Get-LocalGroup', 'New-LocalGroup', 'Set-LocalGroup', 'Remove-LocalGroup',
    'Get-LocalGroupMember', 'Add-LocalGroupMember', 'Remove-LocalGroupMember',
    'Get-LocalUser', 'New-LocalUser', 'Set-LocalUser', 'Remove-LocalUser', 'Stop-Process',
    'Get-PSSessionConfiguration', 'Register-PSSessionConfiguration', 'Unregister-PSSessionConfiguration',
    'Get-WSManInstance', 'Remove-WSManInstance',
    'Register-ScheduledTask', 'Get-ScheduledTask', 'Export-ScheduledTask', 'Enable-ScheduledTask', 'Disable-ScheduledTask',
    'Unregister-ScheduledTask',
    'New-EventLog', 'Write-EventLog', 'Get-WinEvent',
    'Get-Service', 'Get-ClusterLog', 'Get-WindowsUpdateLog',
    'New-Object'
)

<#
.SYNOPSIS
Test-only: builds JEA runspaces from our session configuration and role capabilities with the
real PowerShell, runs command lines in them as a remote client would send them, and reports.

.DESCRIPTION
Input (JSON on stdin; test/support/jea-proof.ts writes it):
- work: a scratch folder.
- behaviorSource (StandInBehavior.cs), patternProbeSource (PatternProbe.cs).
- standIns: one entry per Windows module a role imports, generated from the Windows Server 2016
  inventory (test/support/jea/stand-ins.ts): its commands (name, kind, parameters with aliases),
  the C# of its cmdlets and the .psm1 of its functions.
- services: the fake service table (name, displayName, dependents).
- keepReal: commands that stay this PowerShell's own (JeaRunspace.psm1 Install-JeaStandIns says why).
- describe: commands whose parameter metadata to report, as the unrestricted session sees them.
- variants: role sets to prove, each with its moduleRoot (holding the ArcRemoteSupportJea module),
  psscPath, sessions (id and the groups the role verifier says the user is in), cases (session and
  a command line, or a script), resolve (module-qualified names to look up from inside each
  session, by session id), probes (service names the deployed Repair pattern must refuse; none: no pattern check)
  and whether to keep transcripts.
- control: cases to run in an unrestricted session with the same commands, to show that what the
  roles refuse would otherwise run.
- agent (or null): driveRoot, a folder mapped as C: in each role session (it holds the stand-in
  node agent at C:\Program Files\ArcRemoteSupport), callsFile, where the stand-in records each
  call, and connectedUser, the user each session's $PSSenderInfo names (WinRM sets it on Windows).

The stand-ins and the runspaces come from JeaRunspace.psm1 (which says how stand-ins replace
Windows commands).

Output (JSON on stdout): timings (milliseconds since the start, after each phase), standIns (per command: module, real or stand-in, kind; lacking),
described, variants (sessions with language mode, visible commands and providers; cases with ok,
errorId, message, output, agentCalls (each call's arguments); the visible commands again after the cases; resolved names; services and actions of the fake service table;
patternCheck; transcripts) and control (cases).
#>

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
$clock = [Diagnostics.Stopwatch]::StartNew()
$timings = [ordered]@{}
$originalModulePath = $env:PSModulePath

#region Stand-ins
Import-Module (Join-Path $PSScriptRoot 'JeaRunspace.psm1') -Force
$standInState = Install-JeaStandIns $in.work $in.behaviorSource $in.standIns $in.services @($in.keepReal)
$standInRoot = $standInState.standInRoot
$commandReport = $standInState.commands
$lackingReport = @($standInState.lacking)
$timings['standIns'] = $clock.ElapsedMilliseconds
#endregion

#region Sessions
# As a remote client does in a NoLanguage session: the line becomes commands with constant
# arguments on the client, and a script block argument reaches the server as a string.
function Invoke-AsClient($runspace, $case) {
    $result = [ordered]@{ session = $case.session; line = $case.line; script = $case.script; ok = $false; errorId = $null; message = $null; output = @(); agentCalls = @() }
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    try {
        if ($null -ne $case.script) {
            $null = $ps.AddScript($case.script)
        } else {
            $client = [scriptblock]::Create($case.line).GetPowerShell()
            foreach ($command in $client.Commands.Commands) {
                $null = $ps.AddCommand($command.CommandText)
                foreach ($parameter in $command.Parameters) {
                    $value = $parameter.Value
                    if ($value -is [scriptblock]) { $value = $value.ToString() }
                    if ($null -eq $parameter.Name) { $null = $ps.AddArgument($value) } else { $null = $ps.AddParameter($parameter.Name, $value) }
                }
            }
        }
        $output = $ps.Invoke()
        $result.output = @($output | ForEach-Object { if ($_ -is [string]) { $_ } elseif ($null -ne $_.PSObject.Properties['Name']) { [string] $_.Name } else { [string] $_ } })
        if ($ps.Streams.Error.Count -gt 0) {
            $result.errorId = $ps.Streams.Error[0].FullyQualifiedErrorId
            $result.message = $ps.Streams.Error[0].ToString()
        } else {
            $result.ok = $true
        }
    } catch {
        $inner = $_.Exception
        while ($null -ne $inner.InnerException -and $inner -is [System.Management.Automation.MethodInvocationException]) { $inner = $inner.InnerException }
        $record = $null
        if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { $record = $inner.ErrorRecord }
        if ($null -ne $record) { $result.errorId = $record.FullyQualifiedErrorId } else { $result.errorId = $inner.GetType().Name }
        $result.message = $inner.Message
    } finally {
        $ps.Dispose()
    }
    return $result
}

function Get-Resolution($runspace, [string] $name) {
    # From inside the session (not as the client): what the name would run, private or not.
    $command = $runspace.SessionStateProxy.InvokeCommand.GetCommand($name, [System.Management.Automation.CommandTypes]::All)
    if ($null -eq $command) { return [ordered]@{ name = $name; found = $false } }
    return [ordered]@{ name = $name; found = $true; commandType = [string] $command.CommandType; module = $command.ModuleName; visibility = [string] $command.Visibility }
}

# A function's own parameters as the session defines them: type, mandatory, and validation.
function Get-FunctionShape($runspace, [string] $name) {
    $command = $runspace.SessionStateProxy.InvokeCommand.GetCommand($name, [System.Management.Automation.CommandTypes]::Function)
    if ($null -eq $command) { return [ordered]@{ name = $name; found = $false } }
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    $parameters = [ordered]@{}
    foreach ($parameter in $command.Parameters.Values) {
        if ($common -contains $parameter.Name) { continue }
        $set = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object { $_.ValidValues })
        $pattern = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidatePatternAttribute] } | ForEach-Object { $_.RegexPattern })
        $mandatory = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }).Count -gt 0
        $parameters[$parameter.Name] = [ordered]@{ type = $parameter.ParameterType.Name; mandatory = $mandatory; validateSet = $set; validatePattern = $pattern }
    }
    return [ordered]@{ name = $name; found = $true; parameters = $parameters }
}

function Get-ServiceState {
    $services = [ordered]@{}
    foreach ($service in [ArsJeaStandIn.ServiceTable]::Services) { $services[$service.Name] = $service.Status }
    return [ordered]@{ services = $services; actions = @([ArsJeaStandIn.ServiceTable]::Actions) }
}

# The node agent our functions run: the stand-in's drive, and the connected user of the session.
function Set-AgentStandIn($runspace, $session) {
    if ($null -eq $in.agent) { return }
    $proxy = $runspace.SessionStateProxy
    $drive = [System.Management.Automation.PSDriveInfo]::new('C', $proxy.Provider.GetOne('FileSystem'), $in.agent.driveRoot, '', $null)
    $null = $proxy.Drive.New($drive, 'global')
    # A session marked noSender has no $PSSenderInfo, as a session WinRM did not start.
    if ($null -ne $session.PSObject.Properties['noSender'] -and $session.noSender) { return }
    $identity = [System.Management.Automation.Remoting.PSIdentity]::new('Kerberos', $true, $in.agent.connectedUser, $null)
    $principal = [System.Management.Automation.Remoting.PSPrincipal]::new($identity, $null)
    $proxy.SetVariable('PSSenderInfo', [System.Management.Automation.Remoting.PSSenderInfo]::new($principal, 'http://localhost:5985/wsman'))
}

# The calls the stand-in agent recorded since the last look, each its argument list; then forgets them.
function Read-AgentCalls {
    if ($null -eq $in.agent -or -not (Test-Path -LiteralPath $in.agent.callsFile)) { return ,@() }
    $calls = @()
    $current = @()
    foreach ($line in @(Get-Content -LiteralPath $in.agent.callsFile)) {
        if ($line -eq '--end--') { $calls += ,@($current); $current = @() } else { $current += $line }
    }
    Remove-Item -LiteralPath $in.agent.callsFile
    return ,$calls
}

$variants = [ordered]@{}
foreach ($variant in $in.variants) {
    $env:PSModulePath = $variant.moduleRoot + [IO.Path]::PathSeparator + $standInRoot + [IO.Path]::PathSeparator + $originalModulePath
    [ArsJeaStandIn.ServiceTable]::Reset()
    $transcriptFolder = Join-Path (Join-Path $in.work 'transcripts') $variant.id
    $sessions = [ordered]@{}
    $cases = @()
    $resolved = [ordered]@{}
    $shapes = [ordered]@{}
    foreach ($session in $variant.sessions) {
        $groups = @($session.groups)
        $verifier = [Func[string, bool]] { param($group) $groups -contains $group }.GetNewClosure()
        $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateFromSessionConfigurationFile($variant.psscPath, $verifier)
        $iss.TranscriptDirectory = $transcriptFolder
        $runspace = Open-JeaRunspace $iss $false
        Set-AgentStandIn $runspace $session
        $timings["$($variant.id)/$($session.id)/opened"] = $clock.ElapsedMilliseconds
        $listCommands = [pscustomobject]@{ session = $session.id; line = 'Get-Command'; script = $null }
        $visible = Invoke-AsClient $runspace $listCommands
        $null = Read-AgentCalls
        foreach ($case in @($variant.cases | Where-Object { $_.session -eq $session.id })) {
            $result = Invoke-AsClient $runspace $case
            $result.agentCalls = Read-AgentCalls
            $cases += $result
        }
        $timings["$($variant.id)/$($session.id)/cases"] = $clock.ElapsedMilliseconds
        # Listed again after the cases: nothing they ran (our functions included) made more visible.
        $visibleAfter = Invoke-AsClient $runspace $listCommands
        $sessions[$session.id] = [ordered]@{
            languageMode = [string] $runspace.SessionStateProxy.LanguageMode
            visibleCommands = @($visible.output | Sort-Object)
            visibleAfterCases = @($visibleAfter.output | Sort-Object)
            providers = @($iss.Providers | ForEach-Object { [ordered]@{ name = $_.Name; visibility = [string] $_.Visibility } })
        }
        # Last: looking a name up from inside may import its module.
        $names = @()
        if ($null -ne $variant.resolve.PSObject.Properties[$session.id]) { $names = @($variant.resolve.($session.id)) }
        $resolved[$session.id] = @(foreach ($name in $names) { Get-Resolution $runspace $name })
        $shapes[$session.id] = @(foreach ($name in @($variant.functions)) { Get-FunctionShape $runspace $name })
        $runspace.Dispose()
    }
    $state = Get-ServiceState

    # The deployed service-name pattern, with .NET's regex (cultures: en-US, then Turkish).
    $patternCheck = [ordered]@{}
    if (@($variant.probes).Count -gt 0) {
        Add-Type -Path $in.patternProbeSource
        $repair = Import-PowerShellDataFile -Path (Join-Path $variant.moduleRoot 'ArcRemoteSupportJea/RoleCapabilities/ArcRemoteSupportRepair.psrc')
        $probes = [string[]] @($variant.probes)
        foreach ($entry in @($repair.VisibleCmdlets)) {
            $accepted = @()
            foreach ($culture in 'en-US', 'tr-TR') {
                # ValidatePatternAttribute's default options, and none at all.
                foreach ($options in [System.Text.RegularExpressions.RegexOptions]::IgnoreCase, [System.Text.RegularExpressions.RegexOptions]::None) {
                    $accepted += [ArsJeaProof.PatternProbe]::Accepted($entry.Parameters.ValidatePattern, $culture, $options, $probes)
                }
            }
            $patternCheck[$entry.Name] = [ordered]@{ probes = $probes.Count; accepted = @($accepted) }
        }
    }
    $transcripts = @()
    if ($variant.transcripts) {
        $transcripts = @(Get-ChildItem -Path $transcriptFolder -Recurse -File -ErrorAction Ignore | ForEach-Object { [ordered]@{ file = $_.Name; text = Get-Content -Raw -Path $_.FullName } })
    }
    $timings[$variant.id] = $clock.ElapsedMilliseconds
    $variants[$variant.id] = [ordered]@{ sessions = $sessions; cases = $cases; resolved = $resolved; functions = $shapes; services = $state.services; actions = $state.actions; patternCheck = $patternCheck; transcripts = $transcripts }
}
$env:PSModulePath = $standInRoot + [IO.Path]::PathSeparator + $originalModulePath
#endregion

#region The unrestricted control session: the same commands, no role
[ArsJeaStandIn.ServiceTable]::Reset()
$controlIss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
$controlIss.LanguageMode = 'FullLanguage'
$control = Open-JeaRunspace $controlIss $true
$described = [ordered]@{}
foreach ($name in @($in.describe)) {
    $ps = [powershell]::Create()
    $ps.Runspace = $control
    $command = @($ps.AddCommand('Get-Command').AddParameter('Name', $name).AddParameter('CommandType', 'Cmdlet, Function').Invoke()) | Select-Object -First 1
    $ps.Dispose()
    if ($null -eq $command) { $described[$name] = $null; continue }
    $parameters = [ordered]@{}
    foreach ($parameter in $command.Parameters.Values) {
        $sets = [ordered]@{}
        foreach ($set in $parameter.ParameterSets.Keys) {
            $p = $parameter.ParameterSets[$set]
            $sets[$set] = [ordered]@{ mandatory = $p.IsMandatory; position = $p.Position; pipeline = ($p.ValueFromPipeline -or $p.ValueFromPipelineByPropertyName) }
        }
        $parameters[$parameter.Name] = [ordered]@{ aliases = @($parameter.Aliases); switch = $parameter.SwitchParameter; sets = $sets }
    }
    $described[$name] = [ordered]@{ commandType = [string] $command.CommandType; module = $command.ModuleName; parameters = $parameters }
}
$controlCases = @(foreach ($case in $in.control) { Invoke-AsClient $control $case })
$control.Dispose()
$timings['control'] = $clock.ElapsedMilliseconds
#endregion

[ordered]@{
    standIns = [ordered]@{ commands = $commandReport; lacking = $lackingReport }
    described = $described
    variants = $variants
    control = $controlCases
    timings = $timings
} | ConvertTo-Json -Depth 10 -Compress

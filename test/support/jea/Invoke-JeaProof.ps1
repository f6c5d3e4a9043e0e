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
- describe: commands whose parameter metadata to report, as the unrestricted session sees them.
- variants: role sets to prove, each with its moduleRoot (holding the ArcRemoteSupportJea module),
  psscPath, sessions (id and the groups the role verifier says the user is in), cases (session and
  a command line, or a script), resolve (module-qualified names to look up from inside each
  session, by session id), probes (service names the deployed Repair pattern must refuse; none: no pattern check)
  and whether to keep transcripts.
- control: cases to run in an unrestricted session with the same commands, to show that what the
  roles refuse would otherwise run.

Where Linux has a command of a module that Windows PowerShell also loads as a snap-in
(Microsoft.PowerShell.Management, .Utility) and it declares every parameter and alias the
inventory lists, the real command is used. Otherwise the stand-in replaces it, in a module of the
same name imported into the session when a role imports that module, so a module-qualified name
(Microsoft.PowerShell.Management\Stop-Service) resolves to a private command as on Windows. The
other modules (NetTCPIP, CimCmdlets, Microsoft.PowerShell.Diagnostics...) are stand-in modules
on PSModulePath, which the role's ModulesToImport loads unchanged. Microsoft.PowerShell.Core cannot
be replaced: its commands are reported when they lack a parameter.

Output (JSON on stdout): timings (milliseconds since the start, after each phase), standIns (per command: module, real or stand-in, kind; lacking),
described, variants (sessions with language mode, visible commands and providers; cases with ok,
errorId, message, output; the visible commands again after the cases; resolved names; services and actions of the fake service table;
patternCheck; transcripts) and control (cases).
#>

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
$clock = [Diagnostics.Stopwatch]::StartNew()
$timings = [ordered]@{}
$originalModulePath = $env:PSModulePath

#region Stand-ins
$standInRoot = Join-Path $in.work 'standins'
$builtInRoot = Join-Path $in.work 'builtin-standins'
$null = New-Item -ItemType Directory -Force -Path $standInRoot, $builtInRoot

# Built-in cmdlets of this PowerShell, by the snap-in module they belong to.
$default = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
$builtIn = @{}
foreach ($entry in $default.Commands) {
    if ($entry -is [System.Management.Automation.Runspaces.SessionStateCmdletEntry] -and $null -ne $entry.PSSnapIn) {
        $builtIn[$entry.PSSnapIn.Name + '\' + $entry.Name] = $entry
    }
}
$builtInModules = @($builtIn.Keys | ForEach-Object { ($_ -split '\\')[0] } | Sort-Object -Unique)

function Get-Lacking($entry, $command) {
    $metadata = [System.Management.Automation.CommandMetadata]::new($entry.ImplementingType)
    $known = @{}
    foreach ($parameter in $metadata.Parameters.Values) {
        $known[$parameter.Name.ToLowerInvariant()] = $true
        foreach ($alias in $parameter.Aliases) { $known[$alias.ToLowerInvariant()] = $true }
    }
    if ($metadata.SupportsShouldProcess) { foreach ($name in 'whatif', 'confirm', 'wi', 'cf') { $known[$name] = $true } }
    $lacking = foreach ($parameter in $command.parameters) {
        foreach ($name in @($parameter.name) + @($parameter.aliases)) { if (-not $known.ContainsKey($name.ToLowerInvariant())) { $name } }
    }
    return @($lacking)
}

$commandReport = [ordered]@{}
$lackingReport = @()
$replaced = @()
$sources = @($in.behaviorSource)
$modules = @()
foreach ($module in $in.standIns) {
    $isBuiltIn = $builtInModules -contains $module.name
    $cmdlets = @()
    $functions = @()
    foreach ($command in $module.commands) {
        $entry = $builtIn[$module.name + '\' + $command.name]
        $source = 'stand-in'
        if ($null -ne $entry) {
            $lacking = @(Get-Lacking $entry $command)
            if ($lacking.Count -eq 0) { $source = 'real' }
            elseif ($module.name -eq 'Microsoft.PowerShell.Core') { $source = 'real'; $lackingReport += '{0} lacks {1}' -f $command.name, ($lacking -join ', ') }
            else { $replaced += $command.name }
        } elseif ($module.name -eq 'Microsoft.PowerShell.Core') {
            $source = 'missing'
        }
        $commandReport[$command.name] = [ordered]@{ module = $module.name; source = $source; kind = $command.kind }
        if ($source -ne 'stand-in') { continue }
        if ($command.kind -eq 'cmdlet') { $cmdlets += $command.name } else { $functions += $command.name }
    }
    if ($module.name -eq 'Microsoft.PowerShell.Core') { continue }
    if ($module.csharp -ne '') {
        $file = Join-Path $in.work ('standin-' + $module.name + '.cs')
        Set-Content -Path $file -Value $module.csharp
        $sources += $file
    }
    $root = $standInRoot
    if ($isBuiltIn) { $root = $builtInRoot }
    $modules += [pscustomobject]@{ name = $module.name; folder = (Join-Path $root $module.name); builtIn = $isBuiltIn; cmdlets = $cmdlets; functions = $functions; psm1 = $module.psm1 }
}

# One assembly for the behaviour and every stand-in cmdlet, loaded once: the modules nest it by path.
$assembly = Join-Path $in.work 'ArsJeaStandIn.dll'
Add-Type -Path $sources -OutputAssembly $assembly -OutputType Library -IgnoreWarnings
Add-Type -Path $assembly
foreach ($service in $in.services) { [ArsJeaStandIn.ServiceTable]::Seed($service.name, $service.displayName, [string[]] @($service.dependents)) }

foreach ($module in $modules) {
    $null = New-Item -ItemType Directory -Force -Path $module.folder
    $manifest = @{ Path = (Join-Path $module.folder "$($module.name).psd1"); ModuleVersion = '1.0.0'; NestedModules = @(); CmdletsToExport = @($module.cmdlets); FunctionsToExport = @($module.functions); AliasesToExport = @(); VariablesToExport = @() }
    if ($module.cmdlets.Count -gt 0) { $manifest.NestedModules = @($assembly) }
    if ($module.functions.Count -gt 0) {
        Set-Content -Path (Join-Path $module.folder "$($module.name).psm1") -Value $module.psm1
        $manifest.RootModule = "$($module.name).psm1"
    }
    New-ModuleManifest @manifest
}
$builtInStandIns = @($modules | Where-Object { $_.builtIn })
$timings['standIns'] = $clock.ElapsedMilliseconds
#endregion

#region Sessions
function Open-Runspace($iss, [bool] $everyStandIn) {
    # A role that shows a replaced command with all its parameters made the built-in entry public;
    # its stand-in gets the same visibility once the session is open.
    $madePublic = @()
    foreach ($name in $replaced) {
        foreach ($entry in @($iss.Commands[$name])) {
            if ($entry -is [System.Management.Automation.Runspaces.SessionStateCmdletEntry] -and $entry.Visibility -eq 'Public') { $madePublic += $entry.PSSnapIn.Name + '\' + $name }
        }
        $iss.Commands.Remove($name, [System.Management.Automation.Runspaces.SessionStateCmdletEntry])
    }
    # A built-in module's stand-ins come with it, as on Windows: when the session imports that
    # module (imported without a role, they would be public).
    foreach ($module in $builtInStandIns) {
        $wanted = $everyStandIn -or @($iss.Modules | Where-Object { $_.Name -eq $module.name }).Count -gt 0
        if ($wanted) { $iss.ImportPSModule([string[]] @(Join-Path $module.folder "$($module.name).psd1")) }
    }
    if ($everyStandIn) {
        foreach ($module in @($modules | Where-Object { -not $_.builtIn })) { $iss.ImportPSModule([string[]] @(Join-Path $module.folder "$($module.name).psd1")) }
    }
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $runspace.Open()
    foreach ($name in $madePublic) {
        $command = $runspace.SessionStateProxy.InvokeCommand.GetCommand($name, [System.Management.Automation.CommandTypes]::Cmdlet)
        if ($null -ne $command) { $command.Visibility = 'Public' }
    }
    return $runspace
}

# As a remote client does in a NoLanguage session: the line becomes commands with constant
# arguments on the client, and a script block argument reaches the server as a string.
function Invoke-AsClient($runspace, $case) {
    $result = [ordered]@{ session = $case.session; line = $case.line; script = $case.script; ok = $false; errorId = $null; message = $null; output = @() }
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

function Get-ServiceState {
    $services = [ordered]@{}
    foreach ($service in [ArsJeaStandIn.ServiceTable]::Services) { $services[$service.Name] = $service.Status }
    return [ordered]@{ services = $services; actions = @([ArsJeaStandIn.ServiceTable]::Actions) }
}

$variants = [ordered]@{}
foreach ($variant in $in.variants) {
    $env:PSModulePath = $variant.moduleRoot + [IO.Path]::PathSeparator + $standInRoot + [IO.Path]::PathSeparator + $originalModulePath
    [ArsJeaStandIn.ServiceTable]::Reset()
    $transcriptFolder = Join-Path (Join-Path $in.work 'transcripts') $variant.id
    $sessions = [ordered]@{}
    $cases = @()
    $resolved = [ordered]@{}
    foreach ($session in $variant.sessions) {
        $groups = @($session.groups)
        $verifier = [Func[string, bool]] { param($group) $groups -contains $group }.GetNewClosure()
        $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateFromSessionConfigurationFile($variant.psscPath, $verifier)
        $iss.TranscriptDirectory = $transcriptFolder
        $runspace = Open-Runspace $iss $false
        $timings["$($variant.id)/$($session.id)/opened"] = $clock.ElapsedMilliseconds
        $listCommands = [pscustomobject]@{ session = $session.id; line = 'Get-Command'; script = $null }
        $visible = Invoke-AsClient $runspace $listCommands
        foreach ($case in @($variant.cases | Where-Object { $_.session -eq $session.id })) { $cases += Invoke-AsClient $runspace $case }
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
    $variants[$variant.id] = [ordered]@{ sessions = $sessions; cases = $cases; resolved = $resolved; services = $state.services; actions = $state.actions; patternCheck = $patternCheck; transcripts = $transcripts }
}
$env:PSModulePath = $standInRoot + [IO.Path]::PathSeparator + $originalModulePath
#endregion

#region The unrestricted control session: the same commands, no role
[ArsJeaStandIn.ServiceTable]::Reset()
$controlIss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
$controlIss.LanguageMode = 'FullLanguage'
$control = Open-Runspace $controlIss $true
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

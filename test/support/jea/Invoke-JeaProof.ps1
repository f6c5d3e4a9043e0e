<#
.SYNOPSIS
Test-only: builds JEA runspaces from our session configuration and role capabilities with the
real PowerShell, runs command lines in them as a remote client would send them, and reports.

.DESCRIPTION
Input (JSON on stdin): psscPath, moduleRoot (a folder holding the generated ArcRemoteSupportJea
module), work (a scratch folder), serviceSource (ServiceStandIn.cs), patternProbeSource (PatternProbe.cs), commands (every visible
command of the roles: name, kind, module, parameters), sessions (id and the groups the role
verifier says the user is in), cases (session and a command line, or a script), probes (service
names the Repair pattern must refuse).

On Linux the Windows commands do not exist, so stand-ins are built first:
- the service cmdlets are compiled from ServiceStandIn.cs (real [Cmdlet] classes);
- other Windows-only cmdlets become generated C# cmdlets that echo their bound parameters, and
  Windows-only functions generated script functions that do the same, each with an extra
  -ComputerName / -CimSession the role must hide;
- a module PowerShell on Linux lacks (NetTCPIP, CimCmdlets...) becomes a stand-in module of that
  name on PSModulePath, so the role's ModulesToImport loads unchanged; Windows-only commands of a
  module Linux does have (Get-Service in Microsoft.PowerShell.Management) go in a module
  ArsWindowsStandIn, which is added to the InitialSessionState before the runspace opens.
The TranscriptDirectory (a Windows path) is pointed at the scratch folder.

Output (JSON on stdout): standIns, sessions (language mode, visible commands, providers), cases
(ok, errorId, message, output), services and actions of the fake service table, patternCheck
(the probes the deployed .NET pattern accepts) and transcripts.
#>

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json

$serviceCmdlets = @('Get-Service', 'Start-Service', 'Stop-Service', 'Restart-Service')
$switchNames = @('DependentServices', 'RequiredServices', 'IncludeUserName', 'Module', 'FileVersionInfo', 'Oldest',
    'DnsOnly', 'NoHostsFile', 'All', 'Detailed', 'Physical', 'IncludeHidden', 'TraceRoute', 'AutoSize', 'Wrap', 'Descending')

$standInRoot = Join-Path $in.work 'standins'
$null = New-Item -ItemType Directory -Force -Path $standInRoot
$env:PSModulePath = $in.moduleRoot + [IO.Path]::PathSeparator + $standInRoot + [IO.Path]::PathSeparator + $env:PSModulePath

#region Stand-ins
function Get-StandInParameters($command) {
    # The role's parameters plus ones that reach elsewhere, which JEA must hide.
    $names = @()
    if ($null -ne $command.parameters) { $names += @($command.parameters) }
    foreach ($extra in 'ComputerName', 'CimSession') { if ($names -notcontains $extra) { $names += $extra } }
    return $names
}

function New-StandInCmdletSource($command, $index) {
    $verb, $noun = $command.name -split '-', 2
    $properties = foreach ($p in Get-StandInParameters $command) {
        $type = 'object'
        if ($switchNames -contains $p) { $type = 'SwitchParameter' }
        "        [Parameter] public $type $p { get; set; }"
    }
    @"
    [Cmdlet("$verb", "$noun")]
    public class StandIn$index : PSCmdlet
    {
$($properties -join "`n")
        protected override void EndProcessing() { WriteObject(Echo.Of("$($command.name)", MyInvocation.BoundParameters)); }
    }
"@
}

function New-StandInFunctionSource($command) {
    $params = foreach ($p in Get-StandInParameters $command) {
        if ($switchNames -contains $p) { "[switch] `$$p" } else { "`$$p" }
    }
    @"
function $($command.name) {
    [CmdletBinding()]
    param($($params -join ', '))
    `$pairs = foreach (`$key in (`$PSBoundParameters.Keys | Sort-Object)) { '{0}={1}' -f `$key, (@(`$PSBoundParameters[`$key]) -join ',') }
    '$($command.name) ' + (@(`$pairs) -join ';')
}
"@
}

$echoSource = @'
    public static class Echo
    {
        public static string Of(string name, System.Collections.Generic.Dictionary<string, object> bound)
        {
            var pairs = new System.Collections.Generic.List<string>();
            foreach (var key in bound.Keys.OrderBy(k => k, StringComparer.OrdinalIgnoreCase))
            {
                var value = bound[key];
                var list = value as System.Collections.IEnumerable;
                pairs.Add(key + "=" + ((list != null && !(value is string)) ? string.Join(",", list.Cast<object>()) : Convert.ToString(value)));
            }
            return name + " " + string.Join(";", pairs);
        }
    }
'@

$targets = [ordered]@{}
$report = [ordered]@{ real = @(); standIn = [ordered]@{}; moduleMismatch = @() }
foreach ($command in $in.commands) {
    $existing = Get-Command -Name $command.name -ErrorAction Ignore
    if ($null -ne $existing -and $serviceCmdlets -notcontains $command.name) {
        # Real on Linux too: the role must name the module it really comes from.
        if ($existing.ModuleName -ne $command.module) { $report.moduleMismatch += '{0} is in {1}, not {2}' -f $command.name, $existing.ModuleName, $command.module }
        $report.real += $command.name
        continue
    }
    $target = $command.module
    if ($null -ne (Get-Module -ListAvailable -Name $command.module)) { $target = 'ArsWindowsStandIn' }
    if (-not $targets.Contains($target)) { $targets[$target] = @{ cmdlets = @(); functions = @() } }
    if ($command.kind -eq 'cmdlet') { $targets[$target].cmdlets += $command } else { $targets[$target].functions += $command }
    $report.standIn[$command.name] = $target
}

$index = 0
foreach ($target in $targets.Keys) {
    $folder = Join-Path $standInRoot $target
    $null = New-Item -ItemType Directory -Force -Path $folder
    $manifest = @{ Path = (Join-Path $folder "$target.psd1"); ModuleVersion = '1.0.0'; NestedModules = @() }
    $cmdlets = @($targets[$target].cmdlets)
    $functions = @($targets[$target].functions)
    if ($cmdlets.Count -gt 0) {
        $namespace = 'ArsStandIn_' + ($target -replace '\W', '_')
        $standIns = foreach ($c in $cmdlets | Where-Object { $serviceCmdlets -notcontains $_.name }) { $index++; New-StandInCmdletSource $c $index }
        $standInFile = Join-Path $in.work "$namespace.cs"
        Set-Content -Path $standInFile -Value "using System; using System.Linq; using System.Management.Automation;`nnamespace $namespace {`n$echoSource`n$($standIns -join "`n")`n}"
        $sourceFiles = @($standInFile)
        if (@($cmdlets | Where-Object { $serviceCmdlets -contains $_.name }).Count -gt 0) { $sourceFiles += $in.serviceSource }
        Add-Type -Path $sourceFiles -OutputAssembly (Join-Path $folder "$target.dll") -OutputType Library
        $manifest.NestedModules += "$target.dll"
        $manifest.CmdletsToExport = @($cmdlets | ForEach-Object { $_.name })
    }
    if ($functions.Count -gt 0) {
        Set-Content -Path (Join-Path $folder "$target.psm1") -Value (@($functions | ForEach-Object { New-StandInFunctionSource $_ }) -join "`n")
        $manifest.RootModule = "$target.psm1"
        $manifest.FunctionsToExport = @($functions | ForEach-Object { $_.name })
    }
    New-ModuleManifest @manifest
}
#endregion

#region Sessions
function Open-JeaRunspace($groups) {
    $verifier = [Func[string, bool]] { param($group) $groups -contains $group }.GetNewClosure()
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateFromSessionConfigurationFile($in.psscPath, $verifier)
    $iss.TranscriptDirectory = Join-Path $in.work 'transcripts'
    # The Windows-only cmdlets of Microsoft.PowerShell.Management come with it, as on Windows:
    # only when a role imports that module (imported without a role, they would be public).
    $windowsOnly = Join-Path $standInRoot 'ArsWindowsStandIn/ArsWindowsStandIn.psd1'
    $wanted = @($iss.Modules | Where-Object { $_.Name -eq 'Microsoft.PowerShell.Management' }).Count -gt 0
    if ($wanted -and (Test-Path $windowsOnly)) { $iss.ImportPSModule([string[]] @($windowsOnly)) }
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $runspace.Open()
    return @{ iss = $iss; runspace = $runspace }
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

$sessions = [ordered]@{}
$cases = @()
foreach ($session in $in.sessions) {
    $opened = Open-JeaRunspace @($session.groups)
    $visible = Invoke-AsClient $opened.runspace ([pscustomobject]@{ session = $session.id; line = 'Get-Command'; script = $null })
    $sessions[$session.id] = [ordered]@{
        languageMode = [string] $opened.runspace.SessionStateProxy.LanguageMode
        visibleCommands = @($visible.output | Sort-Object)
        providers = @($opened.iss.Providers | ForEach-Object { [ordered]@{ name = $_.Name; visibility = [string] $_.Visibility } })
    }
    foreach ($case in @($in.cases | Where-Object { $_.session -eq $session.id })) { $cases += Invoke-AsClient $opened.runspace $case }
    $opened.runspace.Dispose()
}
#endregion

#region The deployed service-name pattern, with .NET's regex (cultures: en-US, then Turkish)
Add-Type -Path $in.patternProbeSource
$repair = Import-PowerShellDataFile -Path (Join-Path $in.moduleRoot 'ArcRemoteSupportJea/RoleCapabilities/ArcRemoteSupportRepair.psrc')
$probes = [string[]] @($in.probes)
$patternCheck = [ordered]@{}
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
#endregion

$transcripts = @(Get-ChildItem -Path (Join-Path $in.work 'transcripts') -Recurse -File -ErrorAction Ignore | ForEach-Object { [ordered]@{ file = $_.Name; text = Get-Content -Raw -Path $_.FullName } })
$table = 'ArsWindowsStandIn.ServiceTable' -as [type]
$services = [ordered]@{}
$actions = @()
if ($null -ne $table) {
    foreach ($service in $table::Services) { $services[$service.Name] = $service.Status }
    $actions = @($table::Actions)
}

[ordered]@{
    standIns = $report
    sessions = $sessions
    cases = $cases
    services = $services
    actions = $actions
    patternCheck = $patternCheck
    transcripts = $transcripts
} | ConvertTo-Json -Depth 8 -Compress

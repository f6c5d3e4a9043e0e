<#
.SYNOPSIS
Test-only: the stand-in Windows commands of the JEA roles, and JEA runspaces built from our
session configuration with them. Invoke-JeaProof.ps1 (the role proofs) and the New-PSSession
stand-in of the channel session tests (test/powershell/WindowsStandIn.psm1) both use it.

.DESCRIPTION
Install-JeaStandIns compiles the stand-ins (test/support/jea/stand-ins.ts generates them from the
Windows Server 2016 inventory) into one assembly and writes their modules under a work folder; it
returns the state that Import-JeaStandIns loads in another process without compiling again.
Open-JeaRunspace opens a runspace from an InitialSessionState with the stand-ins in place of the
Windows commands; New-JeaRoleRunspace builds that InitialSessionState from a .pssc file and the
groups the role verifier says the user is in.

Where Linux has a command of a module that Windows PowerShell also loads as a snap-in
(Microsoft.PowerShell.Management, .Utility) and it declares every parameter and alias the
inventory lists, the real command is used. Otherwise the stand-in replaces it, in a module of the
same name imported into the session when a role imports that module, so a module-qualified name
(Microsoft.PowerShell.Management\Stop-Service) resolves to a private command as on Windows. The
other modules (NetTCPIP, CimCmdlets, Microsoft.PowerShell.Diagnostics...) are stand-in modules
on PSModulePath, which the role's ModulesToImport loads unchanged. Microsoft.PowerShell.Core cannot
be replaced: its commands are reported when they lack a parameter.
#>

Set-StrictMode -Version 3.0

$script:State = $null

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

function Initialize-ServiceTable($Services) {
    foreach ($service in @($Services)) { [ArsJeaStandIn.ServiceTable]::Seed($service.name, $service.displayName, [string[]] @($service.dependents)) }
}

<#
Compiles and writes the stand-ins: $StandIns (one entry per Windows module a role imports: its
commands with kind and parameters, the C# of its cmdlets, the .psm1 of its functions), the fake
service table $Services (name, displayName, dependents), and $KeepReal: commands that keep this
PowerShell's implementation although it lacks a parameter (the path cmdlets lack -UseTransaction,
which PowerShell 6 removed), because our own functions call them privately for what they do (the
generated agent call resolves the agent's path with Convert-Path). Returns the state (standInRoot,
assembly, replaced, modules, commands, lacking), also kept for Open-JeaRunspace.
#>
function Install-JeaStandIns([string] $Work, [string] $BehaviorSource, $StandIns, $Services, [string[]] $KeepReal = @()) {
    $standInRoot = Join-Path $Work 'standins'
    $builtInRoot = Join-Path $Work 'builtin-standins'
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

    $commandReport = [ordered]@{}
    $lackingReport = @()
    $replaced = @()
    $sources = @($BehaviorSource)
    $modules = @()
    foreach ($module in $StandIns) {
        $isBuiltIn = $builtInModules -contains $module.name
        $cmdlets = @()
        $functions = @()
        foreach ($command in $module.commands) {
            $entry = $builtIn[$module.name + '\' + $command.name]
            $source = 'stand-in'
            if ($null -ne $entry) {
                $lacking = @(Get-Lacking $entry $command)
                if ($lacking.Count -eq 0 -or $KeepReal -contains $command.name) { $source = 'real' }
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
            $file = Join-Path $Work ('standin-' + $module.name + '.cs')
            Set-Content -Path $file -Value $module.csharp
            $sources += $file
        }
        $root = $standInRoot
        if ($isBuiltIn) { $root = $builtInRoot }
        $modules += [pscustomobject]@{ name = $module.name; folder = (Join-Path $root $module.name); builtIn = $isBuiltIn; cmdlets = $cmdlets; functions = $functions }
        if ($functions.Count -gt 0) {
            $null = New-Item -ItemType Directory -Force -Path (Join-Path $root $module.name)
            Set-Content -Path (Join-Path (Join-Path $root $module.name) "$($module.name).psm1") -Value $module.psm1
        }
    }

    # One assembly for the behaviour and every stand-in cmdlet, loaded once: the modules nest it by path.
    $assembly = Join-Path $Work 'ArsJeaStandIn.dll'
    Add-Type -Path $sources -OutputAssembly $assembly -OutputType Library -IgnoreWarnings
    Add-Type -Path $assembly
    Initialize-ServiceTable $Services

    foreach ($module in $modules) {
        $null = New-Item -ItemType Directory -Force -Path $module.folder
        $manifest = @{ Path = (Join-Path $module.folder "$($module.name).psd1"); ModuleVersion = '1.0.0'; NestedModules = @(); CmdletsToExport = @($module.cmdlets); FunctionsToExport = @($module.functions); AliasesToExport = @(); VariablesToExport = @() }
        if ($module.cmdlets.Count -gt 0) { $manifest.NestedModules = @($assembly) }
        if ($module.functions.Count -gt 0) { $manifest.RootModule = "$($module.name).psm1" }
        New-ModuleManifest @manifest
    }
    $script:State = [pscustomobject]@{
        standInRoot = $standInRoot; assembly = $assembly; replaced = @($replaced); modules = @($modules)
        commands = $commandReport; lacking = @($lackingReport)
    }
    return $script:State
}

# The state Install-JeaStandIns returned (in another process, read back from JSON): loads the assembly.
function Import-JeaStandIns($State, $Services) {
    Add-Type -Path $State.assembly
    Initialize-ServiceTable $Services
    $script:State = $State
}

function Open-JeaRunspace($Iss, [bool] $EveryStandIn) {
    $replaced = @($script:State.replaced)
    $modules = @($script:State.modules)
    # A role that shows a replaced command with all its parameters made the built-in entry public;
    # its stand-in gets the same visibility once the session is open.
    $madePublic = @()
    foreach ($name in $replaced) {
        foreach ($entry in @($Iss.Commands[$name])) {
            if ($entry -is [System.Management.Automation.Runspaces.SessionStateCmdletEntry] -and $entry.Visibility -eq 'Public') { $madePublic += $entry.PSSnapIn.Name + '\' + $name }
        }
        $Iss.Commands.Remove($name, [System.Management.Automation.Runspaces.SessionStateCmdletEntry])
    }
    # A built-in module's stand-ins come with it, as on Windows: when the session imports that
    # module (imported without a role, they would be public).
    foreach ($module in @($modules | Where-Object { $_.builtIn })) {
        $wanted = $EveryStandIn -or @($Iss.Modules | Where-Object { $_.Name -eq $module.name }).Count -gt 0
        if ($wanted) { $Iss.ImportPSModule([string[]] @(Join-Path $module.folder "$($module.name).psd1")) }
    }
    if ($EveryStandIn) {
        foreach ($module in @($modules | Where-Object { -not $_.builtIn })) { $Iss.ImportPSModule([string[]] @(Join-Path $module.folder "$($module.name).psd1")) }
    }
    $runspace = [runspacefactory]::CreateRunspace($Iss)
    $runspace.Open()
    foreach ($name in $madePublic) {
        $command = $runspace.SessionStateProxy.InvokeCommand.GetCommand($name, [System.Management.Automation.CommandTypes]::Cmdlet)
        if ($null -ne $command) { $command.Visibility = 'Public' }
    }
    return $runspace
}

# The JEA session a user in $Groups gets from the session configuration $PsscPath: its role
# capabilities come from the modules on PSModulePath, the stand-in modules after them.
function New-JeaRoleRunspace([string] $PsscPath, [string[]] $Groups, [string] $TranscriptDirectory) {
    $standIns = $script:State.standInRoot
    if (-not ($env:PSModulePath -split [IO.Path]::PathSeparator -contains $standIns)) { $env:PSModulePath = $env:PSModulePath + [IO.Path]::PathSeparator + $standIns }
    $member = @($Groups)
    $verifier = [Func[string, bool]] { param($group) $member -contains $group }.GetNewClosure()
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateFromSessionConfigurationFile($PsscPath, $verifier)
    if ($TranscriptDirectory) { $iss.TranscriptDirectory = $TranscriptDirectory }
    return (Open-JeaRunspace $iss $false)
}

Export-ModuleMember -Function Install-JeaStandIns, Import-JeaStandIns, Open-JeaRunspace, New-JeaRoleRunspace

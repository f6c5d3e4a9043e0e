<#
.SYNOPSIS
Reads, with the real PowerShell parser, what PowerShell files use and declare: for test/support/powershell-uses.ts.

.DESCRIPTION
stdin: JSON {"scripts":[paths],"roles":[paths],"cmdletSources":[paths]}. stdout: one JSON document.

- scripts (.ps1, .psm1): every function defined (its parameters and aliases, whether it is advanced)
  and every command called: its name as written, the named parameters written (also the keys of a
  hashtable literal splatted with @name), and the capability checks that guard the call: the
  conditions of the if clauses around it, where the condition (or a term of its -and chain) is
  `Get-Command X` (or a variable assigned from it), or `(Get-Command X).Parameters.ContainsKey('P')`.
- roles (.psrc, .pssc): ModulesToImport, the names FunctionDefinitions defines (ownFunctions), and
  each VisibleCmdlets / VisibleFunctions entry with the
  parameters it makes visible and their ValidateSet values.
- cmdletSources (.cs): read with the C# parser; every [Cmdlet] class with its [Parameter] properties.

For the commands the scripts call, the parameters this pwsh knows are returned too: they say what
"a newer version" offers.
#>
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$request = ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd())
$Ast = [System.Management.Automation.Language.Ast]

function Get-ConstantText($Node) {
    if ($Node -is [System.Management.Automation.Language.StringConstantExpressionAst]) { return $Node.Value }
    return $null
}

function Get-ParameterDeclaration($ParameterAst) {
    $aliases = @(foreach ($attribute in $ParameterAst.Attributes) {
            if ($attribute -is [System.Management.Automation.Language.AttributeAst] -and $attribute.TypeName.Name -eq 'Alias') {
                foreach ($argument in $attribute.PositionalArguments) { $text = Get-ConstantText $argument; if ($null -ne $text) { $text } }
            }
        })
    return [ordered]@{ name = $ParameterAst.Name.VariablePath.UserPath; aliases = $aliases; line = $ParameterAst.Extent.StartLineNumber }
}

function Get-FunctionDeclaration($FunctionAst) {
    $parameters = @()
    if ($null -ne $FunctionAst.Parameters) { $parameters += @($FunctionAst.Parameters) }
    $block = $FunctionAst.Body.ParamBlock
    $advanced = $false
    $shouldProcess = $false
    if ($null -ne $block) {
        $parameters += @($block.Parameters)
        foreach ($attribute in $block.Attributes) {
            if ($attribute.TypeName.Name -ne 'CmdletBinding') { continue }
            $advanced = $true
            foreach ($named in $attribute.NamedArguments) {
                if ($named.ArgumentName -eq 'SupportsShouldProcess') {
                    $shouldProcess = $named.ExpressionOmitted -or $named.Argument.Extent.Text -eq '$true'
                }
            }
        }
    }
    foreach ($parameter in $parameters) {
        foreach ($attribute in $parameter.Attributes) {
            if ($attribute -is [System.Management.Automation.Language.AttributeAst] -and $attribute.TypeName.Name -eq 'Parameter') { $advanced = $true }
        }
    }
    return [ordered]@{
        name = $FunctionAst.Name
        line = $FunctionAst.Extent.StartLineNumber
        advanced = $advanced
        shouldProcess = $shouldProcess
        dynamicParameters = ($null -ne $FunctionAst.Body.DynamicParamBlock)
        parameters = @(foreach ($parameter in $parameters) { Get-ParameterDeclaration $parameter })
    }
}

# The command a `Get-Command X ...` pipeline asks about, or $null.
function Get-GetCommandTarget($Node) {
    if ($Node -is [System.Management.Automation.Language.ParenExpressionAst]) { $Node = $Node.Pipeline }
    if ($Node -is [System.Management.Automation.Language.PipelineAst] -and $Node.PipelineElements.Count -eq 1) { $Node = $Node.PipelineElements[0] }
    if ($Node -isnot [System.Management.Automation.Language.CommandAst]) { return $null }
    $name = $Node.GetCommandName()
    if ($name -ne 'Get-Command' -and $name -ne 'gcm' -and $name -ne 'Microsoft.PowerShell.Core\Get-Command') { return $null }
    $elements = $Node.CommandElements
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $element = $elements[$i]
        if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
            if ($element.ParameterName -eq 'Name') {
                if ($null -ne $element.Argument) { return (Get-ConstantText $element.Argument) }
                if ($i + 1 -lt $elements.Count) { return (Get-ConstantText $elements[$i + 1]) }
            }
            # A switch (-All) or a parameter with its value (-ErrorAction SilentlyContinue).
            if ($null -eq $element.Argument -and $element.ParameterName -notin @('All', 'ListImported', 'Syntax', 'ShowCommandInfo')) { $i++ }
            continue
        }
        return (Get-ConstantText $element)
    }
    return $null
}

# The terms of an -and chain, with parentheses, single-expression pipelines and `$null -ne X` unwrapped.
function Get-ConditionTerms($Node) {
    if ($Node -is [System.Management.Automation.Language.PipelineAst] -and $Node.PipelineElements.Count -eq 1 -and
        $Node.PipelineElements[0] -is [System.Management.Automation.Language.CommandExpressionAst]) {
        return (Get-ConditionTerms $Node.PipelineElements[0].Expression)
    }
    if ($Node -is [System.Management.Automation.Language.ParenExpressionAst]) { return (Get-ConditionTerms $Node.Pipeline) }
    if ($Node -is [System.Management.Automation.Language.BinaryExpressionAst]) {
        if ($Node.Operator -eq 'And') { return @(Get-ConditionTerms $Node.Left) + @(Get-ConditionTerms $Node.Right) }
        if ($Node.Operator -eq 'Ine') {
            if ($Node.Left.Extent.Text -eq '$null') { return (Get-ConditionTerms $Node.Right) }
            if ($Node.Right.Extent.Text -eq '$null') { return (Get-ConditionTerms $Node.Left) }
        }
    }
    if ($Node -is [System.Management.Automation.Language.ConvertExpressionAst] -and $Node.Type.TypeName.Name -eq 'bool') {
        return (Get-ConditionTerms $Node.Child)
    }
    return @(, $Node)
}

# The command X of `Get-Command X` or of a variable the script assigns from it.
function Get-CapabilityCommand($Node, $CommandVariables) {
    $target = Get-GetCommandTarget $Node
    if ($null -ne $target) { return $target }
    if ($Node -is [System.Management.Automation.Language.VariableExpressionAst]) {
        $name = $Node.VariablePath.UserPath.ToLowerInvariant()
        if ($CommandVariables.ContainsKey($name)) { return $CommandVariables[$name] }
    }
    return $null
}

function Get-Guards($Condition, $CommandVariables) {
    foreach ($term in Get-ConditionTerms $Condition) {
        $command = Get-CapabilityCommand $term $CommandVariables
        if ($null -ne $command) { [ordered]@{ command = $command; parameter = $null }; continue }
        if ($term -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -and
            (Get-ConstantText $term.Member) -eq 'ContainsKey' -and @($term.Arguments).Count -eq 1 -and
            $term.Expression -is [System.Management.Automation.Language.MemberExpressionAst] -and
            (Get-ConstantText $term.Expression.Member) -eq 'Parameters') {
            $command = Get-CapabilityCommand $term.Expression.Expression $CommandVariables
            $parameter = Get-ConstantText $term.Arguments[0]
            if ($null -ne $command -and $null -ne $parameter) { [ordered]@{ command = $command; parameter = $parameter } }
        }
    }
}

# Capability checks of the if clauses whose body holds $Node (not their else blocks).
function Get-EnclosingGuards($Node, $CommandVariables) {
    $child = $Node
    $parent = $Node.Parent
    while ($null -ne $parent) {
        if ($parent -is [System.Management.Automation.Language.IfStatementAst]) {
            foreach ($clause in $parent.Clauses) {
                if ([object]::ReferenceEquals($clause.Item2, $child)) { Get-Guards $clause.Item1 $CommandVariables }
            }
        }
        $child = $parent
        $parent = $parent.Parent
    }
}

# Keys written into the hashtable variable $Name in $Scope: `$Name = @{ Key = ... }`, `$Name['Key'] =`, `$Name.Key =`.
function Get-SplatKeys($Scope, [string] $Name) {
    $keys = New-Object System.Collections.ArrayList
    $found = $false
    $assignments = $Scope.FindAll({ param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] }, $true)
    foreach ($assignment in $assignments) {
        $left = $assignment.Left
        if ($left -is [System.Management.Automation.Language.VariableExpressionAst] -and $left.VariablePath.UserPath -eq $Name) {
            $right = $assignment.Right
            if ($right -isnot [System.Management.Automation.Language.CommandExpressionAst]) { continue }
            $table = $right.Expression
            # [ordered]@{ ... }
            if ($table -is [System.Management.Automation.Language.ConvertExpressionAst]) { $table = $table.Child }
            if ($table -is [System.Management.Automation.Language.HashtableAst]) {
                $found = $true
                foreach ($pair in $table.KeyValuePairs) {
                    $key = Get-ConstantText $pair.Item1
                    if ($null -ne $key) { $null = $keys.Add([ordered]@{ name = $key; line = $pair.Item1.Extent.StartLineNumber }) }
                }
            }
        }
        elseif ($left -is [System.Management.Automation.Language.IndexExpressionAst] -and $left.Target -is [System.Management.Automation.Language.VariableExpressionAst] -and
            $left.Target.VariablePath.UserPath -eq $Name) {
            $key = Get-ConstantText $left.Index
            if ($null -ne $key) { $null = $keys.Add([ordered]@{ name = $key; line = $left.Extent.StartLineNumber }) }
        }
        elseif ($left -is [System.Management.Automation.Language.MemberExpressionAst] -and $left.Expression -is [System.Management.Automation.Language.VariableExpressionAst] -and
            $left.Expression.VariablePath.UserPath -eq $Name) {
            $key = Get-ConstantText $left.Member
            if ($null -ne $key) { $null = $keys.Add([ordered]@{ name = $key; line = $left.Extent.StartLineNumber }) }
        }
    }
    return @{ Found = $found; Keys = @($keys) }
}

function Get-EnclosingScope($Node) {
    $parent = $Node.Parent
    while ($null -ne $parent) {
        if ($parent -is [System.Management.Automation.Language.FunctionDefinitionAst] -or ($parent -is [System.Management.Automation.Language.ScriptBlockAst] -and $null -eq $parent.Parent)) { return $parent }
        $parent = $parent.Parent
    }
    return $Node
}

function Get-CommandUse($CommandAst, $CommandVariables) {
    $parameters = New-Object System.Collections.ArrayList
    $unresolvedSplats = New-Object System.Collections.ArrayList
    foreach ($element in $CommandAst.CommandElements) {
        if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
            $null = $parameters.Add([ordered]@{ name = $element.ParameterName; line = $element.Extent.StartLineNumber; splat = $false })
        }
        elseif ($element -is [System.Management.Automation.Language.VariableExpressionAst] -and $element.Splatted) {
            $splat = Get-SplatKeys (Get-EnclosingScope $CommandAst) $element.VariablePath.UserPath
            if ($splat.Found) { foreach ($key in $splat.Keys) { $null = $parameters.Add([ordered]@{ name = $key.name; line = $key.line; splat = $true }) } }
            else { $null = $unresolvedSplats.Add($element.VariablePath.UserPath) }
        }
    }
    return [ordered]@{
        command = $CommandAst.GetCommandName()
        invocation = [string] $CommandAst.InvocationOperator
        line = $CommandAst.Extent.StartLineNumber
        parameters = @($parameters)
        unresolvedSplats = @($unresolvedSplats)
        guards = @(Get-EnclosingGuards $CommandAst $CommandVariables)
    }
}

function Read-Script([string] $File) {
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($File, [ref] $null, [ref] $errors)
    $commandVariables = @{}
    foreach ($assignment in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] }, $true)) {
        if ($assignment.Left -isnot [System.Management.Automation.Language.VariableExpressionAst]) { continue }
        $target = Get-GetCommandTarget $assignment.Right
        if ($null -ne $target) { $commandVariables[$assignment.Left.VariablePath.UserPath.ToLowerInvariant()] = $target }
    }
    $functions = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true)
    $commands = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true)
    return [ordered]@{
        file = $File
        parseErrors = @(foreach ($e in $errors) { '{0}:{1} {2}' -f $e.Extent.StartLineNumber, $e.Extent.StartColumnNumber, $e.Message })
        functions = @(foreach ($f in $functions) { Get-FunctionDeclaration $f })
        uses = @(foreach ($c in $commands) { Get-CommandUse $c $commandVariables })
    }
}

# The nearest hashtable around $Node (not $Node itself).
function Get-OuterHashtable($Node) {
    $parent = $Node.Parent
    while ($null -ne $parent -and $parent -isnot [System.Management.Automation.Language.HashtableAst]) { $parent = $parent.Parent }
    return $parent
}

function Get-HashtableValue($Hashtable, [string] $Key) {
    foreach ($pair in $Hashtable.KeyValuePairs) { if ((Get-ConstantText $pair.Item1) -eq $Key) { return $pair.Item2 } }
    return $null
}

function Read-Role([string] $File) {
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($File, [ref] $null, [ref] $errors)
    $root = $ast.Find({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $true)
    $entries = New-Object System.Collections.ArrayList
    $modules = New-Object System.Collections.ArrayList
    $ownFunctions = New-Object System.Collections.ArrayList
    if ($null -ne $root) {
        foreach ($pair in $root.KeyValuePairs) {
            $key = Get-ConstantText $pair.Item1
            # FunctionDefinitions = @( @{ Name = ...; ScriptBlock = {...} } ): the role's own functions.
            if ($key -eq 'FunctionDefinitions') {
                foreach ($h in $pair.Item2.FindAll({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $true)) {
                    $nameNode = Get-HashtableValue $h 'Name'
                    if ($null -ne $nameNode -and $null -ne (Get-HashtableValue $h 'ScriptBlock')) { $null = $ownFunctions.Add($nameNode.Extent.Text.Trim("'", '"')) }
                }
            }
            if ($key -eq 'ModulesToImport') {
                foreach ($s in $pair.Item2.FindAll({ param($n) $n -is [System.Management.Automation.Language.StringConstantExpressionAst] }, $true)) {
                    if ([object]::ReferenceEquals((Get-OuterHashtable $s), $root)) { $null = $modules.Add([ordered]@{ name = $s.Value; line = $s.Extent.StartLineNumber }) }
                }
            }
            if ($key -ne 'VisibleCmdlets' -and $key -ne 'VisibleFunctions') { continue }
            $value = $pair.Item2
            # A plain name: a string whose nearest hashtable is the file's own.
            foreach ($s in $value.FindAll({ param($n) $n -is [System.Management.Automation.Language.StringConstantExpressionAst] }, $true)) {
                if ([object]::ReferenceEquals((Get-OuterHashtable $s), $root)) {
                    $null = $entries.Add([ordered]@{ kind = $key; command = $s.Value; line = $s.Extent.StartLineNumber; parameters = $null })
                }
            }
            # @{ Name = ...; Parameters = @( @{ Name = ...; ValidateSet = ... } ) }
            foreach ($h in $value.FindAll({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $true)) {
                if (-not [object]::ReferenceEquals((Get-OuterHashtable $h), $root)) { continue }
                $nameNode = Get-HashtableValue $h 'Name'
                $parameters = New-Object System.Collections.ArrayList
                $parametersNode = Get-HashtableValue $h 'Parameters'
                if ($null -ne $parametersNode) {
                    foreach ($p in $parametersNode.FindAll({ param($n) $n -is [System.Management.Automation.Language.HashtableAst] }, $true)) {
                        $pName = Get-HashtableValue $p 'Name'
                        $set = Get-HashtableValue $p 'ValidateSet'
                        $values = $null
                        if ($null -ne $set) { $values = @($set.FindAll({ param($n) $n -is [System.Management.Automation.Language.StringConstantExpressionAst] }, $true) | ForEach-Object { $_.Value }) }
                        $parameterName = ''
                        $parameterLine = $p.Extent.StartLineNumber
                        if ($null -ne $pName) { $parameterName = $pName.Extent.Text.Trim("'", '"'); $parameterLine = $pName.Extent.StartLineNumber }
                        $null = $parameters.Add([ordered]@{ name = $parameterName; line = $parameterLine; validateSet = $values })
                    }
                }
                # An entry without a Name names no command: reported as the empty name.
                $command = ''
                $line = $h.Extent.StartLineNumber
                if ($null -ne $nameNode) { $command = $nameNode.Extent.Text.Trim("'", '"'); $line = $nameNode.Extent.StartLineNumber }
                $null = $entries.Add([ordered]@{ kind = $key; command = $command; line = $line; parameters = @($parameters) })
            }
        }
    }
    return [ordered]@{
        file = $File
        parseErrors = @(foreach ($e in $errors) { '{0}:{1} {2}' -f $e.Extent.StartLineNumber, $e.Extent.StartColumnNumber, $e.Message })
        modulesToImport = @($modules)
        entries = @($entries)
        ownFunctions = @($ownFunctions)
    }
}

# Cmdlet classes in C# stand-ins, read with the C# parser (no compile: fast): each [Cmdlet] class
# with the [Parameter] properties it declares or inherits from a class of the same sources.
function Read-CmdletSources([string[]] $Files) {
    $classes = @{}
    foreach ($file in $Files) {
        $tree = [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText([System.IO.File]::ReadAllText($file))
        foreach ($node in $tree.GetRoot().DescendantNodes()) {
            if ($node -isnot [Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax]) { continue }
            $cmdlet = $null
            foreach ($attribute in @($node.AttributeLists | ForEach-Object { $_.Attributes })) {
                if ($attribute.Name.ToString() -notmatch '^(System\.Management\.Automation\.)?Cmdlet(Attribute)?$') { continue }
                $arguments = @($attribute.ArgumentList.Arguments | Where-Object { $null -eq $_.NameEquals })
                # VerbsCommon.Get is the constant "Get": the member's name is its value.
                $verb = ($arguments[0].Expression.ToString() -split '\.')[-1].Trim('"')
                $noun = $arguments[1].Expression.ToString().Trim('"')
                $cmdlet = '{0}-{1}' -f $verb, $noun
            }
            $parameters = foreach ($member in $node.Members) {
                if ($member -isnot [Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax]) { continue }
                $attributes = @($member.AttributeLists | ForEach-Object { $_.Attributes })
                if (-not ($attributes | Where-Object { $_.Name.ToString() -match '^Parameter(Attribute)?$' })) { continue }
                $aliases = @($attributes | Where-Object { $_.Name.ToString() -match '^Alias(Attribute)?$' } |
                        ForEach-Object { $_.ArgumentList.Arguments } | ForEach-Object { $_.Expression.ToString().Trim('"') })
                [ordered]@{ name = $member.Identifier.Text; aliases = $aliases; line = $member.GetLocation().GetLineSpan().StartLinePosition.Line + 1 }
            }
            $base = $null
            if ($null -ne $node.BaseList) { $base = ($node.BaseList.Types[0].Type.ToString() -split '\.')[-1] }
            $classes[$node.Identifier.Text] = @{ File = $file; Cmdlet = $cmdlet; Base = $base; Parameters = @($parameters); Line = $node.GetLocation().GetLineSpan().StartLinePosition.Line + 1 }
        }
    }
    foreach ($name in @($classes.Keys | Sort-Object)) {
        $class = $classes[$name]
        if ($null -eq $class.Cmdlet) { continue }
        $parameters = @($class.Parameters)
        $base = $class.Base
        while ($null -ne $base -and $classes.ContainsKey($base)) { $parameters += $classes[$base].Parameters; $base = $classes[$base].Base }
        [ordered]@{ file = $class.File; command = $class.Cmdlet; className = $name; line = $class.Line; parameters = $parameters }
    }
}

$scripts = @(foreach ($file in @($request.scripts)) { Read-Script $file })
$roles = @(foreach ($file in @($request.roles)) { Read-Role $file })
$cmdlets = @(Read-CmdletSources @($request.cmdletSources))

# What this (newer) PowerShell offers for the commands the scripts call (not their own functions):
# one Get-Command for all, since each lookup of an unknown name scans the module path.
$defined = @($scripts | ForEach-Object { $_.functions } | ForEach-Object { $_.name })
$called = @($scripts | ForEach-Object { $_.uses } | ForEach-Object { $_.command } |
        Where-Object { $null -ne $_ -and $_ -notmatch '[\\/]' -and $defined -notcontains $_ } | Sort-Object -Unique)
$local = [ordered]@{}
if ($called.Count -gt 0) {
    foreach ($info in @(Get-Command -Name $called -CommandType Alias, Cmdlet, Function -ErrorAction SilentlyContinue)) {
        $target = $info
        if ($info.CommandType -eq 'Alias') { $target = $info.ResolvedCommand }
        if ($null -eq $target -or $local.Contains($info.Name)) { continue }
        $local[$info.Name] = @(foreach ($parameter in $target.Parameters.Values) { [ordered]@{ name = $parameter.Name; aliases = @($parameter.Aliases) } })
    }
}

ConvertTo-Json -InputObject ([ordered]@{ scripts = $scripts; roles = $roles; cmdlets = $cmdlets; local = $local }) -Depth 8 -Compress

/**
 * Our own JEA functions run in full language, so their scripts are read with the real PowerShell
 * parser: they run only the commands the role declares they call (module-qualified, never through
 * & or . or a script block), use no types beyond their parameters' and no variables beyond their
 * parameters and their own locals, and call no method (so they also run under a constrained
 * language mode). So no text a caller passes can become code or a command.
 */
import execa from 'execa';
import { generateJeaFiles, renderFunctionScript } from '../../jea/generate';
import { FunctionDefinition } from '../../jea/role-model';
import { findPwsh } from '../support/cms';

const READ = `
$ErrorActionPreference = 'Stop'
$functions = @(ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd()))
$results = foreach ($f in $functions) {
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($f.script, [ref] $tokens, [ref] $errors)
    $find = { param($type) @($ast.FindAll({ param($n) $n -is $type }.GetNewClosure(), $true)) }
    $commands = foreach ($c in (& $find ([System.Management.Automation.Language.CommandAst]))) {
        [ordered]@{ name = $c.GetCommandName(); operator = [string] $c.InvocationOperator }
    }
    $types = @()
    foreach ($t in (& $find ([System.Management.Automation.Language.TypeConstraintAst]))) { $types += $t.TypeName.FullName }
    foreach ($t in (& $find ([System.Management.Automation.Language.AttributeAst]))) { $types += $t.TypeName.FullName }
    foreach ($t in (& $find ([System.Management.Automation.Language.TypeExpressionAst]))) { $types += $t.TypeName.FullName }
    $assigned = @()
    foreach ($a in (& $find ([System.Management.Automation.Language.AssignmentStatementAst]))) {
        if ($a.Left -is [System.Management.Automation.Language.VariableExpressionAst]) { $assigned += $a.Left.VariablePath.UserPath }
    }
    foreach ($l in (& $find ([System.Management.Automation.Language.ForEachStatementAst]))) { $assigned += $l.Variable.VariablePath.UserPath }
    $methods = foreach ($m in (& $find ([System.Management.Automation.Language.InvokeMemberExpressionAst]))) { '{0}.{1}' -f $m.Expression.Extent.Text, $m.Member.Extent.Text }
    [ordered]@{
        name = $f.name
        errors = @($errors | ForEach-Object { $_.Message })
        commands = @($commands)
        types = @($types | Sort-Object -Unique)
        parameters = @($ast.ParamBlock.Parameters | ForEach-Object { $_.Name.VariablePath.UserPath })
        variables = @((& $find ([System.Management.Automation.Language.VariableExpressionAst])) | ForEach-Object { $_.VariablePath.UserPath } | Sort-Object -Unique)
        assigned = @($assigned | Sort-Object -Unique)
        methods = @($methods)
        scriptBlocks = (& $find ([System.Management.Automation.Language.ScriptBlockExpressionAst])).Count
    }
}
ConvertTo-Json -InputObject @($results) -Depth 5 -Compress
`;

interface Read {
  name: string;
  errors: string[];
  commands: Array<{ name: string; operator: string }>;
  types: string[];
  parameters: string[];
  variables: string[];
  assigned: string[];
  methods: string[];
  scriptBlocks: number;
}

const TYPES = ['CmdletBinding', 'Parameter', 'ValidateSet', 'ValidatePattern', 'string', 'string[]', 'int', 'int[]', 'long', 'switch'];
const AUTOMATIC = ['true', 'false', 'null'];

async function read(functions: FunctionDefinition[]): Promise<Read[]> {
  const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', READ], {
    input: JSON.stringify(functions.map((f) => ({ name: f.name, script: renderFunctionScript(f) }))),
    env: { POWERSHELL_TELEMETRY_OPTOUT: '1' },
  });
  return JSON.parse(stdout) as Read[];
}

/** What a function's script does that the rule above does not allow. */
function problems(f: FunctionDefinition, r: Read): string[] {
  const calls = f.calls.map((c) => c.toLowerCase());
  const known = new Set([...r.parameters, ...r.assigned, ...AUTOMATIC].map((v) => v.toLowerCase()));
  return [
    ...r.errors.map((e) => `parse error: ${e}`),
    ...r.commands.filter((c) => !calls.includes(c.name.toLowerCase())).map((c) => `runs ${c.name}, which it does not declare`),
    ...r.commands.filter((c) => c.operator !== 'Unknown').map((c) => `runs ${c.name} through ${c.operator}`),
    ...r.types.filter((t) => !TYPES.includes(t)).map((t) => `uses the type ${t}`),
    ...r.variables.filter((v) => !known.has(v.toLowerCase())).map((v) => `reads $${v}`),
    ...r.methods.map((m) => `calls ${m}`),
    ...(r.scriptBlocks > 0 ? ['holds a script block'] : []),
  ];
}

describe('our own JEA functions, read with the real parser', () => {
  const own = generateJeaFiles().roles.flatMap((r) => r.functionDefinitions);
  let results: Read[];

  beforeAll(async () => {
    const samples: FunctionDefinition[] = [
      {
        name: 'Get-Bad1',
        calls: ['M\\Get-X'],
        parameters: [{ name: 'Text', type: 'string', mandatory: false, validatePattern: '[a-z]+' }],
        body: 'Invoke-Expression $Text\nM\\Get-X -Path $env:SystemRoot',
      },
      { name: 'Get-Bad2', calls: ['M\\Get-X'], parameters: [], body: "& 'M\\Get-X'\n. M\\Get-X" },
      {
        name: 'Get-Bad3',
        calls: ['M\\Get-X'],
        parameters: [],
        body: '[scriptblock]::Create("x").Invoke()\n$ExecutionContext.InvokeCommand.ExpandString("x")\n{ M\\Get-X }',
      },
    ];
    results = await read([...own, ...samples]);
  }, 60_000);

  it('the shipped ones: declared module-qualified calls only, no code built from text', () => {
    expect(own.map((f) => f.name)).toEqual(['Get-WinEvent']);
    for (const f of own) {
      const r = results.find((x) => x.name === f.name)!;
      expect([f.name, problems(f, r)]).toEqual([f.name, []]);
      expect(r.commands.map((c) => c.name)).toEqual(f.calls);
      expect(r.parameters).toEqual(f.parameters.map((p) => p.name));
    }
  });

  it('the reading catches a function that evaluates text, invokes by operator, builds script blocks or reaches the engine', () => {
    const of = (name: string) => {
      const f = { name, calls: ['M\\Get-X'], parameters: [], body: '' } as FunctionDefinition;
      return problems(
        f,
        results.find((x) => x.name === name)!,
      );
    };
    expect(of('Get-Bad1')).toEqual(expect.arrayContaining(['runs Invoke-Expression, which it does not declare', 'reads $env:SystemRoot']));
    expect(of('Get-Bad2')).toEqual(expect.arrayContaining(['runs M\\Get-X through Ampersand', 'runs M\\Get-X through Dot']));
    expect(of('Get-Bad3')).toEqual(
      expect.arrayContaining([
        'uses the type scriptblock',
        'reads $ExecutionContext',
        'holds a script block',
        'calls $ExecutionContext.InvokeCommand.ExpandString',
      ]),
    );
  });
});

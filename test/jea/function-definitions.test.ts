/**
 * Our own JEA functions run in full language, so their scripts are read with the real PowerShell
 * parser: they run only the commands the role declares they call (module-qualified, never through
 * & or . or a script block), use no types beyond their parameters' and a few value types, no
 * variables beyond their parameters and their own locals, and call no method (so they also run
 * under a constrained language mode). So no text a caller passes can become code or a command.
 * The one exception is the node agent call that the generator writes for a function with
 * `agent:` (jea/agent-call.ts): exactly one `&`, of the agent's node.exe and agent.js resolved
 * from their fixed paths, with the declared subcommand and flags as constants and each value a
 * local; the connected user only from $PSSenderInfo.
 */
import execa from 'execa';
import { AGENT_NODE, AGENT_SCRIPT } from '../../core/node-layout';
import { AGENT_SWITCH_FLAGS, agentVariable, functionCalls } from '../../jea/agent-call';
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
        $elements = foreach ($e in $c.CommandElements) {
            if ($e -is [System.Management.Automation.Language.StringConstantExpressionAst]) { 'const:' + $e.Value }
            elseif ($e -is [System.Management.Automation.Language.VariableExpressionAst]) { 'var:' + $e.VariablePath.UserPath }
            elseif ($e -is [System.Management.Automation.Language.CommandParameterAst]) { 'param:' + $e.ParameterName }
            else { 'other:' + $e.Extent.Text }
        }
        [ordered]@{ name = $c.GetCommandName(); operator = [string] $c.InvocationOperator; elements = @($elements); redirections = @($c.Redirections | ForEach-Object { $_.Extent.Text }) }
    }
    $assignments = foreach ($a in (& $find ([System.Management.Automation.Language.AssignmentStatementAst]))) {
        if ($a.Left -is [System.Management.Automation.Language.VariableExpressionAst]) { [ordered]@{ name = $a.Left.VariablePath.UserPath; right = $a.Right.Extent.Text } }
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
        assignments = @($assignments)
        methods = @($methods)
        scriptBlocks = (& $find ([System.Management.Automation.Language.ScriptBlockExpressionAst])).Count
    }
}
ConvertTo-Json -InputObject @($results) -Depth 5 -Compress
`;

interface Read {
  name: string;
  errors: string[];
  commands: Array<{ name: string | null; operator: string; elements: string[]; redirections: string[] }>;
  assignments: Array<{ name: string; right: string }>;
  types: string[];
  parameters: string[];
  variables: string[];
  assigned: string[];
  methods: string[];
  scriptBlocks: number;
}

const TYPES = ['CmdletBinding', 'Parameter', 'ValidateSet', 'ValidatePattern', 'string', 'string[]', 'int', 'int[]', 'long', 'switch'];
/** Value types a function may convert to (times of a log collection window, output objects). */
const VALUE_TYPES = ['datetimeoffset', 'timespan', 'pscustomobject'];
const AUTOMATIC = ['true', 'false', 'null'];
/** What the generated agent call reads besides its locals: the connected user, the exit code, the error preference. */
const AGENT_AUTOMATIC = ['PSSenderInfo', 'LASTEXITCODE', 'ErrorActionPreference'];

/** The one `&` a function with agent: may hold, as the generator writes it. */
function agentCallElements(f: FunctionDefinition): string[] {
  const agent = f.agent!;
  return [
    'var:agentNode',
    'var:agentScript',
    `const:${agent.subcommand}`,
    ...agent.arguments.flatMap((flag) => [`const:${flag}`, ...(AGENT_SWITCH_FLAGS.includes(flag) ? [] : [`var:${agentVariable(flag)}`])]),
  ];
}

/** What a function that runs the agent does beyond the one call the generator writes. */
function agentProblems(f: FunctionDefinition, r: Read): string[] {
  const invoked = r.commands.filter((c) => c.operator === 'Ampersand');
  if (!f.agent) return [];
  const problems: string[] = [];
  const expected = agentCallElements(f);
  if (invoked.length !== 1 || JSON.stringify(invoked[0]!.elements) !== JSON.stringify(expected))
    problems.push(`runs by & ${JSON.stringify(invoked.map((c) => c.elements))}, not exactly ${JSON.stringify(expected)}`);
  const only = (name: string, right: string) => {
    const set = r.assignments.filter((a) => a.name.toLowerCase() === name.toLowerCase()).map((a) => a.right);
    if (set.some((text) => text !== right) || set.length === 0) problems.push(`sets $${name} to ${JSON.stringify(set)}, not ${right}`);
  };
  only('agentNode', `Microsoft.PowerShell.Management\\Convert-Path -LiteralPath '${AGENT_NODE}' -ErrorAction SilentlyContinue`);
  only('agentScript', `Microsoft.PowerShell.Management\\Convert-Path -LiteralPath '${AGENT_SCRIPT}' -ErrorAction SilentlyContinue`);
  if (f.agent.arguments.includes('--requested-by')) {
    const set = r.assignments.filter((a) => a.name.toLowerCase() === 'agentrequestedby').map((a) => a.right);
    if (JSON.stringify(set) !== JSON.stringify(['$null', '$PSSenderInfo.ConnectedUser']))
      problems.push(`sets $agentRequestedBy to ${JSON.stringify(set)}, not only the connected user`);
  }
  return problems;
}

async function read(functions: FunctionDefinition[]): Promise<Read[]> {
  const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', READ], {
    input: JSON.stringify(functions.map((f) => ({ name: f.name, script: renderFunctionScript(f) }))),
    env: { POWERSHELL_TELEMETRY_OPTOUT: '1' },
  });
  return JSON.parse(stdout) as Read[];
}

/** What a function's script does that the rule above does not allow. */
function problems(f: FunctionDefinition, r: Read): string[] {
  const calls = functionCalls(f).map((c) => c.toLowerCase());
  const known = new Set([...r.parameters, ...r.assigned, ...AUTOMATIC, ...(f.agent ? AGENT_AUTOMATIC : [])].map((v) => v.toLowerCase()));
  const byName = r.commands.filter((c) => c.operator === 'Unknown');
  const byOperator = r.commands.filter((c) => c.operator !== 'Unknown' && !(f.agent && c.operator === 'Ampersand'));
  return [
    ...r.errors.map((e) => `parse error: ${e}`),
    ...byName.filter((c) => !calls.includes((c.name ?? '').toLowerCase())).map((c) => `runs ${c.name}, which it does not declare`),
    ...byOperator.map((c) => `runs ${c.name ?? c.elements[0]} through ${c.operator}`),
    ...agentProblems(f, r),
    ...r.types.filter((t) => !TYPES.includes(t) && !VALUE_TYPES.includes(t.toLowerCase())).map((t) => `uses the type ${t}`),
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
      // Runs the agent, but not only as the generator writes it: another subcommand, and a second program.
      {
        name: 'Get-Bad4',
        calls: [],
        parameters: [],
        body: '$agentJson = 1',
        agent: { subcommand: 'history', arguments: ['--json'] },
        answer: "& $agentNode $agentScript 'revoke'\n$agentNode = 'C:\\Windows\\System32\\cmd.exe'\n& $agentNode /c whoami",
      },
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
    expect(own.map((f) => f.name)).toEqual(['Get-WinEvent', 'Request-RemoteSupportLogCollection', 'Get-RemoteSupportLogCollectionHistory']);
    for (const f of own) {
      const r = results.find((x) => x.name === f.name)!;
      expect([f.name, problems(f, r)]).toEqual([f.name, []]);
      const named = r.commands.filter((c) => c.operator === 'Unknown').map((c) => c.name!);
      expect([...new Set(named)].sort()).toEqual([...functionCalls(f)].sort());
      expect(r.parameters).toEqual(f.parameters.map((p) => p.name));
    }
  });

  it('the log collection function runs the agent once, with the fixed subcommand, its flags and the connected user', () => {
    const request = own.find((f) => f.name === 'Request-RemoteSupportLogCollection')!;
    const r = results.find((x) => x.name === request.name)!;
    expect(r.commands.filter((c) => c.operator === 'Ampersand').map((c) => c.elements)).toEqual([
      [
        'var:agentNode',
        'var:agentScript',
        'const:request-log-collection',
        'const:--from',
        'var:agentFrom',
        'const:--to',
        'var:agentTo',
        'const:--category',
        'var:agentCategory',
        'const:--requested-by',
        'var:agentRequestedBy',
      ],
    ]);
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
    const bad4 = { name: 'Get-Bad4', calls: [], parameters: [], body: '', agent: { subcommand: 'history', arguments: ['--json'] } };
    expect(
      problems(
        bad4,
        results.find((x) => x.name === 'Get-Bad4')!,
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^runs by & .*const:revoke.*, not exactly/),
        expect.stringContaining('sets $agentNode to ["Microsoft.PowerShell.Management\\\\Convert-Path -LiteralPath \'C:\\\\Program Files'),
      ]),
    );
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

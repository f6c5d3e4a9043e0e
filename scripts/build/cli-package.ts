/**
 * Builds the publishable CLI package: dist/arc-remote-support-<version>.tgz, installable with
 * `npm install -g <tgz>` and nothing else (no dependencies: the bundle carries them).
 *
 *   npm run package:cli [-- --out <dir>]
 *
 * The package folder is kept beside the tarball (stagingDir) to read what ships.
 */
import { promises as fs } from 'fs';
import path from 'path';
import execa from 'execa';
import type { Metafile } from 'esbuild';
import { bundleCli, CLI_NODE_MAJOR } from './bundle-cli';
import { assertGeneratedFilesCurrent } from './generate';
import { REPO_ROOT, loadExtensionIdentity } from '../../manifests/extension-identity';

export const CLI_PACKAGE_NAME = 'arc-remote-support';
const BIN_FILE = 'bin/arc-remote-support.js';

export interface BuiltCliPackage {
  tarball: string;
  stagingDir: string;
  version: string;
  bundleSize: number;
}

/** The package's own package.json: no dependencies, no scripts, nothing to run at install. */
export function cliPackageJson(version: string): Record<string, unknown> {
  return {
    name: CLI_PACKAGE_NAME,
    version,
    description:
      'Control plane for the Arc Remote Support extension: deploy it and grant, change, revoke and watch time-boxed support access on Arc-enabled Windows Server.',
    license: 'MIT',
    bin: { [CLI_PACKAGE_NAME]: BIN_FILE },
    engines: { node: `>=${CLI_NODE_MAJOR}` },
  };
}

function cliReadme(version: string): string {
  return `# arc-remote-support ${version}

The control plane of the Arc Remote Support extension (${version}): deploys the extension to
Azure Arc-enabled Windows Server and grants, changes, revokes and reports time-boxed, consented
support access through Azure Resource Manager, for one machine, a cluster or a fleet.

One self-contained file: Node.js ${CLI_NODE_MAJOR} or later is the only requirement.

\`\`\`sh
npm install -g ./arc-remote-support-${version}.tgz
arc-remote-support --help
arc-remote-support deploy --resource-group servers
arc-remote-support grant  --machine fs01 --resource-group servers \\
                          --level Diagnostics --duration 8h --support-request TKT-2611240001
arc-remote-support status --resource-group servers
arc-remote-support revoke --resource-group servers
\`\`\`

Credentials come from DefaultAzureCredential: \`az login\`, or \`AZURE_CLIENT_ID\`,
\`AZURE_TENANT_ID\` and \`AZURE_CLIENT_SECRET\`, or a managed identity. The subscription is
\`--subscription\` or \`AZURE_SUBSCRIPTION_ID\`. \`arc-remote-support <command> --help\` lists each
command's options and the exit codes.

The licenses of the open-source packages bundled into the program are in THIRD-PARTY-NOTICES.md.
`;
}

interface BundledPackage {
  name: string;
  version: string;
  license: string;
  licenseText: string | undefined;
}

/** The node_modules package folder of a bundled input, e.g. node_modules/@azure/identity. */
function packageFolderOf(input: string): string | undefined {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match?.[1];
}

/** Every third-party package the bundle carries, with its license text: their licenses ask for it. */
async function bundledPackages(metafile: Metafile): Promise<BundledPackage[]> {
  const folders = new Set(Object.keys(metafile.inputs).flatMap((input) => packageFolderOf(input) ?? []));
  const packages = await Promise.all(
    [...folders].map(async (folder): Promise<BundledPackage> => {
      const dir = path.join(REPO_ROOT, folder);
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
        license?: string;
      };
      const licenseFile = (await fs.readdir(dir)).find((file) => /^(licen[cs]e|copying)([-.][\w.-]*)?$/i.test(file));
      return {
        name: manifest.name,
        version: manifest.version,
        license: manifest.license ?? 'see the package',
        licenseText: licenseFile ? (await fs.readFile(path.join(dir, licenseFile), 'utf8')).trim() : undefined,
      };
    }),
  );
  // One section per name and version, however many copies node_modules holds.
  const unique = new Map(packages.map((pkg) => [`${pkg.name}@${pkg.version}`, pkg]));
  return [...unique.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));
}

function thirdPartyNotices(packages: BundledPackage[]): string {
  const sections = packages.map(
    (pkg) =>
      `## ${pkg.name} ${pkg.version} (${pkg.license})\n\n${pkg.licenseText ? `\`\`\`\n${pkg.licenseText}\n\`\`\`` : 'The package carries no license file; its license is the one named above.'}\n`,
  );
  return `# Third-party notices\n\nbin/arc-remote-support.js bundles these packages.\n\n${sections.join('\n')}`;
}

export async function buildCliPackage(options: { outDir?: string } = {}): Promise<BuiltCliPackage> {
  const identity = loadExtensionIdentity();
  const outDir = path.resolve(options.outDir ?? path.join(REPO_ROOT, 'dist'));
  const base = `${CLI_PACKAGE_NAME}-${identity.version}`;
  const stagingDir = path.join(outDir, base);
  const tarball = path.join(outDir, `${base}.tgz`);

  // Nothing from an earlier build of this version survives a failed one.
  await Promise.all([fs.rm(stagingDir, { recursive: true, force: true }), fs.rm(tarball, { force: true })]);
  try {
    const bundle = await bundleCli({ identity, outFile: path.join(stagingDir, BIN_FILE) });
    await fs.writeFile(path.join(stagingDir, 'package.json'), `${JSON.stringify(cliPackageJson(identity.version), null, 2)}\n`);
    await fs.writeFile(path.join(stagingDir, 'README.md'), cliReadme(identity.version));
    await fs.writeFile(path.join(stagingDir, 'THIRD-PARTY-NOTICES.md'), thirdPartyNotices(await bundledPackages(bundle.metafile)));
    // --offline: the package has no dependencies, so packing it must not need the network.
    const packed = await execa('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', outDir], {
      cwd: stagingDir,
    });
    const [result] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
    if (!result || path.join(outDir, result.filename) !== tarball) {
      throw new Error(`npm pack wrote ${JSON.stringify(result?.filename)}, expected ${path.basename(tarball)}`);
    }
    return { tarball, stagingDir, version: identity.version, bundleSize: bundle.size };
  } catch (error) {
    // A half-built folder or tarball must not pass for the package.
    await Promise.all([fs.rm(stagingDir, { recursive: true, force: true }), fs.rm(tarball, { force: true })]);
    throw error;
  }
}

function parseArgs(argv: string[]): { outDir?: string } {
  if (argv.length === 0) return {};
  if (argv.length === 2 && argv[0] === '--out') return { outDir: argv[1] };
  throw new Error(`usage: npm run package:cli [-- --out <dir>] (got ${argv.join(' ')})`);
}

if (require.main === module) {
  (async () => {
    const options = parseArgs(process.argv.slice(2));
    // The CLI carries the settings validator: never a stale copy of the schema.
    await assertGeneratedFilesCurrent();
    const built = await buildCliPackage(options);
    console.log(built.tarball);
    console.log(`version ${built.version}, bin/arc-remote-support.js ${built.bundleSize} bytes`);
    console.log(`install: npm install -g ${built.tarball}`);
  })().catch((err: unknown) => {
    console.error(`package:cli failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

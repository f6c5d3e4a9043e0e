/**
 * The extension this CLI deploys: publisher, type and version. The build bakes them in from
 * manifests/extension.yaml as defines (scripts/build/bundle-cli.ts), so the shipped CLI reads no
 * yaml and needs no repository; in-process callers (tests) pass the identity they loaded.
 */
declare const __EXTENSION_PUBLISHER__: string;
declare const __EXTENSION_TYPE__: string;
declare const __EXTENSION_VERSION__: string;

export interface CliExtensionIdentity {
  publisher: string;
  type: string;
  /** major.minor.patch, as in manifests/extension.yaml. */
  version: string;
}

/** The identity the bundle was built with; refuses to guess when the code was not bundled. */
export function bakedExtensionIdentity(): CliExtensionIdentity {
  // typeof is the one way to ask about an undeclared global without a ReferenceError.
  if (typeof __EXTENSION_PUBLISHER__ !== 'string' || typeof __EXTENSION_TYPE__ !== 'string' || typeof __EXTENSION_VERSION__ !== 'string') {
    throw new Error(
      'This CLI was not built: the extension identity is baked in by the build. Run `npm run build:cli` and use bin/arc-remote-support.js.',
    );
  }
  return { publisher: __EXTENSION_PUBLISHER__, type: __EXTENSION_TYPE__, version: __EXTENSION_VERSION__ };
}

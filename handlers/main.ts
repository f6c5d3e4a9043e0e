/**
 * The bundled handler's entry point: `node.exe bin\handler.js <install|enable|update|disable|uninstall>`,
 * run by the extension manager from the extension's root folder. The build injects the identity.
 */
import { runHandler } from '../extension/dispatcher';
import { createRuntimeConfig } from './runtime-config';

declare const __EXTENSION_PUBLISHER__: string;
declare const __EXTENSION_TYPE__: string;
declare const __EXTENSION_VERSION__: string;

const config = createRuntimeConfig({ publisher: __EXTENSION_PUBLISHER__, type: __EXTENSION_TYPE__, version: __EXTENSION_VERSION__ });

runHandler(process.argv.slice(2), config).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`handler failed before it could report a status: ${String(error)}\n`);
    process.exitCode = 1;
  },
);

import path from 'path';
import type { RuntimeConfig } from '../extension/dispatcher';
import type { ProtectedSettingsDecryptor } from '../extension/protected-settings';
import { SettingsSchema } from '../extension/settings-schema';
import settingsSchema from '../manifests/settings.schema.json';
import validateSettings from '../manifests/settings.validator';
import { dataFolder, dataPaths } from './data-folder';
import { lifecycleHandlers, type LifecycleOptions } from './lifecycle';

export interface ExtensionIdentity {
  publisher: string;
  type: string;
  version: string;
}

/** Wires the protocol runtime to this extension's lifecycle; tests may set the clock and the host. */
export function createRuntimeConfig(identity: ExtensionIdentity, options: Omit<LifecycleOptions, 'version'> = {}): RuntimeConfig {
  return {
    handlerName: `${identity.publisher}.${identity.type}`,
    version: identity.version,
    handlers: lifecycleHandlers({ ...options, version: identity.version }),
    settingsSchema: new SettingsSchema(validateSettings, settingsSchema),
    decryptor: platformDecryptor,
    lockPath: (context) => dataPaths(dataFolder(context.environment)).lock,
  };
}

/**
 * Windows: .NET EnvelopedCms in Windows PowerShell with the certificate from LocalMachine\My.
 * Elsewhere (the Linux agent in tests): openssl with the agent's `<thumbprint>.crt/.prv`, which
 * it keeps in its lib folder, the parent of the extension folder.
 */
async function platformDecryptor(extensionRoot: string, environment: NodeJS.ProcessEnv): Promise<ProtectedSettingsDecryptor> {
  if (process.platform === 'win32') {
    const { PowerShellDecryptor } = await import('../extension/decrypt-powershell');
    const systemRoot = environment.SystemRoot ?? 'C:\\Windows';
    return new PowerShellDecryptor({
      powershellExe: path.win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
      scriptPath: path.join(extensionRoot, 'scripts', 'Unprotect-ProtectedSettings.ps1'),
    });
  }
  const { OpensslDecryptor } = await import('../extension/decrypt-openssl');
  return new OpensslDecryptor({ certDir: environment.ARC_REMOTE_SUPPORT_CERT_DIR ?? path.dirname(extensionRoot) });
}

import { join, win32 } from 'path';

/**
 * Where the extension keeps what must outlive one version of the package: state, history, the
 * upgrade marker and the handler lock. On Windows this is the node's data folder too (DATA_FOLDER
 * in node-layout.ts): install creates it SYSTEM and Administrators only, and uninstall removes it. On Windows that is `%ProgramData%\ArcRemoteSupport`
 * (readable by SYSTEM and Administrators); `ARC_REMOTE_SUPPORT_DATA` overrides it for tests
 * and the simulated machine (elsewhere than Windows the default is /var/lib/arc-remote-support).
 */
export function dataFolder(environment: NodeJS.ProcessEnv): string {
  const override = environment.ARC_REMOTE_SUPPORT_DATA;
  if (override) return override;
  if (process.platform !== 'win32') return '/var/lib/arc-remote-support';
  const programData = environment.ProgramData ?? environment.PROGRAMDATA ?? 'C:\\ProgramData';
  return win32.join(programData, 'ArcRemoteSupport');
}

export function dataPaths(root: string) {
  return {
    root,
    state: join(root, 'state.json'),
    operations: join(root, 'operations.jsonl'),
    upgradeMarker: join(root, 'upgrade.json'),
    // Which settings content each status answers (see extension/status.ts): no secret, a digest.
    statusRecords: join(root, 'status-settings'),
    // Beside the folder, not in it: uninstall removes the folder while holding the lock.
    lock: `${root}.lock`,
  };
}

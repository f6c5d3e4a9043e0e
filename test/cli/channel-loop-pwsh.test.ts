/**
 * The whole channel loop (test/support/channel-loop.ts) with the node's Channel agent running each
 * engineer session through the real launcher (windows/powershell-session.ts): the package's
 * ChannelSession.ps1 in the real pwsh, against the tests' stand-ins (sim/windows/pwsh-sessions.ts,
 * chosen by ARC_REMOTE_SUPPORT_SIM_SESSIONS). Set-LocalUser and New-PSSession work on the machine
 * model, and the JEA session is a runspace built from the session configuration and role
 * capabilities the handler installed on the node, with the role proofs' stand-in service cmdlets.
 * What `connect` prints comes from that runspace.
 *
 * Where this differs from a node: the runspace is local, not over WinRM (no logon with the
 * password); pwsh 7 on Linux stands in for Windows PowerShell 5.1; the services are a fake table.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { generateJeaFiles } from '../../jea/generate';
import { readMachine } from '../../sim/windows/default-machine';
import { SIM_SESSIONS_VARIABLE, type PwshSessionsConfig } from '../../sim/windows/pwsh-sessions';
import { describeChannelLoop } from '../support/channel-loop';
import { findPwsh } from '../support/cms';
import { installJeaStandIns } from '../support/jea-proof';
import { SERVICE_TABLE } from '../support/jea/proofs';

jest.setTimeout(120_000);

const REPO = path.resolve(__dirname, '..', '..');

describeChannelLoop({
  title: 'the whole channel loop with the session script in the real pwsh: connect, a refusal, revoke, status and history',
  async prepare(work) {
    const config: PwshSessionsConfig = {
      pwsh: findPwsh(),
      entryScript: path.join(REPO, 'test', 'powershell', 'Invoke-ChannelSessionWithStandIn.ps1'),
      jeaStandIns: await installJeaStandIns(findPwsh(), path.join(work, 'jea'), generateJeaFiles().roles, SERVICE_TABLE),
      drives: path.join(work, 'drives'),
    };
    const file = path.join(work, 'pwsh-sessions.json');
    await fs.writeFile(file, JSON.stringify(config));
    return { [SIM_SESSIONS_VARIABLE]: `pwsh:${file}` };
  },
  // Get-Service's table as pwsh's formatter lays out the stand-in service object (the simulated
  // session prints Status, Name, DisplayName).
  serviceLine: /^WinRM\s+Windows Remote Management \(WS-Management\)\s+Running\s+\{\}$/,
  // pwsh 7's words (Windows PowerShell 5.1, and the simulated session, say "the name").
  refusal: /\nFailed: The term 'Restart-Service' is not recognized as a name of a cmdlet, function, script file, or executable program\./,
  proof: {
    title: "each session was the package's script in pwsh: the JEA runspace's transcripts on the node's drive, and no shell left",
    async check({ work, modelPath, grantId }) {
      // The endpoint's TranscriptDirectory (C:\ProgramData\ArcRemoteSupport\Transcripts) on the stand-in's C: of FS-01.
      const folder = path.join(work, 'drives', 'FS-01', 'C', 'ProgramData', 'ArcRemoteSupport', 'Transcripts');
      const transcripts = await Promise.all((await fs.readdir(folder)).sort().map((name) => fs.readFile(path.join(folder, name), 'utf8')));
      // One per session: the two Get-Service sessions and the refused one.
      expect(transcripts).toHaveLength(3);
      for (const text of transcripts) {
        expect(text).toMatch(/\nPSEdition: Core\r?\n/);
        expect(text).toContain(`-UserName ArcRS-${grantId.slice(0, 8)} -ConfigurationName ArcRemoteSupport`);
        // JEA never runs a command the role does not show: the refused one is in no transcript.
        expect(text).not.toContain('Restart-Service');
      }
      const ran = transcripts.filter((text) => text.includes('CommandInvocation(Get-Service)'));
      expect(ran).toHaveLength(2);
      for (const text of ran) {
        expect(text).toContain('ParameterBinding(Get-Service): name="Name"; value="WinRM"');
        expect(text).toMatch(/\nWinRM\s+Windows Remote Management \(WS-Management\)\s+Running/);
      }
      // The stand-in's WinRM shells of the sessions were removed under the model's lock, no write lost.
      expect((await readMachine(modelPath)).nodes['FS-01']!.sessions).toEqual([]);
    },
  },
});

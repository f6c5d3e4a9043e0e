import { isRestError } from '@azure/core-rest-pipeline';
import { isHandlerError } from '../../extension/errors';
import { isDeadlineExceeded } from '../arm/deadline';
import { isTargetRefused } from '../checks/machine-checks';
import { errorText } from '../errors';
import type { TargetOutcome } from '../fleet/outcome';
import { machineId, type MachineRef } from '../input/azure-names';
import type { RunContext } from './run-context';

/**
 * Turns a per-machine failure into the detail an operator acts on. After a failed or unfinished
 * write it reads the extension once more and adds the handler's own status message.
 */
export async function failureOutcome(
  ctx: RunContext,
  ref: MachineRef,
  error: unknown,
  settingsSent?: Record<string, unknown>,
): Promise<TargetOutcome> {
  const base = { result: 'failed' as const, ...(settingsSent ? { settingsSent } : {}) };
  if (isTargetRefused(error) || isHandlerError(error)) return { ...base, detail: redact(ctx, error.message) };
  let detail: string;
  if (isDeadlineExceeded(error)) {
    detail = error.mayStillRun
      ? `${error.message}; the operation is still running in Azure. Check it later with: arc-remote-support status --machine ${machineId(ref)}`
      : `${error.message}; Azure did not answer in time. Run again, or give a longer --timeout.`;
  } else if (isRestError(error)) {
    detail = `Azure answered ${error.statusCode ?? 'no status'}${restErrorCode(error)}: ${firstLine(error.message)}`;
  } else if (error instanceof Error && error.message.startsWith(LRO_FAILED)) {
    // core-lro's wording when the operation ended Failed: keep Azure's code and message.
    detail = `the operation failed in Azure: ${firstLine(error.message.slice(LRO_FAILED.length))}`;
  } else {
    detail = errorText(error);
  }
  if (settingsSent !== undefined || isDeadlineExceeded(error) || isRestError(error) || detail.startsWith('the operation failed')) {
    detail += await extensionMessage(ctx, ref, detail);
  }
  return { ...base, detail: redact(ctx, detail) };
}

/** The extension's provisioning state and the handler's message, unless the detail already says it. */
async function extensionMessage(ctx: RunContext, ref: MachineRef, detail: string): Promise<string> {
  try {
    const extension = await ctx.api.getExtension(ref, 30_000);
    if (!extension) return ' (the extension is not on the machine)';
    const message = extension.message?.trim().replace(/\s*\r?\n\s*/g, ' | ');
    const said = !message || detail.includes(message);
    return ` (extension ${extension.provisioningState ?? 'state unknown'}${said ? '' : `: ${message}`})`;
  } catch {
    return '';
  }
}

const LRO_FAILED = 'The long-running operation has failed. ';

function restErrorCode(error: { code?: string }): string {
  return error.code ? ` ${error.code}` : '';
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

function redact(ctx: RunContext, text: string): string {
  return ctx.protectedSettings ? ctx.protectedSettings.redact(text) : text;
}

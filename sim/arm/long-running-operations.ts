/**
 * Extension writes as ARM runs them: an operation is InProgress (the extension shows Creating,
 * Updating or Deleting), the machine's extension manager does the work (runExtension), then the
 * operation ends Succeeded or Failed. A machine that is not Connected holds its operations until
 * it reconnects, as Azure queues them for hours.
 */
import { randomUUID } from 'crypto';
import { extensionResource, type ExtensionStore, type StoredExtension } from './extension-store';
import { machineSpec, type MachineRecord } from './machine-store';
import type { ExtensionRun, ExtensionRunKind, ExtensionRunResult } from './types';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed';

export interface OperationStep {
  extension: StoredExtension;
  /** The configuration before the write (null on create). */
  previous: Record<string, any> | null;
}

export interface LongRunningOperation {
  id: string;
  machine: MachineRecord;
  kind: ExtensionRunKind;
  steps: OperationStep[];
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

export interface OperationRunnerOptions {
  operationMs: number;
  runExtension: (run: ExtensionRun) => Promise<ExtensionRunResult>;
  extensions: ExtensionStore;
}

export class OperationRunner {
  private readonly operations = new Map<string, LongRunningOperation>();
  /** The running operation of each machine: at most one, as writes conflict while one runs. */
  private readonly inProgress = new Map<MachineRecord, LongRunningOperation>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private closed = false;

  constructor(private readonly options: OperationRunnerOptions) {}

  /** The operation that holds the machine's extensions, if one is still running. */
  inProgressOn(machine: MachineRecord): LongRunningOperation | undefined {
    return this.inProgress.get(machine);
  }

  find(id: string): LongRunningOperation | undefined {
    return this.operations.get(id.toLowerCase());
  }

  start(machine: MachineRecord, kind: ExtensionRunKind, steps: OperationStep[]): LongRunningOperation {
    const operation: LongRunningOperation = {
      id: randomUUID(),
      machine,
      kind,
      steps,
      status: 'InProgress',
      startTime: new Date().toISOString(),
    };
    this.operations.set(operation.id, operation);
    this.inProgress.set(machine, operation);
    this.schedule(operation);
    return operation;
  }

  /** A machine that came back runs what was queued for it. */
  resume(machine: MachineRecord): void {
    const operation = this.inProgress.get(machine);
    if (operation) this.schedule(operation);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(operation: LongRunningOperation): void {
    if (this.closed || operation.machine.status !== 'Connected') return;
    if (this.timers.has(operation.id) || this.running.has(operation.id)) return;
    const timer = setTimeout(() => {
      this.timers.delete(operation.id);
      void this.run(operation);
    }, this.options.operationMs);
    timer.unref();
    this.timers.set(operation.id, timer);
  }

  private async run(operation: LongRunningOperation): Promise<void> {
    // The machine may have gone away while the operation waited: then it stays queued.
    if (this.closed || operation.machine.status !== 'Connected') return;
    this.running.add(operation.id);
    let failure: string | undefined;
    for (const step of operation.steps) {
      const result = await this.runStep(operation, step);
      if (this.closed) return;
      this.apply(operation.kind, step.extension, result);
      if (result.provisioningState === 'Failed')
        failure ??= result.instanceView?.status.message ?? `The extension ${step.extension.name} failed.`;
    }
    this.running.delete(operation.id);
    this.inProgress.delete(operation.machine);
    operation.status = failure === undefined ? 'Succeeded' : 'Failed';
    operation.endTime = new Date().toISOString();
    if (failure !== undefined) operation.error = { code: 'ExtensionOperationFailed', message: failure };
  }

  private async runStep(operation: LongRunningOperation, step: OperationStep): Promise<ExtensionRunResult> {
    const run: ExtensionRun = {
      machine: machineSpec(operation.machine),
      extensionName: step.extension.name,
      kind: operation.kind,
      properties: structuredClone(step.extension.configuration),
      previousProperties: step.previous === null ? null : structuredClone(step.previous),
    };
    try {
      return await this.options.runExtension(run);
    } catch (error) {
      // A throwing extension manager is a failed extension, not a broken emulator.
      return { provisioningState: 'Failed', instanceView: failedView(run, (error as Error).message) };
    }
  }

  private apply(kind: ExtensionRunKind, extension: StoredExtension, result: ExtensionRunResult): void {
    if (kind === 'delete' && result.provisioningState === 'Succeeded') {
      this.options.extensions.remove(extension);
      return;
    }
    extension.provisioningState = result.provisioningState;
    if (result.instanceView) extension.instanceView = structuredClone(result.instanceView);
  }
}

/** The extension manager's default: every operation succeeds. */
export async function succeedEveryRun(run: ExtensionRun): Promise<ExtensionRunResult> {
  if (run.kind === 'delete') return { provisioningState: 'Succeeded' };
  return succeededRun(run, `Extension ${run.kind} succeeded.`);
}

/** A run that succeeded, its instance view carrying the handler's `message`. */
export function succeededRun(run: ExtensionRun, message: string): ExtensionRunResult {
  return {
    provisioningState: 'Succeeded',
    instanceView: {
      name: run.extensionName,
      type: run.properties.type,
      typeHandlerVersion: run.properties.typeHandlerVersion,
      status: {
        code: 'ProvisioningState/succeeded',
        level: 'Info',
        displayStatus: 'Provisioning succeeded',
        message,
        time: new Date().toISOString(),
      },
    },
  };
}

function failedView(run: ExtensionRun, message: string): ExtensionRunResult['instanceView'] {
  return {
    name: run.extensionName,
    type: run.properties.type,
    typeHandlerVersion: run.properties.typeHandlerVersion,
    status: {
      code: 'ProvisioningState/failed',
      level: 'Error',
      displayStatus: 'Provisioning failed',
      message,
      time: new Date().toISOString(),
    },
  };
}

/** Where the operation's status document lives (relative to the endpoint, without api-version). */
export function operationStatusPath(operation: LongRunningOperation): string {
  return `/subscriptions/${operation.machine.subscriptionId}/providers/Microsoft.HybridCompute/locations/${operation.machine.location}/operationStatus/${operation.id}`;
}

/** The Location URL: 202 while running, then the outcome. */
export function operationResultPath(operation: LongRunningOperation): string {
  return `/subscriptions/${operation.machine.subscriptionId}/providers/Microsoft.HybridCompute/locations/${operation.machine.location}/operationResults/${operation.id}`;
}

/** The Azure-AsyncOperation document. */
export function operationStatusDocument(operation: LongRunningOperation): Record<string, unknown> {
  return {
    id: operationStatusPath(operation),
    name: operation.id,
    status: operation.status,
    startTime: operation.startTime,
    ...(operation.endTime ? { endTime: operation.endTime } : {}),
    ...(operation.error ? { error: operation.error } : {}),
  };
}

/** What a finished create or update leaves: the extension as GET shows it. */
export function finishedResource(operation: LongRunningOperation): Record<string, any> | undefined {
  const first = operation.steps[0];
  return first ? extensionResource(first.extension) : undefined;
}

/**
 * Polling a long-running operation: the Azure-AsyncOperation status document, and the Location URL
 * that answers 202 while the operation runs and its outcome once it ends.
 */
import { armError, ok, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { finishedResource, operationStatusDocument, type LongRunningOperation } from './long-running-operations';
import { sameName } from './machine-store';

export function getOperationStatus(state: EmulatorState, _request: ArmRequest, params: string[]): ArmReply {
  const operation = findOperation(state, params);
  return operation ? ok(operationStatusDocument(operation)) : operationNotFound(params);
}

export function getOperationResult(state: EmulatorState, request: ArmRequest, params: string[]): ArmReply {
  const operation = findOperation(state, params);
  if (!operation) return operationNotFound(params);
  switch (operation.status) {
    case 'InProgress':
      return {
        status: 202,
        headers: { Location: `${state.endpoint}${request.path}?api-version=${encodeURIComponent(request.query.get('api-version') ?? '')}` },
      };
    case 'Failed':
      return armError(
        400,
        operation.error?.code ?? 'ExtensionOperationFailed',
        operation.error?.message ?? 'The extension operation failed.',
      );
    case 'Succeeded': {
      // A create or update ends with the resource; a delete or an upgrade has nothing to return.
      const resource = operation.kind === 'create' || operation.kind === 'update' ? finishedResource(operation) : undefined;
      return resource ? ok(resource) : { status: 204 };
    }
  }
}

/** An operation id is only valid under the subscription and location that issued it. */
function findOperation(state: EmulatorState, [subscriptionId, location, id]: string[]): LongRunningOperation | undefined {
  const operation = state.operations.find(id!);
  if (!operation) return undefined;
  const { machine } = operation;
  return sameName(machine.subscriptionId, subscriptionId!) && sameName(machine.location, location!) ? operation : undefined;
}

function operationNotFound([, , id]: string[]): ArmReply {
  return armError(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
}

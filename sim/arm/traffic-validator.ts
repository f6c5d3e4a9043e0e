/**
 * Checks recorded requests and responses against the API documents of every provider the emulator
 * serves (HybridCompute, Relay, Support; see spec-location.ts) with oav's live validation, the tool
 * Azure uses on real ARM traffic. One validator holds all of them: oav picks the operation by path,
 * method and api-version. Both sides are checked: our client's requests and the
 * emulator's responses. A request oav cannot match to an operation of the document (wrong path,
 * method or api-version) is reported too.
 */
import type { LiveValidator, LiveValidationIssue, LiveValidationResult } from 'oav';
import { isOperationPollingPath } from './routes';
import { allSpecFiles, SPECIFICATION_ROOT } from './spec-location';
import type { TrafficRecord } from './types';

let loading: Promise<LiveValidator> | undefined;

/** One validator per process: loading and compiling the documents is the slow part. */
function liveValidator(): Promise<LiveValidator> {
  loading ??= (async () => {
    const { LiveValidator } = await import('oav');
    const validator = new LiveValidator(
      {
        swaggerPaths: allSpecFiles(),
        directory: SPECIFICATION_ROOT,
        git: { shouldClone: false },
        loadValidatorInInitialize: true,
        loadValidatorInBackground: false,
        // ARM's own rules as well, e.g. a 202 from a long-running operation must say where to poll.
        isArmCall: true,
      },
      // oav logs every unmatched request as an error; the problems list already says it.
      () => undefined,
    );
    await validator.initialize();
    return validator;
  })();
  return loading;
}

export async function validateTrafficRecords(traffic: readonly TrafficRecord[]): Promise<string[]> {
  const validator = await liveValidator();
  const problems: string[] = [];
  for (const record of traffic) {
    const url = new URL(record.url);
    // The operation status and result URLs are ARM's own, not the provider's: HybridCompute.json
    // defines no path for them (checked for 2024-07-10), so oav would only say "operation not found".
    if (isOperationPollingPath(decodeURIComponent(url.pathname))) continue;
    const label = `${record.method} ${url.pathname}${url.search} -> ${record.status}`;
    const result = await validator.validateLiveRequestResponse({
      liveRequest: {
        url: record.url,
        method: record.method,
        headers: { ...record.requestHeaders },
        body: structuredClone(record.requestBody) as never,
      },
      liveResponse: {
        statusCode: String(record.status),
        headers: { ...record.responseHeaders },
        body: structuredClone(record.responseBody) as never,
      },
    });
    if (result.runtimeException) problems.push(`${label}: ${result.runtimeException.code}: ${result.runtimeException.message}`);
    problems.push(...describe(label, 'request', result.requestValidationResult));
    // When oav cannot find the operation it reports the same exception for both sides: say it once.
    if (result.responseValidationResult !== result.requestValidationResult) {
      const sameException =
        result.responseValidationResult.runtimeException?.message === result.requestValidationResult.runtimeException?.message;
      problems.push(...describe(label, 'response', result.responseValidationResult, sameException));
    }
  }
  return problems;
}

function describe(label: string, side: 'request' | 'response', result: LiveValidationResult, skipException = false): string[] {
  const lines = result.errors.map((issue) => `${label}: ${side} ${issue.code} at ${where(issue)}: ${issue.message}`);
  if (result.runtimeException && !skipException)
    lines.unshift(`${label}: ${side} ${result.runtimeException.code}: ${result.runtimeException.message}`);
  return lines;
}

function where(issue: LiveValidationIssue): string {
  const paths = issue.jsonPathsInPayload ?? [];
  return paths.length > 0 ? paths.join(', ') : `the ${issue.schemaPath || 'message'}`;
}

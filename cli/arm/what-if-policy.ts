import { createHttpHeaders, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { redactRequestBody } from '../settings/protected-settings';

export interface RecordedRequest {
  method: string;
  url: string;
  body?: unknown;
}

const WRITES = new Set(['PUT', 'PATCH', 'POST', 'DELETE']);

/**
 * `--what-if`: the last policy before the network. Reads go through; a write is recorded exactly
 * as the SDK and the other policies built it (api-version, added properties), with protected
 * settings redacted, and answered locally with 200 so the SDK's operation ends without polling.
 */
export function whatIfPolicy(record: (request: RecordedRequest) => void): PipelinePolicy {
  return {
    name: 'arcRemoteSupportWhatIf',
    async sendRequest(request, next) {
      if (!WRITES.has(request.method)) return next(request);
      const sent = typeof request.body === 'string' && request.body ? (JSON.parse(request.body) as unknown) : undefined;
      const body = redactRequestBody(sent);
      record({ method: request.method, url: request.url, ...(body === undefined ? {} : { body }) });
      const answer = request.method === 'PUT' || request.method === 'PATCH' ? JSON.stringify(body ?? {}) : '';
      return {
        request,
        status: 200,
        headers: createHttpHeaders(answer ? { 'content-type': 'application/json' } : {}),
        bodyAsText: answer,
      };
    },
  };
}

import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * @azure/arm-hybridcompute 3.0.0 pins api-version 2021-05-20, which has no license profiles and no
 * `enableAutomaticUpgrade`; every request (operations, LRO polls, sendRequest) uses this one.
 */
export const ARM_API_VERSION = '2024-07-10';

export function apiVersionPolicy(version = ARM_API_VERSION): PipelinePolicy {
  return {
    name: 'arcRemoteSupportApiVersion',
    sendRequest(request, next) {
      request.url = withApiVersion(request.url, version);
      return next(request);
    },
  };
}

/** Replaces or adds the query parameter and leaves the rest of the URL as it was. */
export function withApiVersion(url: string, version: string): string {
  const [beforeHash, hash] = splitOnce(url, '#');
  const [path, query] = splitOnce(beforeHash, '?');
  const kept = (query ?? '').split('&').filter((part) => part && !/^api-version=/i.test(part));
  const rebuilt = `${path}?${[...kept, `api-version=${version}`].join('&')}`;
  return hash === undefined ? rebuilt : `${rebuilt}#${hash}`;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

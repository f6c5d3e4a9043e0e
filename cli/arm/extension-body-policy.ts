import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * The 3.0.0 serializer drops `enableAutomaticUpgrade` from extension bodies (its models predate
 * it). A caller asks for it with this request header; the policy removes the header and puts the
 * property back into the serialized PUT or PATCH body.
 */
export const AUTOMATIC_UPGRADE_HEADER = 'x-arc-remote-support-enable-automatic-upgrade';

const EXTENSION_PATH = /\/providers\/Microsoft\.HybridCompute\/machines\/[^/]+\/extensions\/[^/]+$/i;

export function extensionBodyPolicy(): PipelinePolicy {
  return {
    name: 'arcRemoteSupportExtensionBody',
    sendRequest(request, next) {
      const asked = request.headers.get(AUTOMATIC_UPGRADE_HEADER);
      request.headers.delete(AUTOMATIC_UPGRADE_HEADER);
      const isExtensionWrite =
        (request.method === 'PUT' || request.method === 'PATCH') && EXTENSION_PATH.test(new URL(request.url).pathname);
      if (asked !== undefined && isExtensionWrite && typeof request.body === 'string') {
        const body = JSON.parse(request.body) as { properties?: Record<string, unknown> };
        body.properties = { ...(body.properties ?? {}), enableAutomaticUpgrade: asked === 'true' };
        request.body = JSON.stringify(body);
      }
      return next(request);
    },
  };
}

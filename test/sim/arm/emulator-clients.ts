/**
 * Clients of the ARM emulator for its tests: the real HybridCompute, Relay and Support SDKs
 * in-process (trusting the emulator's CA through the pipeline's tlsOptions, speaking the
 * api-versions the emulator validates against), and a bare HTTPS request for what the SDK would not send.
 */
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { RelayAPI } from '@azure/arm-relay';
import { MicrosoftSupport } from '@azure/arm-support';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import https from 'https';
import type { ArmEmulator } from '../../../sim/arm';

export const API_VERSION = '2024-07-10';
export const RELAY_API_VERSION = '2021-11-01';
export const SUPPORT_API_VERSION = '2024-04-01';
export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';

/** SDK 3.0.0 pins api-version 2021-05-20; Resource Manager must hear the version we validate against. */
export function apiVersionPolicy(apiVersion = API_VERSION): PipelinePolicy {
  return {
    name: 'emulatorTestApiVersion',
    sendRequest(request, next) {
      const url = new URL(request.url);
      if (url.searchParams.has('api-version')) {
        url.searchParams.set('api-version', apiVersion);
        request.url = url.toString();
      }
      return next(request);
    },
  };
}

/**
 * A policy that adds properties SDK 3.0.0 drops from extension writes (it does not know
 * enableAutomaticUpgrade), as the CLI must.
 */
export function extensionPropertiesPolicy(extra: Record<string, unknown>): PipelinePolicy {
  return {
    name: 'emulatorTestExtensionProperties',
    sendRequest(request, next) {
      if (
        (request.method === 'PUT' || request.method === 'PATCH') &&
        /\/extensions\/[^/?]+(\?|$)/i.test(request.url) &&
        typeof request.body === 'string'
      ) {
        const body = JSON.parse(request.body) as { properties?: Record<string, unknown> };
        body.properties = { ...body.properties, ...extra };
        request.body = JSON.stringify(body);
      }
      return next(request);
    },
  };
}

export interface ClientOptions {
  /** Leave out the api-version policy: the SDK then sends its own 2021-05-20. */
  sdkApiVersion?: boolean;
  policies?: PipelinePolicy[];
}

export function sdkClient(
  emulator: ArmEmulator,
  subscriptionId = SUBSCRIPTION,
  options: ClientOptions = {},
): HybridComputeManagementClient {
  const policies = [...(options.sdkApiVersion ? [] : [apiVersionPolicy()]), ...(options.policies ?? [])];
  return new HybridComputeManagementClient(emulator.credential, subscriptionId, {
    endpoint: emulator.endpoint,
    // Trust exactly the emulator's CA for this client; NODE_EXTRA_CA_CERTS is read only at process start.
    tlsOptions: { ca: emulator.ca },
    additionalPolicies: policies.map((policy) => ({ policy, position: 'perCall' as const })),
  });
}

/** The Relay SDK (3.1.1 defaults to 2017-04-01; its apiVersion option sets the one we validate against). */
export function relayClient(emulator: ArmEmulator, subscriptionId = SUBSCRIPTION, options: { sdkApiVersion?: boolean } = {}): RelayAPI {
  return new RelayAPI(emulator.credential, subscriptionId, {
    endpoint: emulator.endpoint,
    tlsOptions: { ca: emulator.ca },
    ...(options.sdkApiVersion ? {} : { apiVersion: RELAY_API_VERSION }),
  });
}

/** The Support SDK (2.1.0 defaults to 2020-04-01; its apiVersion option sets the one we validate against). */
export function supportClient(emulator: ArmEmulator, subscriptionId = SUBSCRIPTION): MicrosoftSupport {
  return new MicrosoftSupport(emulator.credential, subscriptionId, {
    endpoint: emulator.endpoint,
    tlsOptions: { ca: emulator.ca },
    apiVersion: SUPPORT_API_VERSION,
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One HTTPS request to the emulator, with the emulator's token unless `token` says otherwise (null: none). */
export async function rawRequest(
  emulator: ArmEmulator,
  method: string,
  pathAndQuery: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<RawResponse> {
  const token =
    options.token === undefined ? (await emulator.credential.getToken('https://management.azure.com/.default'))?.token : options.token;
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const url = new URL(pathAndQuery, emulator.endpoint);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        ca: emulator.ca,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(payload !== undefined
            ? { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export function machinePath(machine: string, resourceGroup = 'rg', subscriptionId = SUBSCRIPTION): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${machine}`;
}

/** Collects a paged SDK listing. */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** Polls a condition the emulator reaches by itself (no fixed sleeps). */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition was not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The Azure Policy definitions, the initiative and the one-machine ARM template in
 * manifests/policy: their shape, their parameters, the extension they deploy (checked against the
 * settings schema and the HybridCompute 2024-07-10 OpenAPI document), and what their rules decide
 * for sample machines and extensions, run through a small offline evaluator.
 */
import { readFileSync } from 'fs';
import path from 'path';
import Ajv from 'ajv';
import YAML from 'yaml';
import {
  ALIAS_PATHS,
  aliasesIn,
  evaluateCondition,
  expressionsIn,
  parseExpression,
  references,
  substitute,
  type Json,
} from './policy-language';
import { requestSchema, type RequestSchema } from './openapi-request-schema';
import { toDesiredState } from '../../core/desired-state';

const ROOT = path.resolve(__dirname, '..', '..');
const POLICY_DIR = path.join(ROOT, 'manifests', 'policy');
const SPEC_FILE = path.resolve(
  ROOT,
  '..',
  'shared/specs/azure-rest-api-specs/specification/hybridcompute/resource-manager/Microsoft.HybridCompute/stable/2024-07-10/HybridCompute.json',
);
const API_VERSION = '2024-07-10';
const CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR = '/providers/Microsoft.Authorization/roleDefinitions/cd570a14-e51a-42ad-bac8-bafd67325302';
const EXTENSION_TYPE = 'Microsoft.HybridCompute/machines/extensions';

type Obj = { [key: string]: Json };

function readJson(file: string): Obj {
  const text = readFileSync(file, 'utf8');
  return JSON.parse(text) as Obj;
}
const obj = (value: Json | undefined, what: string): Obj => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
};
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const identity = YAML.parse(readFileSync(path.join(ROOT, 'manifests', 'extension.yaml'), 'utf8')) as {
  publisher: string;
  type: string;
  version: string;
};
const settingsSchema = readJson(path.join(ROOT, 'manifests', 'settings.schema.json'));

const files = {
  deploy: 'deploy-remote-support.json',
  audit: 'audit-remote-support-access.json',
  initiative: 'initiative.json',
  template: 'deploy-extension.template.json',
} as const;
const deployDefinition = readJson(path.join(POLICY_DIR, files.deploy));
const auditDefinition = readJson(path.join(POLICY_DIR, files.audit));
const initiative = readJson(path.join(POLICY_DIR, files.initiative));
const standaloneTemplate = readJson(path.join(POLICY_DIR, files.template));

/** The names the README tells operators to create the definitions under; the initiative refers to them. */
const DEFINITION_NAMES: Record<string, Obj> = {
  'arc-remote-support-deploy': deployDefinition,
  'arc-remote-support-audit-access': auditDefinition,
};
const INITIATIVE_NAME = 'arc-remote-support';

const props = (definition: Obj) => obj(definition.properties, 'properties');
const rule = (definition: Obj) => obj(props(definition).policyRule, 'policyRule');
const declared = (definition: Obj) => obj(props(definition).parameters, 'parameters');
const deployDetails = obj(obj(rule(deployDefinition).then, 'then').details, 'details');
const deployment = obj(obj(deployDetails.deployment, 'deployment').properties, 'deployment.properties');
const embeddedTemplate = obj(deployment.template, 'deployment.properties.template');

/** Default values of a policy definition's or template's parameters. */
function defaults(parameters: Obj): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(parameters).flatMap(([name, p]) => ('defaultValue' in obj(p, name) ? [[name, obj(p, name).defaultValue!]] : [])),
  );
}

/** What Resource Manager checks of template parameter values before it deploys anything. */
function checkTemplateParameters(template: Obj, values: Record<string, Json>): string[] {
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(obj(template.parameters, 'template parameters'))) {
    const p = obj(raw, name);
    const value = name in values ? values[name] : p.defaultValue;
    if (value === undefined) {
      problems.push(`${name}: no value`);
      continue;
    }
    if (p.type === 'string' && typeof value !== 'string') problems.push(`${name}: not a string`);
    if (p.type === 'int' && !Number.isInteger(value)) problems.push(`${name}: not an integer`);
    if (typeof p.minValue === 'number' && typeof value === 'number' && value < p.minValue)
      problems.push(`${name}: ${value} < minValue ${p.minValue}`);
    if (typeof p.maxValue === 'number' && typeof value === 'number' && value > p.maxValue)
      problems.push(`${name}: ${value} > maxValue ${p.maxValue}`);
    if (Array.isArray(p.allowedValues) && !p.allowedValues.some((v) => JSON.stringify(v) === JSON.stringify(value)))
      problems.push(`${name}: not an allowed value`);
  }
  for (const name of Object.keys(values))
    if (!(name in obj(template.parameters, 'template parameters'))) problems.push(`${name}: not a parameter of the template`);
  return problems;
}

/** The extension resources a template deploys, expressions evaluated. */
function deployTemplate(template: Obj, values: Record<string, Json>): Obj[] {
  const problems = checkTemplateParameters(template, values);
  if (problems.length) throw new Error(`Resource Manager would refuse the deployment: ${problems.join('; ')}`);
  const parameters = { ...defaults(obj(template.parameters, 'parameters')), ...values };
  return (template.resources as Json[]).map((resource) => obj(substitute(resource, { parameters }), 'resource'));
}

const windowsMachine: Obj = {
  id: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/servers/providers/Microsoft.HybridCompute/machines/fs01',
  name: 'fs01',
  type: 'Microsoft.HybridCompute/machines',
  location: 'westeurope',
  properties: { osName: 'windows', osType: 'windows', status: 'Connected' },
};

/** What the policy's remediation deploys to a machine, for policy parameter values (defaults where absent). */
function remediationFor(machine: Obj, assignment: Record<string, Json> = {}): Obj[] {
  const policyParameters = { ...defaults(declared(deployDefinition)), ...assignment };
  const values = obj(
    substitute(obj(deployment.parameters, 'deployment.properties.parameters'), { parameters: policyParameters, fieldOf: machine }),
    'values',
  );
  const templateValues = Object.fromEntries(Object.entries(values).map(([name, v]) => [name, obj(v, name).value!]));
  return deployTemplate(embeddedTemplate, templateValues);
}

/** The extension as Azure returns it after the PUT, for rule evaluation. */
function asAzureResource(put: Obj, machine: Obj, provisioningState: string): Obj {
  const [, extensionName] = String(put.name).split('/');
  return {
    id: `${String(machine.id)}/extensions/${extensionName}`,
    name: extensionName!,
    type: EXTENSION_TYPE,
    location: put.location!,
    properties: { ...obj(put.properties, 'properties'), provisioningState },
  };
}

function settingsValidator() {
  const ajv = new Ajv({ allErrors: true });
  return ajv.compile(settingsSchema);
}

let spec: Obj;
let extensionProperties: RequestSchema;
function specValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(extensionProperties.schema);
}

beforeAll(() => {
  spec = readJson(SPEC_FILE);
  extensionProperties = requestSchema(spec, 'MachineExtensionProperties');
});

describe('files', () => {
  it.each([files.deploy, files.audit])('%s is a custom policy definition in the Azure Arc category', (file) => {
    const definition = readJson(path.join(POLICY_DIR, file));
    expect(Object.keys(definition)).toEqual(['properties']);
    const p = props(definition);
    expect(p.policyType).toBe('Custom');
    // Azure refuses a definition whose display name is over 128 characters or description over 512.
    expect(String(p.displayName).length).toBeLessThanOrEqual(128);
    expect(String(p.description).length).toBeGreaterThan(100);
    expect(String(p.description).length).toBeLessThanOrEqual(512);
    expect(obj(p.metadata, 'metadata')).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), category: 'Azure Arc' });
    expect(['Indexed', 'All']).toContain(p.mode);
    expect(Object.keys(obj(p.policyRule, 'policyRule')).sort()).toEqual(['if', 'then']);
  });

  it('the deployment policy is Indexed, for Arc-enabled Windows machines', () => {
    expect(props(deployDefinition).mode).toBe('Indexed');
    expect(rule(deployDefinition).if).toEqual({
      allOf: [
        { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
        { field: 'Microsoft.HybridCompute/machines/osName', equals: 'Windows' },
      ],
    });
  });

  it('the initiative is a policy set definition and the template an ARM deployment template', () => {
    expect(Object.keys(initiative)).toEqual(['properties']);
    const p = props(initiative);
    expect(p.policyType).toBe('Custom');
    expect(obj(p.metadata, 'metadata').category).toBe('Azure Arc');
    expect(Array.isArray(p.policyDefinitions)).toBe(true);
    expect(standaloneTemplate.$schema).toBe('https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#');
    expect(embeddedTemplate.$schema).toBe(standaloneTemplate.$schema);
    expect(standaloneTemplate.contentVersion).toBe('1.0.0.0');
    expect(deployment.mode).toBe('incremental');
  });
});

describe('deployIfNotExists', () => {
  it('deploys machine extensions with the Azure Connected Machine Resource Administrator role', () => {
    expect(obj(rule(deployDefinition).then, 'then').effect).toBe("[parameters('effect')]");
    expect(deployDetails.type).toBe(EXTENSION_TYPE);
    expect(deployDetails.roleDefinitionIds).toEqual([CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR]);
    expect(obj(declared(deployDefinition).effect, 'effect')).toMatchObject({
      allowedValues: ['DeployIfNotExists', 'Disabled'],
      defaultValue: 'DeployIfNotExists',
    });
  });

  it('its existence condition checks the type and publisher of extension.yaml, and the provisioning state', () => {
    const conditions = obj(deployDetails.existenceCondition, 'existenceCondition').allOf as Obj[];
    expect(conditions).toContainEqual({ field: 'Microsoft.HybridCompute/machines/extensions/type', equals: identity.type });
    expect(conditions).toContainEqual({ field: 'Microsoft.HybridCompute/machines/extensions/publisher', equals: identity.publisher });
    const state = conditions.find((c) => c.field === 'Microsoft.HybridCompute/machines/extensions/provisioningState');
    expect(state).toBeDefined();
    expect(state!.in).toContain('Succeeded');
  });

  it('applies to Arc-enabled Windows machines whatever the case of osName, and not to Linux ones', () => {
    const applies = (osName: string) =>
      evaluateCondition(rule(deployDefinition).if!, { ...windowsMachine, properties: { osName } }, { parameters: {} });
    expect(applies('windows')).toBe(true);
    expect(applies('Windows')).toBe(true);
    expect(applies('linux')).toBe(false);
    expect(
      evaluateCondition(rule(deployDefinition).if!, { ...windowsMachine, type: 'Microsoft.Compute/virtualMachines' }, { parameters: {} }),
    ).toBe(false);
  });

  it('counts the extension it deploys as present, and never redeploys over a grant in progress', () => {
    const existence = deployDetails.existenceCondition!;
    const put = remediationFor(windowsMachine)[0]!;
    const exists = (state: string) => evaluateCondition(existence, asAzureResource(put, windowsMachine, state), { parameters: {} });
    expect(exists('Succeeded')).toBe(true);
    expect(exists('Creating')).toBe(true);
    expect(exists('Updating')).toBe(true);
    expect(exists('Failed')).toBe(false);
    const other = asAzureResource(put, windowsMachine, 'Succeeded');
    obj(other.properties, 'properties').type = 'AzureMonitorWindowsAgent';
    expect(evaluateCondition(existence, other, { parameters: {} })).toBe(false);
  });

  it('installs the extension on the machine, in its region, with access off', () => {
    const [put, ...more] = remediationFor(windowsMachine);
    expect(more).toEqual([]);
    expect(put!.type).toBe(EXTENSION_TYPE);
    expect(put!.apiVersion).toBe(API_VERSION);
    expect(put!.name).toBe(`fs01/${identity.type}`);
    expect(put!.location).toBe('westeurope');
    expect(put!.properties).toEqual({
      publisher: identity.publisher,
      type: identity.type,
      typeHandlerVersion: '1.0',
      autoUpgradeMinorVersion: true,
      enableAutomaticUpgrade: true,
      settings: { schemaVersion: 1, access: { level: 'None' }, retentionDays: 90, versionMarker: '1.0' },
    });
  });

  it('passes the assignment values through to the extension', () => {
    const put = remediationFor(windowsMachine, { typeHandlerVersion: '1.3', retentionDays: 30 })[0]!;
    const p = obj(put.properties, 'properties');
    expect(p.typeHandlerVersion).toBe('1.3');
    expect(obj(p.settings, 'settings')).toMatchObject({ retentionDays: 30, versionMarker: '1.3' });
  });
});

describe('parameters', () => {
  /** parameters('x') read by expressions in a JSON value, leaving out the subtrees at the given keys. */
  function parameterReads(value: Json, skip: Json[] = []): Set<string> {
    const reads = new Set<string>();
    const walk = (v: Json) => {
      if (skip.includes(v)) return;
      if (typeof v === 'string') {
        if (v.startsWith('[') && v.endsWith(']') && !v.startsWith('[['))
          references(parseExpression(v)).parameters.forEach((p) => reads.add(p));
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(value);
    return reads;
  }

  it('every parameter a policy rule reads is declared, and every declared one is read', () => {
    // The embedded template has its own parameters; policy evaluates none of its expressions.
    for (const definition of [deployDefinition, auditDefinition]) {
      const reads = parameterReads(rule(definition), [embeddedTemplate]);
      expect([...reads].sort()).toEqual(Object.keys(declared(definition)).sort());
    }
  });

  it.each([
    ['the policy deployment', embeddedTemplate],
    ['the standalone template', standaloneTemplate],
  ])('every parameter %s reads is declared, and every declared one is read', (_name, template) => {
    const reads = parameterReads(template);
    expect([...reads].sort()).toEqual(Object.keys(obj(template.parameters, 'parameters')).sort());
  });

  it('the policy gives the embedded template a value for each of its parameters and nothing else', () => {
    expect(Object.keys(obj(deployment.parameters, 'deployment parameters')).sort()).toEqual(
      Object.keys(obj(embeddedTemplate.parameters, 'parameters')).sort(),
    );
    expect(remediationFor(windowsMachine)).toHaveLength(1);
  });

  it('every expression in the files parses and calls only functions its place allows', () => {
    const policyFunctions = new Set(['parameters', 'field', 'contains', 'replace', 'string', 'toLower', 'split', 'length']);
    const templateFunctions = new Set(['parameters', 'concat', 'resourceId']);
    const check = (value: Json, allowed: Set<string>) => {
      for (const { path: where, text } of expressionsIn(value)) {
        for (const name of references(parseExpression(text)).functions) {
          if (!allowed.has(name)) throw new Error(`${where}: ${name}() in ${text}`);
        }
      }
    };
    const withoutTemplate = clone(rule(deployDefinition));
    delete obj(obj(obj(withoutTemplate.then, 'then').details, 'details').deployment, 'deployment').properties;
    check(withoutTemplate, policyFunctions);
    check(obj(deployment.parameters, 'parameters'), policyFunctions);
    check(rule(auditDefinition), policyFunctions);
    check(embeddedTemplate, templateFunctions);
    check(standaloneTemplate, templateFunctions);
    check(props(initiative).policyDefinitions as Json, new Set(['parameters']));
  });

  it('every alias the rules read is one this suite knows the resource path of', () => {
    const used = [
      ...aliasesIn(rule(deployDefinition).if!),
      ...aliasesIn(deployDetails.existenceCondition!),
      ...aliasesIn(deployment.parameters!),
      ...aliasesIn(rule(auditDefinition).if!),
    ];
    expect(used.length).toBeGreaterThan(0);
    for (const alias of used) expect(Object.keys(ALIAS_PATHS)).toContain(alias);
  });

  it('retentionDays accepts exactly the days the settings schema accepts', () => {
    const schema = obj(obj(settingsSchema.properties, 'properties').retentionDays, 'retentionDays');
    const min = Number(schema.minimum);
    const max = Number(schema.maximum);
    expect([min, max]).toEqual([1, 90]);
    const range = Array.from({ length: max - min + 1 }, (_, i) => min + i);
    const policy = obj(declared(deployDefinition).retentionDays, 'retentionDays');
    expect(policy.type).toBe('Integer');
    expect(policy.allowedValues).toEqual(range);
    expect(range).toContain(policy.defaultValue);
    for (const template of [embeddedTemplate, standaloneTemplate]) {
      expect(obj(obj(template.parameters, 'parameters').retentionDays, 'retentionDays')).toMatchObject({
        type: 'int',
        minValue: min,
        maxValue: max,
      });
    }
    expect(obj(obj(standaloneTemplate.parameters, 'parameters').retentionDays, 'retentionDays').defaultValue).toBe(policy.defaultValue);
  });

  it('typeHandlerVersion defaults to the major.minor of the version in extension.yaml, a valid versionMarker', () => {
    const majorMinor = identity.version.split('.').slice(0, 2).join('.');
    const marker = new RegExp(String(obj(obj(settingsSchema.properties, 'properties').versionMarker, 'versionMarker').pattern));
    for (const parameters of [declared(deployDefinition), obj(standaloneTemplate.parameters, 'parameters'), declared(initiative)]) {
      const p = obj(parameters.typeHandlerVersion, 'typeHandlerVersion');
      expect(p.defaultValue).toBe(majorMinor);
      expect(marker.test(String(p.defaultValue))).toBe(true);
    }
  });
});

describe('the extension resource', () => {
  it('is the same in the policy deployment and the standalone template', () => {
    expect(standaloneTemplate.resources).toEqual(embeddedTemplate.resources);
    for (const name of Object.keys(obj(embeddedTemplate.parameters, 'parameters'))) {
      expect(obj(obj(standaloneTemplate.parameters, 'parameters')[name], name).type).toBe(
        obj(obj(embeddedTemplate.parameters, 'parameters')[name], name).type,
      );
    }
    const fromPolicy = remediationFor(windowsMachine, { typeHandlerVersion: '1.0', retentionDays: 45 });
    const fromTemplate = deployTemplate(standaloneTemplate, { machineName: 'fs01', location: 'westeurope', retentionDays: 45 });
    expect(fromTemplate).toEqual(fromPolicy);
  });

  it('deploys settings that pass the settings schema and give access level None', () => {
    const validate = settingsValidator();
    const deployed = [
      ...remediationFor(windowsMachine),
      ...remediationFor(windowsMachine, { retentionDays: 1 }),
      ...deployTemplate(standaloneTemplate, { machineName: 'fs01', location: 'westeurope' }),
    ];
    for (const put of deployed) {
      const settings = obj(obj(put.properties, 'properties').settings, 'settings');
      expect(validate(settings) ? [] : validate.errors).toEqual([]);
      expect(obj(settings.access, 'access').level).toBe('None');
    }
  });

  it('has properties that pass MachineExtensionProperties of HybridCompute 2024-07-10, which knows enableAutomaticUpgrade', () => {
    const known = obj(
      extensionProperties.definitions.MachineExtensionProperties!.properties as Json,
      'MachineExtensionProperties.properties',
    );
    expect(Object.keys(known)).toEqual(
      expect.arrayContaining(['publisher', 'type', 'typeHandlerVersion', 'autoUpgradeMinorVersion', 'enableAutomaticUpgrade', 'settings']),
    );
    const validate = specValidator();
    for (const put of [
      ...remediationFor(windowsMachine),
      ...deployTemplate(standaloneTemplate, { machineName: 'fs01', location: 'westeurope' }),
    ]) {
      expect(validate(put.properties) ? [] : validate.errors).toEqual([]);
      expect(typeof put.location).toBe('string');
    }
  });

  it('is PUT with an api-version that has the extension PUT operation', () => {
    expect(obj(spec.info, 'info').version).toBe(API_VERSION);
    const paths = obj(spec.paths, 'paths');
    const extensionPath = Object.keys(paths).find((p) =>
      /\/providers\/Microsoft\.HybridCompute\/machines\/\{[^}]+\}\/extensions\/\{[^}]+\}$/.test(p),
    );
    expect(extensionPath).toBeDefined();
    expect(obj(paths[extensionPath!], 'path').put).toBeDefined();
    for (const template of [embeddedTemplate, standaloneTemplate]) {
      for (const resource of template.resources as Obj[]) expect(resource.apiVersion).toBe(API_VERSION);
    }
  });

  describe('the checks catch a wrong extension', () => {
    const good = () => clone(obj(remediationFor(windowsMachine)[0]!.properties, 'properties'));

    it.each<[string, (p: Obj) => void]>([
      ['an unknown property', (p) => (p.autoUpgrade = true)],
      ['enableAutomaticUpgrade as a string', (p) => (p.enableAutomaticUpgrade = 'true')],
      ['the read-only provisioningState', (p) => (p.provisioningState = 'Succeeded')],
    ])('the OpenAPI document refuses %s', (_what, mutate) => {
      const validate = specValidator();
      expect(validate(good())).toBe(true);
      const bad = good();
      mutate(bad);
      expect(validate(bad)).toBe(false);
    });

    it.each<[string, (s: Obj) => void]>([
      ['retentionDays 120', (s) => (s.retentionDays = 120)],
      ['retentionDays 0', (s) => (s.retentionDays = 0)],
      ['an unknown setting', (s) => (s.retentionPeriod = 30)],
      ['an unknown access level', (s) => (s.access = { level: 'Full' })],
      ['a versionMarker with a patch number', (s) => (s.versionMarker = '1.0.0')],
    ])('the settings schema refuses %s', (_what, mutate) => {
      const validate = settingsValidator();
      const settings = obj(good().settings, 'settings');
      expect(validate(settings)).toBe(true);
      mutate(settings);
      expect(validate(settings)).toBe(false);
    });

    it('an assignment cannot ask for 120 days, and the template refuses it', () => {
      expect(obj(declared(deployDefinition).retentionDays, 'retentionDays').allowedValues).not.toContain(120);
      expect(() => deployTemplate(standaloneTemplate, { machineName: 'fs01', location: 'westeurope', retentionDays: 120 })).toThrow(
        /maxValue 90/,
      );
      expect(() => remediationFor(windowsMachine, { retentionDays: 120 })).toThrow(/maxValue 90/);
    });
  });
});

describe('the access audit', () => {
  const auditIf = rule(auditDefinition).if!;
  const grant = (level: string): Obj => ({
    schemaVersion: 1,
    access: {
      level,
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      expiresAt: '2026-11-25T04:00:00Z',
      supportRequestId: 'TKT 2611240001',
      consent: { termsVersion: '2026.1', acceptedAt: '2026-11-24T20:00:00Z', acceptedBy: 'owner "level":"None" <owner@contoso.example>' },
    },
    retentionDays: 90,
  });
  const extensionWith = (settings: Json | undefined): Obj => {
    const resource = asAzureResource(remediationFor(windowsMachine)[0]!, windowsMachine, 'Succeeded');
    const p = obj(resource.properties, 'properties');
    if (settings === undefined) delete p.settings;
    else p.settings = settings;
    return resource;
  };
  // Resource Manager's string() gives compact JSON; an engine that indented it must decide the same.
  const engines: [string, (value: Json) => string][] = [
    ['compact', (value) => JSON.stringify(value)],
    ['indented', (value) => JSON.stringify(value, null, 2)],
  ];

  it('reads level only where the settings schema has one, under access', () => {
    const levels: string[] = [];
    const walk = (schema: Json, at: string) => {
      if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return;
      for (const [name, child] of Object.entries(obj(schema.properties ?? {}, 'properties'))) {
        if (name === 'level') levels.push(`${at}${name}`);
        walk(child, `${at}${name}.`);
      }
    };
    walk(settingsSchema, '');
    expect(levels).toEqual(['access.level']);
  });

  it('audits with a parameterized effect', () => {
    expect(obj(rule(auditDefinition).then, 'then')).toEqual({ effect: "[parameters('effect')]" });
    expect(obj(declared(auditDefinition).effect, 'effect')).toMatchObject({ allowedValues: ['Audit', 'Disabled'], defaultValue: 'Audit' });
  });

  describe.each(engines)('with %s serialization', (_name, serialize) => {
    const flagged = (resource: Obj) => evaluateCondition(auditIf, resource, { parameters: {}, serialize });

    it('does not flag the extension as the deployment policy installs it, nor a revoked one', () => {
      expect(flagged(asAzureResource(remediationFor(windowsMachine)[0]!, windowsMachine, 'Succeeded'))).toBe(false);
      expect(flagged(extensionWith({ ...grant('None'), access: { level: 'None' } }))).toBe(false);
    });

    // The handler reads the level in any letter case: a revoke written as none is a revoke.
    it.each(['none', 'NONE', 'nOnE'])('does not flag a revoke written as %s', (level) => {
      const settings = { schemaVersion: 1, access: { level }, retentionDays: 30 };
      const validate = settingsValidator();
      expect(validate(settings) ? [] : validate.errors).toEqual([]);
      expect(toDesiredState(settings)).toEqual({ retentionDays: 30, accessStated: true });
      expect(flagged(extensionWith(settings))).toBe(false);
    });

    it.each(['diagnostics', 'DIAGNOSTICS', 'diagnosticsandrepair', 'DIAGNOSTICSREPAIR', 'diagnosticsRepair'])(
      'flags settings that grant %s, in any letter case',
      (level) => {
        const settings = grant(level);
        const validate = settingsValidator();
        expect(validate(settings) ? [] : validate.errors).toEqual([]);
        expect(toDesiredState(settings).grant).toBeDefined();
        expect(flagged(extensionWith(settings))).toBe(true);
      },
    );

    it('flags a grant that also carries a level None elsewhere: the handler refuses such settings, so the grant before stays', () => {
      expect(flagged(extensionWith({ ...grant('Diagnostics'), cluster: { level: 'None' } }))).toBe(true);
      expect(flagged(extensionWith({ ...grant('Diagnostics'), cluster: { LEVEL: 'none' } }))).toBe(true);
      expect(flagged(extensionWith({ schemaVersion: 1, access: { level: 'None' }, extra: { level: 'none' } }))).toBe(true);
    });

    // acceptedBy quotes "level":"None": inside a JSON string the quotes are escaped, so it cannot pass for a revoke.
    it.each(['Diagnostics', 'DiagnosticsAndRepair', 'DiagnosticsRepair'])('flags settings that grant %s', (level) => {
      const settings = grant(level);
      const validate = settingsValidator();
      expect(validate(settings) ? [] : validate.errors).toEqual([]);
      expect(flagged(extensionWith(settings))).toBe(true);
    });

    it('flags settings that carry no access level, and an extension with no settings', () => {
      expect(flagged(extensionWith({ schemaVersion: 1, retentionDays: 30 }))).toBe(true);
      expect(flagged(extensionWith(undefined))).toBe(true);
    });

    it('flags a level the handler would refuse as bad settings (so the previous grant stays in force)', () => {
      for (const level of ['Full', 'Non', 'None ', 'NoneX', '']) {
        expect(settingsValidator()({ schemaVersion: 1, access: { level } })).toBe(false);
        expect(flagged(extensionWith({ schemaVersion: 1, access: { level } }))).toBe(true);
      }
    });

    // The channel's tokens travel in protected settings, which policy cannot see; the public marker can be.
    it('flags settings that carry a remote channel, even with access None, and not once it is gone', () => {
      const channel = {
        relayNamespace: 'contoso-support.servicebus.windows.net',
        relayNamespaceId:
          '/subscriptions/6b3e1c2d-9f8a-4b7c-8d6e-5f4a3b2c1d0e/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/contoso-support',
        machine: 'fs01',
        hybridConnections: { FS01: 'rs-fs01-3f2b8c1e' },
      };
      const validate = settingsValidator();
      const withChannel = { ...grant('Diagnostics'), channel };
      expect(validate(withChannel) ? [] : validate.errors).toEqual([]);
      expect(flagged(extensionWith(withChannel))).toBe(true);
      const noneWithChannel = { schemaVersion: 1, access: { level: 'None' }, retentionDays: 30, channel };
      expect(validate(noneWithChannel) ? [] : validate.errors).toEqual([]);
      expect(flagged(extensionWith(noneWithChannel))).toBe(true);
      // As revoke leaves them: access None, the marker removed.
      expect(flagged(extensionWith({ schemaVersion: 1, access: { level: 'None' }, retentionDays: 30 }))).toBe(false);
      // The word quoted inside a value is escaped JSON, not a channel.
      const quoted = { ...grant('None'), access: { level: 'None', supportRequestId: 'TKT channel' } };
      expect(flagged(extensionWith(quoted))).toBe(false);
    });

    it('leaves other extensions and the machines themselves alone', () => {
      const other = extensionWith(grant('Diagnostics'));
      obj(other.properties, 'properties').publisher = 'Contoso';
      expect(flagged(other)).toBe(false);
      expect(flagged(windowsMachine)).toBe(false);
    });
  });
});

describe('the initiative', () => {
  const p = props(initiative);
  const references_ = p.policyDefinitions as Obj[];

  it('references both definitions by the names the README creates them under', () => {
    const ids = references_.map((r) => String(r.policyDefinitionId));
    expect(ids).toEqual(
      Object.keys(DEFINITION_NAMES).map((name) => `{definitionScope}/providers/Microsoft.Authorization/policyDefinitions/${name}`),
    );
    const referenceIds = references_.map((r) => r.policyDefinitionReferenceId);
    expect(new Set(referenceIds).size).toBe(referenceIds.length);
  });

  it('passes every parameter of each definition, from a declared initiative parameter with the same choices', () => {
    const used = new Set<string>();
    for (const reference of references_) {
      const name = String(reference.policyDefinitionId).split('/').pop()!;
      const definitionParameters = declared(DEFINITION_NAMES[name]!);
      const passed = obj(reference.parameters, 'parameters');
      expect(Object.keys(passed).sort()).toEqual(Object.keys(definitionParameters).sort());
      for (const [parameter, value] of Object.entries(passed)) {
        const match = /^\[parameters\('([^']+)'\)\]$/.exec(String(obj(value, parameter).value));
        expect(match).not.toBeNull();
        const initiativeParameter = obj(obj(p.parameters, 'parameters')[match![1]!], match![1]!);
        used.add(match![1]!);
        const definitionParameter = obj(definitionParameters[parameter], parameter);
        expect(initiativeParameter.type).toBe(definitionParameter.type);
        expect(initiativeParameter.allowedValues).toEqual(definitionParameter.allowedValues);
        expect(initiativeParameter.defaultValue).toEqual(definitionParameter.defaultValue);
      }
    }
    expect([...used].sort()).toEqual(Object.keys(obj(p.parameters, 'parameters')).sort());
  });

  it('is explained in the README section Azure Policy with those names', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const at = readme.indexOf('\n## Azure Policy\n');
    expect(at).toBeGreaterThan(0);
    const section = readme.slice(at);
    for (const name of [...Object.keys(DEFINITION_NAMES), INITIATIVE_NAME, '{definitionScope}', ...Object.values(files)])
      expect(section).toContain(name);
    for (const reference of references_) expect(section).toContain(String(reference.policyDefinitionReferenceId));
  });
});

describe('the emulated Resource Manager', () => {
  it("accepts the remediation's extension PUT, and the request and response pass the API document", async () => {
    const { startArmEmulator } = await import('../../sim/arm');
    const { rawRequest } = await import('../sim/arm/emulator-clients');
    const subscriptionId = '00000000-0000-0000-0000-000000000001';
    const emulator = await startArmEmulator({ operationMs: 5, machines: [{ subscriptionId, resourceGroup: 'servers', name: 'fs01' }] });
    try {
      const [put] = remediationFor(windowsMachine);
      const [machineName, extensionName] = String(put!.name).split('/');
      const url = `${String(windowsMachine.id).replace(/\/fs01$/, `/${machineName}`)}/extensions/${extensionName}?api-version=${String(put!.apiVersion)}`;
      const response = await rawRequest(emulator, 'PUT', url, { body: { location: put!.location, properties: put!.properties } });
      expect([200, 201, 202]).toContain(response.status);
      expect(emulator.extension(subscriptionId, 'servers', 'fs01', String(extensionName))?.properties).toMatchObject({
        enableAutomaticUpgrade: true,
        settings: { access: { level: 'None' } },
      });
      expect(await emulator.validateTraffic()).toEqual([]);
    } finally {
      await emulator.close();
    }
  });
});

/**
 * Turns a definition of an OpenAPI 2.0 (Swagger) document into a JSON Schema that ajv can check a
 * request body against, the way Resource Manager reads a PUT: only the document's own
 * `#/definitions/...` references, read-only properties not accepted in a request, and no property
 * the model does not declare (unless the model is a free-form object with additionalProperties).
 */
import { promises as fs } from 'fs';

type Schema = { [key: string]: unknown };

export interface RequestSchema {
  /** The JSON Schema: { $ref: '#/definitions/<root>', definitions: { ...reachable definitions } }. */
  schema: Schema;
  /** The reachable definitions as the document has them. */
  definitions: Record<string, Schema>;
}

const LOCAL_REF = /^#\/definitions\/([^/]+)$/;

export async function readOpenApi(file: string): Promise<Schema> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Schema;
}

export function requestSchema(document: Schema, root: string): RequestSchema {
  const all = document.definitions as Record<string, Schema> | undefined;
  if (!all?.[root]) throw new Error(`the document has no definition ${root}`);
  const reachable: Record<string, Schema> = {};
  const converted: Record<string, Schema> = {};

  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (!node || typeof node !== 'object') return node;
    const source = node as Schema;
    const out: Schema = {};
    for (const [key, value] of Object.entries(source)) {
      if (key.startsWith('x-ms-') || key === 'description' || key === 'readOnly' || key === 'example' || key === 'discriminator') continue;
      if (key === '$ref') {
        const match = LOCAL_REF.exec(String(value));
        if (!match) throw new Error(`reference outside this document: ${String(value)}`);
        visit(match[1]!);
        out.$ref = value;
        continue;
      }
      if (key === 'properties') {
        const properties: Schema = {};
        for (const [name, property] of Object.entries(value as Schema)) {
          // A read-only property is set by the service; a request that sends it is wrong.
          if ((property as Schema).readOnly === true) continue;
          properties[name] = convert(property);
        }
        out.properties = properties;
        continue;
      }
      out[key] = convert(value);
    }
    if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
    if (
      out.type === 'object' &&
      out.additionalProperties &&
      typeof out.additionalProperties === 'object' &&
      Object.keys(out.additionalProperties).length === 0
    ) {
      out.additionalProperties = true;
    }
    return out;
  };

  function visit(name: string) {
    if (name in converted) return;
    const definition = all![name];
    if (!definition) throw new Error(`the document has no definition ${name}`);
    reachable[name] = definition;
    converted[name] = {};
    converted[name] = convert(definition) as Schema;
  }

  visit(root);
  return { schema: { $ref: `#/definitions/${root}`, definitions: converted }, definitions: reachable };
}

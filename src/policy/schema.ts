import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { SchemaJson, TypeOfAttribute } from '@cedar-policy/cedar-wasm/nodejs';
import { readSchemaActions } from './reads.js';
import { locate, type LocatedPolicy, type Problem } from './sources.js';

/** What the schema needs of the catalog (declared structurally so the policy layer does not import it). */
export interface PolicyCatalog {
  actions(): ReadonlyArray<{ readonly name: string; readonly pack: string; readonly schema: Readonly<Record<string, unknown>> }>;
}

/** The Cedar type of a payload fact. */
export type FactType = 'String' | 'Long' | 'Boolean';

/** Payload facts policy can see of one action: field name → Cedar type, and whether it is required. */
export type Facts = ReadonlyMap<string, { readonly type: FactType; readonly required: boolean }>;

export const NAMESPACE = 'Writ';

/**
 * The Cedar type of a top-level payload property, or undefined when policy does not see it:
 * strings (and string enums/consts), integers and booleans are facts; objects, arrays, numbers
 * with fractions and nullable unions are not.
 */
function factType(prop: unknown): FactType | undefined {
  if (prop === null || typeof prop !== 'object') return undefined;
  const p = prop as Record<string, unknown>;
  if (p.type === 'string') return 'String';
  if (p.type === 'integer') return 'Long';
  if (p.type === 'boolean') return 'Boolean';
  if (p.type === undefined) {
    if (typeof p.const === 'string') return 'String';
    if (Array.isArray(p.enum) && p.enum.length > 0 && p.enum.every((v) => typeof v === 'string')) return 'String';
  }
  return undefined;
}

/** The facts of an action's payload JSON Schema: its top-level string, integer and boolean properties. */
export function factsOf(payloadSchema: Readonly<Record<string, unknown>>): Facts {
  const facts = new Map<string, { type: FactType; required: boolean }>();
  const props = (payloadSchema.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(payloadSchema.required) ? (payloadSchema.required as string[]) : []);
  for (const [name, prop] of Object.entries(props)) {
    const type = factType(prop);
    if (type) facts.set(name, { type, required: required.has(name) });
  }
  return facts;
}

/** The value of a fact if it has the declared type (integers: safe integers, Cedar Longs are i64). */
export function factValue(type: FactType | undefined, value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string') return type === undefined || type === 'String' ? value : undefined;
  if (typeof value === 'boolean') return type === undefined || type === 'Boolean' ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return type === undefined || type === 'Long' ? value : undefined;
  return undefined;
}

/**
 * The Cedar schema of writ's entity model, generated from the catalog (DESIGN §5):
 *   entity Role;  entity Actor in [Role] { tenant: String };  entity Resource;
 *   action "pack:<pack>";  action "<Name>" in ["pack:<pack>"] appliesTo {
 *     principal: Actor, resource: Resource, context: { tenant: String, payload: { <facts> } } };
 * and the read actions `"read:<kind>"` in ["reads"] (policy/reads.ts), context { tenant, own, decides };
 * all in namespace Writ. Policies are validated against it (strict mode) at start-up.
 */
export function cedarSchema(catalog: PolicyCatalog): SchemaJson<string> {
  const actions: SchemaJson<string>[string]['actions'] = readSchemaActions();
  for (const a of catalog.actions()) {
    actions[`pack:${a.pack}`] ??= {};
    const payload: Record<string, TypeOfAttribute<string>> = {};
    for (const [name, fact] of factsOf(a.schema)) payload[name] = { type: fact.type, required: fact.required };
    actions[a.name] = {
      memberOf: [{ id: `pack:${a.pack}` }],
      appliesTo: {
        principalTypes: ['Actor'],
        resourceTypes: ['Resource'],
        context: { type: 'Record', attributes: { tenant: { type: 'String' }, payload: { type: 'Record', attributes: payload } } },
      },
    };
  }
  return {
    [NAMESPACE]: {
      entityTypes: {
        Role: {},
        Actor: { memberOfTypes: ['Role'], shape: { type: 'Record', attributes: { tenant: { type: 'String' } } } },
        Resource: {},
      },
      actions,
    },
  };
}

/** The generated schema in Cedar's schema syntax (`writ policy schema`). */
export function cedarSchemaText(catalog: PolicyCatalog): string {
  const text = cedar.schemaToText(cedarSchema(catalog));
  if (text.type === 'failure') throw new Error(`the generated Cedar schema does not print: ${text.errors.map((e) => e.message).join('; ')}`);
  return text.text;
}

/**
 * Validates every policy against the catalog's schema (Cedar's strict mode): an unknown action,
 * entity type or attribute, or a type error, is a problem at its file and line; the validator's
 * warnings (e.g. a policy that can never apply) are kept apart.
 */
export function validateAgainstSchema(catalog: PolicyCatalog, policies: ReadonlyMap<string, LocatedPolicy>, problems: Problem[], warnings: Problem[]): void {
  const staticPolicies = Object.fromEntries([...policies].map(([id, p]) => [id, p.text]));
  const answer = cedar.validate({ schema: cedarSchema(catalog), policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') {
    problems.push(...answer.errors.map((e) => ({ source: 'the Cedar schema generated from the catalog', line: 0, message: e.message })));
    return;
  }
  const at = (list: typeof answer.validationErrors) =>
    list.flatMap(({ policyId, error }) => {
      const p = policies.get(policyId)!;
      return locate(p.source, p.text, [error], p.line);
    });
  problems.push(...at(answer.validationErrors));
  warnings.push(...at(answer.validationWarnings));
}

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { isDateTime } from '../core/date-time.js';
import { WritError } from '../core/errors.js';
import { FIELD_MAX } from '../core/envelope.js';
import { declarativeEffect } from './effects.js';
import type { EntityRow } from '../store/port.js';
import type { EntityReadPolicy, PackEnvironment, PackModule, PackSetup, RoleDocuments } from './pack-module.js';
import { checkPackRoutes } from './pack-routes.js';
import { PACK_SCHEMA } from './pack-schema.js';
import type { ActionDef, EffectSpec, Handler } from './types.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv2020) => void;

export interface Pack {
  readonly name: string;
  readonly dir: string;
  readonly policies: string;
  readonly actions: readonly ActionDef[];
  /** What the pack adds besides its actions: jobs, hooks, role documents, routes, CLI (src/catalog/pack-module.ts). */
  readonly module: PackModule;
}

/** The action catalog (DESIGN §4): every pack's actions, payload validators and effects. */
export class Catalog {
  private readonly byName = new Map<string, ActionDef>();
  private readonly handlersByAction = new Map<string, Handler>();

  constructor(readonly packs: readonly Pack[]) {
    const dirs = new Map<string, string>();
    for (const pack of packs) {
      // A pack's name is its identity: its Cedar action group, its handlers, the name of its policies.
      const other = dirs.get(pack.name);
      if (other !== undefined) throw new Error(`two packs are named ${pack.name} (${other} and ${pack.dir}); rename one in its actions.yaml`);
      dirs.set(pack.name, pack.dir);
      for (const action of pack.actions) {
        if (this.byName.has(action.name)) throw new Error(`action ${action.name} is defined by two packs`);
        this.byName.set(action.name, action);
        this.handlersByAction.set(action.name, action.handler ?? declarativeEffect(action.effect));
      }
    }
    checkScrollsApart(this.actions());
    checkPackRoutes(packs);
    const providers = packs.filter((p) => p.module.roles);
    if (providers.length > 1) throw new Error(`packs ${providers.map((p) => p.name).join(' and ')} both provide role documents; remove one`);
    this.roleDocs = providers[0]?.module.roles;
  }

  /** The role documents of the one pack that provides them (none: no actor holds a role). */
  readonly roleDocs: RoleDocuments | undefined;

  /** The first pack's policy for a read of entity `type/id` by `reader` (PackModule.entityRead), or null. */
  entityRead(type: string, id: string | undefined, reader: string | undefined): EntityReadPolicy | null {
    for (const p of this.packs) {
      const read = p.module.entityRead?.(type, id, reader);
      if (read) return read;
    }
    return null;
  }

  /** The roles `actor` holds, read with `read` (state as the caller sees it). */
  async rolesOf(read: (type: string, id: string) => Promise<EntityRow | null>, actor: string): Promise<readonly string[]> {
    if (!this.roleDocs) return [];
    const row = await read(this.roleDocs.type, actor);
    return row && !row.deleted ? this.roleDocs.rolesOf(row.doc) : [];
  }

  get(name: string): ActionDef | undefined {
    return this.byName.get(name);
  }

  handler(name: string): Handler {
    const h = this.handlersByAction.get(name);
    if (!h) throw new Error(`no handler for ${name}`);
    return h;
  }

  actions(): ActionDef[] {
    return [...this.byName.values()];
  }

  /** Derives `{type, id}` of the target from the payload; checks an explicit target agrees. */
  target(action: ActionDef, payload: Record<string, unknown>, explicit: string | undefined): { type: string; id: string } {
    const id = render(action.id, payload);
    const derived = `${action.entity}/${id}`;
    // The target is a field of the ledger record: one derived from a pack's payload is bounded like an envelope's.
    if (derived.length > FIELD_MAX.target) {
      throw new WritError('INVALID_PAYLOAD', `the target derived from the payload is ${derived.length} characters long; it may be at most ${FIELD_MAX.target} characters (shorten the fields of ${JSON.stringify(action.id)})`);
    }
    if (explicit !== undefined && explicit !== derived) {
      throw new WritError('INVALID_PAYLOAD', `target ${JSON.stringify(explicit)} does not match the payload (expected ${JSON.stringify(derived)})`);
    }
    return { type: action.entity, id };
  }
}

/**
 * A handler may write to `<its scroll>-<suffix>` (EffectPlan.scroll), so no scroll may begin with
 * another's name and a dash: that log would be open to both packs.
 */
function checkScrollsApart(actions: readonly ActionDef[]): void {
  const owners = new Map<string, string>();
  for (const a of actions) if (!owners.has(a.scroll)) owners.set(a.scroll, a.pack);
  for (const [scroll, pack] of owners) {
    for (const [other, otherPack] of owners) {
      if (scroll.startsWith(`${other}-`)) throw new Error(`scroll ${scroll} of pack ${pack} begins with scroll ${other}- of pack ${otherPack}, whose handlers may write to ${other}-<suffix>; rename it`);
    }
  }
}

/** A template with `{field}` standing for a payload field (an action's `id`, its `beneficiary`). */
function render(template: string, payload: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, field: string) => String(payload[field]));
}

/** The `{field}`s of `template` that the payload schema does not require (a beneficiary must always be named). */
function missingFields(template: string | undefined, schema: Record<string, unknown>): string[] {
  const required = (schema.required as string[] | undefined) ?? [];
  return [...(template ?? '').matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).filter((f) => !required.includes(f));
}

const ACTOR_SUBJECT = 'actor:';

/** The actor a command of `action` with `payload` grants something to, if its action declares one. */
export function beneficiaryOf(action: ActionDef, payload: Record<string, unknown>): string | undefined {
  const subject = action.beneficiary === undefined ? '' : render(action.beneficiary, payload);
  return subject.startsWith(ACTOR_SUBJECT) && subject.length > ACTOR_SUBJECT.length ? subject.slice(ACTOR_SUBJECT.length) : undefined;
}

export type HandlerModule = Record<string, Handler>;

/**
 * Loads every pack folder under each directory: `actions.yaml`, `policies.cedar`, and the pack's
 * module: a built-in pack's from `builtins` (by pack name), any other's from a `handlers.js` (its
 * named exports are handlers) and a `pack.js` (its default export is a PackSetup) beside the YAML.
 * The module's handlers win over handlers.js's. `env` is null for a tool's catalog (PackSetup).
 */
export async function loadCatalog(dirs: readonly string[], builtins: Readonly<Record<string, PackSetup>>, env: PackEnvironment | null = null): Promise<Catalog> {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  // ajv-formats accepts a leap second (23:59:60), which Date.parse cannot read: handlers compare
  // these date-times, so the catalog takes only those writ's own checker accepts.
  ajv.addFormat('date-time', isDateTime);
  const checkPack = ajv.compile(PACK_SCHEMA);
  const packs: Pack[] = [];
  for (const root of dirs) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      const yamlPath = join(dir, 'actions.yaml');
      if (!existsSync(yamlPath)) continue;
      const doc = parseYaml(readFileSync(yamlPath, 'utf8')) as Record<string, any>;
      if (!checkPack(doc)) {
        throw new Error(`${yamlPath}: ${ajv.errorsText(checkPack.errors, { dataVar: 'pack' })}`);
      }
      const policyPath = join(dir, 'policies.cedar');
      const policies = existsSync(policyPath) ? readFileSync(policyPath, 'utf8') : '';
      const module = await packModule(dir, builtins[doc.pack], env);
      const actions: ActionDef[] = [];
      for (const [actionName, spec] of Object.entries(doc.actions as Record<string, any>)) {
        const effect = parseEffect(spec.effect);
        let handler: Handler | undefined;
        if (effect.kind === 'handler') {
          handler = module.handlers?.[effect.name];
          if (!handler) throw new Error(`${yamlPath}: action ${actionName} names handler ${effect.name}, which the pack does not export`);
        }
        const schema = spec.payload as Record<string, unknown>;
        const unnamed = missingFields(spec.beneficiary, schema);
        if (unnamed.length) throw new Error(`${yamlPath}: the beneficiary of ${actionName} names ${unnamed.join(', ')}, which its payload does not require; name required string fields only`);
        let validate;
        try {
          validate = ajv.compile(schema);
        } catch (err) {
          throw new Error(`${yamlPath}: payload schema of ${actionName} is invalid: ${(err as Error).message}`);
        }
        actions.push({
          name: actionName,
          pack: doc.pack,
          scroll: spec.scroll ?? doc.scroll,
          description: spec.description,
          entity: spec.entity,
          id: spec.id,
          schema,
          effect,
          event: spec.event,
          ...(spec.secretFields ? { secretFields: spec.secretFields } : {}),
          ...(spec.beneficiary ? { beneficiary: spec.beneficiary } : {}),
          validate,
          handler,
        });
      }
      packs.push({ name: doc.pack, dir, policies, actions, module });
    }
  }
  return new Catalog(packs);
}

function parseEffect(raw: unknown): EffectSpec {
  if (raw === 'upsert' || raw === 'merge' || raw === 'delete') return { kind: raw };
  const o = raw as Record<string, any>;
  if (o.handler) return { kind: 'handler', name: o.handler };
  return { kind: 'transition', field: o.transition.field, from: o.transition.from, to: o.transition.to };
}

/** A pack's module: the built-in setup, or the folder's handlers.js and pack.js. */
export async function packModule(dir: string, builtin: PackSetup | undefined, env: PackEnvironment | null): Promise<PackModule> {
  if (builtin) return builtin(env);
  const handlers = await importFile(join(dir, 'handlers.js'));
  const setup = (await importFile(join(dir, 'pack.js')))?.default as PackSetup | undefined;
  if (setup !== undefined && typeof setup !== 'function') throw new Error(`${join(dir, 'pack.js')}: its default export must be a function (env) => pack module`);
  const module = setup ? await setup(env) : {};
  return { ...module, handlers: { ...(handlers as HandlerModule | undefined), ...module.handlers } };
}

async function importFile(file: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

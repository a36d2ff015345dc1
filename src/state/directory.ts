import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyRefusal } from './key-validity.js';
import { WritError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { EntityRow, EntityStore } from '../store/port.js';
import type { RoleDocuments } from '../catalog/pack-module.js';
import type { KeyDoc } from './documents.js';
import { flagIn, strongestFlag, type ActorFlags, type Flag } from './flags.js';

/**
 * Entity types of the system pack the pipeline reads on every command; their current versions are
 * cached here, with those of the role documents a pack provides (RoleDocuments).
 */
export const SYSTEM_TYPES = { key: 'key', flag: 'flag' } as const;


export interface KnownKey {
  readonly tenant: string;
  readonly actor: string;
  readonly keyId: string;
  readonly alg: 'ed25519' | 'es256' | 'hs256';
  readonly publicKey?: KeyObject;
  /** SPKI DER of the public key, sent to verification workers. */
  readonly spki?: Buffer;
  /** SHA-256 of `spki`, hex. */
  readonly digest?: string;
  readonly secret?: Uint8Array;
  readonly notBefore: number | null;
  readonly notAfter: number | null;
  readonly revokedAt: number | null;
}

/**
 * The key registry, the roles each actor holds and the resolver flags, as of the last committed
 * batch. State is the truth; this cache is rebuilt from it at start-up and updated from each
 * batch's writes after they are durable.
 */
export class Directory {
  private readonly keys = new Map<string, KnownKey>();
  private readonly roles = new Map<string, readonly string[]>();
  private readonly flags = new Map<string, Flag>();
  private readonly configuredKeys: KnownKey[] = [];
  /** Told when a batch changed any key, with every public key (Ed25519, ES256) now registered. */
  onKeysChanged: ((keys: KnownKey[]) => void) | undefined;

  private constructor(private readonly roleDocs: RoleDocuments | undefined) {}

  /** `roles`: the loaded pack's role documents (PackRuntime.roles); without them no actor holds a role. */
  static async load(store: Pick<EntityStore, 'allEntitiesOfType'>, configured: readonly KnownKey[] = [], roles?: RoleDocuments): Promise<Directory> {
    const d = new Directory(roles);
    d.configuredKeys.push(...configured);
    for (const k of configured) d.keys.set(`${k.tenant}\n${k.keyId}`, k);
    await d.reload(store);
    return d;
  }

  /** Reads every registry type (keys, flags, the role documents) from the store again: at load, and when another process changed them. */
  async reload(store: Pick<EntityStore, 'allEntitiesOfType'>): Promise<void> {
    for (const type of [...Object.values(SYSTEM_TYPES), ...(this.roleDocs ? [this.roleDocs.type] : [])]) this.apply(await store.allEntitiesOfType(type));
  }

  /** The entity type that holds an actor's roles, if a pack provides one. */
  get roleType(): string | undefined {
    return this.roleDocs?.type;
  }

  /** The roles a row of the role type gives (none for a deleted or missing row). */
  rolesIn(row: EntityRow | null): readonly string[] {
    return row && !row.deleted && this.roleDocs ? this.roleDocs.rolesOf(row.doc) : [];
  }

  /** Every registered public key (Ed25519, ES256). */
  publicKeys(): KnownKey[] {
    return [...this.keys.values()].filter((k) => k.spki !== undefined);
  }

  /** Takes in entity versions that were just committed. */
  apply(rows: readonly EntityRow[]): void {
    let keysChanged = false;
    for (const row of rows) {
      const key = `${row.tenant}\n${row.id}`;
      if (row.type === SYSTEM_TYPES.key) {
        keysChanged = true;
        const doc = row.doc as KeyDoc;
        if (row.deleted) this.keys.delete(key);
        else if (doc.alg === 'hs256') {
          // The revocation of a configured HMAC key: the secret stays in config, the state adds revokedAt.
          const configured = this.configured(row.tenant, doc.keyId);
          if (configured) this.keys.set(key, { ...configured, revokedAt: doc.revokedAt ? Date.parse(doc.revokedAt) : null });
        } else this.keys.set(key, toKnownKey(row.tenant, doc));
      } else if (row.type === this.roleDocs?.type) {
        this.roles.set(key, this.rolesIn(row));
      } else if (row.type === SYSTEM_TYPES.flag) {
        const flag = flagIn(row);
        if (flag) this.flags.set(key, flag);
        else this.flags.delete(key);
      }
    }
    if (keysChanged) this.onKeysChanged?.(this.publicKeys());
  }

  key(tenant: string, keyId: string): KnownKey | undefined {
    return this.keys.get(`${tenant}\n${keyId}`);
  }

  /**
   * The key `keyId` of `actor` in `tenant` if it may sign now with `alg`; otherwise the registry's
   * refusal: UNKNOWN_KEY (not registered for that actor there), BAD_SIGNATURE (another algorithm),
   * KEY_REVOKED (revoked, or outside notBefore/notAfter). Commands and reads check keys alike.
   */
  usableKey(tenant: string, keyId: string, actor: string, alg: string, now: number): KnownKey {
    const key = this.key(tenant, keyId);
    if (!key || key.actor !== actor) {
      throw new WritError('UNKNOWN_KEY', `key ${JSON.stringify(keyId)} is not registered for actor ${JSON.stringify(actor)} in tenant ${JSON.stringify(tenant)}`);
    }
    if (key.alg !== alg) throw new WritError('BAD_SIGNATURE', `key ${JSON.stringify(keyId)} is a ${key.alg} key, but the signature says ${alg}`);
    const invalid = keyRefusal(keyId, key, now);
    if (invalid) throw invalid;
    return key;
  }

  rolesOf(tenant: string, actor: string): readonly string[] {
    return this.roles.get(`${tenant}\n${actor}`) ?? [];
  }

  /** A key configured in auth.hmacKeys (its secret never enters state). */
  configured(tenant: string, keyId: string): KnownKey | undefined {
    return this.configuredKeys.find((k) => k.tenant === tenant && k.keyId === keyId);
  }

  /** The flags on the actor and on its tenant. */
  flagsOf(tenant: string, actor: string): ActorFlags {
    return { tenant: this.flags.get(`${tenant}\ntenant`), actor: this.flags.get(`${tenant}\nactor:${actor}`) };
  }

  /** The strongest flag on the actor or its tenant: blocked beats readonly. */
  flagOf(tenant: string, actor: string): { flag: Flag; subject: string } | undefined {
    return strongestFlag(this.flagsOf(tenant, actor));
  }
}

function toKnownKey(tenant: string, doc: KeyDoc): KnownKey {
  const publicKey = createPublicKey(doc.publicKey!);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    tenant,
    actor: doc.actor,
    keyId: doc.keyId,
    alg: doc.alg,
    publicKey,
    spki,
    digest: sha256Hex(spki),
    notBefore: doc.notBefore ? Date.parse(doc.notBefore) : null,
    notAfter: doc.notAfter ? Date.parse(doc.notAfter) : null,
    revokedAt: doc.revokedAt ? Date.parse(doc.revokedAt) : null,
  };
}

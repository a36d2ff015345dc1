import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { WritError } from '../../core/errors.js';
import type { Identity } from '../../access/identity.js';

/** Bounds on the HTTP transport's sessions (config `mcp`): each holds a server and a transport in memory. */
export interface SessionLimits {
  /** Sessions open at once, all identities together; beyond it a new one is refused UNAVAILABLE. */
  readonly maxSessions: number;
  /** Sessions of one actor; its least recently used one is closed to make room for a new one. */
  readonly maxSessionsPerActor: number;
  /** A session unused this long is closed (a client that comes back starts a new one). */
  readonly idleMs: number;
}

export interface McpSession {
  readonly id: string;
  readonly tenant: string;
  readonly actor: string;
  readonly server: Server;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
  /** Requests being served: a session is never closed under one. */
  busy: number;
}

/**
 * The open MCP sessions of the HTTP transport, each bound to the identity that opened it: a request
 * naming a session finds it only with a credential of the same tenant and actor, so a session id
 * alone (in a log, a proxy) gives nothing, and one agent cannot use or close another's session.
 */
export class McpSessions {
  private readonly byId = new Map<string, McpSession>();
  /** Places admitted whose initialize is still being answered: counted, so concurrent ones cannot overshoot. */
  private reserved = 0;

  constructor(private readonly limits: SessionLimits, private readonly now: () => number) {}

  get size(): number {
    return this.byId.size;
  }

  private get taken(): number {
    return this.byId.size + this.reserved;
  }

  /** The session `id` if `identity` opened it; undefined otherwise (the caller answers NOT_FOUND either way). */
  find(id: string, identity: Identity): McpSession | undefined {
    const s = this.byId.get(id);
    return s && s.tenant === identity.tenant && s.actor === identity.actor ? s : undefined;
  }

  /**
   * Makes room for a new session of `identity`, before anything is allocated for it: closes the
   * actor's least recently used idle session when it has its maximum, closes idle sessions, and
   * refuses UNAVAILABLE when every place is still taken. An admitted place is held until add() or
   * release().
   */
  async admit(identity: Identity): Promise<void> {
    const own = [...this.byId.values()].filter((s) => s.tenant === identity.tenant && s.actor === identity.actor && s.busy === 0);
    if (own.length >= this.limits.maxSessionsPerActor) {
      own.sort((a, b) => a.lastUsed - b.lastUsed);
      for (const s of own.slice(0, own.length - this.limits.maxSessionsPerActor + 1)) await this.close(s);
    }
    if (this.taken >= this.limits.maxSessions) await this.sweep();
    if (this.taken >= this.limits.maxSessions) {
      throw new WritError('UNAVAILABLE', `every MCP session place is taken (mcp.maxSessions = ${this.limits.maxSessions}); retry later, or end unused sessions (HTTP DELETE /mcp)`, { retryAfter: 5 });
    }
    this.reserved++;
  }

  /** Fills an admitted place with the session its initialize opened. */
  add(session: McpSession): void {
    this.reserved--;
    this.byId.set(session.id, session);
  }

  /** Gives back an admitted place whose initialize failed. */
  release(): void {
    this.reserved--;
  }

  /** Closes sessions idle for longer than the limit; returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.now() - this.limits.idleMs;
    const idle = [...this.byId.values()].filter((s) => s.busy === 0 && s.lastUsed < cutoff);
    for (const s of idle) await this.close(s);
    return idle.length;
  }

  /** Forgets a session its client ended (DELETE /mcp). */
  drop(id: string): void {
    this.byId.delete(id);
  }

  async close(session: McpSession): Promise<void> {
    this.byId.delete(session.id);
    await session.server.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const s of [...this.byId.values()]) await this.close(s);
  }
}

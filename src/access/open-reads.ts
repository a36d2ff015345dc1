import type { Config } from '../config/config.js';

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * What starting a server with `config` must say about open reads (`auth.reads: "open"`): nothing
 * when reads are decided by policy; a warning on loopback; and a refusal (an Error whose message
 * says what to do) on any other address unless the operator forces it.
 */
export function openReadsWarning(config: Config, force: boolean): string | null {
  if (config.auth.reads !== 'open') return null;
  const host = config.server.host;
  if (!isLoopback(host) && !force) {
    throw new Error(
      `auth.reads is "open" (anyone may read every tenant's entities, envelopes, approvals, keys and outbox) and server.host is ${host}, which is not loopback. ` +
        'Set auth.reads to "policy" in config.json (the default), or listen on 127.0.0.1, or pass --force-open-reads if this network is truly private.',
    );
  }
  return `WARNING: auth.reads is "open": ANYONE who can reach ${host}:${config.server.port} reads EVERY tenant's state, envelopes, approvals, keys and outbox without credentials. Use it for local development only; set auth.reads to "policy" (the default) otherwise.`;
}

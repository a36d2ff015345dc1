import { existsSync } from 'node:fs';
import type { BackgroundJob, PackSetup } from '../../catalog/pack-module.js';
import { runAuditMirror } from './audit/start.js';
import { opsCli } from './cli.js';
import { runEffector } from './effector/start.js';

/**
 * The ops pack bound to a deployment: `writ ops …` is its command line (declared whatever env, as a
 * tool's catalog builds the CLI); with `ops.effector.enabled`, its effector runs as the pack's
 * background job, and with `ops.audit.enabled` its audit mirror (docs/ops.md). A missing effector
 * key stops writ from opening, with what to do.
 */
export const opsPack: PackSetup = (env) => {
  const surface = { cli: opsCli };
  if (!env) return surface;
  const ops = env.config.ops;
  const jobs: BackgroundJob[] = [];
  if (ops.effector.enabled) jobs.push({ name: 'effector', run: (ctx) => runEffector(ctx, ops) });
  if (ops.audit.enabled) jobs.push({ name: 'audit', run: (ctx) => runAuditMirror(ctx, ops.audit) });
  if (jobs.length === 0) return surface;
  return {
    ...surface,
    async start() {
      if (ops.effector.enabled && !existsSync(ops.effector.keyFile)) {
        throw new Error(`ops.effector is enabled but its key ${ops.effector.keyFile} is missing; create and register it with \`writ keys new --actor effector --roles effector\` (then set ops.effector.keyFile and keyId to what it prints)`);
      }
    },
    jobs,
  };
};

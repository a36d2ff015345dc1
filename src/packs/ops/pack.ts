import { existsSync } from 'node:fs';
import type { PackSetup } from '../../catalog/pack-module.js';
import { runEffector } from './effector/start.js';

/**
 * The ops pack bound to a deployment: with `ops.effector.enabled`, its effector runs as the pack's
 * background job (docs/ops.md). A missing effector key stops writ from opening, with what to do.
 */
export const opsPack: PackSetup = (env) => {
  if (!env || !env.config.ops.effector.enabled) return {};
  const ops = env.config.ops;
  return {
    async start() {
      if (!existsSync(ops.effector.keyFile)) {
        throw new Error(`ops.effector is enabled but its key ${ops.effector.keyFile} is missing; create and register it with \`writ keys new --actor effector --roles effector\` (then set ops.effector.keyFile and keyId to what it prints)`);
      }
    },
    jobs: [{ name: 'effector', run: (ctx) => runEffector(ctx, ops) }],
  };
};

import { everyInterval } from '../../catalog/every-interval.js';
import type { PackSetup } from '../../catalog/pack-module.js';
import { PublishScheduler } from './publish-scheduler.js';

/** The content pack's background job: publishing due SchedulePublish entries (config `scheduler`). */
export const contentPack: PackSetup = (env) => {
  if (!env?.config.scheduler.enabled) return {};
  const intervalMs = env.config.scheduler.intervalMs;
  return {
    jobs: [
      {
        name: 'publish-scheduler',
        run: (ctx) => {
          const scheduler = new PublishScheduler({ ...ctx, tenants: () => ctx.tenants('content') });
          return everyInterval(ctx, intervalMs, () => scheduler.tick(), 'scheduled publishing failed; retrying at the next tick');
        },
      },
    ],
  };
};

import { benchPipeline } from './pipeline.js';
import { rawVerifyPerSecond } from './raw.js';

/** Runs only the pipeline benchmark: `node dist/bench/profile-pipeline.js [commands] [verify workers]` (also for `--cpu-prof`). */
await benchPipeline(Number(process.argv[2] ?? 10000), () => rawVerifyPerSecond(2000), 1, 512, process.argv[3] === undefined ? undefined : Number(process.argv[3]));

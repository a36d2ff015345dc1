import type { Config } from '../../config/config.js';
import type { Anchor } from './anchor.js';
import { GitAnchor } from './git-anchor.js';
import { NdjsonAnchor } from './ndjson-anchor.js';

/** The anchors the configuration names (an NDJSON file, a git repository), opened for the integrator. */
export async function openAnchors(config: Config): Promise<Anchor[]> {
  const anchors: Anchor[] = [];
  if (config.anchors.ndjson) anchors.push(await NdjsonAnchor.open({ path: config.anchors.ndjson }));
  if (config.anchors.git) {
    anchors.push(await GitAnchor.open({ path: config.anchors.git.path, ...(config.anchors.git.remote ? { push: { remote: config.anchors.git.remote } } : {}) }));
  }
  return anchors;
}

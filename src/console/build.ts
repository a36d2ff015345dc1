import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../util/package-root.js';
import { consoleDir } from './dir.js';

/**
 * Bundles the web console (src/console/app/) into dist/console/ with esbuild: one script, one
 * stylesheet and index.html, nothing from a CDN. It runs at build time (`npm run build`, and so
 * `npm install`'s prepare); `writ serve` only reads the result. The browser gets writ's own
 * src/core and SDK code, with one substitution: node:crypto's SHA-256 (core/sha256-node.ts)
 * becomes the portable one (core/sha256-web.ts). esbuild's browser platform refuses any other
 * `node:` import, so the bundle proves that core, as the console reaches it, needs no Node API.
 */

/** node:crypto's SHA-256 (core/sha256-node.ts) becomes the portable one (core/sha256-web.ts). */
export const browserHash: Plugin = {
  name: 'writ-browser-hash',
  setup(b) {
    b.onResolve({ filter: /\/sha256-node\.js$/ }, (args) => ({ path: join(args.resolveDir, 'sha256-web.ts') }));
  },
};

export async function buildConsole(options: { outdir?: string; minify?: boolean } = {}): Promise<string> {
  const root = packageRoot();
  const src = join(root, 'src', 'console', 'app');
  const outdir = options.outdir ?? consoleDir(root);
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(src, 'main.ts')],
    outfile: join(outdir, 'console.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome120', 'firefox128', 'safari17'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    plugins: [browserHash],
    logLevel: 'warning',
  });
  for (const f of readdirSync(src)) if (/\.(html|css|svg)$/.test(f)) copyFileSync(join(src, f), join(outdir, f));
  return outdir;
}

// `node dist/src/console/build.js` (package.json's build script).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildConsole();
  process.stdout.write(`console bundled into ${out}\n`);
}

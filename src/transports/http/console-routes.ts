import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { WritError } from '../../core/errors.js';
import { consoleDir } from '../../console/dir.js';

/**
 * The web console's static files (docs/console.md), public because they hold no data: every read
 * the page makes goes to the authorised API with the operator's own signature. Served with a
 * Content-Security-Policy that allows this origin's script and style only (no inline script, no
 * eval, no other origin, no framing), so even a value that slipped into markup could not run.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/** The bundle's files, read once: name → bytes. Empty when the console was not built. */
function loadAssets(dir: string): Map<string, Buffer> {
  const assets = new Map<string, Buffer>();
  if (!existsSync(dir)) return assets;
  for (const f of readdirSync(dir)) if (TYPES[extname(f)]) assets.set(f, readFileSync(join(dir, f)));
  return assets;
}

function send(reply: FastifyReply, name: string, body: Buffer): FastifyReply {
  return reply
    .type(TYPES[extname(name)])
    .header('Content-Security-Policy', CONSOLE_CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cross-Origin-Opener-Policy', 'same-origin')
    .header('Cache-Control', 'no-cache')
    .send(body);
}

export function consoleRoutes(app: FastifyInstance, dir = consoleDir()): void {
  const assets = loadAssets(dir);
  const missing = () => new WritError('NOT_FOUND', 'the console is not built: run `npm run build` (it bundles src/console into dist/console)');
  const index = (_r: unknown, reply: FastifyReply) => {
    const html = assets.get('index.html');
    if (!html) throw missing();
    return send(reply, 'index.html', html);
  };
  app.get('/console', { config: { access: { kind: 'public' } } }, index);
  app.get('/console/', { config: { access: { kind: 'public' } } }, index);
  app.get<{ Params: { file: string } }>('/console/:file', { config: { access: { kind: 'public' } } }, async (request, reply) => {
    const body = assets.get(request.params.file);
    if (!body) throw assets.size ? new WritError('NOT_FOUND', `no console file ${JSON.stringify(request.params.file)}`) : missing();
    return send(reply, request.params.file, body);
  });
}

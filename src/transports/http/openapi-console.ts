const answer = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Answer' } } } });
const text = { schema: { type: 'string' } };
const csp = { 'Content-Security-Policy': { description: "script, style and connections from this origin only, no inline script (docs/console.md)", schema: { type: 'string' } } };

/** GET /console and its static files (the web console, docs/console.md): public, data-free. */
export function consolePaths(): Record<string, unknown> {
  const page = {
    get: {
      summary: 'The web console (docs/console.md): a static page with no data; it reads the API with your own signed read tokens',
      responses: { '200': { description: 'index.html', headers: csp, content: { 'text/html': text } }, '404': answer('NOT_FOUND: the console is not built (npm run build)') },
    },
  };
  return {
    '/console': page,
    '/console/': page,
    '/console/{file}': {
      get: {
        summary: "One of the console's bundled files (console.js, console.css, index.html)",
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The file', headers: csp, content: { 'text/javascript': text, 'text/css': text, 'text/html': text } },
          '404': answer('NOT_FOUND: no such file, or the console is not built'),
        },
      },
    },
  };
}

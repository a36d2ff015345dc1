import type { Catalog } from '../../catalog/catalog.js';
import { openApiPath } from './openapi-access.js';

type Parameter = { readonly name?: unknown; readonly in?: unknown };

/**
 * The loaded packs' routes in the OpenAPI document, each under its path with the operation the pack
 * declared (PackRoute.openapi); a path parameter it does not list is added as a required string.
 * Who may call it is added with the core routes' (annotateAccess).
 */
export function packPaths(catalog: Catalog): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const pack of catalog.packs) {
    for (const route of pack.module.routes ?? []) {
      const path = openApiPath(route.path);
      const listed = (route.openapi.parameters as Parameter[] | undefined) ?? [];
      const missing = [...path.matchAll(/\{([A-Za-z]+)\}/g)]
        .map((m) => m[1])
        .filter((name) => !listed.some((p) => p.in === 'path' && p.name === name))
        .map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
      const operation = { responses: { '200': { description: route.openapi.summary } }, ...route.openapi, parameters: [...listed, ...missing], 'x-writ-pack': pack.name };
      (paths[path] ??= {})[route.method.toLowerCase()] = operation;
    }
  }
  return paths;
}

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { WritClient } from '../../sdk/client.js';
import { clientOf, configOf, globals, print, type ReaderOptions } from './context.js';
import { allPages } from './entities.js';

/** One rate as a line of the export: its document (the payload that set it) and its version. */
export type RateLine = Record<string, unknown> & { readonly version: number };

interface EntityItem {
  readonly version: number;
  readonly deleted: boolean;
  readonly doc: Record<string, unknown>;
}

/**
 * The commerce pack's shipping and tax rates as a storefront's rate tables (the write layer's rates
 * export): every current rate not marked `active: false`, ordered by rateId (the list route's
 * order), each its stored document plus `version`, so a consumer can tell which revision it holds.
 * Read through the server's entity list route, signed like every CLI read.
 */
export async function exportRates(client: WritClient, tenant: string): Promise<{ shipping: RateLine[]; tax: RateLine[] }> {
  const lines = async (type: string): Promise<RateLine[]> => {
    const items = (await allPages(client, `/v1/entities/${encodeURIComponent(tenant)}/${type}`, 'items', 'after', undefined, undefined)) as EntityItem[];
    return items.filter((e) => !e.deleted && e.doc.active !== false).map((e) => ({ ...e.doc, version: e.version }));
  };
  return { shipping: await lines('shipping-rate'), tax: await lines('tax-rate') };
}

/** NDJSON: one JSON object a line, each line ended (an empty table is an empty file). */
export function ndjson(lines: readonly unknown[]): string {
  return lines.map((l) => JSON.stringify(l) + '\n').join('');
}

interface RatesOptions extends ReaderOptions {
  readonly shipping: string;
  readonly tax: string;
}

/** `writ rates export`: the shipping and tax rates as two NDJSON files. */
export function registerRatesCommands(program: Command): void {
  const rates = program.command('rates').description("the commerce pack's shipping and tax rates");
  rates
    .command('export')
    .description('write the current shipping and tax rates (not active: false) as NDJSON, one rate a line, by rateId')
    .option('--shipping <file>', 'shipping rates file', 'shipping.ndjson')
    .option('--tax <file>', 'tax rates file', 'tax.ndjson')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--key <file>', "PKCS#8 PEM private key that signs the reads (default: the home's admin key)")
    .option('--key-id <id>', 'key id of --key')
    .action(async (opts: RatesOptions, cmd: Command) => {
      const g = globals(cmd);
      const tenant = opts.tenant ?? configOf(g).tenant;
      const out = await exportRates(clientOf(g, { ...opts, tenant }), tenant);
      writeFileSync(opts.shipping, ndjson(out.shipping));
      writeFileSync(opts.tax, ndjson(out.tax));
      print({ tenant, shipping: { file: opts.shipping, rates: out.shipping.length }, tax: { file: opts.tax, rates: out.tax.length } });
    });
}

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** The answer headers whose presence the document must declare wherever writ sends them. */
const WATCHED_HEADERS = ['idempotent-replayed', 'writ-command-status', 'retry-after'];

type Json = Record<string, any>;

/**
 * Checks HTTP answers against an OpenAPI 3.1 document with a JSON Schema 2020-12 validator (Ajv,
 * the dialect OpenAPI 3.1 schemas are written in): the status is declared for the operation, the
 * media type is one it declares, a JSON body validates against its schema (references resolved in
 * the document), required headers are sent, and every watched header sent is declared.
 */
export class OpenApiChecker {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    // strict: false lets OpenAPI's own keywords (discriminator, example) pass as annotations.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    this.ajv.addSchema({ $id: 'openapi:doc', components: doc.components });
  }

  private resolve<T = Json>(node: Json): T {
    if (typeof node?.$ref !== 'string') return node as T;
    const path = node.$ref.replace(/^#\//, '').split('/');
    return this.resolve(path.reduce((at: Json, key: string) => at?.[key], this.doc));
  }

  /** A validator for `schema`, whose `#/components/...` references point into the document. */
  validator(schema: unknown): ValidateFunction {
    const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi:doc#/components/');
    let fn = this.compiled.get(text);
    if (!fn) {
      fn = this.ajv.compile(JSON.parse(text));
      this.compiled.set(text, fn);
    }
    return fn;
  }

  /** Problems of one answer to `method path` (the path in the document's {param} form); empty when it conforms. */
  check(method: string, path: string, answer: { status: number; headers: Record<string, unknown>; body: string }): string[] {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${method} ${path} is not in the document`];
    const declared = op.responses?.[String(answer.status)];
    if (!declared) return [`${method} ${path}: status ${answer.status} is not declared (${Object.keys(op.responses ?? {}).join(', ')})`];
    const response = this.resolve(declared);
    const problems: string[] = [];
    const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), this.resolve(h as Json)]));
    for (const [name, h] of Object.entries(headers)) {
      const sent = answer.headers[name];
      if (sent === undefined) {
        if (h.required) problems.push(`${method} ${path} ${answer.status}: the required header ${name} is missing`);
      } else if (!this.validator(h.schema)(String(sent))) problems.push(`${method} ${path} ${answer.status}: header ${name}: ${String(sent)} does not match its schema`);
    }
    for (const name of WATCHED_HEADERS) {
      if (answer.headers[name] !== undefined && !(name in headers)) problems.push(`${method} ${path} ${answer.status}: sends ${name}, which the document does not declare for it`);
    }
    if (answer.body === '' || answer.status === 204) return problems;
    const type = String(answer.headers['content-type'] ?? '').split(';')[0].trim();
    const media = response.content?.[type];
    if (!media) return [...problems, `${method} ${path} ${answer.status}: content type ${type} is not declared (${Object.keys(response.content ?? {}).join(', ')})`];
    if (type === 'application/json') {
      const validate = this.validator(media.schema ?? {});
      if (!validate(JSON.parse(answer.body))) problems.push(`${method} ${path} ${answer.status}: ${this.ajv.errorsText(validate.errors)}; body ${answer.body.slice(0, 300)}`);
    }
    return problems;
  }
}

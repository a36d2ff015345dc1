import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';

export interface PolicySource {
  /**
   * The source's name in policy ids (`<source>#<n>`), decisions, approvals and the ledger: stable
   * and machine-independent, never an absolute path (`packs/<pack>/policies.cedar`,
   * `policies/<file>.cedar`).
   */
  readonly source: string;
  readonly text: string;
  /** Where the file lies on this machine, named in load problems and warnings for the operator (default: `source`). */
  readonly path?: string;
}

/** One policy of a source, where it sits, and its JSON form (annotations, scope, conditions). */
export interface LocatedPolicy {
  /** `<source>#<n>`, n counting the source's policies from 0 in text order. */
  readonly id: string;
  readonly source: string;
  /** 1-based line of the policy's first character (its first annotation, if any). */
  readonly line: number;
  readonly text: string;
  readonly json: PolicyJson;
}

/** A problem found in a policy source; `line` is 1-based, 0 when Cedar gave no location. */
export interface Problem {
  readonly source: string;
  readonly line: number;
  readonly message: string;
}

interface Located {
  readonly message: string;
  readonly help?: string | null;
  readonly sourceLocations?: ReadonlyArray<{ readonly start: number }>;
}

/**
 * Each Cedar error of a text (a whole source, or one policy starting on line `lineBase`), at the
 * line its first source location falls on. The validator's "for policy `id`, " prefix is dropped:
 * the file and line say where.
 */
export function locate(source: string, text: string, errors: readonly Located[], lineBase = 1): Problem[] {
  return errors.map((e) => {
    const offset = e.sourceLocations?.[0]?.start;
    const tidy = (m: string) => m.replace(/^for policy `[^`]*`, /, '');
    const message = tidy(e.message) + (e.help ? ` (${tidy(e.help)})` : '');
    return { source, line: offset === undefined ? 0 : text.slice(0, offset).split('\n').length + lineBase - 1, message };
  });
}

const ACTION = /Writ::Action::"([^"]*)"/;

/**
 * `<file>:<line>: message` (the file's path on this machine), sorted by the order of the sources, then by line. The validator checks
 * a policy once per action it may apply to; the same complaint about several actions on one line
 * is given once, naming the actions.
 */
export function formatProblems(problems: readonly Problem[], sources: readonly PolicySource[]): string[] {
  const order = new Map(sources.map((s, i) => [s.source, i]));
  const paths = new Map(sources.map((s) => [s.source, s.path ?? s.source]));
  const groups = new Map<string, { p: Problem; actions: string[] }>();
  for (const p of problems) {
    const action = ACTION.exec(p.message)?.[1];
    const shape = action === undefined ? p.message : p.message.replace(ACTION, '\u0000').replace(/ \(did you mean [^)]*\)$/, '');
    const key = `${p.source}\n${p.line}\n${shape}`;
    const g = groups.get(key);
    if (g && action !== undefined) g.actions.push(action);
    else groups.set(key, { p, actions: action === undefined ? [] : [action] });
  }
  return [...groups.values()]
    .sort((a, b) => (order.get(a.p.source) ?? -1) - (order.get(b.p.source) ?? -1) || a.p.line - b.p.line)
    .map(({ p, actions }) => {
      let message = p.message;
      if (actions.length > 1) {
        const named = actions.length > 4 ? `${actions.slice(0, 4).join(', ')} and ${actions.length - 4} more` : actions.join(', ');
        message = message.replace(ACTION, `${actions.length} actions (${named})`).replace(/ \(did you mean [^)]*\)$/, '');
      }
      return `${paths.get(p.source) ?? p.source}${p.line ? `:${p.line}` : ''}: ${message}`;
    });
}

/**
 * Parses one source into its policies, numbered in text order. `policySetTextToParts` answers
 * sorted by id (policy0, policy1, policy10, policy2…), so the parts are put back in text order by
 * where each one sits in the text (they are exact slices of it).
 */
export function splitSource({ source, text }: PolicySource, problems: Problem[]): LocatedPolicy[] {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    problems.push(...locate(source, text, parts.errors));
    return [];
  }
  if (parts.policy_templates.length > 0) problems.push({ source, line: 0, message: 'policy templates (?principal, ?resource) are not supported; write static policies' });
  const byId = parts.policies.map((_, i) => `policy${i}`).sort();
  const ordered = parts.policies.map((p, k) => ({ p, n: Number(byId[k].slice(6)) })).sort((a, b) => a.n - b.n);
  const placed: Array<{ text: string; offset: number }> = [];
  let cursor = 0;
  for (const { p } of ordered) {
    let offset = text.indexOf(p, cursor);
    if (offset < 0) offset = text.indexOf(p);
    if (offset >= 0) cursor = offset + p.length;
    placed.push({ text: p, offset });
  }
  placed.sort((a, b) => a.offset - b.offset);
  const out: LocatedPolicy[] = [];
  placed.forEach(({ text: p, offset }, n) => {
    const json = cedar.policyToJson(p);
    const line = offset < 0 ? 1 : text.slice(0, offset).split('\n').length;
    if (json.type === 'failure') {
      problems.push(...locate(source, p, json.errors, line));
      return;
    }
    out.push({ id: `${source}#${n}`, source, line, text: p, json: json.json });
  });
  return out;
}

/** The 1-based line in the policy's source where `needle` first appears in its text. */
export function lineOf(policy: LocatedPolicy, needle: string): number {
  const i = policy.text.indexOf(needle);
  return i < 0 ? policy.line : policy.line + policy.text.slice(0, i).split('\n').length - 1;
}

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadCatalog } from '../src/catalog/catalog.js';
import { BUILTIN_PACKS } from '../src/packs/index.js';
import { Policy, PolicyError, type PolicyRequest, type PolicySource } from '../src/policy/cedar.js';
import { explain } from '../src/policy/explain.js';
import { compareDemand, requirementOf, type ApprovalRequirement } from '../src/policy/requirement.js';
import type { PolicyCatalog } from '../src/policy/schema.js';
import { builtinPacksDir, policySources } from '../src/writ.js';

/** A small catalog of its own, so these tests do not move when a shipped pack changes. */
const CATALOG: PolicyCatalog = {
  actions: () => [
    { name: 'AssignRole', pack: 'access', schema: { type: 'object', required: ['actor', 'role'], properties: { actor: { type: 'string' }, role: { type: 'string' } } } },
    { name: 'UpsertProfile', pack: 'access', schema: { type: 'object', required: ['actor'], properties: { actor: { type: 'string' }, displayName: { type: ['string', 'null'] } } } },
    {
      name: 'UpsertProduct',
      pack: 'commerce',
      schema: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, active: { type: 'boolean' }, price: { type: 'object' }, stock: { type: 'integer' } } },
    },
    { name: 'writ.SetFlag', pack: 'writ', schema: { type: 'object', required: ['subject', 'flag'], properties: { subject: { type: 'string' }, flag: { enum: ['blocked', 'none'] } } } },
  ],
};

const ALL = 'permit (principal, action, resource);';
const load = (text: string, source = 'test.cedar', catalog: PolicyCatalog | undefined = CATALOG) => Policy.load([{ source, text }], { catalog });
const request = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({
  tenant: 't',
  actor: 'ann',
  roles: ['admin'],
  action: 'UpsertProduct',
  pack: 'commerce',
  target: 'product/tea',
  payload: { sku: 'tea', active: true, stock: 3 },
  ...over,
});

/** The problems a load reports (it must fail). */
function problemsOf(sources: PolicySource[], catalog: PolicyCatalog | undefined = CATALOG): readonly string[] {
  try {
    Policy.load(sources, { catalog });
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems;
  }
  assert.fail('the policies loaded, but they should not have');
}

describe('approval annotations', () => {
  it('reads @approval and @airlock with every value given', () => {
    const p = load(`// one\n@approval("quorum=3 roles=publisher,admin ttl=600 self=true")\n@airlock("floor=150 ceiling=3600")\n${ALL}`);
    assert.deepEqual(p.policies()[0].requirement, {
      quorum: 3,
      roles: ['publisher', 'admin'],
      ttlSeconds: 600,
      allowSelf: true,
      airlock: { floorSeconds: 150, ceilingSeconds: 3600 },
      policy: 'test.cedar#0',
    });
  });

  it('fills in the defaults: quorum 1, any role, ttl 7200 s, no self-approval; airlock floor 120 s, ceiling 7200 s', () => {
    const p = load(`@approval("")\n${ALL}\n@airlock("")\n${ALL}\n${ALL}`);
    const [approval, airlock, plain] = p.policies().map((x) => x.requirement);
    assert.deepEqual(approval, { quorum: 1, roles: [], ttlSeconds: 7200, allowSelf: false, airlock: null, policy: 'test.cedar#0' });
    assert.deepEqual(airlock, { quorum: 1, roles: [], ttlSeconds: 7200, allowSelf: false, airlock: { floorSeconds: 120, ceilingSeconds: 7200 }, policy: 'test.cedar#1' });
    assert.equal(plain, null, 'a permit without annotations asks for nothing');
  });

  it('ignores other annotations (@id, @description)', () => {
    assert.equal(load(`@id("x")\n@description("anything")\n${ALL}`).policies()[0].requirement, null);
  });

  const rejections: Array<{ description: string; annotation: string; expect: RegExp }> = [
    { description: 'a quorum of 0', annotation: '@approval("quorum=0")', expect: /quorum must be an integer from 1 to 100, got "0"/ },
    { description: 'a fractional quorum', annotation: '@approval("quorum=1.5")', expect: /quorum must be an integer/ },
    { description: 'an unknown key', annotation: '@approval("quorom=2")', expect: /unknown key "quorom"/ },
    { description: 'a key given twice', annotation: '@approval("quorum=2 quorum=3")', expect: /"quorum" is given twice/ },
    { description: 'a token that is not key=value', annotation: '@approval("quorum")', expect: /"quorum" is not key=value/ },
    { description: 'a role name Cedar roles cannot have', annotation: '@approval("roles=Admin")', expect: /"Admin" is not a role name/ },
    { description: 'an empty role in the list', annotation: '@approval("roles=admin,")', expect: /"" is not a role name/ },
    { description: 'self that is not a boolean', annotation: '@approval("self=yes")', expect: /self must be true or false/ },
    { description: 'a ttl under a minute', annotation: '@approval("ttl=5")', expect: /ttl must be an integer from 60/ },
    { description: 'an airlock floor a TOTP code outlives (90 s)', annotation: '@airlock("floor=90")', expect: /floor must be an integer from 91/ },
    { description: 'an airlock floor not below its ceiling', annotation: '@airlock("floor=600 ceiling=600")', expect: /floor \(600\) must be less than ceiling \(600\)/ },
  ];
  for (const r of rejections) {
    it(`refuses ${r.description}, naming the file and the annotation's line`, () => {
      const problems = problemsOf([{ source: 'policies/ops.cedar', text: `// ops\n${ALL}\n\n${r.annotation}\npermit (principal, action, resource);\n` }]);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], /^policies\/ops\.cedar:4: @(approval|airlock): /);
      assert.match(problems[0], r.expect);
    });
  }

  it('names a policy by its source in decisions, and by its path on this machine in load problems and warnings', () => {
    const path = '/srv/writ-home/policies/ops.cedar';
    const p = Policy.load(
      [{ source: 'policies/ops.cedar', path, text: `@approval("quorum=2")\npermit (principal, action == Writ::Action::"UpsertProduct", resource);\npermit (principal, action == Writ::Action::"UpsertProduct", resource) when { false };` }],
      { catalog: CATALOG },
    );
    assert.deepEqual(p.policies().map((x) => x.id), ['policies/ops.cedar#0', 'policies/ops.cedar#1']);
    const d = p.authorize(request());
    assert.deepEqual([d.allowed, d.reasons, d.requirement?.policy], [true, ['policies/ops.cedar#0'], 'policies/ops.cedar#0']);
    assert.ok(p.warnings.some((w) => w.startsWith(`${path}:3: `)), p.warnings.join('\n'));
    const problems = problemsOf([{ source: 'policies/ops.cedar', path, text: '@approval("quorum=0")\npermit (principal, action, resource);' }]);
    assert.match(problems[0], /^\/srv\/writ-home\/policies\/ops\.cedar:1: @approval: quorum/);
  });

  it('refuses an approval annotation on a forbid, which always denies', () => {
    const problems = problemsOf([{ source: 'f.cedar', text: `@approval("quorum=2")\nforbid (principal, action, resource);` }]);
    assert.match(problems[0], /^f\.cedar:1: .*permits only/);
  });

  it('reports every problem of every file at once', () => {
    const problems = problemsOf([
      { source: 'a.cedar', text: `@approval("quorum=0")\n${ALL}\n@airlock("floor=10")\n${ALL}` },
      { source: 'b.cedar', text: `${ALL}\npermit (principal, action resource);` },
    ]);
    assert.deepEqual(
      problems.map((p) => p.split(': ')[0]),
      ['a.cedar:1', 'a.cedar:3', 'b.cedar:2'],
    );
  });
});

describe('policy numbering', () => {
  it('numbers a file\'s policies in text order and knows each one\'s line, past ten policies', () => {
    const text = Array.from({ length: 12 }, (_, i) => `// policy ${i}\n@id("p${i}")\npermit (principal, action == Writ::Action::"UpsertProduct", resource);`).join('\n');
    const p = load(text, 'many.cedar');
    assert.deepEqual(
      p.policies().map((x) => [x.id, x.line, x.json.annotations?.id]),
      Array.from({ length: 12 }, (_, i) => [`many.cedar#${i}`, 3 * i + 2, `p${i}`]),
    );
  });
});

describe('least demanding requirement', () => {
  const r = (over: Partial<ApprovalRequirement>): ApprovalRequirement => ({ quorum: 1, roles: [], ttlSeconds: 7200, allowSelf: false, airlock: null, policy: 'x', ...over });
  const order = (list: ApprovalRequirement[]) => [...list].sort(compareDemand).map((x) => x.policy);

  it('puts no airlock before an airlock, even with a larger quorum', () => {
    assert.deepEqual(order([r({ policy: 'lock', airlock: { floorSeconds: 120, ceilingSeconds: 7200 } }), r({ policy: 'q3', quorum: 3 })]), ['q3', 'lock']);
  });

  it('then a smaller quorum, then any role, then more roles, then self allowed, then a longer ttl', () => {
    assert.deepEqual(order([r({ policy: 'q2', quorum: 2 }), r({ policy: 'q1', quorum: 1, roles: ['admin'] })]), ['q1', 'q2']);
    assert.deepEqual(order([r({ policy: 'admin', roles: ['admin'] }), r({ policy: 'any' })]), ['any', 'admin']);
    assert.deepEqual(order([r({ policy: 'one', roles: ['admin'] }), r({ policy: 'two', roles: ['admin', 'publisher'] })]), ['two', 'one']);
    assert.deepEqual(order([r({ policy: 'noself' }), r({ policy: 'self', allowSelf: true })]), ['self', 'noself']);
    assert.deepEqual(order([r({ policy: 'short', ttlSeconds: 600 }), r({ policy: 'long', ttlSeconds: 86400 })]), ['long', 'short']);
  });

  it('orders airlocks by a shorter floor, then a longer ceiling', () => {
    const lock = (policy: string, floorSeconds: number, ceilingSeconds: number) => r({ policy, airlock: { floorSeconds, ceilingSeconds } });
    assert.deepEqual(order([lock('slow', 600, 7200), lock('fast', 120, 3600), lock('fast-long', 120, 7200)]), ['fast-long', 'fast', 'slow']);
  });

  it('leaves requirements that ask the same in load order', () => {
    assert.equal(compareDemand(r({ policy: 'a' }), r({ policy: 'b' })), 0);
  });

  it('does not misread annotations it has no problem with', () => {
    const problems: string[] = [];
    assert.equal(requirementOf({ id: 'x' }, 'p', problems), null);
    assert.deepEqual(problems, []);
  });
});

describe('decisions', () => {
  const two = '@approval("quorum=2 roles=admin")\npermit (principal in Writ::Role::"admin", action == Writ::Action::"UpsertProduct", resource);';
  const one = '@approval("quorum=1 roles=publisher")\npermit (principal in Writ::Role::"admin", action in Writ::Action::"pack:commerce", resource);';
  const lock = '@airlock("floor=120")\npermit (principal, action == Writ::Action::"UpsertProduct", resource);';

  it('applies the least demanding of several matching annotated permits', () => {
    const d = load(`${two}\n${one}\n${lock}`).authorize(request());
    assert.equal(d.allowed, true);
    assert.deepEqual(d.reasons.slice().sort(), ['test.cedar#0', 'test.cedar#1', 'test.cedar#2']);
    assert.equal(d.requirement?.policy, 'test.cedar#1');
    assert.equal(d.requirement?.quorum, 1);
  });

  it('allows outright when an un-annotated permit matches too (hybrid mode)', () => {
    const p = load(`${two}\n${lock}\npermit (principal in Writ::Role::"admin", action, resource) when { context.payload has active && context.payload.active };`);
    const auto = p.authorize(request());
    assert.deepEqual([auto.allowed, auto.requirement], [true, null]);
    const held = p.authorize(request({ payload: { sku: 'tea', active: false } }));
    assert.deepEqual([held.allowed, held.requirement?.policy], [true, 'test.cedar#0']);
  });

  it('denies when a forbid matches, whatever the permits ask', () => {
    const p = load(`${two}\n${ALL}\nforbid (principal, action, resource) when { context.payload has stock && context.payload.stock > 10 };`);
    const d = p.authorize(request({ payload: { sku: 'tea', stock: 11 } }));
    assert.deepEqual(d, { allowed: false, reasons: ['test.cedar#2'], requirement: null });
    assert.equal(p.authorize(request()).allowed, true);
  });

  it('denies when no permit matches, naming no policy', () => {
    assert.deepEqual(load(two).authorize(request({ roles: ['editor'] })), { allowed: false, reasons: [], requirement: null });
  });

  it('fails closed when a policy errors while it is evaluated', () => {
    // Loaded without a catalog, nothing tells the policy that `stock` may be absent.
    const p = Policy.load([{ source: 'test.cedar', text: `${ALL}\nforbid (principal, action, resource) when { context.payload.stock > 10 };` }]);
    const d = p.authorize(request({ payload: { sku: 'tea' } }));
    assert.equal(d.allowed, false);
    assert.match(d.reasons.join(' '), /error: test\.cedar#1/);
  });

  it('shows policies string, integer and boolean payload fields, and nothing else of the payload', () => {
    const p = load('permit (principal, action == Writ::Action::"UpsertProduct", resource) when { context.payload.sku == "tea" && context.payload has stock && context.payload.stock == 3 && !(context.payload has price) };');
    assert.equal(p.authorize(request({ payload: { sku: 'tea', stock: 3, price: { amount: 1 } } })).allowed, true);
    assert.equal(p.authorize(request({ payload: { sku: 'tea', stock: 4 } })).allowed, false);
    assert.equal(p.authorize(request({ payload: { sku: 'tea', stock: 2 ** 60 } })).allowed, false, 'an integer Cedar cannot hold exactly is not shown');
  });
});

describe('the schema generated from the catalog', () => {
  it('refuses an unknown action, naming the file and line', () => {
    const problems = problemsOf([{ source: 'home/policies/x.cedar', text: `${ALL}\n\npermit (principal, action == Writ::Action::"UpsertProdcut", resource);` }]);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^home\/policies\/x\.cedar:3: unrecognized action `Writ::Action::"UpsertProdcut"`/);
  });

  it('refuses a type error', () => {
    const problems = problemsOf([{ source: 'x.cedar', text: `permit (principal, action, resource)\nwhen { principal.tenant == 3 };` }]);
    assert.match(problems[0], /^x\.cedar:2: .*types Long and String are not compatible/);
  });

  it('refuses an unknown entity type', () => {
    const problems = problemsOf([{ source: 'x.cedar', text: 'permit (principal in Writ::Group::"ops", action, resource);' }]);
    assert.match(problems[0], /^x\.cedar:1: .*Writ::Group/);
  });

  it('refuses a payload field some of the actions do not have, once for all of them', () => {
    const problems = problemsOf([{ source: 'x.cedar', text: 'permit (principal, action, resource) when { context.payload.role == "admin" };' }]);
    assert.equal(problems.length, 1, problems.join('\n'));
    // Three of the catalog's actions and the eight read actions (whose payload is empty) lack it.
    assert.match(problems[0], /^x\.cedar:1: attribute `payload\.role` in context for 11 actions \(/);
  });

  it('accepts the same field behind `has`, and typed facts of every kind', () => {
    const p = load(
      'permit (principal, action, resource) when { context.payload has role && context.payload.role == "admin" };\n' +
        'permit (principal, action == Writ::Action::"UpsertProduct", resource) when { context.payload has stock && context.payload.stock > 2 && context.payload has active && context.payload.active };\n' +
        'permit (principal, action == Writ::Action::"writ.SetFlag", resource) when { context.payload.flag == "none" && context.tenant == principal.tenant };',
    );
    assert.equal(p.policies().length, 3);
  });

  it('refuses a payload field that is not a fact (objects and nullable fields are not)', () => {
    for (const field of ['price', 'displayName']) {
      const action = field === 'price' ? 'UpsertProduct' : 'UpsertProfile';
      const problems = problemsOf([{ source: 'x.cedar', text: `permit (principal, action == Writ::Action::"${action}", resource) when { context.payload.${field} == "x" };` }]);
      assert.match(problems[0], new RegExp(`^x\\.cedar:1: attribute \`payload\\.${field}\` .*not found`));
    }
  });

  it('keeps the validator\'s warnings apart from the problems', () => {
    const p = load('permit (principal, action == Writ::Action::"UpsertProduct", resource) when { false };');
    assert.ok(p.warnings.some((w) => w.startsWith('test.cedar:1: ')), p.warnings.join('\n'));
  });
});

describe('the shipped access policies', async () => {
  const catalog = await loadCatalog([builtinPacksDir()], BUILTIN_PACKS);
  const policy = Policy.load(policySources(catalog, '/nonexistent'), { catalog });
  const assign = (role: string, roles: string[] = ['admin']) => policy.authorize({ tenant: 't', actor: 'ann', roles, action: 'AssignRole', pack: 'access', target: 'actor/bob', payload: { actor: 'bob', role } });

  it('validate against the schema of the shipped catalog', () => {
    assert.ok(policy.policies().length > 0);
  });

  it('make granting role admin need two approvals by other admins', () => {
    const d = assign('admin');
    assert.equal(d.allowed, true);
    assert.equal(d.requirement?.quorum, 2);
    assert.deepEqual(d.requirement?.roles, ['admin']);
    assert.equal(d.requirement?.allowSelf, false);
    assert.equal(d.requirement?.airlock, null);
    assert.equal(d.requirement!.policy, 'packs/access/policies.cedar#1', 'named by pack, not by where writ is installed');
  });

  it('let an admin grant any other role, and revoke admin, outright', () => {
    for (const role of ['editor', 'publisher', 'administrator']) assert.deepEqual([assign(role).allowed, assign(role).requirement], [true, null], role);
    const revoke = policy.authorize({ tenant: 't', actor: 'ann', roles: ['admin'], action: 'RevokeRole', pack: 'access', target: 'actor/bob', payload: { actor: 'bob', role: 'admin' } });
    assert.deepEqual([revoke.allowed, revoke.requirement], [true, null]);
  });

  it('still refuse role changes to everyone but admins', () => {
    assert.equal(assign('admin', ['editor', 'publisher']).allowed, false);
    assert.equal(assign('editor', []).allowed, false);
  });
});

describe('memoised decisions', () => {
  const text =
    'permit (principal in Writ::Role::"admin", action == Writ::Action::"AssignRole", resource) unless { context.payload.role == "admin" };\n' +
    '@approval("quorum=2")\npermit (principal in Writ::Role::"admin", action == Writ::Action::"AssignRole", resource) when { context.payload.role == "admin" };\n' +
    'permit (principal in Writ::Role::"editor", action == Writ::Action::"UpsertProduct", resource);';
  const req = (role: string, roles = ['admin']) => request({ action: 'AssignRole', pack: 'access', roles, target: 'actor/bob', payload: { actor: 'bob', role } });

  it('tell apart requests that differ only in a payload fact a policy reads', () => {
    const p = load(text);
    assert.equal(p.memoised, true);
    for (let i = 0; i < 2; i++) {
      assert.equal(p.authorize(req('editor')).requirement, null, 'editor: auto');
      assert.equal(p.authorize(req('admin')).requirement?.quorum, 2, 'admin: approval');
    }
  });

  it('agree with a fresh evaluation on every request, in any order', () => {
    const p = load(text);
    const list: PolicyRequest[] = [];
    for (const role of ['admin', 'editor']) for (const roles of [['admin'], ['editor'], []]) for (const actor of ['a', 'b']) list.push({ ...req(role, roles), actor });
    for (const roles of [['admin'], ['editor']]) list.push(request({ roles }), request({ roles, tenant: 'u' }));
    for (let round = 0; round < 3; round++) {
      for (const r of round === 1 ? [...list].reverse() : list) assert.deepEqual(p.authorize(r), p.evaluate(r), JSON.stringify(r));
    }
  });

  it('are not kept when a policy looks at the resource', () => {
    const p = load(`${text}\nforbid (principal, action, resource == Writ::Resource::"product/locked");`);
    assert.equal(p.memoised, false);
    assert.equal(p.authorize(request({ roles: ['editor'] })).allowed, true);
    assert.equal(p.authorize(request({ roles: ['editor'], target: 'product/locked' })).allowed, false);
  });

  it('key on the whole payload when a policy reads the context as a whole', () => {
    const p = load('permit (principal, action == Writ::Action::"UpsertProduct", resource) when { context has payload && context.payload has stock && context.payload.stock < 5 };');
    assert.equal(p.memoised, true);
    assert.equal(p.authorize(request({ payload: { sku: 'a', stock: 1 } })).allowed, true);
    assert.equal(p.authorize(request({ payload: { sku: 'a', stock: 9 } })).allowed, false);
  });

  it('can be turned off', () => {
    assert.equal(Policy.load([{ source: 'x', text }], { catalog: CATALOG, memoise: false }).memoised, false);
  });
});

describe('explain', () => {
  const p = load(
    '@approval("quorum=2 roles=admin")\npermit (principal in Writ::Role::"admin", action == Writ::Action::"UpsertProduct", resource);\n' +
      '@approval("quorum=1 roles=publisher,admin")\n@airlock("floor=300")\npermit (principal, action == Writ::Action::"UpsertProduct", resource);\n' +
      'permit (principal in Writ::Role::"editor", action == Writ::Action::"UpsertProduct", resource);\n' +
      'forbid (principal in Writ::Role::"blocked", action, resource);',
  );

  it('says which permit decided and why an approval is needed', () => {
    const e = explain(p, request());
    assert.equal(e.decision, 'approval');
    assert.deepEqual(e.matched.map((m) => [m.policy, m.line]), [['test.cedar#0', 1], ['test.cedar#1', 3]]);
    assert.equal(e.requirement?.policy, 'test.cedar#0', 'no airlock beats an airlock, whatever the quorum');
    assert.match(e.why, /least demanding of the 2 .* test\.cedar:1: 2 approvals by admin \(not the requester\)/);
  });

  it('says when a permit allows outright, and when a forbid or nothing denies', () => {
    assert.equal(explain(p, request({ roles: ['editor'] })).decision, 'allow');
    const forbidden = explain(p, request({ roles: ['admin', 'blocked'] }));
    assert.deepEqual([forbidden.decision, forbidden.matched.map((m) => m.effect)], ['deny', ['forbid']]);
    assert.match(forbidden.why, /test\.cedar:7 forbids it/);
    assert.match(explain(p, request({ action: 'AssignRole', pack: 'access' })).why, /no permit matches ann \(roles admin\)/);
  });
});

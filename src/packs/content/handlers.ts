import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

/** A page: its draft, its review status and which published version is live. */
interface PageDoc {
  pageId: string;
  title?: string;
  locale?: string;
  status: 'draft' | 'review' | 'published';
  draft: { title?: string; locale?: string; blocks: unknown[]; rev: number } | null;
  live: { version: number; versionId: string } | null;
  versions: number;
}

function page(ctx: EffectContext): PageDoc | null {
  return ctx.current && !ctx.current.deleted ? (ctx.current.doc as PageDoc) : null;
}

export function saveDraft(ctx: EffectContext): EffectPlan {
  const p = ctx.payload;
  const prev = page(ctx);
  const draft = { title: p.title ?? prev?.draft?.title ?? prev?.title, locale: p.locale ?? prev?.draft?.locale ?? prev?.locale, blocks: p.blocks, rev: (prev?.draft?.rev ?? 0) + 1 };
  const doc: PageDoc = {
    pageId: p.pageId,
    title: prev?.title ?? draft.title,
    locale: prev?.locale ?? draft.locale,
    status: 'draft',
    draft,
    live: prev?.live ?? null,
    versions: prev?.versions ?? 0,
  };
  return { writes: [{ ...ctx.target, doc }], result: { pageId: p.pageId, draftRev: draft.rev } };
}

export async function publish(ctx: EffectContext): Promise<EffectPlan> {
  const prev = page(ctx);
  if (!prev) throw new WritError('NOT_FOUND', `page ${JSON.stringify(ctx.target.id)} does not exist; save a draft first`);
  const at = ctx.now;
  if (typeof ctx.payload.versionId === 'string') {
    const versionId = ctx.payload.versionId;
    const existing = await ctx.get('page-version', versionId);
    if (!existing || existing.deleted || (existing.doc as { pageId: string }).pageId !== prev.pageId) {
      throw new WritError('NOT_FOUND', `version ${JSON.stringify(versionId)} of page ${JSON.stringify(prev.pageId)} does not exist`);
    }
    const version = (existing.doc as { version: number }).version;
    const doc: PageDoc = { ...prev, status: 'published', live: { version, versionId } };
    return { writes: [{ ...ctx.target, doc }], result: { pageId: prev.pageId, versionId, version } };
  }
  if (!prev.draft) throw new WritError('INVALID_STATE', `page ${JSON.stringify(prev.pageId)} has no unpublished draft; save a draft or name a versionId`);
  const version = prev.versions + 1;
  const versionId = `${prev.pageId}@${version}`;
  const snapshot = { pageId: prev.pageId, version, title: prev.draft.title, locale: prev.draft.locale, blocks: prev.draft.blocks, publishedAt: at, publishedBy: ctx.envelope.actor };
  const doc: PageDoc = { ...prev, title: prev.draft.title, locale: prev.draft.locale, status: 'published', draft: null, live: { version, versionId }, versions: version };
  return {
    writes: [{ ...ctx.target, doc }, { type: 'page-version', id: versionId, doc: snapshot }],
    result: { pageId: prev.pageId, versionId, version },
  };
}

export function rollback(ctx: EffectContext): EffectPlan {
  const prev = page(ctx);
  if (!prev) throw new WritError('NOT_FOUND', `page ${JSON.stringify(ctx.target.id)} does not exist`);
  const to = ctx.payload.toVersion as number;
  if (to > prev.versions) throw new WritError('NOT_FOUND', `page ${JSON.stringify(prev.pageId)} has ${prev.versions} published versions; there is no version ${to}`);
  if (prev.live?.version === to) throw new WritError('INVALID_STATE', `version ${to} of page ${JSON.stringify(prev.pageId)} is already live`);
  const versionId = `${prev.pageId}@${to}`;
  const doc: PageDoc = { ...prev, status: 'published', live: { version: to, versionId } };
  return { writes: [{ ...ctx.target, doc }], result: { pageId: prev.pageId, versionId, version: to } };
}

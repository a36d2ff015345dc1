import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { HandlerRefusal } from '../../catalog/pack-api.js';
import { PRACTITIONER, type MessageDoc } from './state.js';
import { holdsRole } from './plan-context.js';

/**
 * The inbox between instances and the practitioner: a message is an entity addressed to an actor
 * or to `practitioner` (whoever holds that role). Only its recipient marks it read.
 */
function sendMessage(ctx: EffectContext): EffectPlan {
  const p = ctx.payload as { messageId: string; to: string; subject: string; body: string; links?: string[] };
  if (ctx.current && !ctx.current.deleted) throw new HandlerRefusal('INVALID_STATE', `message ${p.messageId} to ${p.to} exists already; choose another messageId`);
  const doc: MessageDoc = { id: p.messageId, from: ctx.envelope.actor, to: p.to, subject: p.subject, body: p.body, links: p.links ?? [], sentAt: ctx.now, readAt: null, readBy: null };
  return { writes: [{ ...ctx.target, doc }], result: { messageId: p.messageId, to: p.to } };
}

async function markRead(ctx: EffectContext): Promise<EffectPlan> {
  const doc = ctx.current && !ctx.current.deleted ? (ctx.current.doc as MessageDoc) : null;
  if (!doc) throw new HandlerRefusal('NOT_FOUND', `no message ${ctx.payload.messageId} to ${ctx.payload.to}`);
  const reader = ctx.envelope.actor;
  const mine = doc.to === reader || (doc.to === PRACTITIONER && (await holdsRole(ctx, PRACTITIONER)));
  if (!mine) throw new HandlerRefusal('FORBIDDEN', `message ${doc.id} is addressed to ${doc.to}; only its recipient marks it read`);
  if (doc.readAt) throw new HandlerRefusal('INVALID_STATE', `message ${doc.id} was read at ${doc.readAt} by ${doc.readBy}`);
  const next: MessageDoc = { ...doc, readAt: ctx.now, readBy: reader };
  return { writes: [{ ...ctx.target, doc: next }], result: { messageId: doc.id, readAt: ctx.now } };
}

export const messageHandlers = { sendMessage, markRead };

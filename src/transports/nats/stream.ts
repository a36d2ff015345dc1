import { AckPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import type { NatsIntakeConfig } from '../../config/config.js';

/** The stream or consumer exists with settings the intake cannot work with; the message says what to change. */
export class NatsSetupError extends Error {
  override readonly name = 'NatsSetupError';
}

function notFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/**
 * Makes sure the command stream exists as a work queue over `<subjectPrefix>.>`: created (file
 * storage) when missing; an existing one is used as it is when it is a work queue whose subjects
 * include ours, and refused otherwise — writ never rewrites a stream someone else configured.
 */
export async function ensureStream(jsm: JetStreamManager, cfg: NatsIntakeConfig): Promise<StreamInfo> {
  const subject = `${cfg.subjectPrefix}.>`;
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(cfg.stream);
  } catch (err) {
    if (!notFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      return await jsm.streams.add({ name: cfg.stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    } catch (addErr) {
      throw new NatsSetupError(`cannot create the JetStream stream ${cfg.stream} on ${subject}: ${(addErr as Error).message}; another stream may already listen on these subjects (change nats.subjectPrefix or nats.stream)`);
    }
  }
  const problems: string[] = [];
  if (info.config.retention !== RetentionPolicy.Workqueue) problems.push(`its retention is "${info.config.retention}", not "workqueue"`);
  if (!(info.config.subjects ?? []).includes(subject)) problems.push(`its subjects ${JSON.stringify(info.config.subjects ?? [])} do not include ${subject}`);
  if (problems.length > 0) {
    throw new NatsSetupError(`the JetStream stream ${cfg.stream} exists but ${problems.join(' and ')}; delete it (nats stream rm ${cfg.stream}) so writ creates it, or point nats.stream at another name`);
  }
  return info;
}

/**
 * Makes sure the durable pull consumer exists with explicit acks, `ack_wait` = nats.ackWaitMs and
 * `max_ack_pending` = nats.maxInFlight (so the server hands out no more unacknowledged commands than
 * writ takes in at once). An existing one keeps its name and filter; those two limits are updated
 * in place when they differ, anything else incompatible is refused with what to do.
 */
export async function ensureConsumer(jsm: JetStreamManager, cfg: NatsIntakeConfig): Promise<ConsumerInfo> {
  const subject = `${cfg.subjectPrefix}.>`;
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(cfg.stream, cfg.durable);
  } catch (err) {
    if (!notFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    return await jsm.consumers.add(cfg.stream, {
      durable_name: cfg.durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(cfg.ackWaitMs),
      max_ack_pending: cfg.maxInFlight,
      filter_subject: subject,
    });
  }
  const c = info.config;
  const problems: string[] = [];
  if (c.deliver_subject) problems.push('it is a push consumer');
  if (c.ack_policy !== AckPolicy.Explicit) problems.push(`its ack policy is "${c.ack_policy}", not "explicit"`);
  if (c.filter_subject && c.filter_subject !== subject) problems.push(`it filters ${c.filter_subject}, not ${subject}`);
  if (problems.length > 0) {
    throw new NatsSetupError(`the JetStream consumer ${cfg.durable} on ${cfg.stream} exists but ${problems.join(' and ')}; delete it (nats consumer rm ${cfg.stream} ${cfg.durable}) so writ creates it, or set nats.durable to another name`);
  }
  if (millis(c.ack_wait ?? 0) !== cfg.ackWaitMs || c.max_ack_pending !== cfg.maxInFlight) {
    info = await jsm.consumers.update(cfg.stream, cfg.durable, { ack_wait: nanos(cfg.ackWaitMs), max_ack_pending: cfg.maxInFlight });
  }
  return info;
}

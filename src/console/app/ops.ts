import type { Api } from './api.js';
import { fill, h, json, note, errorText } from './dom.js';

/** Outbox sinks (lag, dead letters, redrive), anchors and witnesses, and /healthz. */
export async function opsPage(root: HTMLElement, api: Api): Promise<void> {
  const [health, logs, sinks] = await Promise.all([api.request('GET', '/healthz'), api.get('/v1/logs'), api.request('GET', '/v1/outbox/sinks')]);
  const out = h('div', { 'aria-live': 'polite', id: 'ops-status' });
  const redrive = async (sink: string) => {
    try {
      const a = await api.request('POST', `/v1/outbox/dead-letters/redrive?sink=${encodeURIComponent(sink)}`);
      fill(out, a.status < 300 ? note('ok', `Redrive of ${sink}: ${JSON.stringify(a.body)}`) : note('bad', `Redrive refused: ${a.body?.code ?? a.status} ${a.body?.message ?? ''}`));
    } catch (err) {
      fill(out, note('bad', errorText(err)));
    }
  };
  const sinkList: any[] = sinks.status === 200 ? (sinks.body.sinks ?? sinks.body) : [];
  fill(
    root,
    h('h1', {}, 'Operations'),
    h('h2', {}, 'Health'),
    health.status === 200 ? note('ok', `Server ${health.body.status}`) : note('bad', `Server: ${health.body?.message ?? health.status}`),
    health.body?.logs ? json({ store: health.body.store, pending: health.body.pending, inFlight: health.body.inFlight, ledgerProblems: health.body.ledgerProblems }) : note('info', 'Details are for operators (read:outbox in the home tenant).'),
    h('h2', {}, 'Outbox sinks'),
    sinks.status !== 200 ? note('info', `Sinks are for operators: ${sinks.body?.message ?? sinks.status}`) : h('table', { class: 'sinks' },
      h('thead', {}, h('tr', {}, ...['sink', 'lag', 'dead letters', 'state', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...(Array.isArray(sinkList) ? sinkList : []).map((s: any) => h('tr', {},
        h('td', {}, s.name), h('td', {}, s.lag ?? '—'), h('td', {}, s.deadLetters ?? 0), h('td', {}, s.state ?? s.status ?? ''),
        h('td', {}, h('button', { type: 'button', onclick: () => void redrive(s.name), disabled: !s.deadLetters }, 'Redrive'))))),
    ),
    out,
    h('h2', {}, 'Anchors'),
    logs.anchors.length ? json(logs.anchors) : note('info', 'No anchors configured.'),
    h('h2', {}, 'Witnesses'),
    logs.witnesses.length ? json({ quorum: logs.witnessQuorum, witnesses: logs.witnesses }) : note('info', 'No witnesses configured.'),
  );
}

import type { Writ } from '../../writ.js';

/**
 * SIGHUP reloads policy, as `writ policy reload` does (docs/policy.md, "Reloading"): the ledger
 * records the reload `by: "signal:SIGHUP"`. What happened is told on stderr; an invalid set is
 * refused and the set in force stays.
 */
export function reloadPolicyOnSighup(writ: Pick<Writ, 'policy'>): () => void {
  const onHup = () => {
    writ.policy.reload('signal:SIGHUP').then(
      (a) => process.stderr.write(`writ: SIGHUP: policy ${a.status}, set ${a.digest} (${a.files.length} files, ${a.policies} policies)\n`),
      (err: Error) => process.stderr.write(`writ: SIGHUP: policy not reloaded: ${err.message}\n`),
    );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

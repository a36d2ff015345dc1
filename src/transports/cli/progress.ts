/**
 * A progress bar on stderr for a long CLI operation: a terminal gets one bar redrawn in place, a log
 * file a line every 10 %. Runs shorter than `from` units draw nothing (they take well under a second).
 */
export function progressBar(opts: { enabled: boolean; label: string; unit: string; from: number; scale?: number }): (done: number, total: number) => void {
  let shown = -1;
  let decile = -1;
  const scale = opts.scale ?? 1;
  return (done, total) => {
    if (!opts.enabled || total < opts.from) return;
    const pct = Math.min(100, Math.floor((done / total) * 100));
    if (pct === shown) return;
    shown = pct;
    const width = 30;
    const fill = Math.round((pct / 100) * width);
    const line = `${opts.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${Math.round(done / scale)}/${Math.round(total / scale)} ${opts.unit}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (Math.floor(pct / 10) > decile) {
      decile = Math.floor(pct / 10);
      process.stderr.write(`${line}\n`);
    }
  };
}

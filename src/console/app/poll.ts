import { errorText } from './dom.js';

/**
 * Live updates by polling: `tick` gets the tag of the last view and returns the new one (an ETag
 * or a digest), re-rendering only when it changed. Polling stops while the tab is hidden.
 * Returns the stop function.
 */
export function poll(everyMs: number, tick: (last: string | null) => Promise<string>, onError: (message: string) => void): Promise<() => void> {
  let last: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    if (!document.hidden) {
      try {
        last = await tick(last);
      } catch (err) {
        last = null;
        onError(errorText(err));
      }
    }
    if (!stopped) timer = setTimeout(() => void run(), everyMs);
  };
  return run().then(() => () => {
    stopped = true;
    clearTimeout(timer);
  });
}

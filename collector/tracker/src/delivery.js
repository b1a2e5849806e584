// Delivery that loses nothing: messages are batched, kept in storage until the collector
// acknowledges them, and retried with backoff while it cannot.

export const BATCH = 10;
export const FLUSH_MS = 3000;
export const RETRY_MS = 1000;
export const MAX_RETRY_MS = 30000;
export const MAX_KEPT = 200;
const KEY = 'q';

/**
 * `post(batch)` resolves to the HTTP status, or rejects on a network error. `storage` has
 * get(key) and set(key, value); it is shared with the page's other tabs and later loads,
 * so it is changed by reading and writing back, never by overwriting from memory.
 */
export const delivery = (post, storage, timers = globalThis) => {
  // Messages a previous page left unacknowledged are sent with this page's first batch.
  let queue = storage.get(KEY) || [], timer = 0, sending = 0, backoff = 0;

  const keep = (added, done = new Set()) =>
    storage.set(KEY, [...(storage.get(KEY) || []).filter((m) => !done.has(m.messageId)), ...added].slice(-MAX_KEPT));

  const later = (ms) => {
    timer ||= timers.setTimeout(() => {
      timer = 0;
      flush();
    }, ms);
  };

  // One batch at a time, except when the page is leaving: then everything goes at once.
  const flush = async (leaving) => {
    if (!queue.length || (sending && !leaving)) return;
    const batch = queue.splice(0, BATCH);
    let status;
    sending++;
    try {
      status = await post(batch);
    } catch {}
    sending--;
    if (status && status < 500 && status != 429) {
      // Acknowledged, or refused for a reason a retry cannot change: never sent again.
      keep([], new Set(batch.map((m) => m.messageId)));
      backoff = 0;
      flush();
    } else {
      queue.unshift(...batch);
      later((backoff = Math.min(backoff * 2 || RETRY_MS, MAX_RETRY_MS)));
    }
  };

  return {
    add(message) {
      queue = [...queue, message].slice(-MAX_KEPT);
      keep([message]);
      queue.length >= BATCH && !backoff ? flush() : later(FLUSH_MS);
    },
    leave() {
      while (queue.length) flush(1);
    },
    forget() {
      queue = [];
      storage.set(KEY);
    },
  };
};

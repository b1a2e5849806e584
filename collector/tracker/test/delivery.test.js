import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BATCH, FLUSH_MS, MAX_KEPT, MAX_RETRY_MS, RETRY_MS, delivery } from '../src/delivery.js';

/** localStorage as delivery sees it: JSON values by key, shared by every instance. */
const memoryStorage = (initial = {}) => {
  const values = new Map(Object.entries(initial).map(([key, value]) => [key, JSON.stringify(value)]));
  return {
    get: (key) => (values.has(key) ? JSON.parse(values.get(key)) : undefined),
    set: (key, value) => (value == null ? values.delete(key) : values.set(key, JSON.stringify(value))),
  };
};

/** Timers that run only when the test says so. */
const manualTimers = () => {
  const pending = [];
  return {
    pending,
    setTimeout: (callback, ms) => pending.push({ callback, ms }),
    async runNext() {
      const next = pending.shift();
      next.callback();
      await settle();
      return next.ms;
    },
  };
};

/** A collector that answers each request with the next of `statuses` ('down' for a network
 * error), then 200, and records every batch it was sent. */
const collector = (...statuses) => {
  const posts = [];
  const post = async (batch) => {
    posts.push(batch.map((m) => m.messageId));
    const status = statuses.shift() ?? 200;
    if (status == 'down') throw new TypeError('Failed to fetch');
    return status;
  };
  return { post, posts };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));
const message = (n) => ({ type: 'track', event: 'E', messageId: `m${n}` });
const kept = (storage) => (storage.get('q') || []).map((m) => m.messageId);

test('a smaller batch waits FLUSH_MS for company', async () => {
  const { post, posts } = collector();
  const timers = manualTimers();
  const queue = delivery(post, memoryStorage(), timers);
  for (let n = 0; n < 3; n++) queue.add(message(n));
  await settle();
  assert.deepEqual(posts, []);
  assert.equal(await timers.runNext(), FLUSH_MS);
  assert.deepEqual(posts, [['m0', 'm1', 'm2']]);
});

test('a full batch goes at once, and what queued behind it as soon as it is acknowledged', async () => {
  const { post, posts } = collector();
  const queue = delivery(post, memoryStorage(), manualTimers());
  for (let n = 0; n < BATCH + 3; n++) queue.add(message(n));
  await settle();
  assert.deepEqual(posts.map((ids) => ids.length), [BATCH, 3]);
});

test('messages stay in storage until acknowledged, and are then removed', async () => {
  const storage = memoryStorage();
  const { post } = collector(503);
  const timers = manualTimers();
  const queue = delivery(post, storage, timers);
  queue.add(message(1));
  queue.add(message(2));
  assert.deepEqual(kept(storage), ['m1', 'm2']);
  await timers.runNext();
  assert.deepEqual(kept(storage), ['m1', 'm2']);
  await timers.runNext();
  assert.deepEqual(kept(storage), []);
});

test('network errors, 5xx and 429 are retried with doubling backoff; nothing is sent twice once acknowledged', async () => {
  const { post, posts } = collector('down', 500, 429, 'down', 'down', 'down', 'down', 'down');
  const timers = manualTimers();
  const queue = delivery(post, memoryStorage(), timers);
  queue.add(message(1));
  const waits = [];
  while (timers.pending.length) waits.push(await timers.runNext());
  const doubling = [1, 2, 4, 8, 16].map((n) => n * RETRY_MS);
  assert.deepEqual(waits, [FLUSH_MS, ...doubling, MAX_RETRY_MS, MAX_RETRY_MS, MAX_RETRY_MS]);
  assert.equal(posts.length, 9);
  assert.ok(posts.every((ids) => ids.join() == 'm1'));
  queue.add(message(2));
  await timers.runNext();
  assert.deepEqual(posts.at(-1), ['m2']);
});

test('a refusal other than 429 is final: the batch is dropped, not retried', async () => {
  const storage = memoryStorage();
  const { post, posts } = collector(400);
  const timers = manualTimers();
  const queue = delivery(post, storage, timers);
  queue.add(message(1));
  await timers.runNext();
  assert.equal(posts.length, 1);
  assert.equal(timers.pending.length, 0);
  assert.deepEqual(kept(storage), []);
});

test('what a previous page left unacknowledged goes with the first batch', async () => {
  const storage = memoryStorage({ q: [message(1), message(2)] });
  const { post, posts } = collector();
  const timers = manualTimers();
  delivery(post, storage, timers).add(message(3));
  await timers.runNext();
  assert.deepEqual(posts, [['m1', 'm2', 'm3']]);
  assert.deepEqual(kept(storage), []);
});

test('storage is bounded: during a long outage the oldest messages give way', async () => {
  const storage = memoryStorage();
  const { post } = collector(...Array(100).fill('down'));
  const queue = delivery(post, storage, manualTimers());
  for (let n = 0; n < MAX_KEPT + 50; n++) queue.add(message(n));
  await settle();
  assert.equal(kept(storage).length, MAX_KEPT);
  assert.equal(kept(storage)[0], 'm50');
});

test('another tab sharing the storage keeps its own messages when this one is acknowledged', async () => {
  const storage = memoryStorage();
  const timers = manualTimers();
  const mine = delivery(collector().post, storage, timers);
  const theirs = delivery(collector('down').post, storage, manualTimers());
  mine.add(message(1));
  theirs.add(message(2));
  await timers.runNext();
  assert.deepEqual(kept(storage), ['m2']);
});

test('leaving sends everything queued at once, without resending the batch in flight', async () => {
  const { post, posts } = collector();
  const queue = delivery(post, memoryStorage(), manualTimers());
  for (let n = 0; n < BATCH + 15; n++) queue.add(message(n)); // a batch of BATCH is in flight
  queue.leave();
  await settle();
  assert.deepEqual(posts.map((ids) => ids.length), [BATCH, BATCH, 5]);
  assert.equal(new Set(posts.flat()).size, BATCH + 15);
});

test('forget drops the queue and what storage kept', async () => {
  const storage = memoryStorage();
  const { post, posts } = collector();
  const timers = manualTimers();
  const queue = delivery(post, storage, timers);
  queue.add(message(1));
  queue.forget();
  await timers.runNext();
  assert.deepEqual(posts, []);
  assert.equal(storage.get('q'), undefined);
});

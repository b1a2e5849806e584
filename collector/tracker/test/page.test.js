import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IDLE_MS, campaign, depth, engagement, scrollDepth } from '../src/page.js';

test('campaign comes from the utm parameters, named as Segment names them', () => {
  assert.deepEqual(campaign('?utm_source=news&utm_medium=email&utm_campaign=fall&utm_term=shoes&utm_content=top&x=1'), {
    source: 'news',
    medium: 'email',
    name: 'fall',
    term: 'shoes',
    content: 'top',
  });
  assert.equal(campaign('?ref=home'), undefined);
  assert.equal(campaign(''), undefined);
});

test('depth is the bottom of the viewport as a percent of the page', () => {
  assert.equal(depth(0, 720, 2880), 25);
  assert.equal(depth(2160, 720, 2880), 100);
  assert.equal(depth(5000, 720, 2880), 100);
  assert.equal(depth(0, 720, 0), 0);
});

test('scroll depth is reported as it passes each quarter, with the deepest point reached', () => {
  const reported = [];
  const scroll = scrollDepth((percent) => reported.push(percent));
  for (const percent of [10, 30, 20, 45, 49, 52, 100, 80]) scroll.seen(percent);
  assert.deepEqual(reported, [30, 52, 100]);
  scroll.leave();
  assert.deepEqual(reported, [30, 52, 100]);
});

test('leaving reports a depth deeper than the last one reported', () => {
  const reported = [];
  const scroll = scrollDepth((percent) => reported.push(percent));
  scroll.leave();
  assert.deepEqual(reported, []);
  scroll.seen(60);
  scroll.seen(70);
  scroll.leave();
  scroll.leave();
  assert.deepEqual(reported, [60, 70]);
});

test('engaged time counts visible, active time and stops while the visitor is idle or away', () => {
  const clock = engagement();
  clock.tick(0, true); // the page shows
  clock.tick(4000, true); // activity 4 s later
  clock.tick(4000 + IDLE_MS + 60000, true); // back after a long idle spell: only IDLE_MS counts
  clock.tick(4000 + IDLE_MS + 61000, false); // hidden 1 s later
  clock.tick(500000, true); // shown again: the hidden time does not count
  clock.tick(502000, false);
  assert.equal(clock.take(), 4000 + IDLE_MS + 1000 + 2000);
  assert.equal(clock.take(), 0);
});

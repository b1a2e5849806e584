// footfall.js: one tag on a page, and its page views, clicks, scroll depth, engaged time
// and the calls of the footfall(...) API reach the collector in Segment's batch format.

import { delivery } from './delivery.js';
import { clicked, selector, visibleText } from './element.js';
import { campaign, depth, engagement, scrollDepth } from './page.js';

const doc = document;
const root = doc.documentElement;
const script = doc.currentScript;
const options = script.dataset;
const endpoint = (options.endpoint || new URL(script.src).origin).replace(/\/$/, '') + '/v1/batch';
const declined = options.respectDnt != 'false' && (navigator.doNotTrack == '1' || navigator.globalPrivacyControl);
const library = { name: 'footfall.js', version: __VERSION__ };

// First-party storage only; where it is refused, the page still works without it.
const storage = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem('footfall.' + key));
    } catch {}
  },
  set(key, value) {
    try {
      value == null ? localStorage.removeItem('footfall.' + key) : localStorage.setItem('footfall.' + key, JSON.stringify(value));
    } catch {}
  },
};

const uuid = () =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
  );

// A text/plain body makes a simple request: no CORS preflight, which a closing page may not
// live to finish. An Authorization header would need one, so the write key is in the body.
const queue = delivery((batch) =>
  fetch(endpoint, {
    method: 'POST',
    body: JSON.stringify({ writeKey: options.key, sentAt: new Date().toISOString(), batch }),
    keepalive: true,
    credentials: 'omit',
  }).then((response) => response.status),
  storage,
);

let on, anonymousId, userId, current, path, referrer = doc.referrer, scroll, engaged;

/** Whether to track, from the browser's signals and the visitor's consent; when not, every
 * id and queued message is forgotten. */
const decide = () => {
  on = !declined && storage.get('consent') !== false;
  if (on) {
    storage.set('id', (anonymousId = storage.get('id') || anonymousId || uuid()));
    userId = storage.get('uid') || userId;
  } else {
    queue.forget();
    storage.set('id');
    storage.set('uid');
    anonymousId = userId = undefined;
  }
};

const send = (type, fields) =>
  on &&
  queue.add({
    type,
    messageId: uuid(),
    anonymousId,
    userId,
    timestamp: new Date().toISOString(),
    context: {
      page: current,
      campaign: campaign(current.search),
      screen: { width: screen.width, height: screen.height, density: devicePixelRatio },
      locale: navigator.language,
      library,
    },
    ...fields,
  });

const track = (event, properties) => send('track', { event, properties });

const where = () => ({ url: location.href, path: location.pathname, search: location.search, title: doc.title, referrer });

/** Ends the current page view: its final scroll depth and its engaged time. */
const leave = (unloading) => {
  if (scroll) {
    scroll.leave();
    engaged.tick(Date.now(), 0);
    const ms = engaged.take();
    if (ms) track('Page Engaged', { engaged_ms: ms });
  }
  if (unloading) queue.leave();
};

const page = () => {
  leave();
  current = where();
  path = location.pathname + location.search;
  referrer = location.href;
  scroll = scrollDepth((percent) => track('Page Scrolled', { depth: percent, page_height: root.scrollHeight }));
  engaged = engagement();
  engaged.tick(Date.now(), !doc.hidden);
  send('page', {});
};

const api = {
  page,
  track,
  identify: (id, traits) => on && (storage.set('uid', (userId = '' + id)), send('identify', { traits })),
  purchase: (order) => track('Order Completed', order),
  consent(yes) {
    const before = on;
    storage.set('consent', yes ? null : false);
    decide();
    // What was seen while tracking was off is not reported: the page view starts afresh.
    if (on && !before) {
      scroll = 0;
      page();
    }
  },
};

// A route change in a single-page app is a page view; a change of hash alone is not.
const routed = () => location.pathname + location.search != path && page();
for (const name of ['pushState', 'replaceState']) {
  const original = history[name];
  history[name] = function () {
    const result = original.apply(this, arguments);
    routed();
    return result;
  };
}
addEventListener('popstate', routed);

doc.addEventListener(
  'click',
  (event) => {
    const element = clicked(event.target);
    if (element)
      track('Element Clicked', {
        selector: selector(element),
        tag: element.tagName.toLowerCase(),
        text: visibleText(element),
        x: Math.round(event.pageX),
        y: Math.round(event.pageY),
        page_width: root.scrollWidth,
        page_height: root.scrollHeight,
        viewport_width: innerWidth,
        viewport_height: innerHeight,
      });
  },
  true,
);
addEventListener('scroll', () => scroll.seen(depth(scrollY, innerHeight, root.scrollHeight)), { passive: true });
for (const type of ['pointerdown', 'pointermove', 'keydown', 'scroll', 'touchstart'])
  addEventListener(type, () => doc.hidden || engaged.tick(Date.now(), 1), { capture: true, passive: true });
doc.addEventListener('visibilitychange', () => (doc.hidden ? leave(1) : engaged.tick(Date.now(), 1)));
addEventListener('pagehide', () => leave(1));

// Calls made before the script loaded wait in the stub's queue; they run in order.
const waiting = (window.footfall && window.footfall.q) || [];
window.footfall = (name, ...args) => api[name] && api[name](...args);
decide();
current = where();
for (const args of waiting) window.footfall(...args);
page();

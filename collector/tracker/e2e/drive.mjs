// Drives footfall.js in Debian's chromium for tests/integration/test_tracker_browser.py:
// `node e2e/drive.mjs SCENARIO PAGE_URL` runs one scenario against a page served by the
// test and prints what it observed as JSON; the test then checks what landed in ClickHouse.
// The page's clock is fixed and moved by hand, so engaged time is exact; timers still run.

import { chromium } from 'playwright-core';

const WAIT_MS = 60000;
const CHROMIUM = process.env.FOOTFALL_CHROMIUM || '/usr/bin/chromium';

/** Every batch the page posts to the collector, in order, with what became of it. */
const recordBatches = (context) => {
  const log = [];
  context.on('request', (request) => {
    if (!request.url().endsWith('/v1/batch')) return;
    const entry = { messages: JSON.parse(request.postData()).batch, outcome: 'pending' };
    log.push(entry);
    // No response (the request failed or was aborted) resolves to null.
    request
      .response()
      .then((response) => (entry.outcome = response ? response.status() : 'failed'))
      .catch(() => (entry.outcome = 'failed'));
  });
  return log;
};

const until = async (check, what) => {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** Batches the collector answered with 200, from its Prometheus metrics. */
const batchesAnswered = async (collector) => {
  const metrics = await (await fetch(`${collector}/metrics`)).text();
  const line = metrics.match(/^footfall_collector_requests_total\{endpoint="batch",status="200"\} (\S+)$/m);
  return line ? Number(line[1]) : 0;
};

const loaded = (page) => page.waitForFunction(() => window.footfall && !window.footfall.q, null, { timeout: WAIT_MS });
/** What footfall.js keeps in localStorage, its values decoded. */
const stored = (page) =>
  page.evaluate(() =>
    Object.fromEntries(
      Object.entries(localStorage)
        .filter(([key]) => key.startsWith('footfall.'))
        .map(([key, value]) => [key, JSON.parse(value)]),
    ),
  );
const drained = (page) =>
  page.waitForFunction(() => !(JSON.parse(localStorage.getItem('footfall.q')) || []).length, null, { timeout: WAIT_MS, polling: 100 });
const scrollTo = (page, where) =>
  page.evaluate(
    (where) =>
      new Promise((done) => {
        addEventListener('scroll', done, { once: true });
        scrollTo(0, where == 'bottom' ? document.documentElement.scrollHeight : 0);
      }),
    where,
  );

/** A visit: clicks, scrolling to the bottom, identify, SPA navigations, a purchase, a
 * network outage across a reload, recovery, and leaving the page. */
const journey = async (browser, url) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const batches = recordBatches(context);
  const page = await context.newPage();
  const t0 = Date.now();
  const at = (ms) => page.clock.setFixedTime(t0 + ms);
  const clicks = [];
  const clickAt = async (selector, ms) => {
    await at(ms);
    const box = await page.locator(selector).boundingBox();
    const [x, y] = [Math.floor(box.x) + 3, Math.floor(box.y) + 3];
    await page.mouse.click(x, y);
    clicks.push({ x, y });
  };

  await at(0);
  await page.goto(url);
  await loaded(page);
  await clickAt('#buy', 1000);
  await clickAt('li:nth-child(2) .label', 2000);
  await page.fill('#email', 'secret@example.com');
  await clickAt('#email', 3000);
  await at(4000);
  await scrollTo(page, 'bottom');
  const pageSize = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
  await scrollTo(page, 'top');
  await at(5000);
  await page.evaluate(() => footfall('identify', 'user-42', { plan: 'pro' }));
  await at(6000);
  await page.evaluate(() => history.pushState({}, '', '/pricing'));
  await at(7000);
  await page.evaluate(() => history.replaceState({}, '', '/pricing'));
  await page.evaluate(() => history.replaceState({}, '', '/pricing?tab=annual'));
  await at(9000);
  await page.evaluate(
    () =>
      new Promise((done) => {
        addEventListener('popstate', done, { once: true });
        history.back();
      }),
  );
  await at(10000);
  const order = { order_id: `o-${t0}`, revenue: 59.5, currency: 'eur', products: [{ product_id: 'p-1', price: 59.5 }] };
  await page.evaluate((order) => footfall('purchase', order), order);
  await drained(page);
  const anonymousId = (await stored(page))['footfall.id'];

  // The network goes down: what is sent fails, survives a reload in storage, and is
  // delivered by the next page once the network is back.
  await page.route('**/v1/batch', (route) => route.abort('internetdisconnected'));
  await clickAt('#buy', 11000);
  await page.evaluate(() => footfall('track', 'Outage Event', { n: 1 }));
  await until(() => batches.some((b) => b.outcome == 'failed'), 'a failed send');
  await at(12000);
  await page.goto(url);
  await loaded(page);
  const reloadedAt = new Date(t0 + 12000).toISOString();
  const afterReload = (b) => b.messages.some((m) => m.type == 'page' && m.timestamp == reloadedAt);
  await until(() => batches.some((b) => afterReload(b) && b.outcome == 'failed'), 'the reloaded page failing to send');
  const keptDuringOutage = (await stored(page))['footfall.q'].map((m) => m.event || m.type);
  await page.unroute('**/v1/batch');
  await drained(page);

  // What is sent on leaving goes after the page is gone, out of the driver's sight: the
  // collector's count of answered batches shows when it arrived.
  await at(15000);
  const collector = await page.evaluate(() => new URL(document.querySelector('script[data-key]').src).origin);
  const answered = await batchesAnswered(collector);
  await page.goto('about:blank');
  await until(async () => (await batchesAnswered(collector)) > answered, 'the send on leaving');
  const cookies = await context.cookies();
  return { t0, anonymousId, order, clicks, pageSize, keptDuringOutage, batches, cookies };
};

/** Do Not Track / GPC and consent: nothing is stored or sent when the visitor says no. */
const privacy = async (browser, url) => {
  const gpc = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  await gpc.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  const gpcBatches = recordBatches(gpc);
  const gpcPage = await gpc.newPage();
  await gpcPage.goto(url);
  await loaded(gpcPage);
  await gpcPage.click('#buy');
  const gpcStored = await stored(gpcPage);
  await gpcPage.goto('about:blank');

  const context = await browser.newContext();
  const batches = recordBatches(context);
  const page = await context.newPage();
  await page.goto(url);
  await loaded(page);
  await drained(page);
  const beforeConsent = await stored(page);
  const sentBeforeRefusal = batches.length;
  await page.evaluate(() => footfall('consent', false));
  await page.click('#buy');
  const afterRefusal = await stored(page);
  await page.reload();
  await loaded(page);
  await page.click('#buy');
  const afterReload = await stored(page);
  await page.goto('about:blank');
  const sentAfterRefusal = batches.length - sentBeforeRefusal;
  await page.goBack();
  await loaded(page);
  await page.evaluate(() => footfall('consent', true));
  const afterConsent = await stored(page);
  await drained(page);
  return {
    gpc: { stored: gpcStored, batches: gpcBatches.length },
    consent: { beforeConsent, afterRefusal, afterReload, sentAfterRefusal, afterConsent, batches },
  };
};

const scenarios = { journey, privacy };
const [scenario, url] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: CHROMIUM });
try {
  process.stdout.write(JSON.stringify(await scenarios[scenario](browser, url)));
} finally {
  await browser.close();
}

// A real browser against the sink's port, for tests/integration/test_sink_access.py:
// `node sink_from_a_browser.mjs PAGE_URL SINK_URL REBOUND_URL TOKEN` opens a page of another
// origin in Debian's chromium, whose context attaches the analyst's Basic credentials to
// every request (as a browser that cached them would), and has the page try the sink: a
// CORS fetch, a no-cors POST, a form POST, and, through a name that resolves to 127.0.0.1
// (DNS rebinding), a same-origin fetch. Prints the status the sink gave each, as JSON.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const tracker = fileURLToPath(new URL('../../collector/tracker/package.json', import.meta.url));
const { chromium } = createRequire(tracker)('playwright-core');
const CHROMIUM = process.env.FOOTFALL_CHROMIUM || '/usr/bin/chromium';
const [pageUrl, sinkUrl, reboundUrl, token] = process.argv.slice(2);
const rebound = new URL(reboundUrl);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [`--host-resolver-rules=MAP ${rebound.hostname} 127.0.0.1`],
});
try {
  const context = await browser.newContext({
    extraHTTPHeaders: { Authorization: 'Basic ' + Buffer.from(`analyst:${token}`).toString('base64') },
  });
  const statuses = {};
  context.on('response', (response) => {
    const url = new URL(response.url());
    if (url.port === new URL(sinkUrl).port) statuses[`${url.hostname}${url.pathname}${url.search}`] = response.status();
  });
  const page = await context.newPage();
  await page.goto(pageUrl);
  const read = await page.evaluate(async (sink) => {
    try {
      const answer = await fetch(`${sink}/query?cors`, { method: 'POST', body: 'SELECT count() FROM footfall.events' });
      return { readable: true, status: answer.status, body: await answer.text() };
    } catch (error) {
      return { readable: false };
    }
  }, sinkUrl);
  await page.evaluate(
    (sink) => fetch(`${sink}/costs?nocors`, { method: 'POST', mode: 'no-cors', body: '[]' }).catch(() => null),
    sinkUrl,
  );
  await page.evaluate((sink) => {
    const form = Object.assign(document.createElement('form'), { method: 'POST', action: `${sink}/?form` });
    form.append(Object.assign(document.createElement('input'), { name: 'query', value: 'SELECT 1' }));
    document.body.append(form);
    form.submit();
  }, sinkUrl);
  await page.waitForURL(/form/);
  await page.goto(reboundUrl);
  const rebinding = await page.evaluate(async () => {
    const answer = await fetch('/query?rebound', { method: 'POST', body: 'SELECT count() FROM footfall.events' });
    return { status: answer.status, body: await answer.text() };
  });
  process.stdout.write(JSON.stringify({ read, rebinding, statuses }));
} finally {
  await browser.close();
}

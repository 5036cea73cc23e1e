// Checks CORS with a real browser: serves a tiny page on PAGE_ORIGIN (a second localhost port, which
// must be in the gateway's cors.allowed_origins), opens it in headless Chromium, and from the page
// fetch()es GET /v1/cards on the gateway with the bearer token (which makes the browser send a
// preflight first). Exits 0 only if the page could read the answer's X-Request-Id header.
// Starts no gateway itself (scripts/browser-cors-check.sh does).
//
//   node scripts/browser-cors-check.mjs GATEWAY_URL TOKEN PAGE_ORIGIN
//   e.g. node scripts/browser-cors-check.mjs http://127.0.0.1:18080 "$TOKEN" http://127.0.0.1:18081
//
// Needs: npm ci in scripts/ (playwright-core) and Debian's chromium (CHROMIUM=/path overrides /usr/bin/chromium).
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [gateway, token, pageOrigin] = process.argv.slice(2);
if (!gateway || !token || !pageOrigin) {
  console.error('usage: node browser-cors-check.mjs GATEWAY_URL TOKEN PAGE_ORIGIN');
  process.exit(2);
}
const origin = new URL(pageOrigin);
if (origin.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(origin.hostname) || !origin.port) {
  console.error(`PAGE_ORIGIN must be http://127.0.0.1:PORT or http://localhost:PORT, got ${pageOrigin}`);
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!executablePath) {
  console.error('no Chromium found: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)');
  process.exit(2);
}

const page_html = '<!doctype html><meta charset="utf-8"><title>cors check</title><p>card-gateway CORS check</p>';
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page_html);
});
await new Promise((ok, fail) => server.once('error', fail).listen(Number(origin.port), origin.hostname, ok));

let browser;
let code = 1;
try {
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  await page.goto(origin.origin + '/');
  const seen = await page.evaluate(async ({ url, token }) => {
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, requestId: res.headers.get('x-request-id'), pageOrigin: location.origin };
    } catch (e) {
      // A CORS refusal: the browser hides the answer and fetch() rejects with a TypeError.
      return { error: String(e), pageOrigin: location.origin };
    }
  }, { url: new URL('/v1/cards', gateway).href, token });
  console.log(JSON.stringify(seen));
  if (seen.requestId) {
    console.log(`ok: the page on ${seen.pageOrigin} read X-Request-Id ${seen.requestId} (HTTP ${seen.status})`);
    code = 0;
  } else {
    console.error(`FAILED: the page on ${seen.pageOrigin} could not read X-Request-Id from ${gateway}`);
  }
} catch (e) {
  console.error(e);
} finally {
  if (browser) await browser.close();
  server.close();
}
process.exit(code);

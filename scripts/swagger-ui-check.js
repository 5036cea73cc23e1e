// Drives Swagger UI like a developer: Authorize with a printed token, then "Try it out" on
// GET /v1/card-bins and "Execute"; prints the HTTP status Swagger UI shows.
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto((process.env.BASE || 'http://127.0.0.1:8080') + '/swagger-ui/');
  await page.waitForSelector('.opblock');
  const ops = await page.$$eval('.opblock-summary-path', els => els.map(e => e.textContent.trim()));
  console.log('operations rendered:', ops.length);
  await page.click('button.authorize');
  await page.fill('.modal-ux input[type=text]', process.env.TOKEN);
  await page.click('.modal-ux button.authorize');
  await page.click('.modal-ux button.btn-done');
  await page.click('#operations-reference-list_card_bins .opblock-summary');
  await page.click('#operations-reference-list_card_bins button.try-out__btn');
  await page.click('#operations-reference-list_card_bins button.execute');
  await page.waitForSelector('#operations-reference-list_card_bins .live-responses-table tbody .response-col_status');
  const status = await page.textContent('#operations-reference-list_card_bins .live-responses-table tbody .response-col_status');
  console.log('GET /v1/card-bins via Swagger UI after Authorize:', status.trim());
  const shot = process.env.SHOT || '/tmp/swagger-ui.png';
  await page.setViewportSize({ width: 1400, height: 4200 });
  await page.screenshot({ path: shot, fullPage: true });

  // The test-helpers tag: every helper a frontend developer produces events with.
  const helpers = page.locator('.opblock-tag-section', { has: page.locator('#operations-tag-test-helpers') });
  const helperOps = await helpers.locator('.opblock-summary-path').allTextContents();
  console.log('test-helpers operations:', helperOps.length);
  await helpers.screenshot({ path: shot.replace(/\.png$/, '-test-helpers.png') });

  // A request schema with its constraints (patterns, lengths, enums): POST /v1/cardholders, its
  // request body's Schema tab, the model expanded.
  await page.setViewportSize({ width: 1400, height: 1000 });
  const op = page.locator('#operations-cardholders-create_cardholder');
  await op.locator('.opblock-summary').click();
  const body = op.locator('.opblock-section-request-body');
  await body.getByText('Schema', { exact: true }).first().click();
  await page.waitForTimeout(300);
  for (let i = 0; i < 3; i++) {
    const closed = body.locator('.model-toggle.collapsed');
    if (await closed.count() === 0) break;
    await closed.first().click();
    await page.waitForTimeout(200);
  }
  const text = await body.textContent();
  console.log('POST /v1/cardholders body schema shows patterns:', /matches \^/.test(text), 'length bounds:', /\[1, 40\] characters/.test(text));
  await body.screenshot({ path: shot.replace(/\.png$/, '-constraints.png') });
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });

// First paint of the web map, measured in chromium (playwright-core), each run in a fresh
// browser context (empty cache). Usage: node web/test/paint.mjs BASE_URL [RUNS]
// Prints one JSON line: the median and the runs of each figure, in ms since navigation:
// - fcp: first contentful paint;
// - apercu: first frame with the region's overview (the EPCIs inlined as SVG by the server);
// - region: first WebGL frame with every EPCI tile in view drawn (the overview then goes);
// - chargement: the map's `load` (every layer of the first view drawn);
// - idle: the map's first `idle`.
import { chromium } from 'playwright-core';

const [base, n = '5'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
const runs = [];
for (let i = 0; i < Number(n); i++) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.ecofoncier?.temps.premier_idle, null, { timeout: 60000 });
  runs.push(await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    apercu: window.ecofoncier.temps.apercu,
    region: window.ecofoncier.temps.region,
    chargement: window.ecofoncier.temps.chargement,
    idle: window.ecofoncier.temps.premier_idle,
  })));
  await ctx.close();
}
await browser.close();
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const out = {};
for (const k of Object.keys(runs[0])) {
  const v = runs.map((r) => Math.round(r[k]));
  out[k] = { median: median(v), runs: v };
}
console.log(JSON.stringify(out));

// Browser test of the web map: Debian chromium driven by playwright-core.
// Usage: node web/test/map.mjs BASE_URL ARTIFACTS_DIR
// Prints one JSON line of findings; exits 1 on the first failed check.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const fail = (m) => { console.error(`FAILED: ${m}`); process.exit(1); };
const check = (ok, m) => { if (!ok) fail(m); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));

const idle = () => page.evaluate(() => new Promise((resolve) => {
  const m = window.ecofoncier.map;
  if (m.loaded() && m.areTilesLoaded()) { m.once('idle', resolve); m.triggerRepaint(); } else { m.once('idle', resolve); }
}));
const rendered = (layer) => page.evaluate((l) => window.ecofoncier.map.queryRenderedFeatures({ layers: [l] }).length, layer);

const t0 = Date.now();
await page.goto(`${base}/`);
await page.waitForFunction(() => window.ecofoncier && window.ecofoncier.map);
await idle();
const paint = Date.now() - t0;
const times = await page.evaluate(() => ({
  fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  ...window.ecofoncier.temps,
}));
const findings = {
  wall_to_idle_ms: paint,
  first_contentful_paint_ms: Math.round(times.fcp),
  map_load_ms: Math.round(times.chargement),
  map_first_idle_ms: Math.round(times.premier_idle),
};
await page.screenshot({ path: `${out}/1-region.png` });
check(await page.locator('html').getAttribute('lang') === 'fr', 'the page is in French');
check((await page.textContent('header')).includes('synthétiques'), 'synthetic data labelled');
for (const l of ['epci-0', 'sites-0', 'tiers-lieux-0']) {
  findings[l] = await rendered(l);
  check(findings[l] > 0, `${l} renders features at the regional view`);
}

// A plot from the search endpoint, at zoom 16: plots, establishments.
const hit = await (await fetch(`${base}/api/v1/terrains/search?limit=1&min_ha=1`)).json();
check(hit.features.length === 1, 'the search endpoint finds a plot');
const ring = hit.features[0].geometry.coordinates[0];
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 15 }), ring[0]);
await idle();
for (const l of ['terrains-0', 'communes-0']) {
  findings[l] = await rendered(l);
  check(findings[l] > 0, `${l} renders features at zoom 15`);
}
const etab = await (await fetch(`${base}/ogc/collections/etablissements/items?limit=1`)).json();
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 15 }), etab.features[0].geometry.coordinates);
await idle();
findings['etablissements-0'] = await rendered('etablissements-0');
check(findings['etablissements-0'] > 0, 'etablissements render at zoom 15');
await page.screenshot({ path: `${out}/2-plots.png` });

// Toggles: each layer off (nothing rendered) and on again.
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 15 }), ring[0]);
await idle();
for (const id of ['terrains', 'etablissements', 'sites', 'epci', 'communes', 'tiers-lieux', 'locaux-commerciaux']) {
  await page.uncheck(`#bascule-${id}`);
  await idle();
  check(await rendered(`${id}-0`) === 0, `${id} hidden when unchecked`);
  await page.check(`#bascule-${id}`);
}
await idle();
check(await rendered('terrains-0') > 0, 'terrains back when checked');

// Centre-bourg premises around a town hall.
const local = await (await fetch(`${base}/ogc/collections/locaux-commerciaux/items?limit=1`)).json();
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 15 }), local.features[0].geometry.coordinates);
await idle();
findings['locaux-commerciaux-0'] = await rendered('locaux-commerciaux-0');
check(findings['locaux-commerciaux-0'] > 0, 'premises render');

// Popup on click of a plot.
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 16 }), ring[0]);
await idle();
const pt = await page.evaluate(() => {
  const m = window.ecofoncier.map;
  const f = m.queryRenderedFeatures({ layers: ['terrains-0'] })[0];
  const g = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
  const xs = g.map((c) => m.project(c));
  return { x: xs.reduce((a, p) => a + p.x, 0) / xs.length, y: xs.reduce((a, p) => a + p.y, 0) / xs.length };
});
const box = await page.locator('#carte canvas').boundingBox();
await page.mouse.click(box.x + pt.x, box.y + pt.y);
await page.waitForSelector('.maplibregl-popup', { timeout: 5000 });
check((await page.textContent('.maplibregl-popup')).includes("État d'occupation"), 'the popup shows the CNIG fields in French');
await page.screenshot({ path: `${out}/3-popup.png` });

// Search panel, with the keyboard: tab, fill, submit, results, click → zoom and popup.
await page.focus('#onglet-couches');
await page.keyboard.press('ArrowRight');
check(await page.isVisible('#recherche'), 'the search tab opens with the arrow key');
await page.fill('#r-min', '2');
await page.selectOption('#r-stade', 'en vente');
await page.click('#form-recherche button[type=submit]');
await page.waitForSelector('#r-resultats li');
findings.search_results = await page.locator('#r-resultats li').count();
check(findings.search_results > 0, 'the search returns results');
await page.click('#r-resultats li button');
await idle();
check(await page.locator('.maplibregl-popup').count() > 0, 'a result opens its popup');
findings.zoom_after_result = await page.evaluate(() => window.ecofoncier.map.getZoom());
await page.screenshot({ path: `${out}/4-search.png` });

// Small screens: the panel goes under the map.
await page.setViewportSize({ width: 390, height: 800 });
await page.screenshot({ path: `${out}/5-mobile.png` });

findings.console_errors = errors;
check(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
await browser.close();
console.log(JSON.stringify(findings));

// Browser test of the web map: Debian chromium driven by playwright-core.
// Usage: node web/test/map.mjs BASE_URL ARTIFACTS_DIR
// Prints one JSON line of findings; exits 1 on the first failed check.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
class Failed extends Error {}
const check = (ok, m) => { if (!ok) throw new Failed(m); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
// The refused proposal's 400 is expected: the browser logs it, it is not an error of the page.
const expected = (m) => m.text().includes('status of 400') && m.location().url.endsWith('/api/v1/proposals/check');
page.on('console', (m) => { if (m.type() === 'error' && !expected(m)) errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));

const idle = () => page.evaluate(() => new Promise((resolve) => {
  const m = window.ecofoncier.map;
  if (m.loaded() && m.areTilesLoaded()) { m.once('idle', resolve); m.triggerRepaint(); } else { m.once('idle', resolve); }
}));
const rendered = (layer) => page.evaluate((l) => window.ecofoncier.map.queryRenderedFeatures({ layers: [l] }).length, layer);

// On failure: the message, and a screenshot of the page as it was.
const findings = {};
try {
const t0 = Date.now();
await page.goto(`${base}/`);
await page.waitForFunction(() => window.ecofoncier && window.ecofoncier.map);
await idle();
const paint = Date.now() - t0;
const times = await page.evaluate(() => ({
  fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  ...window.ecofoncier.temps,
}));
Object.assign(findings, {
  wall_to_idle_ms: paint,
  first_contentful_paint_ms: Math.round(times.fcp),
  // The region's EPCIs on screen: the overview image (Element Timing), or the map's own
  // first frame with them, whichever came first.
  first_meaningful_paint_ms: Math.round(Math.min(times.apercu ?? Infinity, times.region)),
  overview_paint_ms: Math.round(times.apercu),
  map_region_ms: Math.round(times.region),
  map_load_ms: Math.round(times.chargement),
  map_first_idle_ms: Math.round(times.premier_idle),
});
await page.screenshot({ path: `${out}/1-region.png` });
// The first Tab reaches the skip link, which leads to the panel.
await page.keyboard.press('Tab');
check(await page.evaluate(() => document.activeElement.className) === 'evitement', 'the skip link comes first');
await page.keyboard.press('Enter');
check(await page.evaluate(() => document.activeElement.id) === 'panneau', 'the skip link leads to the panel');
check(await page.locator('html').getAttribute('lang') === 'fr', 'the page is in French');
check(await page.getAttribute('.maplibregl-ctrl-zoom-in', 'title') === 'Zoom avant', 'map controls in French');
check(times.apercu > 0, 'the overview of the region was painted');
check(await page.locator('#apercu').count() === 0, 'the overview goes once the map has drawn the region');
check((await page.textContent('header')).includes('synthétiques'), 'synthetic data labelled');
// At the regional zoom the zones are discs sized by area (`sites-2`), the places grouped.
for (const l of ['epci-0', 'sites-2', 'tiers-lieux-0']) {
  findings[l] = await rendered(l);
  check(findings[l] > 0, `${l} renders features at the regional view`);
}
const places = (await (await fetch(`${base}/ogc/collections/tiers-lieux/items?limit=1`)).json()).numberMatched;
check(findings['tiers-lieux-0'] < places, `nearby places grouped at the regional view (${findings['tiers-lieux-0']} discs for ${places})`);

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

// Layer toggles from the layers tab.
const layers = async (ids, on) => {
  await page.click('#onglet-couches');
  for (const id of ids) await (on ? page.check(`#bascule-${id}`) : page.uncheck(`#bascule-${id}`));
};

// The EPCI sheet, opened from an EPCI's popup at the regional view.
const indicators = await (await fetch(`${base}/api/v1/indicators`)).json();
await page.evaluate(() => window.ecofoncier.map.jumpTo({ center: [2.75, 49.95], zoom: 7.3 }));
await layers(['sites', 'tiers-lieux', 'communes', 'locaux-commerciaux'], false);
await idle();
await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
await page.waitForSelector('.maplibregl-popup .popup-action');
const epciName = await page.$$eval('.maplibregl-popup tr', (trs) => trs.find((tr) => tr.querySelector('th').textContent === 'Intercommunalité').querySelector('td').textContent);
await page.click('.maplibregl-popup .popup-action');
await page.waitForSelector('#f-contenu h2');
check(await page.textContent('#f-contenu h2') === epciName, `the popup opens the sheet of ${epciName}`);
await layers(['sites', 'tiers-lieux', 'communes', 'locaux-commerciaux'], true);
await page.click('#onglet-fiche');
// Then another one from the sheet's list: its figures are the API's.
const rural = indicators.filter((r) => r.classe === 'rural');
const urbain = indicators.filter((r) => r.classe === 'urbain');
const one = rural[0];
const sheet = await (await fetch(`${base}/api/v1/indicators/epci/${one.epci_siren}`)).json();
// The picker, keyboard only: the name typed without accents or capitals, Enter.
const plain = (t) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
await page.fill('#f-epci', plain(one.epci_nom));
await page.waitForSelector('#f-epci-liste [role=option][aria-selected=true]');
check(await page.getAttribute('#f-epci', 'aria-expanded') === 'true', 'the picker says its list is open');
check((await page.textContent('#f-epci-liste [role=option][aria-selected=true] strong')) === one.epci_nom, 'the typed name comes first');
await page.keyboard.press('ArrowDown');
await page.keyboard.press('ArrowUp');
check(await page.getAttribute('#f-epci', 'aria-activedescendant') === 'f-epci-liste-0', 'arrows move in the list');
await page.keyboard.press('Enter');
await page.waitForFunction((n) => document.querySelector('#f-contenu h2')?.textContent === n, one.epci_nom);
await page.waitForFunction(() => window.ecofoncier.graphiques['f-conso']);
const chart = await page.evaluate(() => {
  const c = window.ecofoncier.graphiques['f-conso'];
  return { labels: c.data.labels.length, datasets: c.data.datasets.length, activite: c.data.datasets[0].data };
});
check(chart.labels === sheet.consommation_annuelle.length && chart.datasets === 6, 'land take chart: one bar per year, six destinations');
check(Math.abs(chart.activite[0] - sheet.consommation_annuelle[0].activite_m2 / 1e4) < 1e-9, 'land take chart in hectares');
const meter = await page.evaluate(() => Number(document.getElementById('f-zan').value));
check(Math.abs(meter - Math.min(sheet.zan.part_consommee_pct, 100)) < 0.01, 'the ZAN gauge shows the share consumed');
const sheetText = await page.textContent('#f-contenu');
for (const t of ['Taux de vacance (légal)', 'Navettes domicile-travail', 'Tiers-lieux et France services', 'Commerces de centre-bourg', 'Occupation des terrains']) {
  check(sheetText.includes(t), `the sheet shows « ${t} »`);
}
findings.sheet = one.epci_nom;
await page.screenshot({ path: `${out}/5-fiche.png` });

// The meeting view: three EPCIs (two rural, one urban) side by side, with the medians.
await page.click('#nav-reunion');
const chosen = [rural[0], urbain[0], rural[1]];
// Added with the picker: a SIREN, a name, a commune's name.
const ajouter = async (texte, nom) => {
  await page.fill('#m-ajout', texte);
  await page.waitForSelector('#m-ajout-liste [role=option][aria-selected=true]');
  check((await page.textContent('#m-ajout-liste [role=option][aria-selected=true] strong')) === nom, `« ${texte} » finds ${nom} first`);
  await page.keyboard.press('Enter');
  check(await page.inputValue('#m-ajout') === '', 'the picker empties for the next one');
};
await ajouter(chosen[0].epci_siren, chosen[0].epci_nom);
await ajouter(plain(chosen[1].epci_nom), chosen[1].epci_nom);
await ajouter(chosen[2].epci_siren, chosen[2].epci_nom);
await page.waitForFunction(() => document.querySelectorAll('#m-tableau thead th').length === 6);
check((await page.$$eval('#m-choisis li span', (s) => s.map((e) => e.textContent))).join('|') === chosen.map((r) => r.epci_nom).join('|'), 'the chosen EPCIs listed in order');
// One removed, then added again.
await page.click(`#m-choisis button[data-siren="${chosen[2].epci_siren}"]`);
await page.waitForFunction(() => document.querySelectorAll('#m-tableau thead th').length === 5);
await ajouter(chosen[2].epci_siren, chosen[2].epci_nom);
await page.waitForFunction(() => document.querySelectorAll('#m-tableau thead th').length === 6);
const heads = await page.$$eval('#m-tableau thead th', (ths) => ths.map((t) => t.textContent));
chosen.forEach((r, i) => check(heads[i + 1].startsWith(r.epci_nom), `column ${i + 1} is ${r.epci_nom}`));
check(heads[4].startsWith('Médiane rurale') && heads[5].startsWith('Médiane urbaine'), 'rural and urban medians');
check(heads[4].endsWith('Hauts-de-France') && (await page.textContent('#m-tableau caption')).includes('périmètre : Hauts-de-France'), 'the medians say their scope');
const cmp = await (await fetch(`${base}/api/v1/compare?epci=${chosen.map((r) => r.epci_siren).join(',')}`)).json();
const occRow = await page.$$eval('#m-tableau tbody tr', (trs) => [...trs].find((tr) => tr.querySelector('th').textContent.startsWith("Taux d'occupation")).querySelectorAll('td').length);
check(occRow === 5, 'one cell per EPCI and per median');
await page.waitForFunction(() => ['m-g-occupation', 'm-g-zan', 'm-g-navettes', 'm-g-services'].every((id) => window.ecofoncier.graphiques[id]));
const bars = await page.evaluate(() => window.ecofoncier.graphiques['m-g-zan'].data.datasets[0].data);
check(bars.length === 5 && bars[0] === cmp.epci[0].zan_part_consommee_pct && bars[3] === cmp.medianes.rural.zan_part_consommee_pct, 'the ZAN chart shows the EPCIs and the medians');
check((await page.evaluate(() => location.hash)) === `#reunion=${chosen.map((r) => r.epci_siren).join(',')}`, 'the address keeps the choice');
const csvHref = await page.getAttribute('#m-csv', 'href');
const csv = await fetch(`${base}${csvHref}`);
const csvLines = (await csv.text()).trim().split('\n');
check(csv.ok && csv.headers.get('content-type').startsWith('text/csv') && csvLines.length === 4, 'CSV export: a header and three rows');
findings.meeting_columns = heads.length;
findings.meeting_epci = cmp.epci.map((r) => [r.epci_nom, r.population]);
await page.screenshot({ path: `${out}/6-reunion.png` });
await page.emulateMedia({ media: 'print' });
check(!(await page.isVisible('#m-choix')) && await page.isVisible('#m-tableau'), 'print layout: the table without the controls');
await page.screenshot({ path: `${out}/7-reunion-impression.png`, fullPage: true });
await page.pdf({ path: `${out}/reunion.pdf`, format: 'A4', landscape: true, printBackground: true });
await page.emulateMedia({ media: 'screen' });

// A proposed zone drawn on the map gets the sobriety check.
await page.click('#nav-carte');
await page.click('#onglet-projet');
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 13 }), ring[0]);
await idle();
const draw = async () => {
  await page.click('#p-dessiner');
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (const [dx, dy] of [[-120, -80], [120, -80], [140, 90], [-100, 100]]) await page.mouse.click(cx + dx, cy + dy);
};
await draw();
check(await page.locator('.maplibregl-popup').count() === 0, 'no popup while drawing');
await page.fill('#p-emplois', '80');
await page.selectOption('#p-vocation', 'industrielle');
const [checked] = await Promise.all([
  page.waitForResponse((r) => r.url().endsWith('/api/v1/proposals/check')),
  page.click('#p-terminer'),
]);
check(checked.status() === 200, 'the drawn zone is accepted');
await page.waitForSelector('#p-resultat .constats li');
const verdict = await page.textContent('#p-resultat');
check(verdict.includes('Surface proposée') && verdict.includes('Enveloppe ZAN restante'), 'the check shows the surface and the ZAN budget');
check(verdict.includes('« industrielle »'), 'the check counts the plots of sites welcoming the vocation');
findings.proposal_findings = await page.locator('#p-resultat .constats li').count();
await page.screenshot({ path: `${out}/8-projet.png` });
// Outside the region: a clear refusal, nothing drawn is lost.
await page.evaluate(() => window.ecofoncier.map.jumpTo({ center: [2.35, 48.6], zoom: 12 }));
await idle();
await draw();
await page.click('#p-terminer');
await page.waitForFunction(() => document.getElementById('p-etat').textContent.startsWith('Zone refusée'));
check((await page.textContent('#p-etat')).includes('geometry') || (await page.textContent('#p-etat')).includes('region'), 'the refusal names the problem');
check(await page.evaluate(async () => (await window.ecofoncier.map.getSource('projet').getData()).features.length) > 0, 'the drawn zone stays on the map');
await page.click('#p-effacer');
// From the keyboard only: arrows move the map, « Ajouter le centre » places each vertex.
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 13 }), ring[0]);
await idle();
await page.focus('#p-dessiner');
await page.keyboard.press('Enter');
for (const keys of [[], ['ArrowRight', 'ArrowRight', 'ArrowRight'], ['ArrowDown', 'ArrowDown', 'ArrowDown']]) {
  if (keys.length) {
    await page.focus('#carte canvas');
    for (const k of keys) await page.keyboard.press(k);
    await idle();
  }
  await page.focus('#p-centre');
  await page.keyboard.press('Enter');
}
await page.focus('#p-terminer');
await page.keyboard.press('Enter');
await page.waitForFunction(() => document.getElementById('p-etat').textContent === 'Zone vérifiée.');
check((await page.textContent('#p-resultat')).includes('Surface proposée'), 'a zone drawn from the keyboard is checked');
await page.click('#p-effacer');

// The jobs slider on a site, opened from the site's popup.
const site = (await (await fetch(`${base}/ogc/collections/sites/items?limit=1`)).json()).features[0];
const sc = site.geometry.type === 'Polygon' ? site.geometry.coordinates[0] : site.geometry.coordinates[0][0];
const centre = [sc.reduce((a, c) => a + c[0], 0) / sc.length, sc.reduce((a, c) => a + c[1], 0) / sc.length];
await layers(['terrains', 'etablissements', 'locaux-commerciaux', 'tiers-lieux'], false);
await page.evaluate((c) => window.ecofoncier.map.jumpTo({ center: c, zoom: 15 }), centre);
await idle();
await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
await page.waitForSelector('.maplibregl-popup .popup-action');
await page.click('.maplibregl-popup .popup-action');
await page.waitForSelector('#s-resultat dl');
check(await page.inputValue('#s-site') === site.id, 'the popup opens the slider on its site');
const km = async () => Number((await page.$$eval('#s-resultat dd', (d) => d[1].textContent)).replace(/[^0-9,]/g, '').replace(',', '.'));
const km100 = await km();
await page.fill('#s-emplois', '600');
await page.waitForFunction(() => document.getElementById('s-etat').textContent.includes('600 emplois'));
const km600 = await km();
check(km600 > km100, `more jobs on the site save more kilometres (${km100} → ${km600})`);
findings.slider_km_per_day = [km100, km600];
await page.screenshot({ path: `${out}/9-emplois.png` });
await layers(['terrains', 'etablissements', 'locaux-commerciaux', 'tiers-lieux'], true);

// Accessibility: every control is labelled, every button named, text contrast of at least
// 4.5:1 (WCAG AA) in every view, a skip link first in the tab order.
const a11y = async () => page.evaluate(() => {
  const problems = [];
  const visible = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (visible(e) && !e.labels?.length && !e.getAttribute('aria-label')) problems.push(`no label: #${e.id}`);
  }
  for (const b of document.querySelectorAll('button, a[href]')) {
    if (visible(b) && !(b.textContent.trim() || b.getAttribute('aria-label') || b.title)) problems.push(`unnamed: ${b.outerHTML.slice(0, 80)}`);
  }
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const fond = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let n = 0;
  for (const e of document.querySelectorAll('body *:not(script):not(style):not(canvas)')) {
    if (e.closest('.maplibregl-map') && !e.closest('.maplibregl-popup')) continue;
    const texte = [...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!texte || !visible(e)) continue;
    const s = getComputedStyle(e);
    const a = lum(rgb(s.color)), b = lum(fond(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    n += 1;
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: ${e.tagName}.${e.className} « ${e.textContent.trim().slice(0, 30)} »`);
  }
  return { problems, checked: n };
});
const panes = [];
for (const tab of ['#onglet-couches', '#onglet-recherche', '#onglet-fiche', '#onglet-projet']) {
  await page.click(tab);
  const r = await a11y();
  panes.push(r.checked);
  check(r.problems.length === 0, `accessibility of ${tab}: ${r.problems.join(' | ')}`);
}
await page.click('#nav-reunion');
const rm = await a11y();
check(rm.problems.length === 0, `accessibility of the meeting view: ${rm.problems.join(' | ')}`);
findings.contrast_checked_elements = panes.reduce((a, b) => a + b, rm.checked);
await page.click('#nav-carte');
await page.focus('#onglet-couches');
await page.keyboard.press('End');
check(await page.isVisible('#projet'), 'End selects the last tab');
await page.keyboard.press('Home');
check(await page.isVisible('#couches'), 'Home selects the first tab');

// Small screens: the panel goes under the map; the meeting view in one column.
await page.setViewportSize({ width: 390, height: 800 });
await page.screenshot({ path: `${out}/10-mobile.png` });
const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
check(scroll <= 390, `nothing wider than a phone (${scroll}px)`);
await page.click('#nav-reunion');
await page.screenshot({ path: `${out}/11-mobile-reunion.png` });
const right = await page.evaluate(() => Math.max(...['#m-choix', '#m-resultat', '#m-actions'].map((s) => document.querySelector(s).getBoundingClientRect().right)));
check(right <= 390, `the meeting view fits a phone (${right}px)`);

findings.console_errors = errors;
check(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
} catch (e) {
  await page.screenshot({ path: `${out}/failure.png` }).catch(() => {});
  console.error(e instanceof Failed ? `FAILED: ${e.message}` : e);
  process.exit(1);
}

await browser.close();
console.log(JSON.stringify(findings));

// Shared helpers of the web map: HTML escaping, French number formats, the API, and the
// charting library (Chart.js from npm, loaded on first use so that it never delays the map).

export const ORIGIN = window.location.origin;

export function echapper(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

const NOMBRE = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
const ENTIER = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });

/// A number in French ("1 234,5"), `–` when missing; `unite` appended after a space.
export function nombre(v, unite = '') {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const s = (Math.abs(v) >= 100 ? ENTIER : NOMBRE).format(v);
  return unite ? `${s}\u00a0${unite}` : s;
}

/// GET or POST a JSON document of the API; throws an Error carrying the problem's detail.
export async function api(chemin, corps) {
  const init = corps === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(corps),
  };
  const r = await fetch(`${ORIGIN}${chemin}`, init);
  const d = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(d.detail || `erreur ${r.status}`);
  return d;
}

/// A `<dl>` of (label, value) pairs.
export function liste(paires) {
  return `<dl class="chiffres">${paires.map(([k, v]) => `<dt>${echapper(k)}</dt><dd>${echapper(v)}</dd>`).join('')}</dl>`;
}

// Chart.js (UMD build, self-contained), loaded once on first use.
let chargement;
function chartjs() {
  chargement ??= new Promise((ok, ko) => {
    const s = document.createElement('script');
    s.src = '/web/vendor/chart.umd.min.js';
    s.onload = () => {
      const C = window.Chart;
      C.defaults.animation = false;
      C.defaults.font.family = 'system-ui, "Segoe UI", Roboto, sans-serif';
      C.defaults.color = '#1b1f24';
      C.defaults.locale = 'fr-FR';
      ok(C);
    };
    s.onerror = () => ko(new Error('Chart.js ne se charge pas'));
    document.head.appendChild(s);
  });
  return chargement;
}

/// The charts drawn, by canvas id (read by the browser tests).
export const graphiques = {};

/// Draws (or redraws) a chart in the canvas `id`.
export async function graphique(id, config) {
  const Chart = await chartjs();
  graphiques[id]?.destroy();
  const canvas = document.getElementById(id);
  if (!canvas) return null;
  graphiques[id] = new Chart(canvas, config);
  return graphiques[id];
}

/// Colours of the charts (contrast of at least 3:1 on white).
export const COULEURS = ['#0b5c8a', '#c2410c', '#2f7d32', '#7048e8', '#a61e4d', '#5c5f66'];

// ecofoncier web map: the service's own vector tiles drawn with MapLibre GL JS, no
// external tiles or fonts. An optional raster base map: `?fond=https://…/{z}/{x}/{y}.png`.
import * as maplibregl from '/web/vendor/maplibre-gl.mjs';

const ORIGIN = window.location.origin;

// French labels of the fields shown in popups (CNIG names).
const LIBELLES = {
  epci_siren: 'SIREN', epci_nom: 'Intercommunalité', epci_type: 'Type', classe: 'Classe',
  code_insee: 'Code INSEE', nom: 'Commune', population: 'Population',
  site_id: 'Identifiant du site', site_nom: 'Nom du site', site_type: 'Type de site',
  site_vocadomi: 'Vocation dominante', site_etat: 'État du site',
  site_taux_vacance: 'Taux de vacance (%)', site_surf_brute: 'Surface brute (ha)',
  terr_id: 'Identifiant du terrain', terr_etat_occup: "État d'occupation",
  terr_stade_comm: 'Commercialisation', terr_surf_brute: 'Surface (ha)',
  terr_stade_amngt: 'Aménagement',
  SIRET: 'SIRET', etab_nom: 'Établissement', etab_activite_libelle: 'Activité',
  etab_effectif_libelle: 'Effectif',
  local_id: 'Identifiant du local', comm_nom: 'Commune', local_etat: 'État du local',
  local_activite_libelle: 'Activité',
  tl_id: 'Identifiant', tl_nom: 'Nom', tl_type: 'Type de lieu', tl_services: 'Services',
};

const ETATS = [
  ['occupé', '#495057', 'Occupé'], ['vacant', '#e03131', 'Vacant'],
  ['inoccupé', '#f08c00', 'Inoccupé (jamais occupé)'], ['friche', '#9c36b5', 'Friche'],
  ['occupation transitoire', '#1c7ed6', 'Occupation transitoire'],
];

// Layers: id (= tile layer), MapLibre layers, legend.
const COUCHES = [
  { id: 'epci', titre: 'Intercommunalités', visible: true,
    calques: [
      { type: 'fill', paint: { 'fill-color': ['match', ['get', 'classe'], 'rural', '#a9d18e', '#b4a7d6'], 'fill-opacity': 0.35 } },
      { type: 'line', paint: { 'line-color': '#5c5f66', 'line-width': 1.2 } },
    ],
    legende: [['#a9d18e', 'Rurale'], ['#b4a7d6', 'Urbaine']] },
  { id: 'communes', titre: 'Communes', visible: true,
    calques: [{ type: 'line', minzoom: 9, paint: { 'line-color': '#868e96', 'line-width': 0.5 } }],
    legende: [] },
  { id: 'sites', titre: "Zones d'activités (taux de vacance)", visible: true,
    calques: [
      { type: 'fill', paint: { 'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'site_taux_vacance'], 0], 0, '#2f9e44', 10, '#f59f00', 25, '#c92a2a'], 'fill-opacity': 0.55 } },
      { type: 'line', paint: { 'line-color': '#343a40', 'line-width': 0.8 } },
    ],
    legende: [['#2f9e44', 'Vacance 0 %'], ['#f59f00', '10 %'], ['#c92a2a', '25 % et plus']] },
  { id: 'terrains', titre: 'Terrains (unités foncières)', visible: true,
    calques: [
      { type: 'fill', paint: { 'fill-color': ['match', ['get', 'terr_etat_occup'], ...ETATS.flatMap(([v, c]) => [v, c]), '#adb5bd'], 'fill-opacity': 0.75 } },
      { type: 'line', paint: { 'line-color': '#212529', 'line-width': 0.4 } },
    ],
    legende: ETATS.map(([, c, l]) => [c, l]) },
  { id: 'etablissements', titre: 'Établissements', visible: true,
    calques: [{ type: 'circle', paint: { 'circle-radius': 3, 'circle-color': '#212529', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
    legende: [['#212529', 'Établissement']] },
  { id: 'locaux-commerciaux', titre: 'Commerces de centre-bourg', visible: true,
    calques: [{ type: 'circle', paint: { 'circle-radius': 4, 'circle-color': ['match', ['get', 'local_etat'], 'vacant', '#e03131', '#1971c2'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
    legende: [['#1971c2', 'Local occupé'], ['#e03131', 'Local vacant']] },
  { id: 'tiers-lieux', titre: 'Tiers-lieux et France services', visible: true,
    calques: [{ type: 'circle', paint: { 'circle-radius': 6, 'circle-color': ['match', ['get', 'tl_type'], 'France services', '#0b7285', '#e8590c'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } }],
    legende: [['#e8590c', 'Tiers-lieu'], ['#0b7285', 'France services']] },
];

function style() {
  const sources = {};
  const layers = [{ id: 'fond', type: 'background', paint: { 'background-color': '#eef1f4' } }];
  const fond = new URLSearchParams(window.location.search).get('fond');
  if (fond) {
    sources.fond = { type: 'raster', tiles: [fond], tileSize: 256, attribution: 'Fond de carte configuré' };
    layers.push({ id: 'fond-raster', type: 'raster', source: 'fond' });
  }
  for (const c of COUCHES) {
    sources[c.id] = { type: 'vector', url: `${ORIGIN}/tiles/${c.id}` };
    c.calques.forEach((k, i) => {
      layers.push({ id: `${c.id}-${i}`, source: c.id, 'source-layer': c.id, ...k,
        layout: { visibility: c.visible ? 'visible' : 'none' } });
    });
  }
  return { version: 8, sources, layers };
}

const map = new maplibregl.Map({
  container: 'carte', style: style(), center: [2.75, 49.95], zoom: 7.3,
  attributionControl: { compact: false },
});
map.addControl(new maplibregl.NavigationControl(), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');

function couche(id) { return COUCHES.find((c) => c.id === id); }
function calques(id) { return couche(id).calques.map((_, i) => `${id}-${i}`); }

// Layer list with toggles and legend.
const liste = document.getElementById('liste-couches');
for (const c of COUCHES) {
  const li = document.createElement('li');
  const id = `bascule-${c.id}`;
  li.innerHTML = `<input type="checkbox" id="${id}" ${c.visible ? 'checked' : ''}> <label for="${id}">${c.titre}</label>`;
  if (c.legende.length) {
    const ul = document.createElement('ul');
    for (const [couleur, texte] of c.legende) {
      const e = document.createElement('li');
      e.innerHTML = `<span class="pastille" style="background:${couleur}" aria-hidden="true"></span>${texte}`;
      ul.appendChild(e);
    }
    li.appendChild(ul);
  }
  li.querySelector('input').addEventListener('change', (ev) => {
    for (const l of calques(c.id)) map.setLayoutProperty(l, 'visibility', ev.target.checked ? 'visible' : 'none');
  });
  liste.appendChild(li);
}

// Tabs (arrow keys move between them).
const onglets = [...document.querySelectorAll('[role=tab]')];
function choisir(t) {
  for (const o of onglets) {
    const actif = o === t;
    o.setAttribute('aria-selected', String(actif));
    o.tabIndex = actif ? 0 : -1;
    document.getElementById(o.getAttribute('aria-controls')).hidden = !actif;
  }
  t.focus();
}
onglets.forEach((t, i) => {
  t.addEventListener('click', () => choisir(t));
  t.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      choisir(onglets[(i + (e.key === 'ArrowRight' ? 1 : onglets.length - 1)) % onglets.length]);
    }
  });
});

// Popups.
function echapper(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}
function tableau(props) {
  const lignes = Object.entries(props)
    .filter(([k]) => k in LIBELLES)
    .map(([k, v]) => `<tr><th scope="row">${LIBELLES[k]}</th><td>${echapper(v)}</td></tr>`);
  return `<table>${lignes.join('')}</table>`;
}
const interactifs = ['tiers-lieux-0', 'locaux-commerciaux-0', 'etablissements-0', 'terrains-0', 'sites-0', 'epci-0'];
map.on('click', (e) => {
  const f = map.queryRenderedFeatures(e.point, { layers: interactifs.filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none') })[0];
  if (!f) return;
  new maplibregl.Popup({ maxWidth: '22rem' }).setLngLat(e.lngLat)
    .setHTML(`<strong>${echapper(couche(f.source).titre)}</strong>${tableau(f.properties)}`).addTo(map);
});
for (const l of interactifs) {
  map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
}

// Vacant-plot search.
fetch(`${ORIGIN}/api/v1/indicators`).then((r) => r.json()).then((d) => {
  const select = document.getElementById('r-epci');
  const rows = Array.isArray(d) ? d : [];
  rows.sort((a, b) => String(a.epci_nom).localeCompare(String(b.epci_nom), 'fr'));
  for (const r of rows) {
    if (!r.epci_siren) continue;
    const o = document.createElement('option');
    o.value = r.epci_siren;
    o.textContent = r.epci_nom;
    select.appendChild(o);
  }
}).catch(() => {});

function emprise(geometry) {
  const b = new maplibregl.LngLatBounds();
  const ajouter = (c) => (typeof c[0] === 'number' ? b.extend(c) : c.forEach(ajouter));
  ajouter(geometry.coordinates);
  return b;
}

document.getElementById('form-recherche').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(ev.target)) if (v !== '') q.set(k, v);
  q.set('limit', '50');
  const etat = document.getElementById('r-etat');
  const liste = document.getElementById('r-resultats');
  liste.innerHTML = '';
  etat.textContent = 'Recherche…';
  const r = await fetch(`${ORIGIN}/api/v1/terrains/search?${q}`);
  const d = await r.json();
  if (!r.ok) {
    etat.textContent = `Erreur : ${d.detail || r.status}`;
    return;
  }
  etat.textContent = `${d.numberMatched} terrain(s) trouvé(s)${d.numberMatched > d.numberReturned ? `, ${d.numberReturned} affichés` : ''}.`;
  for (const f of d.features) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${f.properties.terr_id} — ${f.properties.terr_surf_brute} ha, ${f.properties.terr_stade_comm}`;
    b.addEventListener('click', () => {
      const e = emprise(f.geometry);
      map.fitBounds(e, { padding: 60, maxZoom: 16, duration: 0 });
      new maplibregl.Popup({ maxWidth: '22rem' }).setLngLat(e.getCenter())
        .setHTML(`<strong>Terrain</strong>${tableau(f.properties)}`).addTo(map);
    });
    li.appendChild(b);
    liste.appendChild(li);
  }
});

// For the browser tests and the console: the map, and when it first drew (ms since the
// page started loading).
window.ecofoncier = { map, couches: COUCHES.map((c) => c.id), calques, temps: {} };
map.once('load', () => { window.ecofoncier.temps.chargement = performance.now(); });
map.once('idle', () => { window.ecofoncier.temps.premier_idle = performance.now(); });

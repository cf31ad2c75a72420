// ecofoncier web map: the service's own vector tiles drawn with MapLibre GL JS, no
// external tiles or fonts. An optional raster base map: `?fond=https://…/{z}/{x}/{y}.png`.
import * as maplibregl from '/web/vendor/maplibre-gl.mjs';
import { ETATS, afficherFiche } from './fiche.js';
import { choixEpci } from './choix.js';
import { ORIGIN, api, echapper, graphiques } from './outils.js';
import { outilsProjet } from './projet.js';
import { ajouterReunion, ouvrirReunion } from './reunion.js';

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
  nombre: 'Lieux regroupés (zoomez pour les voir un à un)',
};

// The bounds of what is loaded (CRS84, written into the page by the server) and the tiles'
// attribution, as in each layer's TileJSON.
const REGION = document.getElementById('carte').dataset.emprise.split(',').map(Number);
const ATTRIBUTION = 'IGN ADMIN EXPRESS, INSEE ; couches économiques synthétiques (ecofoncier)';

// Zones coloured by vacancy rate (%).
const VACANCE = ['interpolate', ['linear'], ['coalesce', ['get', 'site_taux_vacance'], 0], 0, '#2f9e44', 10, '#f59f00', 25, '#c92a2a'];

// Layers: id (= tile layer), zoom from which the service has tiles, MapLibre layers, legend.
const COUCHES = [
  { id: 'epci', zmin: 0, titre: 'Intercommunalités', visible: true,
    calques: [
      { type: 'fill', paint: { 'fill-color': ['match', ['get', 'classe'], 'rural', '#a9d18e', '#b4a7d6'], 'fill-opacity': 0.35 } },
      { type: 'line', paint: { 'line-color': '#5c5f66', 'line-width': 1.2 } },
    ],
    legende: [['#a9d18e', 'Rurale'], ['#b4a7d6', 'Urbaine']] },
  { id: 'communes', zmin: 6, titre: 'Communes', visible: true,
    calques: [{ type: 'line', minzoom: 9, paint: { 'line-color': '#868e96', 'line-width': 0.5 } }],
    legende: [] },
  { id: 'sites', zmin: 7, titre: "Zones d'activités (taux de vacance)", visible: true,
    // Below zoom 10 the tiles carry each zone as a point: a disc sized by its area.
    calques: [
      { type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': VACANCE, 'fill-opacity': 0.55 } },
      { type: 'line', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'line-color': '#343a40', 'line-width': 0.8 } },
      { type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: {
        'circle-radius': ['interpolate', ['linear'], ['sqrt', ['coalesce', ['get', 'site_surf_brute'], 1]], 1, 2.5, 10, 7, 30, 15],
        'circle-color': VACANCE, 'circle-opacity': 0.9, 'circle-stroke-color': '#343a40', 'circle-stroke-width': 0.6 } },
    ],
    legende: [['#2f9e44', 'Vacance 0 %'], ['#f59f00', '10 %'], ['#c92a2a', '25 % et plus'], ['#ced4da', 'Disque : surface de la zone (zooms 7 à 9)']] },
  { id: 'terrains', zmin: 11, titre: 'Terrains (unités foncières)', visible: true,
    calques: [
      { type: 'fill', paint: { 'fill-color': ['match', ['get', 'terr_etat_occup'], ...ETATS.flatMap(([v, c]) => [v, c]), '#adb5bd'], 'fill-opacity': 0.75 } },
      { type: 'line', paint: { 'line-color': '#212529', 'line-width': 0.4 } },
    ],
    legende: ETATS.map(([, c, l]) => [c, l]) },
  { id: 'etablissements', zmin: 11, titre: 'Établissements', visible: true,
    calques: [{ type: 'circle', paint: { 'circle-radius': 3, 'circle-color': '#212529', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
    legende: [['#212529', 'Établissement']] },
  { id: 'locaux-commerciaux', zmin: 10, titre: 'Commerces de centre-bourg', visible: true,
    calques: [{ type: 'circle', paint: { 'circle-radius': 4, 'circle-color': ['match', ['get', 'local_etat'], 'vacant', '#e03131', '#1971c2'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
    legende: [['#1971c2', 'Local occupé'], ['#e03131', 'Local vacant']] },
  { id: 'tiers-lieux', zmin: 6, titre: 'Tiers-lieux et France services', visible: true,
    // Below zoom 10 the tiles group nearby places (`nombre`): small, quiet discs.
    calques: [{ type: 'circle', paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'],
        6, ['+', 1.5, ['sqrt', ['coalesce', ['get', 'nombre'], 1]]],
        10, ['+', 5, ['sqrt', ['coalesce', ['get', 'nombre'], 1]]]],
      'circle-color': ['match', ['get', 'tl_type'], 'France services', '#0b7285', 'tiers-lieu', '#e8590c', '#868e96'],
      'circle-opacity': ['interpolate', ['linear'], ['zoom'], 6, 0.55, 10, 1],
      'circle-stroke-color': '#fff', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 6, 0.5, 10, 1.5] } }],
    legende: [['#e8590c', 'Tiers-lieu'], ['#0b7285', 'France services'], ['#868e96', 'Lieux regroupés (petits zooms)']] },
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
    // The tile URL inline rather than through TileJSON (`/tiles/{layer}`): the first
    // tiles are requested in the first frame, without waiting for another round trip.
    sources[c.id] = { type: 'vector', tiles: [`${ORIGIN}/tiles/${c.id}/{z}/{x}/{y}`],
      minzoom: c.zmin, maxzoom: 22, bounds: REGION, attribution: ATTRIBUTION };
    c.calques.forEach((k, i) => {
      layers.push({ id: `${c.id}-${i}`, source: c.id, 'source-layer': c.id, ...k,
        layout: { visibility: c.visible ? 'visible' : 'none' } });
    });
  }
  return { version: 8, sources, layers };
}

// MapLibre's own labels, in French.
const LOCALE = {
  'AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources',
  'Map.Title': 'Carte', 'Popup.Close': 'Fermer',
  'NavigationControl.ResetBearing': 'Faire glisser pour tourner la carte, cliquer pour revenir au nord',
  'NavigationControl.ZoomIn': 'Zoom avant', 'NavigationControl.ZoomOut': 'Zoom arrière',
};

// The first view: the region, as the page's overview (`#apercu`) shows it until the map has
// drawn it.
const carte = document.getElementById('carte');
let map;
try {
  map = new maplibregl.Map({
    container: 'carte', style: style(), center: carte.dataset.centre.split(',').map(Number),
    zoom: Number(carte.dataset.zoom), attributionControl: { compact: false }, fadeDuration: 0,
    locale: LOCALE,
  });
} catch (e) {
  carte.insertAdjacentHTML('beforeend', '<p class="sans-webgl" role="alert">Ce navigateur ne peut pas afficher la carte interactive (WebGL indisponible) : seul l\'aperçu des intercommunalités est montré.</p>');
  throw e;
}
map.addControl(new maplibregl.NavigationControl(), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');

function couche(id) { return COUCHES.find((c) => c.id === id); }
function calques(id) { return couche(id).calques.map((_, i) => `${id}-${i}`); }

// Layer list with toggles and legend.
const listeCouches = document.getElementById('liste-couches');
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
  listeCouches.appendChild(li);
}

// Tabs (arrow keys, Home and End move between them).
const onglets = [...document.querySelectorAll('[role=tab]')];
function choisir(t, focus = true) {
  for (const o of onglets) {
    const actif = o === t;
    o.setAttribute('aria-selected', String(actif));
    o.tabIndex = actif ? 0 : -1;
    document.getElementById(o.getAttribute('aria-controls')).hidden = !actif;
  }
  if (focus) t.focus();
}
onglets.forEach((t, i) => {
  t.addEventListener('click', () => choisir(t));
  t.addEventListener('keydown', (e) => {
    const n = onglets.length;
    const j = { ArrowRight: i + 1, ArrowLeft: i + n - 1, Home: 0, End: n - 1 }[e.key];
    if (j !== undefined) { e.preventDefault(); choisir(onglets[j % n]); }
  });
});
const onglet = (id) => choisir(document.getElementById(id), false);

// Views: the map, or the meeting.
function vue(nom) {
  const reunion = nom === 'reunion';
  document.getElementById('vue-carte').hidden = reunion;
  document.getElementById('vue-reunion').hidden = !reunion;
  document.getElementById('nav-carte').setAttribute('aria-current', reunion ? 'false' : 'page');
  document.getElementById('nav-reunion').setAttribute('aria-current', reunion ? 'page' : 'false');
  if (!reunion) {
    map.resize();
    if (location.hash.startsWith('#reunion')) history.replaceState(null, '', location.pathname + location.search);
  }
}
document.getElementById('nav-carte').addEventListener('click', () => vue('carte'));
document.getElementById('nav-reunion').addEventListener('click', () => { vue('reunion'); ouvrirReunion(); });

// Map actions shared by the sheet, the search and the planning tools.
function emprise(geometry) {
  const b = new maplibregl.LngLatBounds();
  const ajouter = (c) => (typeof c[0] === 'number' ? b.extend(c) : c.forEach(ajouter));
  ajouter(geometry.coordinates);
  return b;
}
async function centrerEpci(siren) {
  vue('carte');
  const f = await api(`/ogc/collections/epci/items/${encodeURIComponent(siren)}`);
  map.fitBounds(emprise(f.geometry), { padding: 30, duration: 0 });
}
// One popup at a time.
let popupOuvert;
function ouvrirPopup(lngLat, html) {
  popupOuvert?.remove();
  popupOuvert = new maplibregl.Popup({ maxWidth: '22rem' }).setLngLat(lngLat).setHTML(html).addTo(map);
  return popupOuvert;
}
function popupTerrain(f) {
  const e = emprise(f.geometry);
  map.fitBounds(e, { padding: 60, maxZoom: 16, duration: 0 });
  ouvrirPopup(e.getCenter(), `<strong>Terrain</strong>${tableau(f.properties)}`);
}
async function zoomTerrain(id) {
  popupTerrain(await api(`/ogc/collections/terrains/items/${encodeURIComponent(id)}`));
}
const actionsFiche = {
  centrer: centrerEpci,
  reunion: (siren) => { ajouterReunion(siren); vue('reunion'); ouvrirReunion(); },
};
async function ouvrirFiche(siren) {
  vue('carte');
  onglet('onglet-fiche');
  await afficherFiche(siren, actionsFiche);
}
// The EPCI pickers of the sheet and of the plot search.
const choixFiche = choixEpci(document.getElementById('f-epci'), (r) => afficherFiche(r.epci_siren, actionsFiche));
actionsFiche.choisie = (siren, nom) => choixFiche.fixer(siren, nom);
choixEpci(document.getElementById('r-epci'), () => {});

const projet = outilsProjet(map, { zoomTerrain });

// Popups, with the sheet of an EPCI and the jobs scenario of a site.
function tableau(props) {
  const lignes = Object.entries(props)
    .filter(([k]) => k in LIBELLES)
    .map(([k, v]) => `<tr><th scope="row">${LIBELLES[k]}</th><td>${echapper(v)}</td></tr>`);
  return `<table>${lignes.join('')}</table>`;
}
const interactifs = ['tiers-lieux-0', 'locaux-commerciaux-0', 'etablissements-0', 'terrains-0', 'sites-2', 'sites-0', 'epci-0'];
map.on('click', (e) => {
  if (projet.clic(e)) return;
  const f = map.queryRenderedFeatures(e.point, { layers: interactifs.filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none') })[0];
  if (!f) return;
  let bouton = '';
  if (f.source === 'epci') bouton = '<button type="button" class="popup-action">Ouvrir la fiche</button>';
  if (f.source === 'sites') bouton = "<button type=\"button\" class=\"popup-action\">Scénario d'emplois</button>";
  const popup = ouvrirPopup(e.lngLat, `<strong>${echapper(couche(f.source).titre)}</strong>${tableau(f.properties)}${bouton}`);
  popup.getElement().querySelector('.popup-action')?.addEventListener('click', () => {
    popup.remove();
    if (f.source === 'epci') ouvrirFiche(f.properties.epci_siren);
    if (f.source === 'sites') { onglet('onglet-projet'); projet.choisirSite(f.properties.site_id); }
  });
});
for (const l of interactifs) {
  map.on('mouseenter', l, () => { if (map.getCanvas().style.cursor !== 'crosshair') map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', l, () => { if (map.getCanvas().style.cursor !== 'crosshair') map.getCanvas().style.cursor = ''; });
}

// Vacant-plot search.
document.getElementById('form-recherche').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(ev.target)) if (v !== '') q.set(k, v);
  q.set('limit', '50');
  const etat = document.getElementById('r-etat');
  const epci = document.getElementById('r-epci');
  if (epci.value.trim() && !epci.dataset.siren) {
    etat.textContent = "Choisissez l'intercommunalité dans la liste, ou videz le champ pour chercher partout.";
    epci.focus();
    return;
  }
  if (epci.dataset.siren) q.set('epci', epci.dataset.siren);
  const resultats = document.getElementById('r-resultats');
  resultats.innerHTML = '';
  etat.textContent = 'Recherche…';
  let d;
  try {
    d = await api(`/api/v1/terrains/search?${q}`);
  } catch (e) {
    etat.textContent = `Erreur : ${e.message}`;
    return;
  }
  etat.textContent = `${d.numberMatched} terrain(s) trouvé(s)${d.numberMatched > d.numberReturned ? `, ${d.numberReturned} affichés` : ''}.`;
  for (const f of d.features) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${f.properties.terr_id} — ${f.properties.terr_surf_brute} ha, ${f.properties.terr_stade_comm}`;
    b.addEventListener('click', () => popupTerrain(f));
    li.appendChild(b);
    resultats.appendChild(li);
  }
});

// The address opens a view: `#reunion=SIREN,…` or `#fiche=SIREN`.
function adresse() {
  const h = decodeURIComponent(location.hash);
  if (h.startsWith('#reunion')) {
    vue('reunion');
    ouvrirReunion(h.startsWith('#reunion=') ? h.slice('#reunion='.length).split(',') : undefined);
  } else if (h.startsWith('#fiche=')) {
    ouvrirFiche(h.slice('#fiche='.length));
  }
}
window.addEventListener('hashchange', adresse);
adresse();

// For the browser tests and the console: the map, and when it first drew (ms since the
// page started loading).
window.ecofoncier = { map, couches: COUCHES.map((c) => c.id), calques, graphiques, temps: {} };
map.once('load', () => { window.ecofoncier.temps.chargement = performance.now(); });
// Moved before the region is drawn: the overview would no longer match.
map.once('movestart', () => document.getElementById('apercu')?.remove());
// First meaningful paint: the first frame that shows the whole region (every EPCI tile in
// view drawn).
map.on('render', function region() {
  if (!map.isSourceLoaded('epci')) return;
  window.ecofoncier.temps.region = performance.now();
  window.ecofoncier.temps.apercu = window.apercuPeint;
  document.getElementById('apercu')?.remove();
  map.off('render', region);
});
map.once('idle', () => { window.ecofoncier.temps.premier_idle = performance.now(); });

// Planning tools on the map: draw a proposed zone and get the sobriety check
// (`POST /api/v1/proposals/check`), and the jobs slider on an existing site
// (`POST /api/v1/scenarios/commute`).
import { api, echapper, liste, nombre } from './outils.js';

const VIDE = { type: 'FeatureCollection', features: [] };

export function outilsProjet(map, { zoomTerrain }) {
  const $ = (id) => document.getElementById(id);
  const sommets = [];
  let dessin = false;

  function trace() {
    const features = sommets.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    if (sommets.length >= 2) {
      const anneau = sommets.length >= 3 ? [...sommets, sommets[0]] : sommets;
      features.push({ type: 'Feature', properties: {},
        geometry: sommets.length >= 3 ? { type: 'Polygon', coordinates: [anneau] } : { type: 'LineString', coordinates: anneau } });
    }
    map.getSource('projet')?.setData({ type: 'FeatureCollection', features });
    $('p-terminer').disabled = sommets.length < 3;
    $('p-effacer').disabled = sommets.length === 0;
  }

  function ajouter(lngLat) {
    sommets.push([lngLat.lng, lngLat.lat]);
    $('p-etat').textContent = `${sommets.length} sommet(s) placé(s)${sommets.length < 3 ? ' ; il en faut au moins 3' : ''}.`;
    trace();
  }

  function arreterDessin() {
    dessin = false;
    map.getCanvas().style.cursor = '';
    map.doubleClickZoom.enable();
    $('p-dessiner').setAttribute('aria-pressed', 'false');
    $('p-centre').disabled = true;
  }

  map.on('load', () => {
    map.addSource('projet', { type: 'geojson', data: VIDE });
    map.addLayer({ id: 'projet-surface', type: 'fill', source: 'projet', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#1c7ed6', 'fill-opacity': 0.25 } });
    map.addLayer({ id: 'projet-contour', type: 'line', source: 'projet', filter: ['!=', ['geometry-type'], 'Point'], paint: { 'line-color': '#0b5c8a', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
    map.addLayer({ id: 'projet-sommets', type: 'circle', source: 'projet', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': '#fff', 'circle-stroke-color': '#0b5c8a', 'circle-stroke-width': 2 } });
  });

  $('p-dessiner').setAttribute('aria-pressed', 'false');
  $('p-dessiner').addEventListener('click', () => {
    sommets.length = 0;
    trace();
    $('p-resultat').innerHTML = '';
    dessin = true;
    map.getCanvas().style.cursor = 'crosshair';
    map.doubleClickZoom.disable();
    $('p-dessiner').setAttribute('aria-pressed', 'true');
    $('p-centre').disabled = false;
    $('p-etat').textContent = 'Cliquez sur la carte pour placer les sommets de la zone.';
  });
  $('p-centre').addEventListener('click', () => ajouter(map.getCenter()));
  $('p-effacer').addEventListener('click', () => {
    sommets.length = 0;
    arreterDessin();
    trace();
    $('p-resultat').innerHTML = '';
    $('p-etat').textContent = 'Zone effacée.';
  });
  $('p-terminer').addEventListener('click', () => verifier());

  /// True when the click was taken by the drawing (the map then opens no popup).
  function clic(e) {
    if (!dessin) return false;
    ajouter(e.lngLat);
    return true;
  }
  document.addEventListener('keydown', (e) => {
    if (dessin && e.key === 'Escape') { arreterDessin(); $('p-etat').textContent = 'Dessin interrompu.'; }
  });

  async function verifier() {
    if (sommets.length < 3) return;
    arreterDessin();
    const emplois = $('p-emplois').value;
    const vocation = $('p-vocation').value;
    const properties = {};
    if (emplois !== '') properties.emplois = Number(emplois);
    if (vocation !== '') properties.vocation = vocation;
    const corps = { type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...sommets, sommets[0]]] }, properties };
    $('p-etat').textContent = 'Vérification…';
    let d;
    try {
      d = await api('/api/v1/proposals/check', corps);
    } catch (e) {
      $('p-etat').textContent = `Zone refusée : ${e.message}`;
      return;
    }
    $('p-etat').textContent = 'Zone vérifiée.';
    const epci = d.epci || [];
    $('p-resultat').innerHTML = `
      <h3>Bilan de sobriété</h3>
      <ul class="constats">${(d.constats || []).map((c) => `<li>${echapper(c)}</li>`).join('')}</ul>
      ${liste([
    ['Surface proposée', nombre(d.surface_ha, 'ha')],
    ['Sur des sites existants', nombre(d.surface_chevauchee_ha, 'ha')],
    [`Terrains disponibles à moins de ${nombre(d.rayon_km, 'km')}`, `${nombre(d.terrains_disponibles)} (${nombre(d.surface_disponible_ha, 'ha')})`],
    ...epci.map((e) => [`Enveloppe ZAN restante de ${e.epci_nom}`, `${nombre(e.reste_zan_ha, 'ha')} ; la zone en prendrait ${nombre(e.part_reste_zan_pct, '%')}`]),
    ...(d.navettes ? [['Distance domicile-travail évitée', `${nombre(d.navettes.km_jour_economises, 'km')} par jour`]] : []),
  ])}
      <h3>Terrains disponibles les plus proches</h3>
      <ol class="proches">${(d.terrains_proches || []).slice(0, 5).map((t) => `<li><button type="button" class="lien" data-id="${echapper(t.terr_id)}">${echapper(t.terr_id)}</button> : ${nombre(t.terr_surf_brute, 'ha')}, ${echapper(t.terr_etat_occup)}, à ${nombre(t.distance_km, 'km')}</li>`).join('')}</ol>`;
    for (const b of $('p-resultat').querySelectorAll('.proches button')) b.addEventListener('click', () => zoomTerrain(b.dataset.id));
  }

  // Jobs slider on a site.
  let minuterie;
  let demande = 0;
  async function scenario() {
    const site = $('s-site').value.trim();
    const emplois = Number($('s-emplois').value);
    $('s-valeur').textContent = emplois;
    if (!site) { $('s-etat').textContent = 'Choisissez un site.'; return; }
    const n = ++demande;
    let d;
    try {
      d = await api('/api/v1/scenarios/commute', { site_id: site, jobs: emplois });
    } catch (e) {
      if (n === demande) { $('s-etat').textContent = `Erreur : ${e.message}`; $('s-resultat').innerHTML = ''; }
      return;
    }
    if (n !== demande) return; // a newer position of the slider answered or will answer
    $('s-etat').textContent = `Scénario : ${emplois} emplois sur le site ${site}.`;
    $('s-resultat').innerHTML = `${liste([
      ['Emplois pris par des actifs proches', nombre(d.emplois_pourvus)],
      ['Distance évitée par jour', nombre(d.km_jour_economises, 'km')],
      ['Distance évitée par an', nombre(d.km_an_economises, 'km')],
      ['Émissions évitées', nombre(d.co2_t_an_evites, 't CO₂e/an')],
    ])}
      <p class="aide">${echapper(d.methode)}</p>`;
  }
  const plusTard = () => { clearTimeout(minuterie); minuterie = setTimeout(scenario, 120); };
  $('s-emplois').addEventListener('input', () => { $('s-valeur').textContent = $('s-emplois').value; plusTard(); });
  $('s-site').addEventListener('change', scenario);

  /// Opens the slider on `siteId`.
  function choisirSite(siteId) {
    $('s-site').value = siteId;
    scenario();
  }

  return { clic, choisirSite };
}

// The EPCI sheet: indicators, occupancy and vacancy, the ZAN budget, land take per year by
// destination, commuting, tiers-lieux coverage and centre-bourg premises
// (`/api/v1/indicators/epci/{siren}`).
import { api, echapper, graphique, liste, nombre } from './outils.js';

export const ETATS = [
  ['occupé', '#495057', 'Occupé'], ['vacant', '#e03131', 'Vacant'],
  ['inoccupé', '#f08c00', 'Inoccupé (jamais occupé)'], ['friche', '#9c36b5', 'Friche'],
  ['occupation transitoire', '#1c7ed6', 'Occupation transitoire'],
];

const DESTINATIONS = [
  ['activite_m2', 'Activité', '#c2410c'], ['habitat_m2', 'Habitat', '#0b5c8a'],
  ['mixte_m2', 'Mixte', '#7048e8'], ['route_m2', 'Routes', '#5c5f66'],
  ['ferroviaire_m2', 'Fer', '#2f7d32'], ['inconnu_m2', 'Inconnue', '#adb5bd'],
];

/// The occupancy bar: one segment per plot status, in hectares, with its legend.
function barreOccupation(o) {
  const parts = ETATS.map(([k, c, l]) => [l, c, o.par_etat_occup?.[k]?.ha ?? 0, o.par_etat_occup?.[k]?.nombre ?? 0])
    .filter(([, , ha]) => ha > 0);
  const total = parts.reduce((s, [, , ha]) => s + ha, 0) || 1;
  const texte = parts.map(([l, , ha, n]) => `${l} : ${nombre(ha, 'ha')} (${n})`).join(', ');
  return `<div class="barre" role="img" aria-label="Surface des terrains par état d'occupation : ${echapper(texte)}">${
    parts.map(([l, c, ha]) => `<span style="background:${c};width:${(100 * ha) / total}%" title="${echapper(l)}"></span>`).join('')}</div>
    <ul class="legende">${parts.map(([l, c, ha, n]) => `<li><span class="pastille" style="background:${c}" aria-hidden="true"></span>${echapper(l)} : ${nombre(ha, 'ha')} (${n})</li>`).join('')}</ul>`;
}

/// The ZAN gauge: share of the 2021–2030 allowance consumed, and the 2031 projection.
function jaugeZan(z) {
  if (!z) return '<p>Pas de données de consommation d\'espaces.</p>';
  const part = Math.min(z.part_consommee_pct, 150);
  const proj = Math.min(z.projection_pct, 150);
  return `<label for="f-zan">Enveloppe 2021-2030 consommée : ${nombre(z.part_consommee_pct, '%')}</label>
    <meter id="f-zan" min="0" max="100" low="50" high="90" optimum="0" value="${Math.min(part, 100)}">${nombre(z.part_consommee_pct, '%')}</meter>
    <div class="jauge" aria-hidden="true"><span class="jauge-conso" style="width:${(part / 150) * 100}%"></span>
      <span class="jauge-proj" style="left:${(proj / 150) * 100}%"></span><span class="jauge-100"></span></div>
    ${liste([
    ['Consommé depuis 2021', nombre(z.consomme_depuis_2021_ha, 'ha')],
    ['Enveloppe 2021-2030', nombre(z.enveloppe_ha, 'ha')],
    ['Reste', nombre(z.reste_ha, 'ha')],
    ['Rythme récent', nombre(z.rythme_recent_ha_an, 'ha/an')],
    ['Projection au 1er janvier 2031', `${nombre(z.projection_2031_ha, 'ha')} (${nombre(z.projection_pct, '%')} de l'enveloppe)`],
    ["Part de l'activité économique", nombre(z.part_activite_pct, '%')],
  ])}
    <p class="aide">Le trait vertical marque la projection 2031 ; le trait noir, 100 % de l'enveloppe.</p>`;
}

function tableauConso(annees) {
  return `<details><summary>Tableau des surfaces consommées (ha)</summary><div class="defile"><table>
    <thead><tr><th scope="col">Année</th>${DESTINATIONS.map(([, l]) => `<th scope="col">${l}</th>`).join('')}<th scope="col">Total</th></tr></thead>
    <tbody>${annees.map((a) => `<tr><th scope="row">${a.annee}</th>${DESTINATIONS.map(([k]) => `<td>${nombre(a[k] / 1e4)}</td>`).join('')}<td>${nombre(a.total_m2 / 1e4)}</td></tr>`).join('')}</tbody>
  </table></div></details>`;
}

/// Shows the sheet of `siren` in `#f-contenu`. `actions.centrer(siren)` and
/// `actions.reunion(siren)` are the sheet's buttons.
export async function afficherFiche(siren, actions) {
  const contenu = document.getElementById('f-contenu');
  const etat = document.getElementById('f-etat');
  if (!siren) { contenu.innerHTML = ''; etat.textContent = ''; return; }
  etat.textContent = 'Chargement de la fiche…';
  let d;
  try {
    d = await api(`/api/v1/indicators/epci/${encodeURIComponent(siren)}`);
  } catch (e) {
    etat.textContent = `Erreur : ${e.message}`;
    return;
  }
  actions.choisie?.(siren, d.epci_nom);
  const i = d.indicateurs || {};
  const o = d.occupation || {};
  const n = d.navettes || {};
  const c = d.couverture_tiers_lieux || {};
  const l = d.locaux_commerciaux || {};
  contenu.innerHTML = `
    <h2>${echapper(d.epci_nom)}</h2>
    <p><span class="classe classe-${echapper(i.classe)}">EPCI ${i.classe === 'rural' ? 'rural' : 'urbain'}</span>
      ${nombre(i.population)} habitants, ${nombre(i.densite_hab_km2, 'hab./km²')}</p>
    <p class="aide">Population et territoire : INSEE, IGN. Zones, navettes, consommation
      d'espaces, commerces et tiers-lieux : données synthétiques de démonstration.</p>
    <div class="boutons"><button type="button" id="f-centrer">Centrer la carte</button>
      <button type="button" id="f-reunion">Ajouter à la réunion</button>
      <a class="bouton" id="f-xlsx" href="/api/v1/indicators/epci/${encodeURIComponent(siren)}?format=xlsx" download>Exporter en XLSX</a></div>
    <h3>Zones d'activités</h3>
    ${liste([
    ['Sites économiques', nombre(i.sites)], ['Surface des ZAE', nombre(i.surface_zae_ha, 'ha')],
    ["Taux d'occupation", nombre(i.taux_occupation_pct, '%')],
    ['Unités foncières', `${nombre(o.uf_nbre)} dont ${nombre(o.uf_vacant_nbre)} vacantes`],
    ['Taux de vacance (légal)', nombre(i.taux_vacance_legal, '%')],
    ['Surface en vente', nombre(o.surf_en_vente_ha, 'ha')],
    ['Établissements en zone', nombre(i.etablissements_za)], ['Emplois en zone', nombre(i.emplois_za)],
  ])}
    <h3>Occupation des terrains</h3>${barreOccupation(o)}
    <h3>Sobriété foncière (ZAN)</h3>${jaugeZan(d.zan)}
    <h3>Consommation d'espaces par année et destination</h3>
    <figure><div class="graphe"><canvas id="f-conso" role="img" aria-label="Consommation d'espaces naturels, agricoles et forestiers par année et destination, en hectares"></canvas></div>
      <figcaption>Données synthétiques au format du Cerema (ha consommés du 1er janvier au 1er janvier suivant).</figcaption></figure>
    ${tableauConso(d.consommation_annuelle || [])}
    <h3>Navettes domicile-travail</h3>
    ${liste([
    ['Actifs résidents', nombre(n.actifs_residents)], ['Emplois', nombre(n.emplois)],
    ['Emplois pour 100 actifs', nombre(n.emplois_pour_100_actifs)],
    ['Distance médiane', nombre(n.distance_mediane_km, 'km')],
    ["Actifs travaillant hors de l'EPCI", nombre(n.part_travaillant_hors_territoire_pct, '%')],
    ['Distance parcourue par jour (aller-retour)', nombre(n.km_jour_aller_retour, 'km')],
  ])}
    <h3>Tiers-lieux et France services</h3>
    ${liste([
    ['Tiers-lieux', nombre(i.tiers_lieux)], ['France services', nombre(i.france_services)],
    ['Population couverte', `${nombre(c.population_couverte)} (${nombre(c.taux_couverture_pct, '%')})`],
    ['Communes couvertes', `${nombre(c.communes_couvertes)} sur ${nombre(c.communes)}`],
  ])}
    <h3>Commerces de centre-bourg</h3>
    ${liste([
    ['Locaux commerciaux', nombre(l.locaux)], ['Locaux vacants', `${nombre(l.vacants)} (${nombre(l.taux_vacance_pct, '%')})`],
    ['Commerces installés', nombre(l.commerces_installes)], ['Installations depuis 5 ans', nombre(l.installations_5_ans)],
  ])}
    <h3>Territoires comparables</h3>
    <ul class="similaires">${(d.territoires_similaires || []).map((t) => `<li><button type="button" class="lien" data-siren="${echapper(t.epci_siren)}">${echapper(t.epci_nom)}</button> (${nombre(t.population)} hab., ${echapper(t.region_nom || '')}, à ${nombre(t.distance_km, 'km')})</li>`).join('')}</ul>`;
  etat.textContent = `Fiche de ${d.epci_nom} affichée.`;
  document.getElementById('f-centrer').addEventListener('click', () => actions.centrer(siren));
  document.getElementById('f-reunion').addEventListener('click', () => actions.reunion(siren));
  for (const b of contenu.querySelectorAll('.similaires button')) {
    b.addEventListener('click', () => afficherFiche(b.dataset.siren, actions));
  }
  const annees = d.consommation_annuelle || [];
  await graphique('f-conso', {
    type: 'bar',
    data: {
      labels: annees.map((a) => a.annee),
      datasets: DESTINATIONS.map(([k, label, color]) => ({ label, backgroundColor: color, data: annees.map((a) => a[k] / 1e4) })),
    },
    options: {
      responsive: true, maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'ha' } } },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
}

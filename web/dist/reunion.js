// The meeting view: EPCIs from anywhere side by side (`/api/v1/compare`), with the medians
// of the rural and urban EPCIs of their regions or of the whole country, charts, XLSX and
// CSV exports and a PDF of the same content (the print layout). The choice is kept in the
// address (`#reunion=SIREN,SIREN,…`) so that a meeting can share it.
import { choixEpci } from './choix.js';
import { COULEURS, api, echapper, graphique, nombre } from './outils.js';

// Rows of the table: field, label, unit.
const LIGNES = [
  ['population', 'Population', 'hab.'],
  ['densite_hab_km2', 'Densité', 'hab./km²'],
  ['sites', 'Sites économiques', ''],
  ['surface_zae_ha', 'Surface des ZAE', 'ha'],
  ['taux_occupation_pct', "Taux d'occupation des ZAE", '%'],
  ['taux_vacance_legal', 'Taux de vacance (légal)', '%'],
  ['surface_en_vente_ha', 'Surface en vente', 'ha'],
  ['emplois_za', 'Emplois en zone', ''],
  ['zan_enveloppe_ha', 'Enveloppe ZAN 2021-2030', 'ha'],
  ['zan_consomme_ha', 'Consommé depuis 2021', 'ha'],
  ['zan_part_consommee_pct', 'Part de l\'enveloppe consommée', '%'],
  ['zan_projection_pct', 'Projection 2031 (part de l\'enveloppe)', '%'],
  ['zan_part_activite_pct', "Part de l'activité dans la consommation", '%'],
  ['emplois_pour_100_actifs', 'Emplois pour 100 actifs', ''],
  ['distance_mediane_km', 'Distance domicile-travail médiane', 'km'],
  ['part_travaillant_hors_epci_pct', "Actifs travaillant hors de l'EPCI", '%'],
  ['couverture_tiers_lieux_pct', 'Population à portée d\'un tiers-lieu', '%'],
  ['taux_vacance_locaux_pct', 'Vacance des commerces de centre-bourg', '%'],
];

// Charts: id, title, [field, label] pairs.
const GRAPHIQUES = [
  ['m-g-occupation', 'Occupation et vacance des ZAE (%)', [['taux_occupation_pct', "Taux d'occupation"], ['taux_vacance_legal', 'Taux de vacance légal']]],
  ['m-g-zan', 'Enveloppe ZAN 2021-2030 (%)', [['zan_part_consommee_pct', 'Consommée'], ['zan_projection_pct', 'Projection 2031']]],
  ['m-g-navettes', 'Emplois et navettes', [['emplois_pour_100_actifs', 'Emplois pour 100 actifs'], ['distance_mediane_km', 'Distance médiane (km)']]],
  ['m-g-services', 'Services de proximité (%)', [['couverture_tiers_lieux_pct', 'Couverture tiers-lieux'], ['taux_vacance_locaux_pct', 'Vacance des commerces']]],
];

const choisis = [];
// Names of the EPCIs chosen, by SIREN (from the picker, then from the comparison).
const noms = new Map();
let pret = false;

/// Sets up the picker, the scope and the export buttons, once.
function construire() {
  if (pret) return;
  pret = true;
  choixEpci(document.getElementById('m-ajout'), (r) => {
    noms.set(r.epci_siren, r.epci_nom);
    ajouterReunion(r.epci_siren);
    actualiser();
  }, { vider: true });
  document.getElementById('m-choisis').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-siren]');
    if (!b) return;
    choisis.splice(choisis.indexOf(b.dataset.siren), 1);
    actualiser();
    document.getElementById('m-ajout').focus();
  });
  document.getElementById('m-portee').addEventListener('change', actualiser);
  // The PDF: the browser's print of the print layout, under a file name that says what it is.
  document.getElementById('m-imprimer').addEventListener('click', () => {
    const titre = document.title;
    document.title = `comparaison-epci-${new Date().toISOString().slice(0, 10)}`;
    window.print();
    document.title = titre;
  });
}

/// The chosen EPCIs, each with a button that removes it.
function montrerChoisis() {
  document.getElementById('m-choisis').innerHTML = choisis.map((s) => {
    const nom = echapper(noms.get(s) ?? s);
    return `<li><span>${nom}</span> <button type="button" class="retirer" data-siren="${echapper(s)}" aria-label="Retirer ${nom}">×</button></li>`;
  }).join('');
}

function cellule(v, unite, champ) {
  if (champ === 'population') return nombre(v);
  return nombre(v, unite);
}

/// Redraws the table and the charts for the EPCIs chosen.
async function actualiser() {
  montrerChoisis();
  history.replaceState(null, '', choisis.length ? `#reunion=${choisis.join(',')}` : '#reunion');
  const etat = document.getElementById('m-etat');
  const table = document.getElementById('m-tableau');
  const actions = document.getElementById('m-actions');
  const zone = document.getElementById('m-graphiques');
  if (!choisis.length) {
    etat.textContent = 'Ajoutez au moins une intercommunalité.';
    table.hidden = true;
    actions.hidden = true;
    zone.innerHTML = '';
    return;
  }
  etat.textContent = 'Chargement…';
  const requete = `epci=${choisis.join(',')}&scope=${document.getElementById('m-portee').value}`;
  let d;
  try {
    d = await api(`/api/v1/compare?${requete}`);
  } catch (e) {
    etat.textContent = `Erreur : ${e.message}`;
    return;
  }
  const colonnes = [
    ...d.epci.map((r) => ({ titre: r.epci_nom, sous: r.classe === 'rural' ? 'rural' : 'urbain', v: r })),
    { titre: 'Médiane rurale', sous: `${d.medianes.rural.epci} EPCI – ${d.perimetre.libelle}`, v: d.medianes.rural, mediane: true },
    { titre: 'Médiane urbaine', sous: `${d.medianes.urbain.epci} EPCI – ${d.perimetre.libelle}`, v: d.medianes.urbain, mediane: true },
  ];
  // The medians' scope (the compared EPCIs' regions), said in the table's caption.
  document.getElementById('m-perimetre').textContent = d.perimetre.libelle;
  table.querySelector('thead').innerHTML = `<tr><th scope="col">Indicateur</th>${colonnes.map((c) => `<th scope="col" class="${c.mediane ? 'mediane' : ''}">${echapper(c.titre)}<br><small>${echapper(c.sous)}</small></th>`).join('')}</tr>`;
  table.querySelector('tbody').innerHTML = LIGNES.map(([k, l, u]) => `<tr><th scope="row">${echapper(l)}</th>${colonnes.map((c) => `<td class="${c.mediane ? 'mediane' : ''}">${c.v[k] === undefined ? '–' : cellule(c.v[k], u, k)}</td>`).join('')}</tr>`).join('');
  table.hidden = false;
  actions.hidden = false;
  for (const r of d.epci) noms.set(r.epci_siren, r.epci_nom);
  montrerChoisis();
  document.getElementById('m-csv').href = `/api/v1/compare?${requete}&format=csv`;
  document.getElementById('m-xlsx').href = `/api/v1/compare?${requete}&format=xlsx`;
  etat.textContent = `${d.epci.length} intercommunalité(s) comparée(s) : ${d.epci.map((r) => r.epci_nom).join(', ')}.`;
  zone.innerHTML = GRAPHIQUES.map(([id, titre]) => `<figure><figcaption>${echapper(titre)}</figcaption><div class="graphe"><canvas id="${id}" role="img" aria-label="${echapper(titre)} : voir le tableau"></canvas></div></figure>`).join('');
  const labels = colonnes.map((c) => c.titre);
  await Promise.all(GRAPHIQUES.map(([id, , series]) => graphique(id, {
    type: 'bar',
    data: {
      labels,
      datasets: series.map(([k, label], i) => ({
        label, data: colonnes.map((c) => c.v[k] ?? null),
        backgroundColor: colonnes.map((c) => (c.mediane ? `${COULEURS[i]}88` : COULEURS[i])),
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false,
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: { x: { ticks: { autoSkip: false, maxRotation: 40 } } },
    },
  })));
}

/// Opens the meeting view on `sirens` (those already chosen when omitted).
export async function ouvrirReunion(sirens) {
  construire();
  if (sirens) choisis.splice(0, choisis.length, ...sirens.filter((s) => s));
  await actualiser();
}

/// Adds `siren` to the meeting.
export function ajouterReunion(siren) {
  if (!choisis.includes(siren)) choisis.push(siren);
}

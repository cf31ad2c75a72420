// The EPCI picker, keyboard first (the ARIA combobox pattern with a list box): type a name,
// a word of it, a SIREN or a commune (accents and case do not matter); ↓ and ↑ move in the
// list, Entrée chooses (the first match when the list is still coming), Échap closes the
// list or clears the field. Matches come from `/api/v1/epci/search`, so the picker serves
// 1,255 EPCIs as well as 92.
import { api, echapper } from './outils.js';

const CLASSES = { rural: 'rural', urbain: 'urbain' };

/// Turns the text field `input` into an EPCI picker; `surChoix(epci)` is called with the
/// match chosen (`epci_siren`, `epci_nom`, `classe`, `region_nom`…). With `vider`, the field
/// is emptied after a choice (to add several EPCIs one after the other). The chosen SIREN is
/// kept in `input.dataset.siren`.
export function choixEpci(input, surChoix, { vider = false } = {}) {
  const liste = document.createElement('ul');
  liste.id = `${input.id}-liste`;
  liste.className = 'choix-liste';
  liste.setAttribute('role', 'listbox');
  liste.setAttribute('aria-label', 'Intercommunalités trouvées');
  liste.hidden = true;
  input.after(liste);
  Object.assign(input, { autocomplete: 'off', spellcheck: false });
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', liste.id);

  let trouves = [];
  let actif = -1;
  let numero = 0;
  let minuteur;
  let enCours = Promise.resolve();

  function fermer() {
    liste.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }
  function montrer() {
    liste.innerHTML = trouves.length
      ? trouves.map((r, i) => `<li role="option" id="${liste.id}-${i}" data-i="${i}" aria-selected="${i === actif}">
          <strong>${echapper(r.epci_nom)}</strong>
          <small>${echapper(r.epci_siren)} · ${CLASSES[r.classe] ?? ''} · ${echapper(r.region_nom)}${r.commune ? ` · commune : ${echapper(r.commune[1])}` : ''}</small></li>`).join('')
      : '<li class="choix-vide" aria-disabled="true">Aucune intercommunalité ne correspond.</li>';
    liste.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (actif >= 0) {
      input.setAttribute('aria-activedescendant', `${liste.id}-${actif}`);
      document.getElementById(`${liste.id}-${actif}`)?.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }
  function chercher() {
    const q = input.value.trim();
    const n = ++numero;
    if (!q) {
      trouves = [];
      fermer();
      enCours = Promise.resolve();
      return enCours;
    }
    enCours = api(`/api/v1/epci/search?q=${encodeURIComponent(q)}&limit=12`)
      .then((d) => {
        if (n !== numero) return;
        trouves = d.epci;
        actif = trouves.length ? 0 : -1;
        if (document.activeElement === input) montrer();
      })
      .catch(() => { if (n === numero) { trouves = []; actif = -1; } });
    return enCours;
  }
  function choisir(i) {
    const r = trouves[i];
    if (!r) return;
    input.value = vider ? '' : r.epci_nom;
    if (vider) delete input.dataset.siren;
    else input.dataset.siren = r.epci_siren;
    trouves = vider ? [] : trouves;
    fermer();
    surChoix(r);
  }

  input.addEventListener('input', () => {
    delete input.dataset.siren;
    clearTimeout(minuteur);
    minuteur = setTimeout(chercher, 120);
  });
  input.addEventListener('keydown', async (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (liste.hidden) {
        if (!trouves.length) await chercher();
        actif = trouves.length ? 0 : -1;
        montrer();
        return;
      }
      const n = trouves.length;
      if (n) actif = (actif + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      montrer();
    } else if (e.key === 'Enter') {
      // Typed faster than the list came: wait for it and take the first match.
      if (input.value.trim() && !input.dataset.siren) {
        e.preventDefault();
        if (liste.hidden) {
          clearTimeout(minuteur);
          await chercher();
          actif = trouves.length ? 0 : -1;
        }
        choisir(actif);
      }
    } else if (e.key === 'Escape') {
      if (!liste.hidden) {
        e.preventDefault();
        fermer();
      } else if (input.value) {
        e.preventDefault();
        input.value = '';
        delete input.dataset.siren;
      }
    }
  });
  // A click on a match chooses it (the field keeps the focus).
  liste.addEventListener('mousedown', (e) => e.preventDefault());
  liste.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-i]');
    if (li) choisir(Number(li.dataset.i));
  });
  input.addEventListener('blur', fermer);

  return {
    /// Shows `nom` as chosen (an EPCI opened from elsewhere).
    fixer(siren, nom) {
      input.value = nom;
      input.dataset.siren = siren;
      fermer();
    },
    /// Waits for the search under way (for tests and chained actions).
    attendre: () => enCours,
  };
}

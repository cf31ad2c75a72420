//! Finding an EPCI for the pickers: by SIREN, by its name or by the name or INSEE code of
//! one of its communes, accent-, case- and punctuation-insensitive
//! ([`crate::read_model::names::fold`]), over every EPCI loaded.

use serde::Serialize;

use crate::model::Str;
use crate::read_model::names::fold;
use crate::read_model::{ReadModel, NONE};

/// How an EPCI matched the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// Its SIREN begins with the query.
    Siren,
    /// Its name begins with the query.
    Nom,
    /// A word of its name begins with the query.
    Mot,
    /// One of its communes is named so (or has that INSEE code).
    Commune,
    /// Its name holds the query.
    Contient,
}

/// One EPCI found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    pub epci_siren: Str,
    pub epci_nom: Str,
    pub classe: &'static str,
    pub population: u64,
    pub region: Str,
    pub region_nom: Str,
    pub correspondance: Match,
    /// The commune that matched (`Match::Commune`), INSEE code and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commune: Option<(Str, Str)>,
}

/// The EPCIs matching `query`, best first (how they matched, in the order of [`Match`],
/// then the most populated), at most `limit`. An EPCI is listed once, by its best match.
///
/// ```
/// use ecofoncier::metrics::finder::{find_epci, Match};
/// use ecofoncier::read_model::ReadModel;
/// use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};
/// let model = ReadModel::build(EmbeddedSource::new(default_data_dir()).load_sync().unwrap()).unwrap();
/// let found = find_epci(&model, "amiens", 5);
/// assert_eq!(found[0].epci_nom.as_str(), "CA Amiens Métropole");
/// let by_commune = find_epci(&model, "abbecourt", 5);
/// assert_eq!(by_commune[0].correspondance, Match::Commune);
/// ```
pub fn find_epci(model: &ReadModel, query: &str, limit: usize) -> Vec<Found> {
    let q = fold(query);
    if q.is_empty() {
        return Vec::new();
    }
    let names = &model.names;
    let mut best: Vec<Option<(Match, Option<usize>)>> = vec![None; model.epci.slots()];
    let mut keep = |e: usize, m: Match, commune: Option<usize>| {
        if let Some(slot) = best.get_mut(e) {
            if slot.is_none_or(|(b, _)| m < b) {
                *slot = Some((m, commune));
            }
        }
    };
    let digits = q.bytes().all(|b| b.is_ascii_digit());
    for e in 0..model.epci.slots() {
        let name = &names.epci[e];
        if digits && model.epci.record(e).epci_siren.starts_with(&q) {
            keep(e, Match::Siren, None);
        } else if name.starts_with(&q) {
            keep(e, Match::Nom, None);
        } else if name.split(' ').any(|w| w.starts_with(&q)) {
            keep(e, Match::Mot, None);
        } else if name.contains(&q) {
            keep(e, Match::Contient, None);
        }
    }
    for c in 0..model.communes.slots() {
        let e = model.joins.commune_epci.get(c).copied().unwrap_or(NONE);
        if e == NONE {
            continue;
        }
        let code = model.communes.record(c).code_insee;
        if names.communes[c].starts_with(&q) || code.eq_ignore_ascii_case(&q) {
            keep(e as usize, Match::Commune, Some(c));
        }
    }
    let mut found: Vec<Found> = best
        .iter()
        .enumerate()
        .filter_map(|(e, b)| {
            let (m, commune) = (*b)?;
            let r = model.epci.record(e);
            let region = model
                .regions
                .epci
                .get(e)
                .and_then(|&i| model.regions.list.get(i as usize));
            Some(Found {
                epci_siren: r.epci_siren,
                epci_nom: r.epci_nom,
                classe: r.classe.as_str(),
                population: r.population_region,
                region: region.map(|x| x.code).unwrap_or_default(),
                region_nom: region.map(|x| x.name).unwrap_or_default(),
                correspondance: m,
                commune: commune.map(|c| {
                    let c = model.communes.record(c);
                    (c.code_insee, c.nom)
                }),
            })
        })
        .collect();
    found.sort_by(|a, b| {
        (
            a.correspondance,
            std::cmp::Reverse(a.population),
            a.epci_nom.as_str(),
        )
            .cmp(&(
                b.correspondance,
                std::cmp::Reverse(b.population),
                b.epci_nom.as_str(),
            ))
    });
    found.truncate(limit);
    found
}

//! CNIG code lists used by the model (CODELISTS.md of the standard). Every list also accepts
//! `inconnu`, `autre` and `sans objet`.

/// Values every CNIG list accepts besides its own.
pub const COMMON: [&str; 3] = ["inconnu", "autre", "sans objet"];

pub const SITE_TYPE: &[&str] = &[
    "zone d'activité économique",
    "site économique historique hors ZAE",
    "établissement économique isolé",
    "zone AU à vocation économique",
];

pub const SITE_ETAT: &[&str] = &[
    "en projet",
    "création",
    "existant et actif",
    "projet de déclassement",
    "déclassé",
];

pub const SITE_VOCADOMI: &[&str] = &[
    "industrielle",
    "commerciale",
    "tertiaire",
    "artisanale",
    "touristique",
    "portuaire",
    "aéroportuaire, aéronautique",
    "entrepôts, logistique",
    "logistique agricole",
    "mixte",
];

pub const SITE_MOA_TYPE: &[&str] = &["commune", "epci", "SEM", "CCI", "privé", "Etat"];

pub const TERR_ETAT_OCCUP: &[&str] = &[OCCUPE, OCCUPATION_TRANSITOIRE, INOCCUPE, VACANT, FRICHE];
pub const OCCUPE: &str = "occupé";
pub const OCCUPATION_TRANSITOIRE: &str = "occupation transitoire";
pub const INOCCUPE: &str = "inoccupé";
pub const VACANT: &str = "vacant";
pub const FRICHE: &str = "friche";

pub const TERR_STADE_COMM: &[&str] = &[
    "non commercialisé",
    "non commercialisable",
    EN_VENTE,
    EN_VENTE_CONTRAINTES,
    "réservé par option de réservation",
    "réservé par une délibération de l'EPCI",
    VENDU,
];
pub const EN_VENTE: &str = "en vente";
pub const EN_VENTE_CONTRAINTES: &str = "en vente avec contraintes";
pub const VENDU: &str = "vendu, commercialisation achevée";

pub const TERR_STADE_AMNGT: &[&str] = &[
    "non aménageable",
    "non aménagé, non viabilisé",
    "viabilisation en cours",
    "viabilisé non aménagé",
    "viabilisé et aménagé",
];

pub const TERR_USAGE: &[&str] = &[
    "bâti productif",
    "parkings",
    "dépôt, stockage",
    "zone de service partagée",
    "zone de retournement poids-lourds",
    "voirie",
    "autres équipements publics",
    "bâti résidentiel",
    "production d'énergie renouvelable",
    "bassin d'orage",
    "espace vert",
    "espace naturel ou forestier",
    "espace agricole",
    "carrières",
];

/// Services a tiers-lieu or France services site may offer (the project's list).
pub const SERVICES: &[&str] = &[
    "santé",
    "emploi",
    "démarches administratives",
    "formation numérique",
    "café",
    "coworking",
    "épicerie/AMAP",
    "poste",
    "écrivain public",
];

/// Site network fields (`reseau_*`, `desserte_tc`) a search can require.
pub const NETWORKS: &[&str] = &[
    "eau_pluviale",
    "eau_potable",
    "assainissement",
    "gaz",
    "electrique",
    "fibre_optique",
    "fret_ferroviaire",
    "fluvial",
    "transport_commun",
];

/// True when `value` (possibly several values joined by `|`) belongs to `list`.
pub fn in_list(list: &[&str], value: &str) -> bool {
    value
        .split('|')
        .all(|v| list.contains(&v) || COMMON.contains(&v))
}

/// A code list as a fixed set of labels: the standard's values, then `inconnu`, `autre`,
/// `sans objet`. A value outside the list counts as `autre`.
/// Position of `value` in `list`, for constants; fails to compile when it is absent.
pub const fn position(list: &[&str], value: &str) -> usize {
    let v = value.as_bytes();
    let mut i = 0;
    while i < list.len() {
        let c = list[i].as_bytes();
        if c.len() == v.len() {
            let mut j = 0;
            while j < v.len() && c[j] == v[j] {
                j += 1;
            }
            if j == v.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("value not in the code list")
}

/// The most values a code list has, common values included (see [`CodeList::size`]).
pub const MAX_CODES: usize = 12;

pub trait CodeList: Clone + std::fmt::Debug + Default + PartialEq {
    const VALUES: &'static [&'static str];
    /// Index of `value`, `autre` for an unknown value.
    fn index(value: &str) -> usize {
        let n = Self::VALUES.len();
        if let Some(i) = Self::VALUES.iter().position(|v| *v == value) {
            i
        } else if let Some(i) = COMMON.iter().position(|v| *v == value) {
            n + i
        } else {
            n + 1
        }
    }
    fn label(i: usize) -> &'static str {
        let n = Self::VALUES.len();
        if i < n {
            Self::VALUES[i]
        } else {
            COMMON[i - n]
        }
    }
    fn size() -> usize {
        Self::VALUES.len() + COMMON.len()
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EtatList;
impl CodeList for EtatList {
    const VALUES: &'static [&'static str] = TERR_ETAT_OCCUP;
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StadeList;
impl CodeList for StadeList {
    const VALUES: &'static [&'static str] = TERR_STADE_COMM;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_values_and_common_values() {
        assert!(in_list(TERR_ETAT_OCCUP, "vacant"));
        assert!(in_list(TERR_ETAT_OCCUP, "inconnu"));
        assert!(in_list(SITE_MOA_TYPE, "commune|epci"));
        assert!(!in_list(TERR_ETAT_OCCUP, "libre"));
    }
}

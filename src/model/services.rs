//! Centre-bourg commercial premises and tiers-lieux / France services sites (points).

use serde::{Deserialize, Serialize};

use super::{Record, Str};

/// A commercial premises (local commercial) in a town or village centre.
/// `local_etat` is `occupé` or `vacant`; when occupied, the firm (`local_enseigne`, NAF
/// `local_activite_code`) and the year it settled (`local_installation_annee`); when vacant,
/// since when (`local_vacant_depuis`, a year).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalCommercial {
    pub local_id: Str,
    pub comm_insee: Str,
    pub comm_nom: Str,
    pub epci_siren: Str,
    /// Floor area, m².
    pub local_surface_m2: f64,
    pub local_etat: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_enseigne: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_activite_code: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_activite_libelle: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_installation_annee: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_vacant_depuis: Option<i32>,
    pub source_producteur: Str,
}

impl Record for LocalCommercial {
    const COLLECTION: &'static str = "locaux-commerciaux";
    const FILE: &'static str = "locaux-commerciaux.geojson";
    fn id(&self) -> &str {
        &self.local_id
    }
}

/// One year of a tiers-lieu's activity report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ActiviteAnnuelle {
    pub annee: i32,
    pub visites: u32,
    pub demarches: u32,
    pub emplois_crees: u32,
    pub nouveaux_partenaires: u32,
}

/// A tiers-lieu (multiservice third place) or a France services site.
/// `tl_type` is `tiers-lieu` or `France services`; `tl_services` lists the services offered,
/// `|`-separated as the CNIG standard joins several values.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TiersLieu {
    pub tl_id: Str,
    pub tl_nom: Str,
    pub tl_type: Str,
    pub comm_insee: Str,
    pub comm_nom: Str,
    pub epci_siren: Str,
    pub tl_services: Str,
    pub tl_horaires: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tl_ouverture_annee: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tl_adresse: Option<Str>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub tl_activite: Vec<ActiviteAnnuelle>,
    pub source_producteur: Str,
}

impl TiersLieu {
    pub const TIERS_LIEU: &'static str = "tiers-lieu";
    pub const FRANCE_SERVICES: &'static str = "France services";

    /// True when the site offers `service` (one of [`super::codes::SERVICES`]).
    pub fn offers(&self, service: &str) -> bool {
        self.tl_services.split('|').any(|s| s == service)
    }
}

impl Record for TiersLieu {
    const COLLECTION: &'static str = "tiers-lieux";
    const FILE: &'static str = "tiers-lieux.geojson";
    fn id(&self) -> &str {
        &self.tl_id
    }
}

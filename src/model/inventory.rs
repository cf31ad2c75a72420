//! The CNIG inventory tables: pôle, site, terrain (unité foncière), établissement.

use serde::{Deserialize, Serialize};

use super::{codes, Record, Str};
use crate::date::Date;

/// POLE-ECO: a group of sites with one identity (point geometry).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pole {
    pub pole_id: Str,
    pub pole_nom: Str,
    pub pole_vocadomi: Str,
    pub pole_identif_date: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pole_actu_date: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pole_nb_site: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pole_nb_etab: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pole_nb_emploi: Option<u32>,
    /// Hectares.
    pub pole_surface: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pole_rayonnement: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_producteur: Option<Str>,
}

impl Record for Pole {
    const COLLECTION: &'static str = "poles";
    const FILE: &'static str = "poles.geojson";
    fn id(&self) -> &str {
        &self.pole_id
    }
}

/// SITE-ECO: an economic site, usually a ZAE (MultiPolygon). Surfaces in hectares.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Site {
    pub site_id: Str,
    pub pole_id: Str,
    pub site_nom: Str,
    pub site_type: Str,
    pub site_vocadomi: Str,
    pub site_etat: Str,
    pub site_surf_brute: f64,
    pub site_surf_utile: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_creation_date: Option<Str>,
    pub site_identif_date: Str,
    pub site_actu_date: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_producteur: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_description: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_quali_territoire: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_evol_urba: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<Str>,
    pub site_epci_nom: Str,
    pub site_epci_siren: Str,
    pub site_comm_nom: Str,
    pub site_comm_insee: Str,
    pub site_moa_type: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_moa_nom: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_moa_amngt: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_moa_comm: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_uf_nbre: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_uf_vacant_nbre: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_taux_vacance: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_uf_bati_nbre: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_nb_etab: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_nb_emploi: Option<u32>,
    /// The standard's optional representative point, as the producer wrote it (`lon, lat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_geompoint: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_media: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_surf_comm_dispo: Option<f64>,
    /// Hectares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_surf_projet: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_industrielle: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_commerciale: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_tertiaire: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_artisanale: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_touristique: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_portuaire: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_voca_aeroportuaire: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_eau_pluviale: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_eau_potable: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_assainissement: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_gaz: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_electrique: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_fibre_optique: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_fret_ferroviaire: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseau_fluvial: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desserte_tc: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desserte_route_nom: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoroute_nom: Option<Str>,
    /// Kilometres to the nearest motorway junction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoroute_echang_dist: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gare_nom: Option<Str>,
    /// Kilometres to the nearest station.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gare_dist: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gare_fret_nom: Option<Str>,
    /// Kilometres to the nearest freight station.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gare_fret_dist: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeroport_nom: Option<Str>,
    /// Kilometres to the nearest airport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeroport_dist: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_nom: Option<Str>,
    /// Kilometres to the nearest port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_dist: Option<f64>,
    /// Fields whose value is outside the standard's code lists, kept as the producer wrote
    /// them when an inventory file was imported (the schema accepts such a value only for a
    /// field named here).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::null_as_empty"
    )]
    pub champs_hors_liste: Vec<Str>,
}

impl Site {
    /// Whether a firm of `vocation` (a [`codes::SITE_VOCADOMI`] value) may settle on the site:
    /// its dominant vocation is that one or `mixte`, or the site declares that vocation
    /// among its others (`site_voca_*` = `oui`).
    pub fn welcomes(&self, vocation: &str) -> bool {
        let flag = match vocation {
            "industrielle" => &self.site_voca_industrielle,
            "commerciale" => &self.site_voca_commerciale,
            "tertiaire" => &self.site_voca_tertiaire,
            "artisanale" => &self.site_voca_artisanale,
            "touristique" => &self.site_voca_touristique,
            "portuaire" => &self.site_voca_portuaire,
            "aéroportuaire, aéronautique" => &self.site_voca_aeroportuaire,
            _ => &None,
        };
        self.site_vocadomi == vocation
            || self.site_vocadomi == "mixte"
            || flag.as_deref() == Some("oui")
    }
}

impl Record for Site {
    const COLLECTION: &'static str = "sites";
    const FILE: &'static str = "sites.geojson";
    fn id(&self) -> &str {
        &self.site_id
    }
}

/// TERRAIN-ECO: an unité foncière of a site (Polygon). Surfaces in hectares.
///
/// Besides the standard's fields, two dates for the legal vacancy test (Code de l'urbanisme
/// L318-8-2): `terr_activite_fin_date`, when the last activity liable to the CFE left the unit
/// (absent if none ever used it, or one still does), and `terr_inoccupe_date`, since when the
/// unit has been wholly unoccupied (absent while anything occupies it, even transitionally).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Terrain {
    pub terr_id: Str,
    /// The site the unit belongs to; when absent the site is found by containment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_refcad: Option<Str>,
    pub terr_surf_brute: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_utile: Option<Str>,
    pub terr_identif_date: Str,
    pub terr_actu_date: Str,
    pub terr_maitrise_fonc: Str,
    pub terr_stade_amngt: Str,
    pub terr_stade_comm: Str,
    pub terr_etat_occup: Str,
    pub terr_usage: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_url_cartofriches: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_cle_en_main: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_activite_fin_date: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_inoccupe_date: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_producteur: Option<Str>,
    /// Confidential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_acquereur: Option<Str>,
    /// Confidential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_cession_date: Option<Str>,
    /// Confidential (euros).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_vente_montant: Option<f64>,
    /// Confidential (euros per m²).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terr_m2_prix: Option<f64>,
    /// Fields whose value is outside the standard's code lists, kept as imported.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::null_as_empty"
    )]
    pub champs_hors_liste: Vec<Str>,
}

impl Terrain {
    /// The legal vacancy test of Code de l'urbanisme L318-8-2 for the tax year `year`: the
    /// unit is vacant when no activity liable to the CFE has used it for at least two years
    /// at 1 January of `year` (`terr_activite_fin_date` ≤ 1 January of `year − 2`) and it has
    /// stayed wholly unoccupied over that period (`terr_inoccupe_date` set and also ≤ that
    /// date). A never-used unit (no activity end date) is not vacant in this sense, nor is
    /// one occupied, even transitionally; `terr_etat_occup = vacant` alone is not the test.
    pub fn is_legally_vacant(&self, year: i32) -> bool {
        let limit = Date::jan1(year - 2);
        let on_or_before = |d: &Option<Str>| {
            d.as_deref()
                .and_then(|s| Date::parse(s).ok())
                .is_some_and(|d| d <= limit)
        };
        self.terr_etat_occup != codes::OCCUPE
            && on_or_before(&self.terr_activite_fin_date)
            && on_or_before(&self.terr_inoccupe_date)
    }
}

impl Record for Terrain {
    const COLLECTION: &'static str = "terrains";
    const FILE: &'static str = "terrains.geojson";
    const CONFIDENTIAL: &'static [&'static str] = &[
        "terr_acquereur",
        "terr_cession_date",
        "terr_vente_montant",
        "terr_m2_prix",
    ];
    fn id(&self) -> &str {
        &self.terr_id
    }
}

/// ETABLISSEMENT: an establishment settled on a unit (Point).
///
/// Besides the standard's fields, all optional: `etab_emplois` (jobs, a number where the
/// standard only has the INSEE size band), `etab_implantation_date` (when it settled on the
/// unit) and `etab_implantation_mode` (`construction neuve` or `réhabilitation`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct Etablissement {
    pub SIRET: Str,
    pub SIREN: Str,
    pub terr_id: Str,
    /// Address identifier of the Base adresse nationale.
    #[serde(rename = "ban-id", default, skip_serializing_if = "Option::is_none")]
    pub ban_id: Option<Str>,
    /// Building identifier (BD TOPO).
    #[serde(rename = "bat-id", default, skip_serializing_if = "Option::is_none")]
    pub bat_id: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_adresse: Option<Str>,
    pub etab_raison_sociale: Str,
    pub etab_nat_juridique: Str,
    pub etab_nom: Str,
    pub epci_nom: Str,
    pub epci_siren: Str,
    pub comm_nom: Str,
    pub comm_insee: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_siege: Option<Str>,
    pub etab_creation_date: Str,
    pub etab_identif_date: Str,
    pub etab_actu_date: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_actif: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_fermeture_date: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_description: Option<Str>,
    pub etab_activite_code: Str,
    pub etab_activite_libelle: Str,
    pub etab_effectif_code: Str,
    pub etab_effectif_libelle: Str,
    pub etab_effectif_annee: Str,
    pub etab_source_info: Str,
    pub geocodage_qualite: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_emplois: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_implantation_date: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_implantation_mode: Option<Str>,
    /// Confidential (occupant contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_contact_mail: Option<Str>,
    /// Confidential (occupant contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etab_contact_tel: Option<Str>,
}

impl Etablissement {
    /// Jobs: `etab_emplois` when the producer gave it, otherwise the middle of the INSEE
    /// employee size band `etab_effectif_code` (e.g. `12`, 20 to 49 employees → 35; `53`,
    /// 10,000 or more → 10,000; unknown or `NN` → 0).
    pub fn emplois(&self) -> u32 {
        if let Some(n) = self.etab_emplois {
            return n;
        }
        match self.etab_effectif_code.as_str() {
            "01" => 2,
            "02" => 4,
            "03" => 8,
            "11" => 15,
            "12" => 35,
            "21" => 75,
            "22" => 150,
            "31" => 225,
            "32" => 375,
            "41" => 750,
            "42" => 1500,
            "51" => 3500,
            "52" => 7500,
            "53" => 10000,
            _ => 0,
        }
    }

    /// When it settled on its unit: `etab_implantation_date`, else its creation date.
    pub fn implantation_date(&self) -> &str {
        self.etab_implantation_date
            .as_deref()
            .unwrap_or(&self.etab_creation_date)
    }

    /// True when it settled by renovating an existing building.
    pub fn rehabilitation(&self) -> bool {
        self.etab_implantation_mode.as_deref() == Some("réhabilitation")
    }
}

impl Record for Etablissement {
    const COLLECTION: &'static str = "etablissements";
    const FILE: &'static str = "etablissements.geojson";
    const CONFIDENTIAL: &'static [&'static str] = &["etab_contact_mail", "etab_contact_tel"];
    fn id(&self) -> &str {
        &self.SIRET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot(etat: &str, fin: Option<&str>, inoccupe: Option<&str>) -> Terrain {
        Terrain {
            terr_id: "x".into(),
            site_id: None,
            terr_refcad: None,
            terr_surf_brute: 1.0,
            terr_utile: None,
            terr_identif_date: "2026-01-01".into(),
            terr_actu_date: "2026-01-01".into(),
            terr_maitrise_fonc: "commune".into(),
            terr_stade_amngt: "viabilisé et aménagé".into(),
            terr_stade_comm: "en vente".into(),
            terr_etat_occup: etat.into(),
            terr_usage: "bâti productif".into(),
            terr_cle_en_main: None,
            terr_activite_fin_date: fin.map(Str::new),
            terr_inoccupe_date: inoccupe.map(Str::new),
            source_producteur: None,
            terr_acquereur: None,
            terr_cession_date: None,
            terr_vente_montant: None,
            terr_m2_prix: None,
            terr_url_cartofriches: None,
            champs_hors_liste: Vec::new(),
        }
    }

    #[test]
    fn legal_vacancy_needs_two_full_years_unoccupied() {
        // Reference year 2026: the limit is 1 January 2024.
        assert!(plot("vacant", Some("2024-01-01"), Some("2024-01-01")).is_legally_vacant(2026));
        assert!(!plot("vacant", Some("2024-01-02"), Some("2024-01-02")).is_legally_vacant(2026));
        // Activity left long ago but a transitional occupant stayed until 2025.
        assert!(!plot("vacant", Some("2019-05-01"), Some("2025-03-01")).is_legally_vacant(2026));
        assert!(!plot("occupation transitoire", Some("2019-05-01"), None).is_legally_vacant(2026));
        // Never used by an activity: not vacant in the legal sense.
        assert!(!plot("inoccupé", None, Some("2010-01-01")).is_legally_vacant(2026));
        assert!(plot("friche", Some("2005-01-01"), Some("2005-01-01")).is_legally_vacant(2026));
        assert!(!plot("occupé", Some("2005-01-01"), Some("2005-01-01")).is_legally_vacant(2026));
        // The same plot becomes vacant as the reference year moves on.
        assert!(!plot("vacant", Some("2025-06-30"), Some("2025-06-30")).is_legally_vacant(2026));
        assert!(plot("vacant", Some("2025-06-30"), Some("2025-06-30")).is_legally_vacant(2028));
    }
}

//! The CNIG "Sites économiques" interchange formats: the standard's `;`-CSV (geometry as
//! GeoJSON text in Lambert-93), GeoJSON, and its GeoPackage template (tables `pole_eco`,
//! `site_eco`, `terrain_eco`, `etablissement`, EPSG:2154).
//!
//! Reading turns a file into an [`Inventory`]: typed features, the rows that could not be
//! read with their reason, and remarks on rows read (a ring closed, for instance). Writing
//! gives the standard's columns in the standard's order; nothing is rounded or renamed, so
//! an inventory read and written again gives the same rows.

pub mod csv;
pub mod geojson_file;
pub mod gpkg;

use serde_json::{Map, Value};

use crate::model::checks::Rejected;
use crate::model::{Etablissement, Feature, Pole, Record, Site, Terrain};

/// One table of the standard.
#[derive(Debug)]
pub struct Table {
    /// The GeoPackage template's table name (also the PostGIS table).
    pub name: &'static str,
    /// The CSV column holding the geometry.
    pub geometry_csv: &'static str,
    /// The standard's CSV columns, in the order of its JSON table schema.
    pub csv: &'static [&'static str],
    /// The GeoPackage template's columns after `fid` and `geom`: (name, SQL type).
    pub gpkg: &'static [(&'static str, &'static str)],
    /// The template's geometry type.
    pub gpkg_geometry: &'static str,
}

pub const POLE: Table = Table {
    name: "pole_eco",
    geometry_csv: "pole_geompoint",
    csv: &[
        "pole_id",
        "pole_nom",
        "pole_vocadomi",
        "pole_identif_date",
        "pole_actu_date",
        "pole_nb_site",
        "pole_nb_etab",
        "pole_nb_emploi",
        "pole_surface",
        "pole_geompoint",
        "pole_rayonnement",
    ],
    gpkg: &[
        ("pole_id", "TEXT(20)"),
        ("pole_nom", "TEXT"),
        ("pole_vocadomi", "TEXT"),
        ("pole_identif_date", "TEXT(10)"),
        ("pole_actu_date", "TEXT(10)"),
        ("pole_nb_site", "MEDIUMINT"),
        ("pole_nb_etab", "MEDIUMINT"),
        ("pole_nb_emploi", "MEDIUMINT"),
        ("pole_surface", "MEDIUMINT"),
        ("pole_rayonnement", "TEXT"),
    ],
    gpkg_geometry: "POINT",
};

pub const SITE: Table = Table {
    name: "site_eco",
    geometry_csv: "site_geomsurf",
    csv: &[
        "site_id",
        "pole_id",
        "site_nom",
        "site_type",
        "site_vocadomi",
        "site_etat",
        "site_surf_brute",
        "site_surf_utile",
        "site_creation_date",
        "site_identif_date",
        "site_actu_date",
        "source_producteur",
        "site_description",
        "site_quali_territoire",
        "site_evol_urba",
        "site_url",
        "site_epci_nom",
        "site_epci_siren",
        "site_comm_nom",
        "site_comm_insee",
        "site_moa_type",
        "site_moa_nom",
        "site_moa_amngt",
        "site_moa_comm",
        "site_uf_nbre",
        "site_uf_vacant_nbre",
        "site_taux_vacance",
        "site_uf_bati_nbre",
        "site_nb_etab",
        "site_nb_emploi",
        "site_geomsurf",
        "site_geompoint",
        "site_media",
        "site_surf_comm_dispo",
        "site_surf_projet",
        "site_voca_industrielle",
        "site_voca_commerciale",
        "site_voca_tertiaire",
        "site_voca_artisanale",
        "site_voca_touristique",
        "site_voca_portuaire",
        "site_voca_aeroportuaire",
        "reseau_eau_pluviale",
        "reseau_eau_potable",
        "reseau_assainissement",
        "reseau_gaz",
        "reseau_electrique",
        "reseau_fibre_optique",
        "reseau_fret_ferroviaire",
        "reseau_fluvial",
        "desserte_tc",
        "desserte_route_nom",
        "autoroute_nom",
        "autoroute_echang_dist",
        "gare_nom",
        "gare_dist",
        "gare_fret_nom",
        "gare_fret_dist",
        "aeroport_nom",
        "aeroport_dist",
        "port_nom",
        "port_dist",
    ],
    gpkg: &[
        ("site_id", "TEXT(20)"),
        ("pole_id", "TEXT(20)"),
        ("site_nom", "TEXT"),
        ("site_type", "TEXT"),
        ("site_vocadomi", "TEXT"),
        ("site_etat", "TEXT"),
        ("site_surf_brute", "REAL"),
        ("site_surf_utile", "REAL"),
        ("site_creation_date", "TEXT(4)"),
        ("site_identif_date", "TEXT(10)"),
        ("site_actu_date", "TEXT(10)"),
        ("site_description", "TEXT"),
        ("source_producteur", "TEXT"),
        ("site_quali_territoire", "TEXT"),
        ("site_evol_urba", "TEXT"),
        ("site_url", "TEXT"),
        ("site_epci_nom", "TEXT"),
        ("site_epci_siren", "TEXT(9)"),
        ("site_comm_nom", "TEXT"),
        ("site_comm_insee", "TEXT(5)"),
        ("site_moa_type", "TEXT"),
        ("site_moa_nom", "TEXT"),
        ("site_moa_amngt", "TEXT"),
        ("site_moa_comm", "TEXT"),
        ("site_uf_nbre", "MEDIUMINT"),
        ("site_uf_vacant_nbre", "MEDIUMINT"),
        ("site_taux_vacance", "MEDIUMINT"),
        ("site_uf_bati_nbre", "MEDIUMINT"),
        ("site_nb_etab", "MEDIUMINT"),
        ("site_nb_emploi", "MEDIUMINT"),
        ("site_media", "TEXT"),
        ("site_surf_comm_dispo", "REAL"),
        ("site_surf_projet", "REAL"),
        ("site_voca_industrielle", "TEXT(3)"),
        ("site_voca_commerciale", "TEXT(3)"),
        ("site_voca_tertiaire", "TEXT(3)"),
        ("site_voca_artisanale", "TEXT(3)"),
        ("site_voca_touristique", "TEXT(3)"),
        ("site_voca_portuaire", "TEXT(3)"),
        ("site_voca_aeroportuaire", "TEXT(3)"),
        ("reseau_eau_pluviale", "TEXT(3)"),
        ("reseau_eau_potable", "TEXT(3)"),
        ("reseau_assainissement", "TEXT(3)"),
        ("reseau_gaz", "TEXT(3)"),
        ("reseau_electrique", "TEXT(3)"),
        ("reseau_fibre_optique", "TEXT(3)"),
        ("reseau_fret_ferroviaire", "TEXT(3)"),
        ("reseau_fluvial", "TEXT(3)"),
        ("desserte_tc", "TEXT(3)"),
        ("desserte_route_nom", "TEXT"),
        ("autoroute_nom", "TEXT"),
        ("autoroute_echang_dist", "MEDIUMINT"),
        ("gare_nom", "TEXT"),
        ("gare_dist", "MEDIUMINT"),
        ("gare_fret_nom", "TEXT"),
        ("gare_fret_dist", "MEDIUMINT"),
        ("aeroport_nom", "TEXT"),
        ("aeroport_dist", "MEDIUMINT"),
        ("port_nom", "TEXT"),
        ("port_dist", "MEDIUMINT"),
    ],
    gpkg_geometry: "MULTIPOLYGON",
};

pub const TERRAIN: Table = Table {
    name: "terrain_eco",
    geometry_csv: "terr_geomsurf",
    csv: &[
        "terr_id",
        "site_id",
        "terr_refcad",
        "terr_surf_brute",
        "terr_utile",
        "terr_identif_date",
        "terr_actu_date",
        "terr_maitrise_fonc",
        "terr_stade_amngt",
        "terr_stade_comm",
        "terr_etat_occup",
        "terr_usage",
        "terr_url_cartofriches",
        "terr_geomsurf",
        "terr_cle_en_main",
        "terr_acquereur",
        "terr_cession_date",
        "terr_vente_montant",
        "terr_m2_prix",
    ],
    gpkg: &[
        ("terr_id", "TEXT(23)"),
        ("site_id", "TEXT(20)"),
        ("terr_refcad", "TEXT"),
        ("terr_surf_brute", "REAL"),
        ("terr_utile", "TEXT(3)"),
        ("terr_identif_date", "TEXT(10)"),
        ("terr_actu_date", "TEXT(10)"),
        ("terr_maitrise_fonc", "TEXT"),
        ("terr_stade_amngt", "TEXT"),
        ("terr_stade_comm", "TEXT"),
        ("terr_etat_occup", "TEXT"),
        ("terr_usage", "TEXT"),
        ("terr_cle_en_main", "TEXT(3)"),
        ("terr_acquereur", "TEXT"),
        ("terr_cession_date", "TEXT(10)"),
        ("terr_vente_montant", "MEDIUMINT"),
        ("terr_m2_prix", "MEDIUMINT"),
    ],
    gpkg_geometry: "POLYGON",
};

pub const ETABLISSEMENT: Table = Table {
    name: "etablissement",
    geometry_csv: "etab_geompoint",
    csv: &[
        "SIRET",
        "SIREN",
        "terr_id",
        "ban-id",
        "bat-id",
        "etab_adresse",
        "etab_raison_sociale",
        "etab_nat_juridique",
        "etab_nom",
        "epci_nom",
        "epci_siren",
        "comm_nom",
        "comm_insee",
        "etab_siege",
        "etab_creation_date",
        "etab_identif_date",
        "etab_actu_date",
        "etab_actif",
        "etab_fermeture_date",
        "etab_description",
        "etab_activite_code",
        "etab_activite_libelle",
        "etab_effectif_code",
        "etab_effectif_libelle",
        "etab_effectif_annee",
        "etab_source_info",
        "geocodage_qualite",
        "etab_geompoint",
        "etab_contact_mail",
        "etab_contact_tel",
    ],
    gpkg: &[
        ("siret", "TEXT(14)"),
        ("siren", "TEXT(9)"),
        ("terr_id", "TEXT(23)"),
        ("ban_id", "TEXT"),
        ("bat_id", "TEXT"),
        ("etab_adresse", "TEXT"),
        ("etab_raison_sociale", "TEXT"),
        ("etab_nat_juridique", "TEXT(4)"),
        ("etab_nom", "TEXT"),
        ("epci_nom", "TEXT"),
        ("epci_siren", "TEXT(9)"),
        ("comm_nom", "TEXT"),
        ("comm_insee", "TEXT(5)"),
        ("etab_siege", "TEXT(3)"),
        ("etab_creation_date", "TEXT(10)"),
        ("etab_identif_date", "TEXT(10)"),
        ("etab_actu_date", "TEXT(10)"),
        ("etab_actif", "TEXT(3)"),
        ("etab_fermeture_date", "TEXT(10)"),
        ("etab_description", "TEXT"),
        ("etab_activite_code", "TEXT(10)"),
        ("etab_activite_libelle", "TEXT"),
        ("etab_effectif_code", "TEXT(3)"),
        ("etab_effectif_libelle", "TEXT"),
        ("etab_effectif_annee", "TEXT(4)"),
        ("etab_source_info", "TEXT"),
        ("geocodage_qualite", "TEXT"),
        ("etab_contact_mail", "TEXT"),
        ("etab_contact_tel", "TEXT(10)"),
    ],
    gpkg_geometry: "MULTIPOINT",
};

/// The four tables, parents first.
pub const TABLES: [&Table; 4] = [&POLE, &SITE, &TERRAIN, &ETABLISSEMENT];

/// Numeric fields (the standard's `number` fields and the project's own): read as numbers
/// from text, everything else is kept as text.
pub const NUMERIC: &[&str] = &[
    "pole_nb_site",
    "pole_nb_etab",
    "pole_nb_emploi",
    "pole_surface",
    "site_surf_brute",
    "site_surf_utile",
    "site_uf_nbre",
    "site_uf_vacant_nbre",
    "site_taux_vacance",
    "site_uf_bati_nbre",
    "site_nb_etab",
    "site_nb_emploi",
    "site_surf_comm_dispo",
    "site_surf_projet",
    "autoroute_echang_dist",
    "gare_dist",
    "gare_fret_dist",
    "aeroport_dist",
    "port_dist",
    "terr_surf_brute",
    "terr_vente_montant",
    "terr_m2_prix",
    "etab_emplois",
];

/// The record field of a GeoPackage column (the template writes a few names differently
/// from the JSON schemas: `siret`, `siren`, `ban_id`, `bat_id`).
pub fn field_of_column(column: &str) -> &str {
    match column {
        "siret" => "SIRET",
        "siren" => "SIREN",
        "ban_id" => "ban-id",
        "bat_id" => "bat-id",
        other => other,
    }
}

/// The GeoPackage column of a record field.
pub fn column_of_field(field: &str) -> &str {
    match field {
        "SIRET" => "siret",
        "SIREN" => "siren",
        "ban-id" => "ban_id",
        "bat-id" => "bat_id",
        other => other,
    }
}

/// A JSON number for `f`: an integer when `f` has no fraction (so that integer fields read
/// from `15` or `15.0` deserialize).
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// The value of field `name` read from `text`: absent when empty, a number for numeric
/// fields (a decimal comma is accepted), text otherwise (kept as written).
pub fn typed(name: &str, text: &str) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    if !NUMERIC.contains(&name) {
        return Ok(Some(Value::String(text.to_string())));
    }
    let t = text.trim().replace(',', ".");
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Some(Value::from(i)));
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Some(number(f))),
        _ => Err(format!("{name}: « {text} » is not a number")),
    }
}

/// Numbers written in text fields become text, text in numeric fields is parsed.
pub fn retype(name: &str, v: Value) -> Result<Option<Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => typed(name, &s),
        Value::Number(n) if !NUMERIC.contains(&name) => Ok(Some(Value::String(
            n.as_i64()
                .map(|i| i.to_string())
                .or_else(|| n.as_f64().map(|f| f.to_string()))
                .unwrap_or_default(),
        ))),
        other => Ok(Some(other)),
    }
}

/// An inventory read from a file.
#[derive(Debug, Default)]
pub struct Inventory {
    pub poles: Vec<Feature<Pole>>,
    pub sites: Vec<Feature<Site>>,
    pub terrains: Vec<Feature<Terrain>>,
    pub etablissements: Vec<Feature<Etablissement>>,
    /// Rows that could not be read: (table, row and reason).
    pub unreadable: Vec<(&'static str, Rejected)>,
    /// Remarks on rows that were read: (table, row and remark).
    pub notes: Vec<(&'static str, Rejected)>,
}

impl Inventory {
    /// Adds one row of `table`: its properties (record field names) and Lambert-93 geometry.
    pub fn push(
        &mut self,
        table: &Table,
        row: String,
        props: Map<String, Value>,
        geometry: Option<geo::Geometry<f64>>,
    ) {
        let name = table.name;
        let result = match name {
            "pole_eco" => add(&mut self.poles, props, geometry),
            "site_eco" => add(&mut self.sites, props, geometry),
            "terrain_eco" => add(&mut self.terrains, props, geometry),
            _ => add(&mut self.etablissements, props, geometry),
        };
        if let Err(reason) = result {
            self.unreadable.push((name, Rejected { id: row, reason }));
        }
    }

    pub fn note(&mut self, table: &Table, row: String, remark: String) {
        self.notes.push((
            table.name,
            Rejected {
                id: row,
                reason: remark,
            },
        ));
    }

    /// Rows read, all tables.
    pub fn len(&self) -> usize {
        self.poles.len() + self.sites.len() + self.terrains.len() + self.etablissements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn add<R: Record>(
    out: &mut Vec<Feature<R>>,
    props: Map<String, Value>,
    geometry: Option<geo::Geometry<f64>>,
) -> Result<(), String> {
    let geometry = geometry.ok_or("no geometry")?;
    let record: R = serde_json::from_value(Value::Object(props)).map_err(|e| e.to_string())?;
    out.push(Feature { geometry, record });
    Ok(())
}

/// The table whose rows carry these fields.
pub fn table_of_fields<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<&'static Table> {
    let names: Vec<&str> = names.by_ref().collect();
    let has = |n: &str| names.contains(&n);
    if has("SIRET") || has("siret") {
        Some(&ETABLISSEMENT)
    } else if has("terr_id") {
        Some(&TERRAIN)
    } else if has("site_id") && has("site_nom") {
        Some(&SITE)
    } else if has("pole_id") && has("pole_nom") {
        Some(&POLE)
    } else {
        None
    }
}

/// Reads a CNIG inventory file, by its extension: `.csv` (the standard's `;`-CSV, one
/// table), `.geojson`/`.json`, or `.gpkg` (the template's tables).
pub fn read_file(path: &std::path::Path) -> Result<Inventory, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let what = path.display();
    match ext.as_str() {
        "gpkg" => gpkg::read(path).map_err(|e| format!("{what}: {e}")),
        "csv" | "geojson" | "json" => {
            let bytes = std::fs::read(path).map_err(|e| format!("{what}: {e}"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{what}: not UTF-8 text (the standard's files are UTF-8)"))?;
            if ext == "csv" {
                csv::read(&text).map_err(|e| format!("{what}: {e}"))
            } else {
                geojson_file::read(&text).map_err(|e| format!("{what}: {e}"))
            }
        }
        _ => Err(format!("{what}: expected a .csv, .geojson or .gpkg file")),
    }
}

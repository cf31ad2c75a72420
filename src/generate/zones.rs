//! Synthetic ZAE inventory: sites (ZA and ZC), the plots that tile them, the establishments on
//! occupied plots, and one pôle per EPCI.
//!
//! Calibration: about 2,600 sites drawn, about 2,500 placed (target 2,000–3,000), median
//! surface about 8 ha (log-normal, larger in urban communes and near large towns); most plots
//! occupied, about one in eight not in use; employment densities per hectare by vocation
//! (jobs/ha: tertiary 45, commercial 22, industrial and mixed 18, craft 14, warehouses 10,
//! agricultural logistics 6), within the ranges observed in French business parks.

use std::collections::HashMap;

use geo::{Distance, Euclidean, Geometry, LineString, MultiPolygon, Point, Polygon};
use rstar::{RTree, RTreeObject, AABB};

use crate::date::Date;
use crate::model::{
    codes, oui_non, Commune, Epci, Etablissement, Feature, Pole, Site, Str, Terrain,
    TerritoryClass, SYNTHETIC_SOURCE,
};
use crate::read_model::layer::envelope_of;
use crate::read_model::Layer;

use super::rng::Rng;

/// Reference date of the synthetic inventory (identification and update dates).
pub const INVENTORY_DATE: (i32, u32, u32) = (2026, 9, 1);

struct Placed {
    envelope: AABB<[f64; 2]>,
    polygon: Polygon<f64>,
}

impl RTreeObject for Placed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// A rotated rectangle: centre, axes and size (metres).
#[derive(Clone, Copy)]
struct Frame {
    cx: f64,
    cy: f64,
    cos: f64,
    sin: f64,
    w: f64,
    h: f64,
}

impl Frame {
    /// World coordinates of a local point (0..w, 0..h).
    fn world(&self, lx: f64, ly: f64) -> (f64, f64) {
        let dx = lx - self.w / 2.0;
        let dy = ly - self.h / 2.0;
        (
            self.cx + dx * self.cos - dy * self.sin,
            self.cy + dx * self.sin + dy * self.cos,
        )
    }

    fn rect(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        let pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
        let ring: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| self.world(x, y)).collect();
        Polygon::new(LineString::from(ring), vec![])
    }
}

const PLACE_WORDS: &[&str] = &[
    "du Moulin",
    "des Prés",
    "du Bois",
    "du Marais",
    "du Chemin Vert",
    "des Hauts Champs",
    "de la Vallée",
    "de l'Europe",
    "de la Gare",
    "de la Plaine",
    "du Mont",
    "du Calvaire",
    "des Garennes",
    "du Fond",
    "des Tilleuls",
    "de la Croix",
    "des Peupliers",
    "du Château d'Eau",
    "des Ormes",
    "de la Briqueterie",
    "du Canal",
    "des Sablons",
    "de la Sucrerie",
    "du Champ Fleuri",
    "des Forges",
    "de la Filature",
    "du Pont",
    "des Aulnes",
    "de la Motte",
    "du Rietz",
];

fn vocation_prefix(voc: &str) -> &'static str {
    match voc {
        "commerciale" => "Zone commerciale",
        "industrielle" => "Zone industrielle",
        "tertiaire" => "Parc tertiaire",
        "entrepôts, logistique" => "Parc logistique",
        "logistique agricole" => "Zone agro-logistique",
        "artisanale" => "Zone artisanale",
        _ => "Zone d'activités",
    }
}

/// Jobs per hectare of occupied plot, by vocation.
fn jobs_per_ha(voc: &str) -> f64 {
    match voc {
        "tertiaire" => 45.0,
        "commerciale" => 22.0,
        "industrielle" | "mixte" => 18.0,
        "artisanale" => 14.0,
        "entrepôts, logistique" => 10.0,
        "logistique agricole" => 6.0,
        _ => 15.0,
    }
}

/// Median plot size (ha) by vocation.
fn plot_median_ha(voc: &str) -> f64 {
    match voc {
        "entrepôts, logistique" => 4.0,
        "industrielle" => 2.2,
        "logistique agricole" => 2.0,
        "commerciale" => 1.3,
        "tertiaire" => 0.7,
        "artisanale" => 0.6,
        _ => 1.1,
    }
}

/// NAF codes (rev. 2) and labels by vocation.
fn activities(voc: &str) -> &'static [(&'static str, &'static str)] {
    match voc {
        "commerciale" => &[
            ("47.11F", "Hypermarchés"),
            ("47.11D", "Supermarchés"),
            ("47.52B", "Commerce de détail de quincaillerie, peintures et verres"),
            ("47.59A", "Commerce de détail de meubles"),
            ("45.11Z", "Commerce de voitures et de véhicules automobiles légers"),
            ("56.10C", "Restauration de type rapide"),
            ("47.71Z", "Commerce de détail d'habillement en magasin spécialisé"),
        ],
        "tertiaire" => &[
            ("62.01Z", "Programmation informatique"),
            ("69.20Z", "Activités comptables"),
            ("71.12B", "Ingénierie, études techniques"),
            ("70.22Z", "Conseil pour les affaires et autres conseils de gestion"),
            ("82.20Z", "Activités de centres d'appels"),
            ("86.21Z", "Activité des médecins généralistes"),
        ],
        "entrepôts, logistique" | "logistique agricole" => &[
            ("52.10B", "Entreposage et stockage non frigorifique"),
            ("52.10A", "Entreposage et stockage frigorifique"),
            ("49.41A", "Transports routiers de fret interurbains"),
            ("52.29A", "Messagerie, fret express"),
            ("46.21Z", "Commerce de gros de céréales, de tabac non manufacturé et d'aliments pour le bétail"),
        ],
        "artisanale" => &[
            ("43.22A", "Travaux d'installation d'eau et de gaz en tous locaux"),
            ("43.21A", "Travaux d'installation électrique dans tous locaux"),
            ("45.20A", "Entretien et réparation de véhicules automobiles légers"),
            ("43.32A", "Travaux de menuiserie bois et PVC"),
            ("10.71C", "Boulangerie et boulangerie-pâtisserie"),
            ("25.62B", "Mécanique industrielle"),
        ],
        _ => &[
            ("25.62B", "Mécanique industrielle"),
            ("10.89Z", "Fabrication d'autres produits alimentaires n.c.a."),
            ("22.29A", "Fabrication de pièces techniques à base de matières plastiques"),
            ("28.29B", "Fabrication d'autres machines d'usage général"),
            ("16.23Z", "Fabrication de charpentes et d'autres menuiseries"),
            ("46.69B", "Commerce de gros de fournitures et équipements industriels divers"),
            ("43.99C", "Travaux de maçonnerie générale et gros œuvre de bâtiment"),
        ],
    }
}

/// INSEE employee size band (code, label) for a number of jobs.
pub fn size_band(jobs: u32) -> (&'static str, &'static str) {
    match jobs {
        0 => ("00", "0 salarié"),
        1..=2 => ("01", "1 ou 2 salariés"),
        3..=5 => ("02", "3 à 5 salariés"),
        6..=9 => ("03", "6 à 9 salariés"),
        10..=19 => ("11", "10 à 19 salariés"),
        20..=49 => ("12", "20 à 49 salariés"),
        50..=99 => ("21", "50 à 99 salariés"),
        100..=199 => ("22", "100 à 199 salariés"),
        200..=249 => ("31", "200 à 249 salariés"),
        250..=499 => ("32", "250 à 499 salariés"),
        500..=999 => ("41", "500 à 999 salariés"),
        1000..=1999 => ("42", "1 000 à 1 999 salariés"),
        _ => ("51", "2 000 à 4 999 salariés"),
    }
}

/// Appends the Luhn check digit to a string of digits.
pub fn with_luhn(digits: &str) -> String {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// True when a string of digits passes the Luhn check (SIREN, SIRET).
pub fn luhn_ok(digits: &str) -> bool {
    digits.len() > 1
        && digits.bytes().all(|b| b.is_ascii_digit())
        && with_luhn(&digits[..digits.len() - 1]) == digits
}

fn random_date(rng: &mut Rng, from: Date, to: Date) -> Date {
    Date::from_days(rng.int(from.to_days(), to.to_days().max(from.to_days())))
}

fn inventory_date() -> Date {
    let (y, m, d) = INVENTORY_DATE;
    Date {
        year: y,
        month: m,
        day: d,
    }
}

/// What the zones step produced.
pub struct Zones {
    pub poles: Vec<Feature<Pole>>,
    pub sites: Vec<Feature<Site>>,
    pub terrains: Vec<Feature<Terrain>>,
    pub etablissements: Vec<Feature<Etablissement>>,
}

struct PlotDraft {
    polygon: Polygon<f64>,
    frame: Frame,
    local: [f64; 4],
    area_ha: f64,
}

/// Generates sites, plots, establishments and pôles.
/// The zones of `communes`; `scale` is the territory's population over the Hauts-de-France
/// one the counts were calibrated on ([`super::REFERENCE_POPULATION`]).
pub fn generate(
    seed: u64,
    communes: &Layer<Commune>,
    epci: &HashMap<Str, Epci>,
    scale: f64,
) -> Zones {
    let mut rng = Rng::fork(seed, "zones");
    let inv = inventory_date();

    // 1. How many sites each commune hosts: weight grows with population, more in urban
    //    communes; villages under 500 inhabitants rarely have one.
    let target_sites = 2_600.0 * scale;
    let weights: Vec<f64> = communes
        .iter()
        .map(|c| {
            let r = &c.record;
            let p = r.population as f64;
            if p < 500.0 {
                0.04
            } else {
                let w = (p / 1000.0).powf(0.8);
                if r.classe == TerritoryClass::Urbain {
                    w * 1.3
                } else {
                    w
                }
            }
        })
        .collect();
    let k = target_sites / weights.iter().sum::<f64>();

    let mut placed: RTree<Placed> = RTree::new();
    let mut sites = Vec::new();
    let mut terrains = Vec::new();
    let mut etablissements = Vec::new();
    let mut site_counter: HashMap<Str, u32> = HashMap::new();
    let mut terr_counter: HashMap<Str, u32> = HashMap::new();
    let mut siren_seq: u64 = 0;

    for (ci, c) in communes.iter().enumerate() {
        let n_sites = ((k * weights[ci] + rng.f64()).floor() as usize).min(60);
        let origin = &c.record;
        let urban = origin.classe == TerritoryClass::Urbain;
        for _ in 0..n_sites {
            // 2. Size: log-normal, median 6 ha in rural communes, 9.5 ha in urban ones,
            //    growing with the size of the town nearby.
            let town = (1.0 + 0.12 * (origin.population.max(1000) as f64 / 1000.0).ln()).min(1.6);
            let median = if urban { 7.5 } else { 5.0 } * town;
            let mut area_ha = rng.lognormal(median, 0.85).clamp(0.8, 180.0);
            let aspect = rng.range(1.0, 2.6);
            let theta = rng.range(0.0, std::f64::consts::FRAC_PI_2);
            let mut frame = None;
            for attempt in 0..14 {
                let area_m2 = area_ha * 10_000.0;
                let w = (area_m2 * aspect).sqrt();
                let h = area_m2 / w;
                let spread = if urban { 2_500.0 } else { 1_200.0 };
                let r = 250.0 + w / 2.0 + rng.normal().abs() * spread;
                let phi = rng.range(0.0, std::f64::consts::TAU);
                let f = Frame {
                    cx: origin.mairie_x + r * phi.cos(),
                    cy: origin.mairie_y + r * phi.sin(),
                    cos: theta.cos(),
                    sin: theta.sin(),
                    w,
                    h,
                };
                if fits(&f, communes, &placed) {
                    frame = Some(f);
                    break;
                }
                if attempt % 3 == 2 {
                    area_ha *= 0.8;
                }
            }
            let Some(frame) = frame else { continue };
            let outline = frame.rect(0.0, 0.0, frame.w, frame.h);
            let Some(host) = communes
                .at_point(frame.cx, frame.cy)
                .first()
                .map(|&i| communes.record(i))
            else {
                continue;
            };
            let Some(host_epci) = epci.get(&host.epci_siren) else {
                continue;
            };
            let envelope = envelope_of(&Geometry::Polygon(outline.clone()))
                .expect("a site rectangle is not empty");
            placed.insert(Placed {
                envelope,
                polygon: outline.clone(),
            });

            let n = site_counter.entry(host.code_insee).or_default();
            *n += 1;
            let site_id = format!("{}_SITE-ECO_{:05}", host.code_insee, n);
            let host_urban = host.classe == TerritoryClass::Urbain;
            let voc = rng
                .pick(if host_urban {
                    &[
                        ("commerciale", 0.20),
                        ("industrielle", 0.15),
                        ("tertiaire", 0.10),
                        ("artisanale", 0.15),
                        ("entrepôts, logistique", 0.12),
                        ("mixte", 0.28),
                    ][..]
                } else {
                    &[
                        ("artisanale", 0.33),
                        ("mixte", 0.28),
                        ("industrielle", 0.15),
                        ("commerciale", 0.11),
                        ("logistique agricole", 0.06),
                        ("entrepôts, logistique", 0.07),
                    ][..]
                })
                .to_string();
            let etat = rng
                .pick(&[
                    ("existant et actif", 0.88),
                    ("création", 0.06),
                    ("en projet", 0.03),
                    ("projet de déclassement", 0.03),
                ])
                .to_string();
            let young = etat == "création" || etat == "en projet";
            let creation = if young {
                random_date(&mut rng, Date::jan1(2019), Date::jan1(2025))
            } else {
                let y = 2023 - (rng.lognormal(22.0, 0.55).min(60.0) as i32);
                random_date(&mut rng, Date::jan1(y), Date::jan1(y + 1))
            };

            // 3. Plots: guillotine cuts of the site rectangle until plots reach the vocation's
            //    typical size, so that they tile the site exactly.
            let plot_target = rng.lognormal(plot_median_ha(&voc), 0.35);
            let mut leaves = Vec::new();
            split(
                &mut rng,
                [0.0, 0.0, frame.w, frame.h],
                (plot_target * 10_000.0).max(area_ha * 10_000.0 / 60.0),
                0,
                &mut leaves,
            );
            let site_polygon = outline_of(&frame, &leaves);
            let mut plots: Vec<PlotDraft> = leaves
                .into_iter()
                .map(|l| PlotDraft {
                    polygon: frame.rect(l[0], l[1], l[2], l[3]),
                    frame,
                    local: l,
                    area_ha: (l[2] - l[0]) * (l[3] - l[1]) / 10_000.0,
                })
                .collect();
            // The largest-index plot is the site's road and green space when the site is big
            // enough to have one.
            let has_road = plots.len() >= 6;
            // Propensity of the site to have unused plots: rural zones a little more.
            let idle_bias = rng.lognormal(1.0, 0.6) * if host_urban { 0.9 } else { 1.15 };

            let mut surf_utile = 0.0;
            let mut uf_total = 0u32;
            let mut uf_vacant_legal = 0u32;
            let mut uf_bati = 0u32;
            let mut nb_etab = 0u32;
            let mut nb_emploi = 0u32;
            let mut for_sale = 0.0;
            let last = plots.len().saturating_sub(1);
            for (pi, plot) in plots.iter_mut().enumerate() {
                let t = terr_counter.entry(host.code_insee).or_default();
                *t += 1;
                let terr_id = format!("{}_TERRAIN-ECO_{:05}", host.code_insee, t);
                let road = has_road && pi == last;
                let mut terr =
                    plot_record(&mut rng, &terr_id, &site_id, plot.area_ha, &host.code_insee);
                if road {
                    terr.terr_utile = Some(oui_non(false));
                    terr.terr_etat_occup = "sans objet".into();
                    terr.terr_stade_comm = "non commercialisable".into();
                    terr.terr_stade_amngt = "viabilisé et aménagé".into();
                    terr.terr_usage = rng
                        .pick(&[
                            ("voirie", 0.7),
                            ("espace vert", 0.2),
                            ("bassin d'orage", 0.1),
                        ])
                        .to_string()
                        .into();
                    terr.terr_maitrise_fonc = "structure intercommunale".into();
                    // Identified with the rest of the inventory (the dates are required).
                    terr.terr_identif_date = inv.into();
                    terr.terr_actu_date = inv.into();
                } else {
                    let idle = (0.13 * idle_bias).min(0.6);
                    let choices: &[(&str, f64)] = if young {
                        &[(codes::OCCUPE, 0.25), (codes::INOCCUPE, 0.75)]
                    } else {
                        &[
                            (codes::OCCUPE, 1.0 - idle),
                            (codes::VACANT, idle * 0.42),
                            (codes::INOCCUPE, idle * 0.28),
                            (codes::FRICHE, idle * 0.18),
                            (codes::OCCUPATION_TRANSITOIRE, idle * 0.12),
                        ]
                    };
                    let status = *rng.pick(choices);
                    fill_status(&mut rng, &mut terr, status, creation, young, inv);
                    surf_utile += plot.area_ha;
                }
                uf_total += 1;
                if terr.is_legally_vacant(inv.year) {
                    uf_vacant_legal += 1;
                }
                if matches!(
                    terr.terr_stade_comm.as_str(),
                    codes::EN_VENTE | codes::EN_VENTE_CONTRAINTES
                ) {
                    for_sale += plot.area_ha;
                }
                if terr.terr_etat_occup == codes::OCCUPE
                    || terr.terr_etat_occup == codes::OCCUPATION_TRANSITOIRE
                {
                    uf_bati += 1;
                    let (etabs, jobs) = establishments(
                        &mut rng,
                        &mut siren_seq,
                        plot,
                        &terr,
                        &voc,
                        creation,
                        host,
                        host_epci,
                        inv,
                    );
                    nb_etab += etabs.len() as u32;
                    nb_emploi += jobs;
                    if let (Some(first), Some(_)) = (etabs.first(), terr.terr_acquereur.as_ref()) {
                        terr.terr_cession_date = Some(first.record.implantation_date().into());
                    }
                    etablissements.extend(etabs);
                }
                terrains.push(Feature {
                    geometry: Geometry::Polygon(plot.polygon.clone()),
                    record: terr,
                });
            }

            let taux = if uf_total > 0 {
                (100.0 * uf_vacant_legal as f64 / uf_total as f64).round() as u32
            } else {
                0
            };
            let rail = voc == "industrielle" || voc.starts_with("entrepôts");
            let net = |rng: &mut Rng, p: f64| Some(oui_non(rng.chance(p)));
            let site = Site {
                site_id: site_id.into(),
                pole_id: String::new().into(),
                site_nom: format!(
                    "{} {} – {}",
                    vocation_prefix(&voc),
                    rng.choose(PLACE_WORDS),
                    host.nom
                )
                .into(),
                site_type: if rng.chance(0.05) {
                    "site économique historique hors ZAE".into()
                } else {
                    "zone d'activité économique".into()
                },
                site_vocadomi: Str::new(&voc),
                site_etat: etat.into(),
                site_surf_brute: round2(area_ha_of(&frame)),
                site_surf_utile: round2(surf_utile),
                site_creation_date: Some(creation.into()),
                site_identif_date: random_date(&mut rng, Date::jan1(2023), inv)
                    .to_string()
                    .into(),
                site_actu_date: inv.into(),
                source_producteur: Some(SYNTHETIC_SOURCE.into()),
                site_description: Some(
                    "Site synthétique généré par ecofoncier (aucune réalité).".into(),
                ),
                site_evol_urba: Some(
                    if young {
                        "extension urbaine"
                    } else {
                        *rng.choose(&["extension urbaine", "renouvellement urbain", "mixte"])
                    }
                    .into(),
                ),
                site_epci_nom: host_epci.epci_nom,
                site_epci_siren: host_epci.epci_siren,
                site_comm_nom: host.nom,
                site_comm_insee: host.code_insee,
                site_moa_type: rng
                    .pick(&[
                        ("epci", 0.6),
                        ("commune", 0.2),
                        ("SEM", 0.1),
                        ("privé", 0.1),
                    ])
                    .to_string()
                    .into(),
                site_moa_nom: Some(host_epci.epci_nom),
                site_uf_nbre: Some(uf_total),
                site_uf_vacant_nbre: Some(uf_vacant_legal),
                site_taux_vacance: Some(taux),
                site_uf_bati_nbre: Some(uf_bati),
                site_nb_etab: Some(nb_etab),
                site_nb_emploi: Some(nb_emploi),
                site_surf_comm_dispo: Some(round2(for_sale)),
                site_voca_industrielle: Some(oui_non(voc == "industrielle" || voc == "mixte")),
                site_voca_commerciale: Some(oui_non(voc == "commerciale" || voc == "mixte")),
                site_voca_tertiaire: Some(oui_non(voc == "tertiaire" || voc == "mixte")),
                site_voca_artisanale: Some(oui_non(voc == "artisanale" || voc == "mixte")),
                reseau_eau_pluviale: net(&mut rng, 0.8),
                reseau_eau_potable: net(&mut rng, 0.98),
                reseau_assainissement: net(&mut rng, 0.85),
                reseau_gaz: net(&mut rng, if host_urban { 0.8 } else { 0.55 }),
                reseau_electrique: Some(oui_non(true)),
                reseau_fibre_optique: net(&mut rng, if host_urban { 0.85 } else { 0.55 }),
                reseau_fret_ferroviaire: net(&mut rng, if rail { 0.2 } else { 0.03 }),
                reseau_fluvial: net(&mut rng, if rail { 0.06 } else { 0.01 }),
                desserte_tc: net(&mut rng, if host_urban { 0.6 } else { 0.15 }),
                desserte_route_nom: Some(format!("D{}", rng.int(1, 1_999)).into()),
                autoroute_nom: Some(format!("A{}", rng.choose(&[1, 2, 16, 25, 26, 28, 29])).into()),
                autoroute_echang_dist: Some(round1(
                    rng.lognormal(if host_urban { 5.0 } else { 14.0 }, 0.7),
                )),
                gare_nom: Some(host.nom),
                gare_dist: Some(round1(
                    rng.lognormal(if host_urban { 2.5 } else { 8.0 }, 0.7),
                )),
                site_quali_territoire: None,
                site_url: None,
                site_moa_amngt: None,
                site_moa_comm: None,
                site_geompoint: None,
                site_media: None,
                site_surf_projet: None,
                site_voca_touristique: None,
                site_voca_portuaire: None,
                site_voca_aeroportuaire: None,
                gare_fret_nom: None,
                gare_fret_dist: None,
                aeroport_nom: None,
                aeroport_dist: None,
                port_nom: None,
                port_dist: None,
                champs_hors_liste: Vec::new(),
            };
            sites.push(Feature {
                geometry: Geometry::MultiPolygon(MultiPolygon(vec![site_polygon])),
                record: site,
            });
        }
    }

    let poles = poles(&mut sites, communes, epci, inv);
    Zones {
        poles,
        sites,
        terrains,
        etablissements,
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn area_ha_of(f: &Frame) -> f64 {
    f.w * f.h / 10_000.0
}

/// True when the rectangle lies inside the region (every corner and the centre in a commune)
/// and keeps at least 25 m from every site already placed.
fn fits(f: &Frame, communes: &Layer<Commune>, placed: &RTree<Placed>) -> bool {
    let corners = [
        f.world(0.0, 0.0),
        f.world(f.w, 0.0),
        f.world(f.w, f.h),
        f.world(0.0, f.h),
        (f.cx, f.cy),
    ];
    if corners
        .iter()
        .any(|&(x, y)| communes.at_point(x, y).is_empty())
    {
        return false;
    }
    let poly = f.rect(0.0, 0.0, f.w, f.h);
    let Some(env) = envelope_of(&Geometry::Polygon(poly.clone())) else {
        return false;
    };
    let gap = 25.0;
    let search = AABB::from_corners(
        [env.lower()[0] - gap, env.lower()[1] - gap],
        [env.upper()[0] + gap, env.upper()[1] + gap],
    );
    placed
        .locate_in_envelope_intersecting(&search)
        .all(|p| Euclidean.distance(&p.polygon, &poly) >= gap)
}

/// The site's outline through every plot corner on its boundary, so that the plots tile it
/// exactly even after coordinates are rounded (shared vertices round alike).
fn outline_of(frame: &Frame, leaves: &[[f64; 4]]) -> Polygon<f64> {
    let (w, h) = (frame.w, frame.h);
    let mut bottom = vec![0.0, w];
    let mut right = vec![0.0, h];
    let mut top = vec![0.0, w];
    let mut left = vec![0.0, h];
    for l in leaves {
        if l[1] == 0.0 {
            bottom.extend([l[0], l[2]]);
        }
        if l[2] == w {
            right.extend([l[1], l[3]]);
        }
        if l[3] == h {
            top.extend([l[0], l[2]]);
        }
        if l[0] == 0.0 {
            left.extend([l[1], l[3]]);
        }
    }
    for v in [&mut bottom, &mut right, &mut top, &mut left] {
        v.sort_by(f64::total_cmp);
        v.dedup();
    }
    let mut ring: Vec<(f64, f64)> = Vec::new();
    ring.extend(bottom.iter().map(|&x| (x, 0.0)));
    ring.extend(right.iter().skip(1).map(|&y| (w, y)));
    ring.extend(top.iter().rev().skip(1).map(|&x| (x, h)));
    ring.extend(left.iter().rev().skip(1).map(|&y| (0.0, y)));
    let world: Vec<(f64, f64)> = ring.iter().map(|&(x, y)| frame.world(x, y)).collect();
    Polygon::new(LineString::from(world), vec![])
}

fn split(rng: &mut Rng, r: [f64; 4], target_m2: f64, depth: u32, out: &mut Vec<[f64; 4]>) {
    let (w, h) = (r[2] - r[0], r[3] - r[1]);
    if w * h <= target_m2 * 1.6 || depth >= 14 {
        out.push(r);
        return;
    }
    let t = rng.range(0.35, 0.65);
    if w >= h {
        let x = r[0] + w * t;
        split(rng, [r[0], r[1], x, r[3]], target_m2, depth + 1, out);
        split(rng, [x, r[1], r[2], r[3]], target_m2, depth + 1, out);
    } else {
        let y = r[1] + h * t;
        split(rng, [r[0], r[1], r[2], y], target_m2, depth + 1, out);
        split(rng, [r[0], y, r[2], r[3]], target_m2, depth + 1, out);
    }
}

fn plot_record(rng: &mut Rng, terr_id: &str, site_id: &str, area_ha: f64, insee: &str) -> Terrain {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let section = format!(
        "{}{}",
        letters[rng.int(0, 25) as usize] as char,
        letters[rng.int(0, 25) as usize] as char
    );
    Terrain {
        terr_id: terr_id.into(),
        site_id: Some(site_id.into()),
        terr_refcad: Some(format!("{insee}000{section}{:04}", rng.int(1, 2_999)).into()),
        terr_surf_brute: round2(area_ha),
        terr_utile: Some(oui_non(true)),
        terr_identif_date: String::new().into(),
        terr_actu_date: String::new().into(),
        terr_maitrise_fonc: String::new().into(),
        terr_stade_amngt: String::new().into(),
        terr_stade_comm: String::new().into(),
        terr_etat_occup: String::new().into(),
        terr_usage: String::new().into(),
        terr_cle_en_main: None,
        terr_activite_fin_date: None,
        terr_inoccupe_date: None,
        source_producteur: Some(SYNTHETIC_SOURCE.into()),
        terr_acquereur: None,
        terr_cession_date: None,
        terr_vente_montant: None,
        terr_m2_prix: None,
        terr_url_cartofriches: None,
        champs_hors_liste: Vec::new(),
    }
}

/// Fills a plot's occupation, commercial and servicing stages and dates, consistently.
fn fill_status(
    rng: &mut Rng,
    t: &mut Terrain,
    status: &str,
    creation: Date,
    young: bool,
    inv: Date,
) {
    t.terr_etat_occup = status.into();
    t.terr_identif_date = random_date(rng, Date::jan1(2023), inv).into();
    t.terr_actu_date = inv.into();
    let since_creation = Date::from_days(creation.to_days() + 365);
    match status {
        codes::OCCUPE => {
            t.terr_stade_comm = rng
                .pick(&[(codes::VENDU, 0.9), ("non commercialisé", 0.1)])
                .to_string()
                .into();
            t.terr_stade_amngt = "viabilisé et aménagé".into();
            t.terr_usage = rng
                .pick(&[
                    ("bâti productif", 0.8),
                    ("dépôt, stockage", 0.14),
                    ("parkings", 0.06),
                ])
                .to_string()
                .into();
            t.terr_maitrise_fonc = rng
                .pick(&[
                    ("investisseur", 0.55),
                    ("personne physique", 0.15),
                    ("aménageur", 0.2),
                    ("structure intercommunale", 0.1),
                ])
                .to_string()
                .into();
            if t.terr_stade_comm == codes::VENDU {
                let price = rng.range(12.0, 55.0).round();
                t.terr_acquereur =
                    Some(format!("SCI synthétique {:06}", rng.int(1, 999_999)).into());
                t.terr_m2_prix = Some(price);
                t.terr_vente_montant = Some((price * t.terr_surf_brute * 10_000.0).round());
            }
        }
        codes::VACANT => {
            let end = random_date(
                rng,
                Date::jan1(2015).max(since_creation),
                Date::new(2026, 6, 30).unwrap_or(inv),
            );
            t.terr_activite_fin_date = Some(end.into());
            t.terr_inoccupe_date = Some(end.into());
            t.terr_stade_comm = rng
                .pick(&[
                    (codes::EN_VENTE, 0.6),
                    (codes::EN_VENTE_CONTRAINTES, 0.1),
                    ("non commercialisé", 0.3),
                ])
                .to_string()
                .into();
            t.terr_stade_amngt = "viabilisé et aménagé".into();
            t.terr_usage = "bâti productif".into();
            t.terr_maitrise_fonc = rng
                .pick(&[
                    ("investisseur", 0.6),
                    ("personne physique", 0.2),
                    ("structure intercommunale", 0.2),
                ])
                .to_string()
                .into();
        }
        codes::FRICHE => {
            let end = random_date(rng, Date::jan1(2000).max(since_creation), Date::jan1(2023));
            t.terr_activite_fin_date = Some(end.into());
            t.terr_inoccupe_date = Some(end.into());
            t.terr_stade_comm = rng
                .pick(&[
                    ("non commercialisable", 0.5),
                    (codes::EN_VENTE_CONTRAINTES, 0.5),
                ])
                .to_string()
                .into();
            t.terr_stade_amngt = "viabilisé et aménagé".into();
            t.terr_usage = rng
                .pick(&[("bâti productif", 0.7), ("dépôt, stockage", 0.3)])
                .to_string()
                .into();
            t.terr_maitrise_fonc = rng
                .pick(&[("EPF", 0.3), ("investisseur", 0.5), ("commune", 0.2)])
                .to_string()
                .into();
        }
        codes::OCCUPATION_TRANSITOIRE => {
            let end = random_date(rng, Date::jan1(2016).max(since_creation), Date::jan1(2025));
            t.terr_activite_fin_date = Some(end.into());
            t.terr_stade_comm = rng
                .pick(&[("non commercialisé", 0.6), (codes::EN_VENTE, 0.4)])
                .to_string()
                .into();
            t.terr_stade_amngt = "viabilisé et aménagé".into();
            t.terr_usage = rng
                .pick(&[("dépôt, stockage", 0.6), ("parkings", 0.4)])
                .to_string()
                .into();
            t.terr_maitrise_fonc = rng
                .pick(&[("structure intercommunale", 0.5), ("investisseur", 0.5)])
                .to_string()
                .into();
        }
        _ => {
            // Never built nor occupied since the zone opened.
            t.terr_inoccupe_date = Some(creation.into());
            t.terr_stade_comm = rng
                .pick(&[
                    (codes::EN_VENTE, 0.55),
                    ("réservé par option de réservation", 0.1),
                    ("réservé par une délibération de l'EPCI", 0.05),
                    ("non commercialisé", 0.3),
                ])
                .to_string()
                .into();
            t.terr_stade_amngt = if young {
                rng.pick(&[
                    ("non aménagé, non viabilisé", 0.5),
                    ("viabilisation en cours", 0.5),
                ])
                .to_string()
                .into()
            } else {
                rng.pick(&[
                    ("viabilisé non aménagé", 0.7),
                    ("viabilisation en cours", 0.1),
                    ("non aménagé, non viabilisé", 0.2),
                ])
                .to_string()
                .into()
            };
            t.terr_usage = "espace agricole".into();
            t.terr_maitrise_fonc = rng
                .pick(&[
                    ("structure intercommunale", 0.7),
                    ("commune", 0.2),
                    ("SEM/SPLA", 0.1),
                ])
                .to_string()
                .into();
            if t.terr_stade_comm == codes::EN_VENTE {
                t.terr_cle_en_main = Some(oui_non(rng.chance(0.1)));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn establishments(
    rng: &mut Rng,
    siren_seq: &mut u64,
    plot: &PlotDraft,
    terr: &Terrain,
    voc: &str,
    creation: Date,
    host: &Commune,
    host_epci: &Epci,
    inv: Date,
) -> (Vec<Feature<Etablissement>>, u32) {
    let transitional = terr.terr_etat_occup == codes::OCCUPATION_TRANSITOIRE;
    let n = if transitional {
        1
    } else {
        match voc {
            "commerciale" => rng.int(1, 2),
            "tertiaire" => rng.int(1, 3),
            _ => {
                if rng.chance(0.15) {
                    2
                } else {
                    1
                }
            }
        }
    } as usize;
    let density = jobs_per_ha(voc) * if transitional { 0.2 } else { 1.0 };
    let plot_jobs = plot.area_ha * density * rng.lognormal(1.0, 0.6);
    let mut out = Vec::with_capacity(n);
    let mut total = 0;
    let acts = activities(voc);
    for _ in 0..n {
        *siren_seq += 1;
        let siren = with_luhn(&format!("9{:07}", *siren_seq));
        let siret = with_luhn(&format!("{siren}{:04}", rng.int(1, 99)));
        let jobs = ((plot_jobs / n as f64) * rng.range(0.6, 1.4))
            .round()
            .max(1.0) as u32;
        total += jobs;
        let (code, label) = *rng.choose(acts);
        let (band, band_label) = size_band(jobs);
        let settled = random_date(rng, Date::from_days(creation.to_days() + 180).min(inv), inv);
        let founded = random_date(rng, Date::jan1(1950), settled);
        let renovated = rng.chance(if creation.year < 2000 { 0.45 } else { 0.2 });
        let [x0, y0, x1, y1] = plot.local;
        let (x, y) = plot.frame.world(
            rng.range(x0 + 0.2 * (x1 - x0), x1 - 0.2 * (x1 - x0)),
            rng.range(y0 + 0.2 * (y1 - y0), y1 - 0.2 * (y1 - y0)),
        );
        let num = *siren_seq;
        out.push(Feature {
            geometry: Geometry::Point(Point::new(x, y)),
            record: Etablissement {
                SIRET: siret.into(),
                SIREN: siren.into(),
                terr_id: terr.terr_id,
                ban_id: None,
                bat_id: None,
                etab_adresse: None,
                etab_raison_sociale: format!("Société synthétique {num:06}").into(),
                etab_nat_juridique: rng
                    .pick(&[("5710", 0.5), ("5499", 0.35), ("1000", 0.15)])
                    .to_string()
                    .into(),
                etab_nom: format!("Établissement synthétique {num:06}").into(),
                epci_nom: host_epci.epci_nom,
                epci_siren: host_epci.epci_siren,
                comm_nom: host.nom,
                comm_insee: host.code_insee,
                etab_siege: Some(oui_non(rng.chance(0.6))),
                etab_creation_date: founded.into(),
                etab_identif_date: random_date(rng, Date::jan1(2023), inv).into(),
                etab_actu_date: inv.into(),
                etab_actif: Some(oui_non(true)),
                etab_fermeture_date: None,
                etab_description: None,
                etab_activite_code: code.into(),
                etab_activite_libelle: label.into(),
                etab_effectif_code: band.into(),
                etab_effectif_libelle: band_label.into(),
                etab_effectif_annee: format!("{}-12-31", inv.year - 2).into(),
                etab_source_info: SYNTHETIC_SOURCE.into(),
                geocodage_qualite: "synthétique".into(),
                etab_emplois: Some(jobs),
                etab_implantation_date: Some(settled.into()),
                etab_implantation_mode: Some(
                    if renovated {
                        "réhabilitation"
                    } else {
                        "construction neuve"
                    }
                    .to_string()
                    .into(),
                ),
                etab_contact_mail: num
                    .is_multiple_of(4)
                    .then(|| format!("contact{num:06}@entreprise-synthetique.invalid").into()),
                etab_contact_tel: num.is_multiple_of(4).then(|| {
                    format!(
                        "03 99 {:02} {:02} {:02}",
                        num / 10_000 % 100,
                        num / 100 % 100,
                        num % 100
                    )
                    .into()
                }),
            },
        });
    }
    (out, total)
}

/// One pôle per EPCI that has sites: the sites' area-weighted centre, their totals.
fn poles(
    sites: &mut [Feature<Site>],
    communes: &Layer<Commune>,
    epci: &HashMap<Str, Epci>,
    inv: Date,
) -> Vec<Feature<Pole>> {
    use geo::Centroid;
    let mut acc: std::collections::BTreeMap<Str, (f64, f64, f64, u32, u32, u32)> =
        Default::default();
    for s in sites.iter() {
        let r = &s.record;
        let Some(c) = s.geometry.centroid() else {
            continue;
        };
        let e = acc.entry(r.site_epci_siren).or_default();
        e.0 += c.x() * r.site_surf_brute;
        e.1 += c.y() * r.site_surf_brute;
        e.2 += r.site_surf_brute;
        e.3 += 1;
        e.4 += r.site_nb_etab.unwrap_or(0);
        e.5 += r.site_nb_emploi.unwrap_or(0);
    }
    // The pôle is named after the EPCI and identified by its most populous commune.
    let mut main_commune: HashMap<&str, (&str, u32)> = HashMap::new();
    for c in communes.iter() {
        let r = &c.record;
        let e = main_commune
            .entry(&r.epci_siren)
            .or_insert((&r.code_insee, 0));
        if r.population > e.1 {
            *e = (&r.code_insee, r.population);
        }
    }
    let mut ids = HashMap::new();
    let mut out = Vec::new();
    for (siren, (sx, sy, area, n, etab, jobs)) in acc {
        let insee = main_commune
            .get(siren.as_str())
            .map(|e| e.0)
            .unwrap_or("00000");
        let pole_id = format!("{insee}_POLE-ECO_00001");
        let nom = epci.get(&siren).map(|e| e.epci_nom).unwrap_or_default();
        out.push(Feature {
            geometry: Geometry::Point(Point::new(sx / area, sy / area)),
            record: Pole {
                pole_id: Str::new(&pole_id),
                pole_nom: format!("Pôle économique – {nom}").into(),
                pole_vocadomi: "mixte".into(),
                pole_identif_date: inv.into(),
                pole_actu_date: Some(inv.into()),
                pole_nb_site: Some(n),
                pole_nb_etab: Some(etab),
                pole_nb_emploi: Some(jobs),
                pole_surface: round2(area),
                pole_rayonnement: Some(if area > 500.0 { "régional" } else { "local" }.into()),
                source_producteur: Some(SYNTHETIC_SOURCE.into()),
            },
        });
        ids.insert(siren, pole_id);
    }
    for s in sites.iter_mut() {
        if let Some(id) = ids.get(&s.record.site_epci_siren) {
            s.record.pole_id = id.into();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_known_siren() {
        // 732 829 320 is a valid SIREN (Luhn).
        assert!(luhn_ok("732829320"));
        assert!(!luhn_ok("732829321"));
        assert!(luhn_ok(&with_luhn("90000001")));
    }

    #[test]
    fn size_bands() {
        assert_eq!(size_band(0).0, "00");
        assert_eq!(size_band(12).0, "11");
        assert_eq!(size_band(250).0, "32");
    }
}

//! Synthetic centre-bourg commercial premises and tiers-lieux / France services sites.
//!
//! Calibration: premises in communes of at least 700 inhabitants, about one per 220
//! inhabitants (at most 150 per commune: the centre only), vacancy about 15 % in villages,
//! 12.5 % (one in eight) in small towns of 2,000–10,000, 11 % and 9 % in larger towns;
//! 280 tiers-lieux and 80 France services sites, the Hauts-de-France counts.

use geo::{Geometry, Point};

use crate::model::services::ActiviteAnnuelle;
use crate::model::{codes, Commune, Feature, LocalCommercial, Str, TiersLieu, SYNTHETIC_SOURCE};
use crate::read_model::Layer;

use super::rng::Rng;

const SHOPS: &[(&str, &str)] = &[
    ("10.71C", "Boulangerie et boulangerie-pâtisserie"),
    ("47.11B", "Commerce d'alimentation générale"),
    (
        "47.22Z",
        "Commerce de détail de viandes et de produits à base de viande",
    ),
    ("56.10A", "Restauration traditionnelle"),
    ("56.30Z", "Débits de boissons"),
    ("96.02A", "Coiffure"),
    ("47.73Z", "Commerce de détail de produits pharmaceutiques"),
    ("47.76Z", "Commerce de détail de fleurs, plantes, graines"),
    ("47.62Z", "Commerce de détail de journaux et papeterie"),
    ("68.31Z", "Agences immobilières"),
    ("64.19Z", "Autres intermédiations monétaires"),
    (
        "47.71Z",
        "Commerce de détail d'habillement en magasin spécialisé",
    ),
];

/// Share of premises vacant by commune size.
fn vacancy_share(population: u32) -> f64 {
    match population {
        0..=1_999 => 0.15,
        2_000..=9_999 => 0.125,
        10_000..=49_999 => 0.11,
        _ => 0.09,
    }
}

fn near_town_hall(rng: &mut Rng, c: &Commune, sigma: f64) -> Point<f64> {
    Point::new(
        c.mairie_x + rng.normal() * sigma,
        c.mairie_y + rng.normal() * sigma,
    )
}

/// Commercial premises around the town halls.
pub fn premises(seed: u64, communes: &Layer<Commune>) -> Vec<Feature<LocalCommercial>> {
    let mut rng = Rng::fork(seed, "premises");
    let mut out = Vec::new();
    for c in communes.iter() {
        let r = &c.record;
        if r.population < 700 {
            continue;
        }
        let n = ((r.population as f64 / 220.0) * rng.range(0.8, 1.2))
            .round()
            .clamp(1.0, 150.0) as usize;
        let sigma = 50.0 + (n as f64).sqrt() * 20.0;
        for i in 0..n {
            let vacant = rng.chance(vacancy_share(r.population));
            let (code, label) = *rng.choose(SHOPS);
            let settled = 2026 - rng.lognormal(9.0, 0.8).min(45.0) as i32;
            out.push(Feature {
                geometry: Geometry::Point(near_town_hall(&mut rng, r, sigma)),
                record: LocalCommercial {
                    local_id: format!("{}_LOCAL_{:04}", r.code_insee, i + 1).into(),
                    comm_insee: r.code_insee,
                    comm_nom: r.nom,
                    epci_siren: r.epci_siren,
                    local_surface_m2: rng.lognormal(90.0, 0.5).round(),
                    local_etat: if vacant { codes::VACANT } else { codes::OCCUPE }
                        .to_string()
                        .into(),
                    local_enseigne: (!vacant).then(|| {
                        format!("Commerce synthétique {}-{:03}", r.code_insee, i + 1).into()
                    }),
                    local_activite_code: (!vacant).then(|| code.into()),
                    local_activite_libelle: (!vacant).then(|| label.into()),
                    local_installation_annee: (!vacant).then_some(settled),
                    local_vacant_depuis: vacant.then(|| rng.int(2014, 2026) as i32),
                    source_producteur: SYNTHETIC_SOURCE.into(),
                },
            });
        }
    }
    out
}

/// Draws `n` distinct communes with probability proportional to `weight`.
fn draw_communes(
    rng: &mut Rng,
    communes: &Layer<Commune>,
    n: usize,
    weight: impl Fn(&Commune) -> f64,
) -> Vec<usize> {
    let mut weights: Vec<f64> = communes.iter().map(|c| weight(c.record)).collect();
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n && weights.iter().any(|w| *w > 0.0) {
        let i = rng.weighted(&weights);
        weights[i] = 0.0;
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}

const HOURS: &[&str] = &[
    "lun.–ven. 9h–12h30, 13h30–17h",
    "mar.–sam. 9h–18h",
    "lun., mer., ven. 9h–17h ; sam. 9h–12h",
    "mar.–ven. 10h–19h ; sam. 10h–16h",
    "lun.–jeu. 8h30–12h, 13h30–17h30 ; ven. 8h30–12h",
];

fn services(rng: &mut Rng, france_services: bool) -> String {
    let probs: [f64; 9] = if france_services {
        // santé, emploi, démarches, numérique, café, coworking, épicerie, poste, écrivain public
        [0.5, 0.9, 1.0, 0.8, 0.05, 0.1, 0.02, 0.3, 0.4]
    } else {
        [0.15, 0.3, 0.2, 0.6, 0.5, 0.7, 0.25, 0.1, 0.1]
    };
    let mut chosen: Vec<&str> = codes::SERVICES
        .iter()
        .zip(probs)
        .filter(|(_, p)| rng.chance(*p))
        .map(|(s, _)| *s)
        .collect();
    if chosen.is_empty() {
        chosen.push(codes::SERVICES[5]);
    }
    chosen.join("|")
}

/// 280 tiers-lieux (communes weighted by √population) and 80 France services sites (bourgs
/// and small towns of 1,500–15,000 inhabitants, rural ones first) for the population of
/// Hauts-de-France; `scale` times as many elsewhere.
pub fn tiers_lieux(seed: u64, communes: &Layer<Commune>, scale: f64) -> Vec<Feature<TiersLieu>> {
    use crate::model::TerritoryClass;
    let mut rng = Rng::fork(seed, "tiers-lieux");
    let tl = draw_communes(&mut rng, communes, (280.0 * scale).round() as usize, |c| {
        if c.population < 300 {
            0.0
        } else {
            (c.population as f64).sqrt()
        }
    });
    let fs = draw_communes(&mut rng, communes, (80.0 * scale).round() as usize, |c| {
        if (1_500..=15_000).contains(&c.population) {
            if c.classe == TerritoryClass::Rural {
                2.0
            } else {
                1.0
            }
        } else {
            0.0
        }
    });
    let mut out = Vec::new();
    for (kind, list) in [
        (TiersLieu::TIERS_LIEU, tl),
        (TiersLieu::FRANCE_SERVICES, fs),
    ] {
        let france_services = kind == TiersLieu::FRANCE_SERVICES;
        for i in list {
            let c = &communes.get(i).record;
            let opened = rng.int(2016, 2024) as i32;
            let base = if france_services {
                rng.range(4_000.0, 9_000.0)
            } else {
                rng.range(1_500.0, 8_000.0)
            };
            let activite = (opened.max(2021)..=2025)
                .map(|annee| {
                    let ramp = 1.0 + 0.08 * (annee - opened).min(5) as f64;
                    let visites = (base * ramp * rng.range(0.85, 1.15)).round() as u32;
                    ActiviteAnnuelle {
                        annee,
                        visites,
                        demarches: if france_services {
                            (visites as f64 * rng.range(0.5, 0.7)).round() as u32
                        } else {
                            (visites as f64 * rng.range(0.0, 0.1)).round() as u32
                        },
                        emplois_crees: rng.int(0, if france_services { 1 } else { 4 }) as u32,
                        nouveaux_partenaires: rng.int(0, 12) as u32,
                    }
                })
                .collect();
            let prefix = if france_services { "FS" } else { "TL" };
            let nom = if france_services {
                format!("France services de {}", c.nom)
            } else {
                format!("Tiers-lieu synthétique de {}", c.nom)
            };
            out.push(Feature {
                geometry: Geometry::Point(near_town_hall(&mut rng, c, 120.0)),
                record: TiersLieu {
                    tl_id: format!("{}_{prefix}_01", c.code_insee).into(),
                    tl_nom: nom.into(),
                    tl_type: kind.into(),
                    comm_insee: c.code_insee,
                    comm_nom: c.nom,
                    epci_siren: c.epci_siren,
                    tl_services: services(&mut rng, france_services).into(),
                    tl_horaires: Str::new(rng.choose::<&str>(HOURS)),
                    tl_ouverture_annee: Some(opened),
                    tl_adresse: None,
                    tl_activite: activite,
                    source_producteur: SYNTHETIC_SOURCE.into(),
                },
            });
        }
    }
    out
}

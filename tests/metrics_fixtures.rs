//! Every metric against figures computed by hand on a small territory written for the test.
//!
//! The fixture, Lambert-93 offsets from (700 000, 7 000 000), metres:
//! - communes: C1 `99001` = [0,10 km]×[0,10 km], 1,000 inhabitants; C2 `99002` = [10,20]×[0,10],
//!   3,000; C3 `99003` = [20,30]×[0,10], 500. Town halls at the squares' centres. C1 and C2 form
//!   EPCI E1 `200000001`; C3 is EPCI E2 `200000002`. C1 and C2 are in region `32`
//!   (Hauts-de-France), C3 in region `28` (Normandie).
//! - site S1 in C1 = [2000,2300]×[2000,2500] (15 ha), cut in 15 strips of 20 m × 500 m = 1 ha:
//!   11 occupied, 2 vacant since 2020-06-01, 1 vacant since 2025-03-01, 1 never used (the
//!   CNIG worked example: 15 units, 2 legally vacant → 13);
//! - site S2 in C2 = [12000,12200]×[2000,2100] (2 ha): plot A occupied (site_id S2), plot B
//!   vacant since 2019 without site_id (placed by containment);
//! - site S3 in C3 = [22000,22100]×[2000,2100] (1 ha): plot D occupied; plot E says S3 but
//!   lies in S2's strip [12100,12200]×[2100,2200]: not inside any site, reported.

use ecofoncier::metrics::commute::{self, Scenario};
use ecofoncier::metrics::proposal::{self, Proposal};
use ecofoncier::metrics::search::{self, Criteria};
use ecofoncier::metrics::{coverage, land_take, Metrics, Touched};
use ecofoncier::model::*;
use ecofoncier::read_model::{Change, ReadModel};
use ecofoncier::source::Dataset;
use geo::{Geometry, LineString, MultiPolygon, Point, Polygon};
use proptest::prelude::*;
use serde_json::json;

const X0: f64 = 700_000.0;
const Y0: f64 = 7_000_000.0;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(
        LineString::from(vec![
            (X0 + x0, Y0 + y0),
            (X0 + x1, Y0 + y0),
            (X0 + x1, Y0 + y1),
            (X0 + x0, Y0 + y1),
            (X0 + x0, Y0 + y0),
        ]),
        vec![],
    )
}

fn feature<R: Record>(g: Geometry<f64>, v: serde_json::Value) -> Feature<R> {
    Feature {
        geometry: g,
        record: serde_json::from_value(v).expect("fixture record"),
    }
}

fn commune(code: &str, x: f64, pop: u32, epci: &str) -> Feature<Commune> {
    feature(
        Geometry::MultiPolygon(MultiPolygon(vec![rect(x, 0.0, x + 10_000.0, 10_000.0)])),
        json!({"code_insee": code, "nom": format!("Commune {code}"), "dep": "99",
               "reg": if code == "99003" { "28" } else { "32" }, "population": pop,
               "epci_siren": epci, "mairie_x": X0 + x + 5_000.0, "mairie_y": Y0 + 5_000.0}),
    )
}

fn site(id: &str, insee: &str, epci: &str, r: Polygon<f64>) -> Feature<Site> {
    feature(
        Geometry::MultiPolygon(MultiPolygon(vec![r])),
        json!({"site_id": id, "pole_id": "P", "site_nom": id, "site_type": "zone d'activité économique",
               "site_vocadomi": "artisanale", "site_etat": "existant et actif", "site_surf_brute": 1.0,
               "site_surf_utile": 1.0, "site_identif_date": "2026-01-01", "site_actu_date": "2026-01-01",
               "site_epci_nom": epci, "site_epci_siren": epci, "site_comm_nom": insee,
               "site_comm_insee": insee, "site_moa_type": "epci", "reseau_fibre_optique": "oui"}),
    )
}

fn plot(
    id: &str,
    site: Option<&str>,
    r: Polygon<f64>,
    etat: &str,
    fin: Option<&str>,
    stade: &str,
) -> Feature<Terrain> {
    let inoccupe = match etat {
        "occupé" | "occupation transitoire" => None,
        "inoccupé" => Some("2015-01-01"),
        _ => fin,
    };
    feature(
        Geometry::Polygon(r),
        json!({"terr_id": id, "site_id": site, "terr_surf_brute": 1.0, "terr_utile": "oui",
               "terr_identif_date": "2026-01-01", "terr_actu_date": "2026-01-01",
               "terr_maitrise_fonc": "commune", "terr_stade_amngt": "viabilisé et aménagé",
               "terr_stade_comm": stade, "terr_etat_occup": etat, "terr_usage": "bâti productif",
               "terr_activite_fin_date": fin, "terr_inoccupe_date": inoccupe}),
    )
}

fn land(code: &str, year: i32, total: f64, activity: f64) -> LandTake {
    LandTake {
        code_insee: code.into(),
        annee: year,
        activite_m2: activity,
        habitat_m2: total - activity,
        ..Default::default()
    }
}

fn dataset() -> Dataset {
    let mut d = Dataset {
        communes: vec![
            commune("99001", 0.0, 1_000, "200000001"),
            commune("99002", 10_000.0, 3_000, "200000001"),
            commune("99003", 20_000.0, 500, "200000002"),
        ],
        epci: vec![
            feature(
                Geometry::MultiPolygon(MultiPolygon(vec![rect(0.0, 0.0, 20_000.0, 10_000.0)])),
                json!({"epci_siren": "200000001", "epci_nom": "CC Un", "epci_type": "CC",
                       "population_totale": 4000, "n_membres_total": 2, "n_membres_region": 2}),
            ),
            feature(
                Geometry::MultiPolygon(MultiPolygon(vec![rect(20_000.0, 0.0, 30_000.0, 10_000.0)])),
                json!({"epci_siren": "200000002", "epci_nom": "CC Deux", "epci_type": "CC",
                       "population_totale": 500, "n_membres_total": 1, "n_membres_region": 1}),
            ),
        ],
        sites: vec![
            site(
                "S1",
                "99001",
                "200000001",
                rect(2000.0, 2000.0, 2300.0, 2500.0),
            ),
            site(
                "S2",
                "99002",
                "200000001",
                rect(12_000.0, 2000.0, 12_200.0, 2100.0),
            ),
            site(
                "S3",
                "99003",
                "200000002",
                rect(22_000.0, 2000.0, 22_100.0, 2100.0),
            ),
        ],
        ..Default::default()
    };
    for i in 0..15 {
        let x = 2000.0 + 20.0 * i as f64;
        let (etat, fin, stade) = match i {
            0 | 1 => ("vacant", Some("2020-06-01"), "en vente"),
            2 => ("vacant", Some("2025-03-01"), "non commercialisé"),
            3 => ("inoccupé", None, "en vente"),
            _ => ("occupé", None, "vendu, commercialisation achevée"),
        };
        d.terrains.push(plot(
            &format!("T{i:02}"),
            Some("S1"),
            rect(x, 2000.0, x + 20.0, 2500.0),
            etat,
            fin,
            stade,
        ));
    }
    d.terrains.push(plot(
        "TA",
        Some("S2"),
        rect(12_000.0, 2000.0, 12_100.0, 2100.0),
        "occupé",
        None,
        "vendu, commercialisation achevée",
    ));
    d.terrains.push(plot(
        "TB",
        None,
        rect(12_100.0, 2000.0, 12_200.0, 2100.0),
        "vacant",
        Some("2019-01-01"),
        "en vente",
    ));
    d.terrains.push(plot(
        "TD",
        Some("S3"),
        rect(22_000.0, 2000.0, 22_100.0, 2100.0),
        "occupé",
        None,
        "vendu, commercialisation achevée",
    ));
    d.terrains.push(plot(
        "TE",
        Some("S3"),
        rect(12_100.0, 2100.0, 12_200.0, 2200.0),
        "occupé",
        None,
        "vendu, commercialisation achevée",
    ));
    // Land take: C1 2 ha/yr (0.5 ha activity) in 2011–2020, 1.5 ha/yr in 2021–2023;
    // C2 0.1 ha/yr in 2011–2020 then nothing; C3 nothing.
    for y in 2011..=2023 {
        let (t1, a1) = if y <= 2020 {
            (20_000.0, 5_000.0)
        } else {
            (15_000.0, 3_000.0)
        };
        d.land_take.push(land("99001", y, t1, a1));
        d.land_take
            .push(land("99002", y, if y <= 2020 { 1_000.0 } else { 0.0 }, 0.0));
        d.land_take.push(land("99003", y, 0.0, 0.0));
    }
    d.flows = vec![
        CommuteFlow {
            commune_residence: "99001".into(),
            commune_travail: "99002".into(),
            actifs: 100,
        },
        CommuteFlow {
            commune_residence: "99001".into(),
            commune_travail: "99001".into(),
            actifs: 50,
        },
        CommuteFlow {
            commune_residence: "99003".into(),
            commune_travail: "99002".into(),
            actifs: 20,
        },
        CommuteFlow {
            commune_residence: "99002".into(),
            commune_travail: "99002".into(),
            actifs: 300,
        },
    ];
    d.tiers_lieux = vec![feature(
        Geometry::Point(Point::new(X0 + 5_000.0, Y0 + 5_000.0)),
        json!({"tl_id": "TL1", "tl_nom": "TL", "tl_type": "tiers-lieu", "comm_insee": "99001",
               "comm_nom": "C1", "epci_siren": "200000001", "tl_services": "coworking|café",
               "tl_horaires": "", "tl_ouverture_annee": 2020, "tl_activite": [], "source_producteur": "test"}),
    )];
    for i in 0..8 {
        let vacant = i == 0;
        d.locaux.push(feature(
            Geometry::Point(Point::new(X0 + 15_000.0 + i as f64, Y0 + 5_000.0)),
            json!({"local_id": format!("L{i}"), "comm_insee": "99002", "comm_nom": "C2",
                   "epci_siren": "200000001", "local_surface_m2": 80.0,
                   "local_etat": if vacant { "vacant" } else { "occupé" },
                   "local_installation_annee": if vacant { None } else { Some(if i <= 3 { 2022 } else { 2010 }) },
                   "source_producteur": "test"}),
        ));
    }
    d
}

fn model() -> ReadModel {
    ReadModel::build(dataset()).expect("fixture indexes")
}

/// Two regions from the communes' `reg`: each found by its code and named from the COG,
/// its figures its EPCI's (E1 for 32, E2 for 28: one EPCI a region here) or its communes',
/// and the two adding up to the whole dataset's (the country level).
#[test]
fn regions_from_the_communes_add_up_to_the_country() {
    use ecofoncier::metrics::premises::Premises;
    use ecofoncier::metrics::territory::{Level, Territory};
    let m = model();
    let mm = Metrics::compute(&m, 2026);
    let codes: Vec<&str> = m.regions.list.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["28", "32"]);
    let find = |code: &str| Territory::find(&m, Level::Region, code);
    assert_eq!(find("32").unwrap().name.as_str(), "Hauts-de-France");
    assert_eq!(find("hdf").unwrap().name.as_str(), "Hauts-de-France");
    assert_eq!(find("28").unwrap().name.as_str(), "Normandie");
    assert!(find("84").is_none(), "a region the data does not hold");
    assert_eq!(
        Territory::find(&m, Level::Country, "FR")
            .unwrap()
            .name
            .as_str(),
        "France"
    );
    assert!(Territory::find(&m, Level::Country, "BE").is_none());
    let (normandie, hdf) = (0, 1);
    let (e1, e2) = (
        m.epci.index_of("200000001").unwrap(),
        m.epci.index_of("200000002").unwrap(),
    );
    // Occupancy: a region is its EPCIs; the two regions are every plot in a site.
    let occ = &mm.occupancy;
    assert_eq!(occ.of_region(&m, hdf), *occ.epci.get(e1));
    assert_eq!(occ.of_region(&m, normandie), *occ.epci.get(e2));
    let (a, b) = (occ.of_region(&m, hdf), occ.of_region(&m, normandie));
    assert_eq!(a.uf_nbre + b.uf_nbre, occ.region.uf_nbre);
    assert_eq!(
        a.uf_vacant_nbre + b.uf_vacant_nbre,
        occ.region.uf_vacant_nbre
    );
    assert!((a.surf_brute_ha + b.surf_brute_ha - occ.region.surf_brute_ha).abs() < 1e-9);
    // Land take and ZAN: a region is its communes.
    assert_eq!(mm.zan_regions[hdf], *mm.zan_epci.at(e1).unwrap());
    assert_eq!(mm.zan_regions[normandie], *mm.zan_epci.at(e2).unwrap());
    let sum = mm.zan_regions[hdf].enveloppe_ha + mm.zan_regions[normandie].enveloppe_ha;
    assert!((sum - mm.zan_region.enveloppe_ha).abs() < 1e-9);
    // Premises.
    assert_eq!(
        Premises::of_region(&m, &mm.premises_communes, hdf),
        *mm.premises_epci.at(e1).unwrap()
    );
    // Commuting: workers and jobs add up; a flow between the regions leaves the first.
    let (ch, cn) = (&mm.commute_regions[hdf], &mm.commute_regions[normandie]);
    assert_eq!(
        ch.actifs_residents + cn.actifs_residents,
        mm.commute_region.actifs_residents
    );
    assert_eq!(ch.emplois + cn.emplois, mm.commute_region.emplois);
    assert_eq!(
        ch.actifs_residents,
        mm.commute_epci.at(e1).unwrap().actifs_residents
    );
    // Tiers-lieux coverage: a region is its communes; the regions add up to the whole.
    let cov = coverage::coverage(&m, 10.0, None);
    let per = cov.of_regions(&m.regions);
    assert_eq!(per[hdf], *cov.epci.at(e1).unwrap());
    assert_eq!(per[normandie], *cov.epci.at(e2).unwrap());
    assert_eq!(
        per[hdf].population + per[normandie].population,
        cov.region.population
    );
    assert_eq!(
        per[hdf].population_couverte + per[normandie].population_couverte,
        cov.region.population_couverte
    );
    assert_eq!(
        per[hdf].communes_couvertes + per[normandie].communes_couvertes,
        cov.region.communes_couvertes
    );
}

#[test]
fn occupancy_and_legal_vacancy_by_hand() {
    let m = model();
    let x = Metrics::compute(&m, 2026);
    let s1 = &x.occupancy.site(&m, m.sites.index_of("S1").unwrap());
    // 15 units, 2 vacant since mid-2020 (≥ 2 years at 1 Jan 2026); the one vacant since
    // 2025 and the never-used one are not legally vacant: 100 × 2 / 15 = 13.3 → 13.
    assert_eq!(
        (s1.uf_nbre, s1.uf_vacant_nbre, s1.taux_vacance()),
        (15, 2, 13)
    );
    // Occupied 11 ha of 15 useful ha; for sale: 2 vacant + 1 never used = 3 ha.
    assert!((s1.taux_occupation() - 11.0 / 15.0).abs() < 1e-12);
    assert!((s1.surf_en_vente_ha - 3.0).abs() < 1e-12);
    assert_eq!(s1.par_etat_occup.get("vacant").nombre, 3);
    assert_eq!(s1.par_stade_comm.get("en vente").nombre, 3);
    // The same site tested at 1 January 2028: the 2025 vacancy now counts: 3/15 → 20.
    let i1 = m.sites.index_of("S1").unwrap();
    assert_eq!(x.occupancy.site_for_year(&m, i1, 2028).taux_vacance(), 20);
    // S2: plot A by attribute, plot B by containment (no site_id), B legally vacant: 1/2.
    let s2 = &x.occupancy.site(&m, m.sites.index_of("S2").unwrap());
    assert_eq!(
        (s2.uf_nbre, s2.uf_vacant_nbre, s2.taux_vacance()),
        (2, 1, 50)
    );
    // S3: D, and E by its attribute though it lies outside; E is reported.
    let s3 = &x.occupancy.site(&m, m.sites.index_of("S3").unwrap());
    assert_eq!(s3.uf_nbre, 2);
    let mismatches: Vec<_> = x.occupancy.mismatches().collect();
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0].terr_id, "TE");
    assert_eq!(mismatches[0].site_id_geometrie, None);
    // EPCI E1 = S1 + S2: 3 vacant of 17 → 17.6 → 18; region 3 of 19 → 15.8 → 16.
    let e1 = x.occupancy.of_epci(&m, "200000001").unwrap();
    assert_eq!(
        (e1.uf_nbre, e1.uf_vacant_nbre, e1.taux_vacance()),
        (17, 3, 18)
    );
    assert_eq!(
        (
            x.occupancy.region.uf_nbre,
            x.occupancy.region.taux_vacance()
        ),
        (19, 16)
    );
}

#[test]
fn incremental_update_equals_full_recompute() {
    let mut d = dataset();
    let m = ReadModel::build(d.clone()).unwrap();
    let x = Metrics::compute(&m, 2026);
    // T10 (occupied) becomes vacant since 2021: S1 3/15 → 20, E1 4/17 → 24, region 4/19 → 21.
    let i = m.terrains.index_of("T10").unwrap();
    let mut t = m.terrains.get(i).to_feature();
    t.record.terr_etat_occup = "vacant".into();
    t.record.terr_activite_fin_date = Some("2021-01-15".into());
    t.record.terr_inoccupe_date = Some("2021-01-15".into());
    let (m1, changed) = m.with_change(Change::Upsert(t.clone()), 2).unwrap();
    let x = x.update(&m, &m1, Touched::Terrain(changed.slot.unwrap()));
    let t = t.record;
    let s1 = &x.occupancy.site(&m1, m1.sites.index_of("S1").unwrap());
    assert_eq!(s1.taux_vacance(), 20);
    assert_eq!(
        x.occupancy
            .of_epci(&m1, "200000001")
            .unwrap()
            .taux_vacance(),
        24
    );
    assert_eq!(x.occupancy.region.taux_vacance(), 21);
    assert_eq!(x.indicators[0].taux_vacance_legal, 24);
    // The same as recomputing from scratch on the changed data.
    for f in &mut d.terrains {
        if f.record.terr_id == "T10" {
            f.record = t.clone();
        }
    }
    let m2 = ReadModel::build(d).unwrap();
    let full = Metrics::compute(&m2, 2026);
    assert_eq!(
        x.occupancy.region.rounded(),
        full.occupancy.region.rounded()
    );
    assert_eq!(
        x.occupancy.site(&m1, 0).rounded(),
        full.occupancy.site(&m2, 0).rounded()
    );
}

#[test]
fn land_take_and_zan_by_hand() {
    let m = model();
    let x = Metrics::compute(&m, 2026);
    let c1 = &x.zan_communes["99001"];
    // Reference 10 × 2 ha = 20 ha (5 ha activity: 25 %); allowance 10 ha; consumed
    // 3 × 1.5 = 4.5 ha (45 %); pace 1.5 ha/yr; 7 years left (2024–2030) → 4.5 + 10.5 = 15 ha
    // = 150 % of the allowance.
    assert_eq!(c1.reference_ha, 20.0);
    assert_eq!(c1.part_activite_reference_pct, 25.0);
    assert_eq!(c1.enveloppe_ha, 10.0);
    assert_eq!(c1.consomme_depuis_2021_ha, 4.5);
    assert_eq!(c1.reste_ha, 5.5);
    assert_eq!(c1.part_consommee_pct, 45.0);
    assert_eq!((c1.annees_observees, c1.annees_restantes), (3, 7));
    assert_eq!(c1.rythme_recent_ha_an, 1.5);
    assert_eq!(c1.projection_2031_ha, 15.0);
    assert_eq!(c1.projection_pct, 150.0);
    assert_eq!(c1.part_activite_pct, 20.0); // 0.9 of 4.5 ha
                                            // C2: reference 1 ha, half is 0.5 ha: the 1 ha guarantee applies. C3: nothing, 1 ha.
    assert_eq!(x.zan_communes["99002"].enveloppe_ha, 1.0);
    assert_eq!(x.zan_communes["99003"].enveloppe_ha, 1.0);
    // E1 pooled: 10 + 1 = 11 ha; without the guarantee (20 + 1) / 2 = 10.5 ha.
    let e1 = &x.zan_epci["200000001"];
    assert_eq!(
        (e1.enveloppe_ha, e1.enveloppe_sans_garantie_ha),
        (11.0, 10.5)
    );
    assert_eq!(e1.reste_ha, 6.5);
    assert_eq!(x.zan_region.enveloppe_ha, 12.0);
    // The stand-alone function agrees.
    assert_eq!(
        &land_take::budget(m.land_take.iter().filter(|r| r.code_insee == "99001")),
        c1
    );
}

#[test]
fn commuting_baseline_and_scenario_by_hand() {
    let m = model();
    let x = Metrics::compute(&m, 2026);
    // C1→C2: town halls 10 km apart × 1.3 = 13 km. Within a 100 km² commune:
    // 0.905415 × √(100/π) km × 1.3 = 6.6407 km.
    let intra = 128.0 / (45.0 * std::f64::consts::PI) * (100.0 / std::f64::consts::PI).sqrt() * 1.3;
    let e1 = &x.commute_epci["200000001"];
    assert_eq!(e1.actifs_residents, 450);
    assert_eq!(e1.emplois, 470); // 100 + 50 + 20 + 300
    assert_eq!(e1.emplois_pour_100_actifs, 104.4);
    assert_eq!(e1.km_jour_aller, (100.0 * 13.0 + 350.0 * intra).round());
    assert_eq!(
        e1.km_jour_aller_retour,
        (2.0 * (100.0 * 13.0 + 350.0 * intra)).round()
    );
    assert_eq!(e1.part_travaillant_hors_territoire_pct, 0.0);
    assert!((e1.distance_mediane_km - intra).abs() <= 0.1); // 350 of 450 at 6.64 km
    let e2 = &x.commute_epci["200000002"];
    assert_eq!((e2.actifs_residents, e2.emplois), (20, 0));
    assert_eq!(e2.part_travaillant_hors_territoire_pct, 100.0);
    assert!((e2.distance_mediane_km - 13.0).abs() <= 0.1);

    // 40 jobs at C1's town hall (a new trip of 1 km, the floor), take-up 50 %: C1's
    // residents working in C2 (13 km) come first: min(100 × 0.5, 40) = 40 workers, each
    // saving 2 × (13 − 1) = 24 km a day → 960 km/day, × 220 = 211,200 km/yr,
    // × 124 g = 26.2 t CO₂e.
    let r = commute::scenario(
        &m,
        &x.commute,
        &Scenario {
            x: X0 + 5_000.0,
            y: Y0 + 5_000.0,
            jobs: 40,
            radius_km: 15.0,
            take_up: 0.5,
        },
    );
    assert_eq!(r.emplois_pourvus, 40);
    assert_eq!(r.km_jour_economises, 960.0);
    assert_eq!(r.km_an_economises, 211_200.0);
    assert_eq!(r.co2_t_an_evites, 26.2);
    assert_eq!(r.communes[0].code_insee, "99001");
}

#[test]
fn coverage_and_greedy_suggestion_by_hand() {
    let m = model();
    // One tiers-lieu at C1's town hall, 10 km: C1 (0 km) and C2 (10 km) covered, C3
    // (20 km) not: 4,000 of 4,500 inhabitants = 88.9 %.
    let c = coverage::coverage(&m, 10.0, None);
    assert_eq!(
        (c.region.population_couverte, c.region.population),
        (4_000, 4_500)
    );
    assert_eq!(c.region.taux_couverture_pct, 88.9);
    assert_eq!(c.epci["200000002"].taux_couverture_pct, 0.0);
    // It offers no health service.
    assert_eq!(
        coverage::coverage(&m, 10.0, Some("santé"))
            .region
            .population_couverte,
        0
    );
    // Best new site: C2's or C3's town hall both reach C3 (500 inhabitants); the first in
    // code order wins: C2, then everyone is covered.
    let s = coverage::suggest(&m, 3, 10.0, None);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].code_insee.as_str(), s[0].population_gagnee),
        ("99002", 500)
    );
    assert_eq!(s[0].taux_couverture_apres_pct, 100.0);
}

#[test]
fn premises_by_hand() {
    let m = model();
    let x = Metrics::compute(&m, 2026);
    let p = &x.premises_communes["99002"];
    // 8 premises, 1 vacant = 12.5 %; 7 firms, 3 of them since 2021.
    assert_eq!(
        (
            p.locaux,
            p.vacants,
            p.commerces_installes,
            p.installations_5_ans
        ),
        (8, 1, 7, 3)
    );
    assert_eq!(p.taux_vacance_pct, 12.5);
    assert_eq!(x.premises_epci["200000001"].locaux, 8);
}

#[test]
fn search_filters_and_order() {
    let m = model();
    let c = Criteria {
        near: Some((X0 + 2_000.0, Y0 + 2_000.0)),
        stade_comm: vec!["en vente".into()],
        reseau: vec!["fibre_optique".into()],
        limit: 10,
        ..Default::default()
    };
    let x = Metrics::compute(&m, 2026);
    let (hits, matched) = search::search(&m, &x.occupancy, &c);
    // For sale and not in use: T00, T01 (vacant), T03 (never used) in S1, TB in S2.
    let ids: Vec<&str> = hits
        .iter()
        .map(|h| m.terrains.get(h.plot).record.terr_id.as_str())
        .collect();
    assert_eq!(matched, 4);
    assert_eq!(ids, ["T00", "T01", "T03", "TB"]);
    let d: Vec<f64> = hits.iter().map(|h| h.distance_m.unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    // Radius cuts S2 (10 km away) out; the EPCI filter keeps E2 empty.
    let (_, n) = search::search(
        &m,
        &x.occupancy,
        &Criteria {
            radius_m: Some(2_000.0),
            ..c.clone()
        },
    );
    assert_eq!(n, 3);
    let (_, n) = search::search(
        &m,
        &x.occupancy,
        &Criteria {
            epci: Some("200000002".into()),
            near: None,
            ..c
        },
    );
    assert_eq!(n, 0);
}

#[test]
fn sobriety_check_by_hand() {
    let m = model();
    let x = Metrics::compute(&m, 2026);
    // 2 km × 2 km straddling C1 and C2 evenly: 400 ha, 200 ha in each, all in E1.
    let p = Proposal {
        area: MultiPolygon(vec![rect(9_000.0, 1_000.0, 11_000.0, 3_000.0)]),
        jobs: None,
        vocation: None,
        radius_km: 15.0,
    };
    let r = proposal::check(&m, &x, &p);
    assert_eq!(r.surface_ha, 400.0);
    let shares: Vec<(&str, f64)> = r
        .communes
        .iter()
        .map(|c| (c.code.as_str(), c.part_pct))
        .collect();
    assert_eq!(shares, [("99001", 50.0), ("99002", 50.0)]);
    assert_eq!(r.epci.len(), 1);
    // E1 has 11 − 4.5 = 6.5 ha left: 400 / 6.5 = 6,153.8 %.
    assert_eq!(r.epci[0].reste_zan_ha, 6.5);
    assert_eq!(r.epci[0].part_reste_zan_pct, Some(6153.8));
    // Available within 15 km: T00, T01, T02 (vacant), T03 (never used), TB = 5 ha.
    assert_eq!((r.terrains_disponibles, r.surface_disponible_ha), (5, 5.0));
    assert_eq!(r.ratio_disponible, 0.01);
    assert!(r
        .constats
        .iter()
        .any(|c| c.contains("Seuls 5,0 ha sont disponibles à moins de 15 km")));
    // A 10 ha zone half over S1 ([2000,2300]: x 2200–2300, 100 m × 500 m = 5 ha).
    let p = Proposal {
        area: MultiPolygon(vec![rect(2_200.0, 2_000.0, 2_400.0, 2_500.0)]),
        ..p
    };
    let r = proposal::check(&m, &x, &p);
    assert_eq!((r.surface_ha, r.surface_chevauchee_ha), (10.0, 5.0));
    assert_eq!(r.chevauchements[0].site_id, "S1");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// The R-tree nearest walk of the search equals sorting every matching plot by its
    /// true distance.
    #[test]
    fn search_near_equals_brute_force(x in -2_000.0f64..32_000.0, y in -2_000.0f64..12_000.0) {
        use geo::{Distance, Euclidean};
        let m = model();
        let c = Criteria { near: Some((X0 + x, Y0 + y)), limit: 100, ..Default::default() };
        let occ = Metrics::compute(&m, 2026).occupancy;
        let (hits, _) = search::search(&m, &occ, &c);
        let got: Vec<f64> = hits.iter().map(|h| h.distance_m.unwrap()).collect();
        let mut all: Vec<f64> = m.terrains.iter()
            .filter(|t| search::AVAILABLE_STATES.contains(&t.record.terr_etat_occup.as_str()))
            .map(|t| Euclidean.distance(&Point::new(X0 + x, Y0 + y), &t.geometry()))
            .collect();
        all.sort_by(f64::total_cmp);
        prop_assert_eq!(got.len(), all.len());
        for (g, e) in got.iter().zip(&all) {
            prop_assert!((g - e).abs() < 1e-6);
        }
    }

    /// Coverage's nearest-site distances equal a scan over every site.
    #[test]
    fn coverage_distance_equals_brute_force(tx in 0.0f64..30_000.0, ty in 0.0f64..10_000.0) {
        let mut d = dataset();
        d.tiers_lieux[0].geometry = Geometry::Point(Point::new(X0 + tx, Y0 + ty));
        let m = ReadModel::build(d).unwrap();
        let c = coverage::coverage(&m, 10.0, None);
        for (cc, f) in c.communes.iter().zip(m.communes.iter()) {
            let dist = (f.record.mairie_x - X0 - tx).hypot(f.record.mairie_y - Y0 - ty);
            prop_assert_eq!(cc.couverte, dist <= 10_000.0);
        }
    }
}

/// A commune with no land-take row at all still has the law's 1 ha communal guarantee, and
/// its EPCI the sum of its communes' allowances (it used to get none, and a proposal there
/// was told the EPCI had used its allowance up).
#[test]
fn a_commune_without_land_take_rows_keeps_the_communal_guarantee() {
    let mut d = dataset();
    d.land_take.retain(|r| r.code_insee != "99003");
    let m = ReadModel::build(d).unwrap();
    let x = Metrics::compute(&m, 2026);
    assert_eq!(x.zan_communes["99003"].enveloppe_ha, 1.0);
    assert_eq!(x.zan_communes["99003"].consomme_depuis_2021_ha, 0.0);
    let e2 = &x.zan_epci["200000002"];
    assert_eq!((e2.enveloppe_ha, e2.reste_ha), (1.0, 1.0));
    assert_eq!(x.zan_region.enveloppe_ha, 12.0);
}

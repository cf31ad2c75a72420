//! The rural/urban rule against the official INSEE communal density grid 2024.
//!
//! Urban in the grid = levels 1–4, rural = 5–7. The threshold asserted below: at least 90 %
//! of communes and of population classified alike, and Cohen's κ ≥ 0.6 ("substantial"
//! agreement, so that the rule does better than calling every commune rural, which would
//! already agree on about 83 % of communes).

mod common;

use std::collections::HashMap;

use common::{model, shared};
use ecofoncier::model::TerritoryClass;

#[test]
fn rule_agrees_with_insee_density_grid() {
    let text = std::fs::read_to_string(shared("insee/hdf_grille_densite_7niveaux_2024.csv"))
        .expect("grid csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h.trim_matches('"') == n)
            .unwrap()
    };
    let (ci, di) = (col("CODGEO"), col("DENS"));
    let grid: HashMap<String, u8> = lines
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            Some((
                c.get(ci)?.trim_matches('"').to_string(),
                c.get(di)?.trim_matches('"').parse().ok()?,
            ))
        })
        .collect();

    let (mut n, mut agree, mut pop, mut pop_agree) = (0u64, 0u64, 0u64, 0u64);
    let (mut rule_urban, mut grid_urban) = (0u64, 0u64);
    let mut epci_pop: HashMap<&str, (u64, u64)> = HashMap::new();
    for c in model().communes.iter() {
        let r = &c.record;
        let Some(&dens) = grid.get(r.code_insee.as_str()) else {
            continue;
        };
        let official_urban = dens <= 4;
        let ours_urban = r.classe == TerritoryClass::Urbain;
        n += 1;
        pop += r.population as u64;
        rule_urban += ours_urban as u64;
        grid_urban += official_urban as u64;
        if official_urban == ours_urban {
            agree += 1;
            pop_agree += r.population as u64;
        }
        let e = epci_pop.entry(&r.epci_siren).or_default();
        e.1 += r.population as u64;
        if official_urban {
            e.0 += r.population as u64;
        }
    }
    let po = agree as f64 / n as f64;
    let (pu_rule, pu_grid) = (rule_urban as f64 / n as f64, grid_urban as f64 / n as f64);
    let pe = pu_rule * pu_grid + (1.0 - pu_rule) * (1.0 - pu_grid);
    let kappa = (po - pe) / (1.0 - pe);
    let pop_share = pop_agree as f64 / pop as f64;
    // EPCIs: our class against the class the official grid gives by the same majority rule.
    let (mut e_n, mut e_agree) = (0, 0);
    for e in model().epci.iter() {
        let Some(&(u, t)) = epci_pop.get(e.record.epci_siren.as_str()) else {
            continue;
        };
        e_n += 1;
        if TerritoryClass::of_epci(u, t) == e.record.classe {
            e_agree += 1;
        }
    }
    println!(
        "rural/urban vs INSEE grid 2024: {n} communes, agreement {:.1} %, population-weighted \
         {:.1} %, Cohen's kappa {kappa:.3}; EPCIs {e_agree}/{e_n} agree",
        po * 100.0,
        pop_share * 100.0
    );
    assert!(n >= 3_770, "only {n} communes matched the grid");
    assert!(po >= 0.90, "commune agreement {po}");
    assert!(pop_share >= 0.90, "population agreement {pop_share}");
    assert!(kappa >= 0.6, "kappa {kappa}");
    assert!(
        e_agree as f64 >= 0.85 * e_n as f64,
        "EPCI agreement {e_agree}/{e_n}"
    );
}

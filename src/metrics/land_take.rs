//! Land take (consommation d'espaces naturels, agricoles et forestiers, ENAF) and the ZAN
//! budget of the Climat et Résilience law (2021), per commune, EPCI and region.
//!
//! Source figures: yearly ENAF consumption per commune and destination (m²), year `y` being
//! 1 January `y` → 1 January `y + 1` (Cerema "fichiers fonciers" layout).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{LandTake, Str};

/// How the figures are made, in the users' words (served beside them).
pub const METHOD: &str = "Référence = consommation ENAF du 1er janvier 2011 au 1er janvier 2021 ; \
            enveloppe 2021-2030 = 50 % de la référence, au moins 1 ha par commune (garantie \
            communale ; un EPCI ou la région additionne celles de ses communes) ; projection au \
            1er janvier 2031 au rythme moyen des trois dernières années observées.";

/// First year of the reference decade (1 January 2011).
pub const REFERENCE_FIRST: i32 = 2011;
/// Last year of the reference decade (ends 1 January 2021): ten yearly values.
pub const REFERENCE_LAST: i32 = 2020;
/// First year of the 2021–2030 period (1 January 2021 → 1 January 2031).
pub const PERIOD_FIRST: i32 = 2021;
/// Last year of the period.
pub const PERIOD_LAST: i32 = 2030;
/// The communal guarantee: every commune may consume at least 1 ha over 2021–2031
/// (law of 20 July 2023), m².
pub const COMMUNAL_GUARANTEE_M2: f64 = 10_000.0;

/// One year's consumption by destination, m².
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct YearFigures {
    pub annee: i32,
    pub activite_m2: f64,
    pub habitat_m2: f64,
    pub mixte_m2: f64,
    pub route_m2: f64,
    pub ferroviaire_m2: f64,
    pub inconnu_m2: f64,
    pub total_m2: f64,
}

impl YearFigures {
    /// The figures of year `annee` from its surfaces by destination.
    fn of(annee: i32, m2: Year) -> YearFigures {
        let r = LandTake::new(Str::default(), annee, m2);
        YearFigures {
            annee,
            activite_m2: r.activite_m2,
            habitat_m2: r.habitat_m2,
            mixte_m2: r.mixte_m2,
            route_m2: r.route_m2,
            ferroviaire_m2: r.ferroviaire_m2,
            inconnu_m2: r.inconnu_m2,
            total_m2: r.total_m2(),
        }
    }
}

/// The ZAN budget of a territory. Surfaces in hectares.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ZanBudget {
    /// Consumption over the reference decade, 1 Jan 2011 → 1 Jan 2021 (10 yearly values).
    pub reference_ha: f64,
    /// Of which for economic activity.
    pub reference_activite_ha: f64,
    /// Allowance for 2021–2030: 50 % of the reference; for a commune at least 1 ha
    /// (communal guarantee); for an EPCI or the region, the sum over its communes of
    /// max(50 % of the commune's reference, 1 ha).
    pub enveloppe_ha: f64,
    /// 50 % of the territory's own reference, without the communal guarantee.
    pub enveloppe_sans_garantie_ha: f64,
    /// Consumed since 1 January 2021 (the years of the period the data covers).
    pub consomme_depuis_2021_ha: f64,
    /// Of which for economic activity.
    pub consomme_activite_depuis_2021_ha: f64,
    /// Years of the period covered by the data.
    pub annees_observees: u32,
    /// Allowance minus consumed (negative when exceeded).
    pub reste_ha: f64,
    /// Consumed / allowance, %.
    pub part_consommee_pct: f64,
    /// Mean yearly consumption over the last three observed years, ha/yr.
    pub rythme_recent_ha_an: f64,
    /// Consumption projected to 1 January 2031 at that pace: consumed + pace × years left.
    pub projection_2031_ha: f64,
    /// Years of the period not observed yet (to 1 January 2031).
    pub annees_restantes: u32,
    /// Projected consumption / allowance, %.
    pub projection_pct: f64,
    /// Activity's share of the consumption since 2021, %.
    pub part_activite_pct: f64,
    /// Activity's share of the reference decade, %.
    pub part_activite_reference_pct: f64,
}

/// Destinations, in the order of [`Series`] values: [`crate::model::tables::DESTINATIONS`].
pub const DESTINATIONS: usize = crate::model::tables::DESTINATIONS.len();

/// One year's consumption by destination, m², in the order of [`DESTINATIONS`].
pub type Year = [f64; DESTINATIONS];

/// A territory's yearly consumption by destination (m²), dense over the data's years. The
/// values are owned (`Vec`) or borrowed from a buffer holding many territories (`&[Year]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series<V = Vec<Year>> {
    pub first: i32,
    pub values: V,
}

impl Series {
    pub fn new(first: i32, years: usize) -> Series {
        Series {
            first,
            values: vec![[0.0; DESTINATIONS]; years],
        }
    }
}

/// Adds row `r` to the yearly values starting at year `first`.
pub fn add_row(first: i32, values: &mut [Year], r: &LandTake) {
    let i = r.annee - first;
    if let Some(v) = usize::try_from(i).ok().and_then(|i| values.get_mut(i)) {
        for (a, b) in v.iter_mut().zip(r.m2()) {
            *a += b;
        }
    }
}

/// Adds yearly values `b` to `a` (same first year).
pub fn add_years(a: &mut [Year], b: &[Year]) {
    for (a, b) in a.iter_mut().zip(b) {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
    }
}

impl<V: AsMut<[Year]>> Series<V> {
    pub fn add_row(&mut self, r: &LandTake) {
        add_row(self.first, self.values.as_mut(), r);
    }
}

impl<V: AsRef<[Year]>> Series<V> {
    pub fn add<W: AsRef<[Year]>>(&mut self, o: &Series<W>)
    where
        V: AsMut<[Year]>,
    {
        add_years(self.values.as_mut(), o.values.as_ref());
    }

    fn years(&self) -> impl Iterator<Item = (i32, &Year)> {
        self.values
            .as_ref()
            .iter()
            .enumerate()
            .map(|(i, v)| (self.first + i as i32, v))
    }

    /// Consumption of the reference decade (2011…2020), m².
    pub fn reference_m2(&self) -> f64 {
        self.years()
            .filter(|(y, _)| (REFERENCE_FIRST..=REFERENCE_LAST).contains(y))
            .map(|(_, v)| v.iter().sum::<f64>())
            .sum()
    }

    /// The yearly figures.
    pub fn yearly(&self) -> Vec<YearFigures> {
        self.years()
            .map(|(annee, v)| YearFigures::of(annee, *v))
            .collect()
    }
}

/// A commune's 2021–2030 allowance, m²: half its reference, at least the 1 ha guarantee.
pub fn commune_allowance_m2<V: AsRef<[Year]>>(s: &Series<V>) -> f64 {
    (s.reference_m2() / 2.0).max(COMMUNAL_GUARANTEE_M2)
}

/// Yearly series of a set of rows, by year.
///
/// ```
/// use ecofoncier::metrics::land_take::yearly;
/// use ecofoncier::model::LandTake;
/// let rows = [
///     LandTake::new("80021".into(), 2020, [100.0, 50.0, 0.0, 0.0, 0.0, 0.0]),
///     LandTake::new("80022".into(), 2020, [10.0, 0.0, 0.0, 5.0, 0.0, 0.0]),
/// ];
/// let y = yearly(rows.iter());
/// assert_eq!((y[0].annee, y[0].activite_m2, y[0].total_m2), (2020, 110.0, 165.0));
/// ```
pub fn yearly<'a>(rows: impl Iterator<Item = &'a LandTake>) -> Vec<YearFigures> {
    let mut by_year: BTreeMap<i32, Year> = BTreeMap::new();
    for r in rows {
        let y = by_year.entry(r.annee).or_default();
        for (a, b) in y.iter_mut().zip(r.m2()) {
            *a += b;
        }
    }
    by_year
        .into_iter()
        .map(|(annee, v)| YearFigures::of(annee, v))
        .collect()
}

fn pct(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        round1(100.0 * a / b)
    } else {
        0.0
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The ZAN budget of the rows' communes (grouped by commune inside); see [`budget_of`].
///
/// ```
/// use ecofoncier::metrics::land_take::budget;
/// use ecofoncier::model::LandTake;
/// // One commune consumed 3 ha of activity land a year from 2011 to 2022.
/// let rows: Vec<LandTake> = (2011..=2022)
///     .map(|y| LandTake::new("80021".into(), y, [30_000.0, 0.0, 0.0, 0.0, 0.0, 0.0]))
///     .collect();
/// let b = budget(rows.iter());
/// assert_eq!(b.reference_ha, 30.0); // 2011–2020
/// assert_eq!(b.enveloppe_ha, 15.0); // half the reference for 2021–2030
/// assert_eq!(b.consomme_depuis_2021_ha, 6.0); // 2021 and 2022
/// assert_eq!(b.reste_ha, 9.0);
/// assert_eq!(b.projection_2031_ha, 30.0); // 6 ha + 3 ha/yr × 8 years left
/// ```
pub fn budget<'a>(rows: impl Iterator<Item = &'a LandTake> + Clone) -> ZanBudget {
    let (mut first, mut last) = (i32::MAX, i32::MIN);
    for r in rows.clone() {
        first = first.min(r.annee);
        last = last.max(r.annee);
    }
    if first > last {
        return ZanBudget::default();
    }
    let n = (last - first + 1) as usize;
    let mut per_commune: std::collections::HashMap<&str, Series> = Default::default();
    let mut total = Series::new(first, n);
    for r in rows {
        per_commune
            .entry(r.code_insee.as_str())
            .or_insert_with(|| Series::new(first, n))
            .add_row(r);
        total.add_row(r);
    }
    let allowance = per_commune.values().map(commune_allowance_m2).sum();
    budget_of(&total, allowance)
}

/// The ZAN budget of a territory from its yearly series and its allowance (m²).
///
/// Formulas (m² → ha ÷ 10,000):
/// - reference R = Σ consumption of years 2011…2020 (1 Jan 2011 → 1 Jan 2021, ten values);
///   activity's share of R;
/// - allowance A = Σ over the territory's communes of max(R_c / 2, 1 ha) (one commune:
///   max(R/2, 1 ha): the communal guarantee); A₀ = R / 2 without the guarantee;
/// - consumed C = Σ of the years ≥ 2021 the data covers; remaining A − C; used C / A;
/// - pace p = mean of the last three observed years; years left n = 2030 − last observed
///   year (the period ends 1 January 2031); projection to 1 January 2031 = C + p × n.
pub fn budget_of<V: AsRef<[Year]>>(series: &Series<V>, allowance: f64) -> ZanBudget {
    let reference = series.reference_m2();
    let mut reference_act = 0.0;
    let (mut consumed, mut consumed_act) = (0.0, 0.0);
    let mut observed = 0u32;
    let mut last_year = PERIOD_FIRST - 1;
    // The last three observed yearly totals, newest last.
    let mut last3 = [0.0f64; 3];
    for (y, v) in series.years() {
        if (REFERENCE_FIRST..=REFERENCE_LAST).contains(&y) {
            reference_act += v[0];
        }
        if (PERIOD_FIRST..=PERIOD_LAST).contains(&y) {
            let total: f64 = v.iter().sum();
            consumed += total;
            consumed_act += v[0];
            observed += 1;
            last_year = y;
            last3 = [last3[1], last3[2], total];
        }
    }
    let n3 = observed.min(3);
    let pace = if n3 == 0 {
        0.0
    } else {
        last3[3 - n3 as usize..].iter().sum::<f64>() / n3 as f64
    };
    let years_left = (PERIOD_LAST - last_year).max(0) as u32;
    let projection = consumed + pace * years_left as f64;
    let ha = |m2: f64| round2(m2 / 10_000.0);
    ZanBudget {
        reference_ha: ha(reference),
        reference_activite_ha: ha(reference_act),
        enveloppe_ha: ha(allowance),
        enveloppe_sans_garantie_ha: ha(reference / 2.0),
        consomme_depuis_2021_ha: ha(consumed),
        consomme_activite_depuis_2021_ha: ha(consumed_act),
        annees_observees: observed,
        reste_ha: ha(allowance - consumed),
        part_consommee_pct: pct(consumed, allowance),
        rythme_recent_ha_an: ha(pace),
        projection_2031_ha: ha(projection),
        annees_restantes: years_left,
        projection_pct: pct(projection, allowance),
        part_activite_pct: pct(consumed_act, consumed),
        part_activite_reference_pct: pct(reference_act, reference),
    }
}

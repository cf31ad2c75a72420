//! The regions the loaded communes name (INSEE COG codes, `Commune::reg`), and which one
//! each commune and each EPCI belongs to, resolved once at load: the metrics sum their
//! communes' or EPCIs' figures by region without looking a code up.

use crate::model::territory::region_name;
use crate::model::Str;

use super::{ReadModel, NONE};

/// The INSEE COG codes of the thirteen regions of metropolitan France, in order.
pub const METROPOLITAN: [&str; 13] = [
    "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
];

/// Names as French writes a list: `a`, `a et b`, `a, b et c`.
///
/// ```
/// use ecofoncier::read_model::regions::joined;
/// assert_eq!(joined(["Bretagne"]), "Bretagne");
/// assert_eq!(joined(["Bretagne", "Normandie", "Corse"]), "Bretagne, Normandie et Corse");
/// ```
pub fn joined<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first @ .., last] => format!("{} et {last}", first.join(", ")),
    }
}

/// One region of the data.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// INSEE COG code (`32`).
    pub code: Str,
    /// Its name (`Hauts-de-France`); the code itself for a code the COG does not list.
    pub name: Str,
}

/// The regions of the data, in code order, and the region of each commune and EPCI slot.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    pub list: Vec<Region>,
    /// Commune slot → index in `list` ([`NONE`] when the commune names no region).
    pub commune: Vec<u32>,
    /// EPCI slot → index in `list`: the region where most of its population in the data
    /// lives (an EPCI across a regional border counts in one region only, so the regions'
    /// figures add up to the whole), [`NONE`] when none of its communes names a region.
    pub epci: Vec<u32>,
}

impl Regions {
    /// Resolves the regions of `m`'s communes, then of its EPCIs through their communes.
    pub fn build(m: &ReadModel) -> Regions {
        let mut codes: Vec<Str> = (0..m.communes.slots())
            .map(|c| m.communes.record(c).reg)
            .filter(|r| !r.is_empty())
            .collect();
        codes.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        codes.dedup();
        let list: Vec<Region> = codes
            .iter()
            .map(|&code| Region {
                code,
                name: region_name(&code).map(Str::new).unwrap_or(code),
            })
            .collect();
        let index = |code: &Str| {
            codes
                .binary_search_by(|c| c.as_str().cmp(code.as_str()))
                .map(|i| i as u32)
                .unwrap_or(NONE)
        };
        let commune: Vec<u32> = (0..m.communes.slots())
            .map(|c| index(&m.communes.record(c).reg))
            .collect();
        // Population of each EPCI by region, then the largest (a commune counts for one
        // more than its population, so that an EPCI of empty communes has a region too).
        let mut population = vec![vec![0u64; list.len()]; m.epci.slots()];
        for (c, &r) in commune.iter().enumerate() {
            let e = m.joins.commune_epci.get(c).copied().unwrap_or(NONE);
            if r != NONE && e != NONE {
                population[e as usize][r as usize] += m.communes.record(c).population as u64 + 1;
            }
        }
        let epci = population
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .filter(|(_, &n)| n > 0)
                    .max_by_key(|(i, &n)| (n, std::cmp::Reverse(*i)))
                    .map(|(i, _)| i as u32)
                    .unwrap_or(NONE)
            })
            .collect();
        Regions {
            list,
            commune,
            epci,
        }
    }

    /// What the data covers, in French, for titles: the region's name when it holds one,
    /// `France métropolitaine` when it holds the thirteen metropolitan regions and no
    /// other, else the names (`Hauts-de-France et Normandie`); `France` when the communes
    /// name no region.
    ///
    /// ```
    /// use ecofoncier::read_model::regions::{Region, Regions};
    /// let of = |codes: &[&str]| Regions {
    ///     list: codes.iter().map(|c| Region { code: (*c).into(), name: ecofoncier::model::territory::region_name(c).unwrap().into() }).collect(),
    ///     ..Default::default()
    /// }.label();
    /// assert_eq!(of(&["32"]), "Hauts-de-France");
    /// assert_eq!(of(&["28", "32"]), "Normandie et Hauts-de-France");
    /// assert_eq!(of(&["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]), "France métropolitaine");
    /// assert_eq!(of(&[]), "France");
    /// ```
    pub fn label(&self) -> String {
        let codes: Vec<&str> = self.list.iter().map(|r| r.code.as_str()).collect();
        match self.list.as_slice() {
            [] => "France".into(),
            _ if codes == METROPOLITAN => "France métropolitaine".into(),
            list => joined(list.iter().map(|r| r.name.as_str())),
        }
    }

    /// The index of region `code` in the list, if the data holds it.
    pub fn find(&self, code: &str) -> Option<usize> {
        self.list.iter().position(|r| r.code.as_str() == code)
    }

    /// The commune slots of region `r`.
    pub fn communes(&self, r: usize) -> impl Iterator<Item = usize> + '_ {
        self.commune
            .iter()
            .enumerate()
            .filter(move |(_, &x)| x as usize == r)
            .map(|(c, _)| c)
    }

    /// The EPCI slots of region `r`.
    pub fn epcis(&self, r: usize) -> impl Iterator<Item = usize> + '_ {
        self.epci
            .iter()
            .enumerate()
            .filter(move |(_, &x)| x as usize == r)
            .map(|(e, _)| e)
    }
}

//! The territory a metric is asked for: a commune (INSEE code), an EPCI (SIREN) or the
//! region, parsed once and looked up through the read model's id maps.

use crate::model::{LandTake, Str};
use crate::read_model::ReadModel;

use super::PerCode;

/// The region the dataset covers: its INSEE code, a short alias and its name.
pub const REGION_CODES: [&str; 2] = ["32", "hdf"];
/// The region's name.
pub const REGION_NAME: &str = "Hauts-de-France";

/// The level of a territory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Commune,
    Epci,
    Region,
}

impl Level {
    /// Every level, in the order of the API's paths.
    pub const ALL: [Level; 3] = [Level::Commune, Level::Epci, Level::Region];

    /// The level named `name` in a path (`commune`, `epci`, `region`).
    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Commune => "commune",
            Level::Epci => "epci",
            Level::Region => "region",
        }
    }
}

/// A commune, an EPCI or the region, found in the read model.
#[derive(Clone, Debug, PartialEq)]
pub struct Territory {
    pub level: Level,
    /// The code as asked (INSEE code, SIREN, or one of [`REGION_CODES`]).
    pub code: String,
    pub name: Str,
    /// The commune's or EPCI's slot in its layer.
    slot: Option<usize>,
}

impl Territory {
    /// The territory of `level` with code `code`, if the model has it.
    ///
    /// ```
    /// use ecofoncier::metrics::territory::{Level, Territory};
    /// use ecofoncier::read_model::ReadModel;
    /// use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};
    /// let data = EmbeddedSource::new(default_data_dir()).load_sync().unwrap();
    /// let model = ReadModel::build(data).unwrap();
    /// let mel = Territory::find(&model, Level::Epci, "200093201").unwrap();
    /// assert_eq!(mel.name.as_str(), "Métropole Européenne de Lille");
    /// assert!(Territory::find(&model, Level::Commune, "00000").is_none());
    /// ```
    pub fn find(model: &ReadModel, level: Level, code: &str) -> Option<Territory> {
        let (slot, name) = match level {
            Level::Commune => {
                let i = model.communes.index_of(code)?;
                (Some(i), model.communes.get(i).record.nom)
            }
            Level::Epci => {
                let i = model.epci.index_of(code)?;
                (Some(i), model.epci.get(i).record.epci_nom)
            }
            Level::Region => (
                None,
                REGION_CODES.contains(&code).then(|| REGION_NAME.into())?,
            ),
        };
        Some(Territory {
            level,
            code: code.to_string(),
            name,
            slot,
        })
    }

    /// This territory's figure: a commune's from `communes`, an EPCI's from `epci`, the
    /// region's from `region`; `None` when its table has none (or a commune is asked of a
    /// metric kept by EPCI only).
    pub fn figure<T: Clone>(
        &self,
        communes: Option<&PerCode<T>>,
        epci: &PerCode<T>,
        region: impl FnOnce() -> T,
    ) -> Option<T> {
        match (self.level, self.slot) {
            (Level::Commune, Some(i)) => communes?.at(i).cloned(),
            (Level::Epci, Some(i)) => epci.at(i).cloned(),
            (Level::Region, _) => Some(region()),
            _ => None,
        }
    }

    /// The land-take rows of this territory's communes, through the joins resolved at load
    /// (no code looked up per row).
    pub fn land_take<'a>(&self, model: &'a ReadModel) -> Vec<&'a LandTake> {
        let rows = model
            .land_take
            .iter()
            .zip(model.joins.land_take_commune.iter());
        match (self.level, self.slot) {
            (Level::Region, _) => model.land_take.iter().collect(),
            (Level::Commune, Some(c)) => rows
                .filter(|(_, &j)| j as usize == c)
                .map(|(r, _)| r)
                .collect(),
            (Level::Epci, Some(e)) => rows
                .filter(|(_, &c)| model.joins.commune_epci.get(c as usize) == Some(&(e as u32)))
                .map(|(r, _)| r)
                .collect(),
            _ => Vec::new(),
        }
    }
}

//! The territory a metric is asked for: a commune (INSEE code), an EPCI (SIREN), a region
//! (INSEE COG code) or the whole country (`FR`: everything loaded), parsed once and looked
//! up through the read model's id maps and regions.

use crate::model::{LandTake, Str};
use crate::read_model::ReadModel;

use super::PerCode;

/// The code of the country level: the whole dataset.
pub const COUNTRY_CODE: &str = "FR";
/// The country level's name.
pub const COUNTRY_NAME: &str = "France";
/// A short alias of Hauts-de-France's code (`region/hdf` is `region/32`).
pub const HDF_ALIAS: (&str, &str) = ("hdf", "32");

/// The level of a territory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Commune,
    Epci,
    Region,
    Country,
}

impl Level {
    /// Every level, in the order of the API's paths.
    pub const ALL: [Level; 4] = [Level::Commune, Level::Epci, Level::Region, Level::Country];
    /// The levels of a metric kept by EPCI (not by commune).
    pub const WIDE: [Level; 3] = [Level::Epci, Level::Region, Level::Country];

    /// The level named `name` in a path (`commune`, `epci`, `region`, `country`).
    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Commune => "commune",
            Level::Epci => "epci",
            Level::Region => "region",
            Level::Country => "country",
        }
    }
}

/// A commune, an EPCI, a region or the country, found in the read model.
#[derive(Clone, Debug, PartialEq)]
pub struct Territory {
    pub level: Level,
    /// The code as asked (INSEE code, SIREN, region code or alias, `FR`).
    pub code: String,
    pub name: Str,
    /// The commune's or EPCI's slot in its layer, the region's index in the model's
    /// regions.
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
    /// // The embedded dataset holds one region, Hauts-de-France.
    /// let hdf = Territory::find(&model, Level::Region, "32").unwrap();
    /// assert_eq!(hdf.name.as_str(), "Hauts-de-France");
    /// assert!(Territory::find(&model, Level::Region, "28").is_none());
    /// assert!(Territory::find(&model, Level::Country, "FR").is_some());
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
            Level::Region => {
                let code = if code == HDF_ALIAS.0 {
                    HDF_ALIAS.1
                } else {
                    code
                };
                let r = model.regions.find(code)?;
                (Some(r), model.regions.list[r].name)
            }
            Level::Country => (None, (code == COUNTRY_CODE).then(|| COUNTRY_NAME.into())?),
        };
        Some(Territory {
            level,
            code: code.to_string(),
            name,
            slot,
        })
    }

    /// This territory's figure: a commune's from `communes`, an EPCI's from `epci`, a
    /// region's from `region` (given the region's index in the model's regions), the
    /// country's from `country`; `None` when its table has none (or a commune is asked of
    /// a metric kept by EPCI only).
    pub fn figure<T: Clone>(
        &self,
        communes: Option<&PerCode<T>>,
        epci: &PerCode<T>,
        region: impl FnOnce(usize) -> Option<T>,
        country: impl FnOnce() -> T,
    ) -> Option<T> {
        match (self.level, self.slot) {
            (Level::Commune, Some(i)) => communes?.at(i).cloned(),
            (Level::Epci, Some(i)) => epci.at(i).cloned(),
            (Level::Region, Some(r)) => region(r),
            (Level::Country, _) => Some(country()),
            _ => None,
        }
    }

    /// The region's index in the model's regions, at the region level.
    pub fn region(&self) -> Option<usize> {
        (self.level == Level::Region).then_some(self.slot).flatten()
    }

    /// The land-take rows of this territory's communes, through the joins resolved at load
    /// (no code looked up, no row scanned that is not the territory's): a commune's rows
    /// from the commune→rows index, an EPCI's or a region's from those of its communes.
    pub fn land_take<'a>(&self, model: &'a ReadModel) -> Vec<&'a LandTake> {
        let by_commune = &model.joins.commune_land_take;
        let rows_of = |communes: &mut dyn Iterator<Item = usize>| -> Vec<&'a LandTake> {
            communes
                .flat_map(|c| by_commune.of(c))
                .map(|&r| &model.land_take[r as usize])
                .collect()
        };
        match (self.level, self.slot) {
            (Level::Country, _) => model.land_take.iter().collect(),
            (Level::Region, Some(r)) => rows_of(&mut model.regions.communes(r)),
            (Level::Commune, Some(c)) => rows_of(&mut std::iter::once(c)),
            (Level::Epci, Some(e)) => rows_of(
                &mut model
                    .joins
                    .commune_epci
                    .iter()
                    .enumerate()
                    .filter(|(_, &x)| x as usize == e)
                    .map(|(c, _)| c),
            ),
            _ => Vec::new(),
        }
    }
}

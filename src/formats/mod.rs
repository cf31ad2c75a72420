//! Readers and writers of files, below the store: they turn files into the model's rows (and
//! rows back into files) and touch no database. They import only [`crate::model`] and
//! [`crate::crs`].
//!
//! - [`cnig`]: the CNIG "Sites économiques" standard's `;`-CSV, GeoJSON and GeoPackage.
//! - [`open_data`]: INSEE home–work flows and density grid, Cerema land take, ANCT places.
//! - [`admin_express`]: IGN ADMIN EXPRESS communes and EPCIs (GeoPackage).
//! - [`geojson`]: GeoJSON output with a fixed precision, features written once.
//! - [`xlsx`]: spreadsheets of computed tables (typed numbers, units in headers, sources).

pub mod admin_express;
pub mod cnig;
pub mod geojson;
pub mod open_data;
pub mod xlsx;

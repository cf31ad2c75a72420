//! ecofoncier: decision support for economic land in French intercommunalities.
//!
//! One way through: [`source`] loads a [`source::Dataset`] (the embedded files of `data/`,
//! or PostGIS), [`read_model`] indexes it in memory with R-trees and serializes it once,
//! [`api`] serves it (OGC API – Features), [`store`] keeps it in PostGIS (migrations, imports),
//! [`generate`] makes the synthetic business layers.
//! Geometry is Lambert-93 (EPSG:2154) inside and CRS84 at the edge ([`crs`]).

pub mod api;
pub mod cli;
pub mod cnig;
pub mod crs;
pub mod date;
pub mod format;
pub mod generate;
pub mod metrics;
pub mod model;
pub mod read_model;
pub mod source;
pub mod startup;
pub mod store;
pub mod tiles;

//! Times each reader of a data folder (for profiling the start).
use std::time::Instant;

use ecofoncier::model::*;
use ecofoncier::source::embedded::{read_flows, read_land_take, read_layer};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("a data folder"));
    macro_rules! t {
        ($e:expr, $n:expr) => {{
            let s = Instant::now();
            let v = $e;
            println!("{:>20}: {:>6.0} ms", $n, s.elapsed().as_secs_f64() * 1e3);
            v
        }};
    }
    let _c = t!(read_layer::<Commune>(&dir).unwrap(), "communes");
    let _e = t!(read_layer::<Epci>(&dir).unwrap(), "epci");
    let _s = t!(read_layer::<Site>(&dir).unwrap(), "sites");
    let _t = t!(read_layer::<Terrain>(&dir).unwrap(), "terrains");
    let _et = t!(read_layer::<Etablissement>(&dir).unwrap(), "etablissements");
    let _l = t!(read_layer::<LocalCommercial>(&dir).unwrap(), "locaux");
    let _f = t!(read_flows(&dir).unwrap(), "flows");
    let _lt = t!(read_land_take(&dir).unwrap(), "land take");
    let s = Instant::now();
    let (_, bytes) =
        ecofoncier::source::embedded::read_data_file(&dir, "etablissements.geojson").unwrap();
    println!(
        "gunzip etablissements: {:.0} ms ({} MB)",
        s.elapsed().as_secs_f64() * 1e3,
        bytes.len() >> 20
    );
}

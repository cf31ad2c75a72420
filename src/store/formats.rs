//! Readers of the public files the tables come from, turned into the model's rows.
//!
//! - INSEE home–work flows (`base-flux-mobilite-domicile-lieu-travail`): `;`-CSV with
//!   `CODGEO` (residence), `DCLT` (work commune) and `NBFLUX_C22_ACTOCC15P` (employed people
//!   aged 15 or more, a weighted count with decimals: rounded to the nearest person).
//! - Cerema land take (`obs_artif_conso_com`): `;`-CSV with `idcom` and, for each year
//!   `20yy`, `artYYactZZ`, `artYYhabZZ`, `artYYmixZZ`, `artYYrouZZ`, `artYYferZZ`,
//!   `artYYincZZ` (m² consumed from 1 January 20yy to 1 January 20zz, by destination).
//!
//! Each reader returns the rows it understood and the rows it rejected, with the reason.

use crate::model::{CommuteFlow, LandTake};

use super::import::Rejected;

/// Splits a `;`-CSV line, honouring double quotes.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (';', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn header_index(header: &[String], name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name))
}

/// Reads an INSEE flows file.
pub fn insee_flows(text: &str) -> Result<(Vec<CommuteFlow>, Vec<Rejected>), String> {
    let mut lines = text.lines();
    let header = fields(
        lines
            .next()
            .ok_or("empty file")?
            .trim_start_matches('\u{feff}'),
    );
    let col = |n: &str| header_index(&header, n).ok_or(format!("column {n} missing"));
    let (from, to, n) = (col("CODGEO")?, col("DCLT")?, col("NBFLUX_C22_ACTOCC15P")?);
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let id = format!("line {}", i + 2);
        let code_ok = |c: &str| c.len() == 5 && c.is_ascii();
        if !code_ok(get(from)) || !code_ok(get(to)) {
            rejected.push(Rejected {
                id,
                reason: format!(
                    "CODGEO/DCLT: `{}`/`{}` are not INSEE codes",
                    get(from),
                    get(to)
                ),
            });
            continue;
        }
        match get(n).replace(',', ".").parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => {
                let actifs = v.round() as u32;
                if actifs > 0 {
                    rows.push(CommuteFlow {
                        commune_residence: get(from).to_string(),
                        commune_travail: get(to).to_string(),
                        actifs,
                    });
                }
            }
            _ => rejected.push(Rejected {
                id,
                reason: format!("NBFLUX_C22_ACTOCC15P: `{}` is not a count", get(n)),
            }),
        }
    }
    Ok((rows, rejected))
}

/// Reads a Cerema land-take file: one row per commune and year found in the header.
pub fn cerema_land_take(text: &str) -> Result<(Vec<LandTake>, Vec<Rejected>), String> {
    let mut lines = text.lines();
    let header = fields(
        lines
            .next()
            .ok_or("empty file")?
            .trim_start_matches('\u{feff}'),
    );
    let idcom = header_index(&header, "idcom").ok_or("column idcom missing")?;
    // Years: every `artYYactZZ` column with its five siblings.
    let mut years = Vec::new();
    for h in &header {
        let h = h.trim();
        if h.len() == 10 && h.starts_with("art") && &h[5..8] == "act" {
            if let (Ok(a), Ok(b)) = (h[3..5].parse::<i32>(), h[8..10].parse::<i32>()) {
                if b == a + 1 {
                    let cols: Option<Vec<usize>> = ["act", "hab", "mix", "rou", "fer", "inc"]
                        .iter()
                        .map(|d| header_index(&header, &format!("art{:02}{d}{:02}", a, b)))
                        .collect();
                    let cols =
                        cols.ok_or(format!("year 20{a:02}: a destination column is missing"))?;
                    years.push((2000 + a, cols));
                }
            }
        }
    }
    if years.is_empty() {
        return Err("no artYYactZZ column: not a Cerema land-take file".into());
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        let code = f.get(idcom).map(|s| s.trim()).unwrap_or("");
        if code.len() != 5 {
            rejected.push(Rejected {
                id: format!("line {}", i + 2),
                reason: format!("idcom: `{code}` is not an INSEE code"),
            });
            continue;
        }
        let mut parsed = Vec::with_capacity(years.len());
        let mut bad = None;
        for (year, cols) in &years {
            let v: Result<Vec<f64>, _> = cols
                .iter()
                .map(|&k| {
                    let s = f.get(k).map(|s| s.trim()).unwrap_or("");
                    if s.is_empty() {
                        Ok(0.0)
                    } else {
                        s.replace(',', ".").parse::<f64>()
                    }
                })
                .collect();
            match v {
                Ok(v) if v.iter().all(|x| *x >= 0.0) => parsed.push(LandTake {
                    code_insee: code.to_string(),
                    annee: *year,
                    activite_m2: v[0],
                    habitat_m2: v[1],
                    mixte_m2: v[2],
                    route_m2: v[3],
                    ferroviaire_m2: v[4],
                    inconnu_m2: v[5],
                }),
                _ => {
                    bad = Some(format!("year {year}: a value is not a surface in m²"));
                    break;
                }
            }
        }
        match bad {
            Some(reason) => rejected.push(Rejected {
                id: format!("line {} ({code})", i + 2),
                reason,
            }),
            None => rows.extend(parsed),
        }
    }
    Ok((rows, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insee_flows_rounded_and_bad_rows_reported() {
        let text = "CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C22_ACTOCC15P\n\
                    80021;Amiens;80021;Amiens;41234.56\n\
                    80001;\"Abbeville; la ville\";80021;Amiens;12,4\n\
                    80002;X;80021;Amiens;0.2\n\
                    8000;X;80021;Amiens;3\n\
                    80003;X;80021;Amiens;beaucoup\n";
        let (rows, rejected) = insee_flows(text).unwrap();
        assert_eq!(rows.len(), 2, "a flow rounding to 0 is no flow");
        assert_eq!(rows[0].actifs, 41235);
        assert_eq!(rows[1].commune_residence, "80001");
        assert_eq!(rows[1].actifs, 12);
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0].id, "line 5");
        assert!(rejected[1].reason.starts_with("NBFLUX_C22_ACTOCC15P"));
        assert!(insee_flows("a;b\n").is_err());
    }

    #[test]
    fn cerema_years_and_destinations() {
        let text = "idcom;idcomtxt;naf11art12;art11act12;art11hab12;art11mix12;art11rou12;art11fer12;art11inc12;naf12art13;art12act13;art12hab13;art12mix13;art12rou13;art12fer13;art12inc13\n\
                    80021;Amiens;1000;100;800;0;100;0;0;500;;500;0;0;0;0\n\
                    80X;Bad;1;1;0;0;0;0;0;1;1;0;0;0;0;0\n";
        let (rows, rejected) = cerema_land_take(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].annee, rows[0].activite_m2, rows[0].habitat_m2),
            (2011, 100.0, 800.0)
        );
        assert_eq!(
            rows[0].total_m2(),
            1000.0,
            "the destinations add up to naf11art12"
        );
        assert_eq!(
            (rows[1].annee, rows[1].activite_m2),
            (2012, 0.0),
            "empty is 0"
        );
        assert_eq!(rejected.len(), 1);
        assert!(cerema_land_take("idcom;x\n1;2\n").is_err());
    }
}

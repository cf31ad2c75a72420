//! Readers of the public files the tables come from, turned into the model's rows.
//!
//! - INSEE home–work flows (`base-flux-mobilite-domicile-lieu-travail`): `;`-CSV with
//!   `CODGEO` (residence), `DCLT` (work commune) and `NBFLUX_C22_ACTOCC15P` (employed people
//!   aged 15 or more, a weighted count with decimals: rounded to the nearest person).
//! - Cerema land take (`obs_artif_conso_com`): `;`-CSV with `idcom` and, for each year
//!   `20yy`, `artYYactZZ`, `artYYhabZZ`, `artYYmixZZ`, `artYYrouZZ`, `artYYferZZ`,
//!   `artYYincZZ` (m² consumed from 1 January 20yy to 1 January 20zz, by destination).
//!
//! - INSEE communal density grid (`grille_densite_7_niveaux`): `CODGEO` and `DENS` (1..7),
//!   `;`- or `,`-separated.
//! - ANCT lieux de médiation numérique (`id;nom;commune;code_postal;code_insee;adresse;
//!   latitude;longitude;typologie;services;…`): the places whose `typologie` holds
//!   `TIERS_LIEUX` (tiers-lieux) or `RFS` (France services); the others are skipped.
//!
//! Each reader returns the rows it understood and the rows it rejected, with the reason.

use super::cnig::csv::Records;
use crate::model::{CommuteFlow, LandTake, DESTINATIONS};

use crate::model::checks::Rejected;

fn header_index(header: &[String], name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name))
}

/// What a reader made of a file: its rows, the rows it rejected with their reason, and
/// remarks on rows kept or left out.
pub type Read<T> = (Vec<T>, Vec<Rejected>, Vec<Rejected>);

/// Reads an INSEE flows file: the flows, the rows rejected, and remarks. The file's counts
/// are weighted estimates with decimals; a flow is kept to the nearest worker, so the rows
/// under half a worker are left out, and one remark says how many and how many workers
/// they carried together (nothing is left out without a word).
pub fn insee_flows(text: &str) -> Result<Read<CommuteFlow>, String> {
    let d = Delimited::parse(text)?;
    let (from, to, n) = (
        d.column("CODGEO")?,
        d.column("DCLT")?,
        d.column("NBFLUX_C22_ACTOCC15P")?,
    );
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let (mut under_half, mut under_half_workers, mut first_under) = (0usize, 0.0f64, None);
    for (line, f) in d.rows {
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let id = format!("line {line}");
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
                        commune_residence: get(from).into(),
                        commune_travail: get(to).into(),
                        actifs,
                    });
                } else if v > 0.0 {
                    under_half += 1;
                    under_half_workers += v;
                    first_under.get_or_insert(line);
                }
            }
            _ => rejected.push(Rejected {
                id,
                reason: format!("NBFLUX_C22_ACTOCC15P: `{}` is not a count", get(n)),
            }),
        }
    }
    let notes = first_under
        .map(|line| Rejected {
            id: format!("line {line} and others"),
            reason: format!(
                "{under_half} flows under half a worker (together {under_half_workers:.1} \
                 workers) are rounded to 0 and not imported"
            ),
        })
        .into_iter()
        .collect();
    Ok((rows, rejected, notes))
}

/// Reads a Cerema land-take file: one row per commune and year found in the header.
pub fn cerema_land_take(text: &str) -> Result<(Vec<LandTake>, Vec<Rejected>), String> {
    let d = Delimited::parse(text)?;
    let header = &d.header;
    let idcom = d.column("idcom")?;
    // Years: every `artYYactZZ` column with its five siblings.
    let mut years = Vec::new();
    for h in header {
        if h.len() == 10 && h.starts_with("art") && &h[5..8] == "act" {
            if let (Ok(a), Ok(b)) = (h[3..5].parse::<i32>(), h[8..10].parse::<i32>()) {
                if b == a + 1 {
                    let cols: Option<Vec<usize>> = DESTINATIONS
                        .iter()
                        .map(|d| header_index(header, &format!("art{:02}{}{:02}", a, d.cerema, b)))
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
    for (line, f) in d.rows {
        let code = f.get(idcom).map(|s| s.trim()).unwrap_or("");
        if code.len() != 5 {
            rejected.push(Rejected {
                id: format!("line {line}"),
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
                Ok(v) if v.iter().all(|x| *x >= 0.0) => {
                    let m2: [f64; 6] = v.try_into().expect("one value a destination");
                    parsed.push(LandTake::new(code.into(), *year, m2))
                }
                _ => {
                    bad = Some(format!("year {year}: a value is not a surface in m²"));
                    break;
                }
            }
        }
        match bad {
            Some(reason) => rejected.push(Rejected {
                id: format!("line {line} ({code})"),
                reason,
            }),
            None => rows.extend(parsed),
        }
    }
    Ok((rows, rejected))
}

/// A delimited file: its header, then its records one at a time (with their first line),
/// so that a large file is never split into fields all at once.
struct Delimited<'a> {
    header: Vec<String>,
    rows: Records<'a>,
}

impl<'a> Delimited<'a> {
    /// Reads `text`, `;`-separated unless the header has more commas than semicolons.
    fn parse(text: &'a str) -> Result<Delimited<'a>, String> {
        let first = text.lines().next().ok_or("empty file")?;
        let sep = if first.matches(',').count() > first.matches(';').count() {
            ','
        } else {
            ';'
        };
        let mut rows = Records::new(text, sep);
        let (_, header) = rows.next().ok_or("empty file")?;
        Ok(Delimited {
            header: header.into_iter().map(|h| h.trim().to_string()).collect(),
            rows,
        })
    }

    fn column(&self, name: &str) -> Result<usize, String> {
        header_index(&self.header, name).ok_or(format!("column {name} missing"))
    }
}

/// A commune's density level: (INSEE code, level 1..7).
pub type DensityRow = (String, u8);

/// Reads an INSEE density grid file.
pub fn insee_density(text: &str) -> Result<(Vec<DensityRow>, Vec<Rejected>), String> {
    let d = Delimited::parse(text)?;
    let (code, dens) = (d.column("CODGEO")?, d.column("DENS")?);
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (line, f) in d.rows {
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let id = format!("line {line}");
        if get(code).len() != 5 {
            rejected.push(Rejected {
                id,
                reason: format!("CODGEO: `{}` is not an INSEE code", get(code)),
            });
            continue;
        }
        match get(dens).parse::<u8>() {
            Ok(v @ 1..=7) => rows.push((get(code).to_string(), v)),
            _ => rejected.push(Rejected {
                id,
                reason: format!("DENS: `{}` is not a level from 1 to 7", get(dens)),
            }),
        }
    }
    Ok((rows, rejected))
}

/// A place of the ANCT file that is a tiers-lieu or a France services.
#[derive(Clone, Debug, PartialEq)]
pub struct MediationPlace {
    pub id: String,
    pub nom: String,
    pub code_insee: String,
    pub adresse: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// `tiers-lieu` or `France services` (a place that is both counts as France services).
    pub tl_type: &'static str,
    /// The project's service names ([`crate::model::codes::SERVICES`]) the place offers,
    /// `|`-separated.
    pub services: String,
    pub horaires: String,
}

/// The project's services an ANCT service label stands for.
fn services_of(label: &str) -> &'static [&'static str] {
    let l = label.to_lowercase();
    if l.contains("démarche") || l.contains("administrati") {
        &["démarches administratives"]
    } else if l.contains("numérique") || l.contains("informatique") || l.contains("internet") {
        &["formation numérique"]
    } else if l.contains("emploi") || l.contains("insertion") {
        &["emploi"]
    } else if l.contains("santé") {
        &["santé"]
    } else if l.contains("écrivain") || l.contains("courrier") {
        &["écrivain public"]
    } else if l.contains("cowork") {
        &["coworking"]
    } else {
        &[]
    }
}

/// Reads an ANCT lieux de médiation numérique file; returns the tiers-lieux and France
/// services, the rows rejected, and how many other places were skipped.
pub fn anct_mediation(text: &str) -> Result<(Vec<MediationPlace>, Vec<Rejected>, usize), String> {
    let d = Delimited::parse(text)?;
    let col = |n: &str| d.column(n);
    let (id, nom, insee, lat, lon, typ) = (
        col("id")?,
        col("nom")?,
        col("code_insee")?,
        col("latitude")?,
        col("longitude")?,
        col("typologie")?,
    );
    let services = header_index(&d.header, "services");
    let adresse = header_index(&d.header, "adresse");
    let horaires = header_index(&d.header, "horaires");
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let mut skipped = 0;
    for (line, f) in d.rows {
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let opt = |k: Option<usize>| k.map(get).filter(|s| !s.is_empty());
        let kinds: Vec<&str> = get(typ).split(['|', ',']).map(str::trim).collect();
        let tl_type = if kinds.contains(&"RFS") {
            crate::model::TiersLieu::FRANCE_SERVICES
        } else if kinds.contains(&"TIERS_LIEUX") {
            crate::model::TiersLieu::TIERS_LIEU
        } else {
            skipped += 1;
            continue;
        };
        let row = format!("line {line} ({})", get(id));
        let reject = |reason: String| Rejected {
            id: row.clone(),
            reason,
        };
        if get(id).is_empty() {
            rejected.push(reject("id: missing".into()));
            continue;
        }
        if get(insee).len() != 5 {
            rejected.push(reject(format!(
                "code_insee: `{}` is not an INSEE code",
                get(insee)
            )));
            continue;
        }
        let num = |k: usize| get(k).replace(',', ".").parse::<f64>();
        let (Ok(la), Ok(lo)) = (num(lat), num(lon)) else {
            rejected.push(reject(format!(
                "latitude/longitude: `{}`/`{}` are not numbers",
                get(lat),
                get(lon)
            )));
            continue;
        };
        if !(-90.0..=90.0).contains(&la) || !(-180.0..=180.0).contains(&lo) {
            rejected.push(reject(format!(
                "latitude/longitude: {la}/{lo} out of range"
            )));
            continue;
        }
        let mut offered: Vec<&str> = Vec::new();
        if tl_type == crate::model::TiersLieu::FRANCE_SERVICES {
            offered.push("démarches administratives");
        }
        for s in opt(services).unwrap_or("").split(['|', ',', ';']) {
            for x in services_of(s) {
                if !offered.contains(x) {
                    offered.push(x);
                }
            }
        }
        out.push(MediationPlace {
            id: get(id).to_string(),
            nom: get(nom).to_string(),
            code_insee: get(insee).to_string(),
            adresse: opt(adresse).map(str::to_string),
            lon: lo,
            lat: la,
            tl_type,
            services: offered.join("|"),
            horaires: opt(horaires).unwrap_or("").to_string(),
        });
    }
    Ok((out, rejected, skipped))
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
        let (rows, rejected, notes) = insee_flows(text).unwrap();
        assert_eq!(rows.len(), 2, "a flow rounding to 0 is no flow");
        assert_eq!(notes.len(), 1, "but it is said");
        assert_eq!(notes[0].id, "line 4 and others");
        assert!(notes[0]
            .reason
            .starts_with("1 flows under half a worker (together 0.2 workers)"));
        assert_eq!(rows[0].actifs, 41235);
        assert_eq!(rows[1].commune_residence, "80001");
        assert_eq!(rows[1].actifs, 12);
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0].id, "line 5");
        assert!(rejected[1].reason.starts_with("NBFLUX_C22_ACTOCC15P"));
        assert!(insee_flows("a;b\n").is_err());
    }

    #[test]
    fn density_grid_comma_or_semicolon() {
        let text = "CODGEO,LIBGEO,DENS,LIBDENS\n02001,Abbécourt,4,Ceintures urbaines\n\
                    02002,\"Achery, le bourg\",6,Rural\n0200,X,3,Y\n02003,X,9,Y\n";
        let (rows, rejected) = insee_density(text).unwrap();
        assert_eq!(rows, vec![("02001".into(), 4), ("02002".into(), 6)]);
        assert_eq!(rejected.len(), 2);
        assert!(rejected[1].reason.starts_with("DENS"), "{rejected:?}");
        let (rows, _) = insee_density("CODGEO;DENS\n80021;1\n").unwrap();
        assert_eq!(rows, vec![("80021".into(), 1)]);
    }

    #[test]
    fn mediation_keeps_tiers_lieux_and_france_services() {
        let text = "id;nom;commune;code_postal;code_insee;adresse;latitude;longitude;typologie;services;horaires\n\
            a1;La Ruche;Doullens;80600;80253;1 rue X;50.155;2.341;TIERS_LIEUX|FABLAB;Aide aux démarches administratives|Maîtrise des outils numériques du quotidien;Mo-Fr 09:00-17:00\n\
            a2;France services de Ham;Ham;80400;80410;;49,747;3,073;RFS;;\n\
            a3;Médiathèque;Albert;80300;80016;;50.0;2.65;BIB;Accès internet;\n\
            a4;Sans lieu;Albert;80300;80016;;nord;2.65;TIERS_LIEUX;;\n";
        let (rows, rejected, skipped) = anct_mediation(text).unwrap();
        assert_eq!(skipped, 1, "the library is neither");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].tl_type, "tiers-lieu");
        assert_eq!(
            rows[0].services,
            "démarches administratives|formation numérique"
        );
        assert_eq!(rows[1].tl_type, "France services");
        assert_eq!((rows[1].lat, rows[1].lon), (49.747, 3.073));
        assert_eq!(rows[1].services, "démarches administratives");
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].reason.starts_with("latitude"), "{rejected:?}");
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

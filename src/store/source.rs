//! The read model's dataset, loaded from PostGIS.

use geo::Geometry;
use geozero::wkb;
use tokio_postgres::Client;

use geozero::ToGeo;

use super::binary::{self, BinaryError, Kind, Rows};
use super::copy::columns;
use super::{connect, StoreError, StoreResult, Stored};
use crate::model::{
    Commune, CommuteFlow, Epci, Etablissement, Feature, LandTake, LocalCommercial, Pole, Record,
    Site, Str, Terrain, TiersLieu, DESTINATIONS,
};
use crate::source::{Dataset, Source, SourceError, SourceResult};

/// Loads every layer and table from the PostGIS database at `url`.
#[derive(Clone, Debug)]
pub struct PostgisSource {
    url: String,
}

impl PostgisSource {
    pub fn new(url: impl Into<String>) -> Self {
        PostgisSource { url: url.into() }
    }
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s && url[s + 3..at].contains(':') => {
            let user = url[s + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Source for PostgisSource {
    fn describe(&self) -> String {
        format!("PostGIS ({})", redact(&self.url))
    }

    async fn load(&self) -> SourceResult<Dataset> {
        load_all(&self.url).await.map_err(db)
    }
}

fn db(e: StoreError) -> SourceError {
    SourceError::Database(e.to_string())
}

/// Reads one layer, in key order.
pub async fn load_features<R: Stored>(client: &Client) -> StoreResult<Vec<Feature<R>>> {
    load_where(client, "", &[]).await
}

/// Reads one feature, `None` when there is none of that id.
pub async fn load_feature<R: Stored>(client: &Client, id: &str) -> StoreResult<Option<Feature<R>>> {
    let key = format!("WHERE t.{} = $1", R::KEY);
    Ok(load_where::<R>(client, &key, &[&id]).await?.pop())
}

async fn load_where<R: Stored>(
    client: &Client,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<Feature<R>>> {
    // The properties as JSON, without the geometry: `to_jsonb(t) - 'geom'` would first
    // write every geometry as GeoJSON (PostGIS's cast), which is most of the cost.
    let props: Vec<String> = columns(client, R::TABLE)
        .await?
        .iter()
        .filter(|c| c.udt != "geometry")
        .map(|c| format!("t.{}", c.quoted()))
        .collect();
    let rows = client
        .query(
            &format!(
                "SELECT to_jsonb(r)::text, t.geom FROM {table} t, LATERAL (SELECT {props}) r \
                 {filter} ORDER BY t.{key}",
                table = R::TABLE,
                props = props.join(", "),
                key = R::KEY
            ),
            params,
        )
        .await?;
    rows.iter()
        .map(|row| {
            let json: &str = row.get(0);
            let record: R = serde_json::from_str(json).map_err(|e| StoreError::Row {
                table: R::TABLE,
                id: json.chars().take(60).collect(),
                message: e.to_string(),
            })?;
            let g: wkb::Decode<Geometry<f64>> = row.get(1);
            let geometry = g.geometry.ok_or_else(|| StoreError::Row {
                table: R::TABLE,
                id: record.id().to_string(),
                message: "no geometry".into(),
            })?;
            Ok(Feature { geometry, record })
        })
        .collect()
}

/// The bytes of `COPY (query) TO STDOUT (FORMAT binary)` on a connection of its own.
async fn copy_binary(url: &str, query: &str) -> StoreResult<Vec<u8>> {
    use futures_util::TryStreamExt;
    let client = connect(url).await?;
    let stream = client
        .copy_out(&format!("COPY ({query}) TO STDOUT (FORMAT binary)"))
        .await?;
    let mut out = Vec::new();
    futures_util::pin_mut!(stream);
    while let Some(chunk) = stream.try_next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Decodes on a blocking thread (the async workers keep serving).
async fn decode<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Config(format!("decoding thread: {e}")))?
}

/// One layer by binary COPY, with each feature's version.
async fn copy_layer<R: Stored>(url: &str) -> StoreResult<(Vec<Feature<R>>, Vec<(String, i64)>)> {
    let client = connect(url).await?;
    let cols = columns(&client, R::TABLE).await?;
    drop(client);
    let props: Vec<&super::copy::Column> = cols.iter().filter(|c| c.udt != "geometry").collect();
    let mut select: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut kinds: Vec<Kind> = Vec::new();
    for c in &props {
        let (k, e) = Kind::of(c);
        select.push(e);
        names.push(c.name.clone());
        kinds.push(k);
    }
    select.push("version".into());
    select.push("ST_AsBinary(geom)".into());
    let bytes = copy_binary(
        url,
        &format!("SELECT {} FROM {}", select.join(", "), R::TABLE),
    )
    .await?;
    decode(move || {
        let bad = |id: String, message: String| StoreError::Row {
            table: R::TABLE,
            id,
            message,
        };
        let n = names.len();
        let mut rows = Rows::new(&bytes, n + 2).map_err(|e| bad(String::new(), e.0))?;
        let mut cells = Vec::with_capacity(n + 2);
        let mut features = Vec::new();
        let mut versions = Vec::new();
        while rows
            .next_row(&mut cells)
            .map_err(|e| bad(String::new(), e.0))?
        {
            let record: R = binary::record(&names, &kinds, &cells[..n])
                .map_err(|e| bad(format!("#{}", features.len() + 1), e.0))?;
            let version = cells[n]
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .unwrap_or(1);
            let geometry = cells[n + 1]
                .and_then(|b| geozero::wkb::Wkb(b.to_vec()).to_geo().ok())
                .ok_or_else(|| bad(record.id().to_string(), "no geometry".into()))?;
            if version != 1 {
                versions.push((record.id().to_string(), version));
            }
            features.push(Feature { geometry, record });
        }
        // In key order, as the files are.
        features.sort_by(|a, b| a.record.id().cmp(b.record.id()));
        Ok((features, versions))
    })
    .await
}

/// Reads every layer and table of the database at `url`: one connection and one binary
/// `COPY` a table, all at once, each decoded on its own thread as it arrives.
pub async fn load_all(url: &str) -> StoreResult<Dataset> {
    use futures_util::future::try_join;
    let flows = async {
        let bytes = copy_binary(
            url,
            "SELECT commune_residence, commune_travail, actifs FROM navette",
        )
        .await?;
        decode(move || {
            let mut rows = Rows::new(&bytes, 3).map_err(row_error("navette"))?;
            let mut cells = Vec::with_capacity(3);
            let mut out = Vec::new();
            while rows.next_row(&mut cells).map_err(row_error("navette"))? {
                let text = |i: usize| -> StoreResult<Str> {
                    std::str::from_utf8(cells[i].unwrap_or_default())
                        .map(Str::new)
                        .map_err(|e| row_error("navette")(BinaryError(e.to_string())))
                };
                out.push(CommuteFlow {
                    commune_residence: text(0)?,
                    commune_travail: text(1)?,
                    actifs: cells[2]
                        .and_then(|b| b.try_into().ok())
                        .map(i32::from_be_bytes)
                        .unwrap_or(0) as u32,
                });
            }
            Ok(out)
        })
        .await
    };
    let land_take = async {
        let bytes = copy_binary(url, &land_take_select("")).await?;
        decode(move || {
            let mut rows = Rows::new(&bytes, 8).map_err(row_error("consommation_enaf"))?;
            let mut cells = Vec::with_capacity(8);
            let mut out = Vec::new();
            let f = |c: Option<&[u8]>| {
                c.and_then(|b| b.try_into().ok())
                    .map(f64::from_be_bytes)
                    .unwrap_or(0.0)
            };
            while rows
                .next_row(&mut cells)
                .map_err(row_error("consommation_enaf"))?
            {
                let code = std::str::from_utf8(cells[0].unwrap_or_default()).unwrap_or_default();
                let annee = cells[1]
                    .and_then(|b| b.try_into().ok())
                    .map(i32::from_be_bytes)
                    .unwrap_or(0);
                let m2 = std::array::from_fn(|k| f(cells[2 + k]));
                out.push(LandTake::new(Str::new(code), annee, m2));
            }
            Ok(out)
        })
        .await
    };
    // The audit version first: every write up to it is committed before the copies begin.
    let (attribution, audit_version) = {
        let client = connect(url).await?;
        let row = client
            .query_one(
                "SELECT (SELECT valeur FROM jeu_de_donnees WHERE cle = 'attribution'),
                        (SELECT coalesce(max(id), 0) FROM historique)",
                &[],
            )
            .await?;
        (
            row.get::<_, Option<String>>(0).unwrap_or_default(),
            row.get::<_, i64>(1),
        )
    };
    let layers = async {
        let ((etabs, terrains), (locaux, sites)) = try_join(
            try_join(copy_layer::<Etablissement>(url), copy_layer::<Terrain>(url)),
            try_join(copy_layer::<LocalCommercial>(url), copy_layer::<Site>(url)),
        )
        .await?;
        let ((communes, epci), (poles, tl)) = try_join(
            try_join(copy_layer::<Commune>(url), copy_layer::<Epci>(url)),
            try_join(copy_layer::<Pole>(url), copy_layer::<TiersLieu>(url)),
        )
        .await?;
        Ok::<_, StoreError>((etabs, terrains, locaux, sites, communes, epci, poles, tl))
    };
    let ((layers, flows), land_take) = try_join(try_join(layers, flows), land_take).await?;
    let (etabs, terrains, locaux, sites, communes, epci, poles, tl) = layers;
    let mut versions = rustc_hash::FxHashMap::default();
    let mut note = |collection: &str, v: Vec<(String, i64)>| {
        for (id, version) in v {
            versions.insert(format!("{collection}/{id}"), version);
        }
    };
    note(Commune::COLLECTION, communes.1);
    note(Epci::COLLECTION, epci.1);
    note(Pole::COLLECTION, poles.1);
    note(Site::COLLECTION, sites.1);
    note(Terrain::COLLECTION, terrains.1);
    note(Etablissement::COLLECTION, etabs.1);
    note(LocalCommercial::COLLECTION, locaux.1);
    note(TiersLieu::COLLECTION, tl.1);
    Ok(Dataset {
        versions,
        audit_version,
        communes: communes.0,
        epci: epci.0,
        poles: poles.0,
        sites: sites.0,
        terrains: terrains.0,
        etablissements: etabs.0,
        locaux: locaux.0,
        tiers_lieux: tl.0,
        flows,
        land_take,
        attribution,
    })
}

fn row_error(table: &'static str) -> impl Fn(BinaryError) -> StoreError {
    move |e| StoreError::Row {
        table,
        id: String::new(),
        message: e.0,
    }
}

/// The land-take table's rows, destinations in the order of [`DESTINATIONS`], then `rest`.
fn land_take_select(rest: &str) -> String {
    let columns: Vec<&str> = DESTINATIONS.iter().map(|d| d.column).collect();
    format!(
        "SELECT code_insee, annee, {} FROM consommation_enaf{rest}",
        columns.join(", ")
    )
}

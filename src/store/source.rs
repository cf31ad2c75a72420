//! The read model's dataset, loaded from PostGIS.

use geo::Geometry;
use geozero::wkb;
use tokio_postgres::Client;

use super::copy::columns;
use super::{connect, StoreError, StoreResult, Stored};
use crate::model::{
    Commune, CommuteFlow, Epci, Etablissement, Feature, LandTake, LocalCommercial, Pole, Record,
    Site, Terrain, TiersLieu,
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
        let client = connect(&self.url).await.map_err(db)?;
        load_dataset(&client).await.map_err(db)
    }
}

fn db(e: StoreError) -> SourceError {
    SourceError::Database(e.to_string())
}

/// Every feature table: (collection, table, key).
const VERSIONED: [(&str, &str, &str); 8] = [
    (Commune::COLLECTION, Commune::TABLE, Commune::KEY),
    (Epci::COLLECTION, Epci::TABLE, Epci::KEY),
    (Pole::COLLECTION, Pole::TABLE, Pole::KEY),
    (Site::COLLECTION, Site::TABLE, Site::KEY),
    (Terrain::COLLECTION, Terrain::TABLE, Terrain::KEY),
    (
        Etablissement::COLLECTION,
        Etablissement::TABLE,
        Etablissement::KEY,
    ),
    (
        LocalCommercial::COLLECTION,
        LocalCommercial::TABLE,
        LocalCommercial::KEY,
    ),
    (TiersLieu::COLLECTION, TiersLieu::TABLE, TiersLieu::KEY),
];

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

/// Reads every layer and table.
pub async fn load_dataset(client: &Client) -> StoreResult<Dataset> {
    let flows = client
        .query(
            "SELECT commune_residence, commune_travail, actifs FROM navette
             ORDER BY commune_residence, commune_travail",
            &[],
        )
        .await?
        .iter()
        .map(|r| CommuteFlow {
            commune_residence: r.get::<_, &str>(0).into(),
            commune_travail: r.get::<_, &str>(1).into(),
            actifs: r.get::<_, i32>(2) as u32,
        })
        .collect();
    let land_take = client
        .query(
            "SELECT code_insee, annee, activite_m2, habitat_m2, mixte_m2, route_m2,
                    ferroviaire_m2, inconnu_m2
             FROM consommation_enaf ORDER BY code_insee, annee",
            &[],
        )
        .await?
        .iter()
        .map(|r| LandTake {
            code_insee: r.get::<_, &str>(0).into(),
            annee: r.get(1),
            activite_m2: r.get(2),
            habitat_m2: r.get(3),
            mixte_m2: r.get(4),
            route_m2: r.get(5),
            ferroviaire_m2: r.get(6),
            inconnu_m2: r.get(7),
        })
        .collect();
    let attribution = client
        .query_opt(
            "SELECT valeur FROM jeu_de_donnees WHERE cle = 'attribution'",
            &[],
        )
        .await?
        .map(|r| r.get(0))
        .unwrap_or_default();
    let mut versions = rustc_hash::FxHashMap::default();
    for (collection, table, key) in VERSIONED {
        for r in client
            .query(
                &format!("SELECT {key}, version FROM {table} WHERE version <> 1"),
                &[],
            )
            .await?
        {
            let id: String = r.get(0);
            versions.insert(format!("{collection}/{id}"), r.get::<_, i64>(1));
        }
    }
    Ok(Dataset {
        versions,
        communes: load_features(client).await?,
        epci: load_features(client).await?,
        poles: load_features(client).await?,
        sites: load_features(client).await?,
        terrains: load_features(client).await?,
        etablissements: load_features(client).await?,
        locaux: load_features(client).await?,
        tiers_lieux: load_features(client).await?,
        flows,
        land_take,
        attribution,
    })
}

-- ecofoncier schema, version 1: the CNIG "Sites économiques" tables (pôle, site, terrain,
-- établissement) in Lambert-93 with GiST indexes and code-list checks; the territory
-- (communes, EPCIs), centre-bourg premises, tiers-lieux, home-work flows and land take;
-- API tokens and the audit history of every write.
--
-- Column names are the standard's field names (CODELISTS.md and the JSON schemas of
-- ../shared/data/cnig-sites-economiques/), so a row read with to_jsonb() is a feature's
-- properties as the API serves them. Every feature table has a `version` column, the
-- feature's ETag, raised by each write.

CREATE EXTENSION IF NOT EXISTS postgis;

-- The standard's dates are ISO 8601 text (TEXT(10) in its GeoPackage template); empty when
-- unknown.
CREATE DOMAIN date_cnig AS text
    CHECK (VALUE = '' OR VALUE ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$');

-- Territory -------------------------------------------------------------------------------

CREATE TABLE epci (
    epci_siren text PRIMARY KEY CHECK (epci_siren ~ '^[0-9]{9}$'),
    epci_nom text NOT NULL,
    epci_type text NOT NULL,
    mode_financement text,
    population_totale bigint NOT NULL CHECK (population_totale >= 0),
    n_membres_total integer NOT NULL,
    n_membres_region integer NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Geometry, 2154) NOT NULL
        CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON'))
);
CREATE INDEX epci_geom ON epci USING gist (geom);

CREATE TABLE commune (
    code_insee text PRIMARY KEY CHECK (code_insee ~ '^[0-9][0-9AB][0-9]{3}$'),
    nom text NOT NULL,
    dep text NOT NULL,
    population integer NOT NULL CHECK (population >= 0),
    epci_siren text NOT NULL,
    mairie_x double precision NOT NULL,
    mairie_y double precision NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Geometry, 2154) NOT NULL
        CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON'))
);
CREATE INDEX commune_geom ON commune USING gist (geom);
CREATE INDEX commune_epci ON commune (epci_siren);

-- CNIG Sites économiques ----------------------------------------------------------------

CREATE TABLE pole_eco (
    pole_id text PRIMARY KEY,
    pole_nom text NOT NULL,
    pole_vocadomi text NOT NULL,
    pole_identif_date date_cnig NOT NULL,
    pole_actu_date date_cnig,
    pole_nb_site integer,
    pole_nb_etab integer,
    pole_nb_emploi integer,
    pole_surface double precision NOT NULL,
    pole_rayonnement text,
    source_producteur text,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Point, 2154) NOT NULL
);
CREATE INDEX pole_eco_geom ON pole_eco USING gist (geom);

CREATE TABLE site_eco (
    site_id text PRIMARY KEY,
    pole_id text NOT NULL,
    site_nom text NOT NULL,
    site_type text NOT NULL,
    site_vocadomi text NOT NULL,
    site_etat text NOT NULL,
    site_surf_brute double precision NOT NULL CHECK (site_surf_brute >= 0),
    site_surf_utile double precision NOT NULL CHECK (site_surf_utile >= 0),
    site_creation_date text,
    site_identif_date date_cnig NOT NULL,
    site_actu_date date_cnig NOT NULL,
    source_producteur text,
    site_description text,
    site_evol_urba text,
    site_epci_nom text NOT NULL,
    site_epci_siren text NOT NULL CHECK (site_epci_siren ~ '^[0-9]{9}$'),
    site_comm_nom text NOT NULL,
    site_comm_insee text NOT NULL,
    site_moa_type text NOT NULL,
    site_moa_nom text,
    site_uf_nbre integer CHECK (site_uf_nbre >= 0),
    site_uf_vacant_nbre integer CHECK (site_uf_vacant_nbre >= 0),
    site_taux_vacance integer CHECK (site_taux_vacance BETWEEN 0 AND 100),
    site_uf_bati_nbre integer,
    site_nb_etab integer,
    site_nb_emploi integer,
    site_surf_comm_dispo double precision,
    site_voca_industrielle text CHECK (site_voca_industrielle IN ('oui', 'non', 'inconnu', 'sans objet')),
    site_voca_commerciale text CHECK (site_voca_commerciale IN ('oui', 'non', 'inconnu', 'sans objet')),
    site_voca_tertiaire text CHECK (site_voca_tertiaire IN ('oui', 'non', 'inconnu', 'sans objet')),
    site_voca_artisanale text CHECK (site_voca_artisanale IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_eau_pluviale text CHECK (reseau_eau_pluviale IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_eau_potable text CHECK (reseau_eau_potable IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_assainissement text CHECK (reseau_assainissement IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_gaz text CHECK (reseau_gaz IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_electrique text CHECK (reseau_electrique IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_fibre_optique text CHECK (reseau_fibre_optique IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_fret_ferroviaire text CHECK (reseau_fret_ferroviaire IN ('oui', 'non', 'inconnu', 'sans objet')),
    reseau_fluvial text CHECK (reseau_fluvial IN ('oui', 'non', 'inconnu', 'sans objet')),
    desserte_tc text CHECK (desserte_tc IN ('oui', 'non', 'inconnu', 'sans objet')),
    desserte_route_nom text,
    autoroute_nom text,
    autoroute_echang_dist double precision,
    gare_nom text,
    gare_dist double precision,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Geometry, 2154) NOT NULL
        CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')),
    CONSTRAINT site_type_liste CHECK (string_to_array(site_type, '|') <@ ARRAY[
        'zone d''activité économique',
        'site économique historique hors ZAE',
        'établissement économique isolé',
        'zone AU à vocation économique',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT site_etat_liste CHECK (string_to_array(site_etat, '|') <@ ARRAY[
        'en projet',
        'création',
        'existant et actif',
        'projet de déclassement',
        'déclassé',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT site_vocadomi_liste CHECK (string_to_array(site_vocadomi, '|') <@ ARRAY[
        'industrielle',
        'commerciale',
        'tertiaire',
        'artisanale',
        'touristique',
        'portuaire',
        'aéroportuaire, aéronautique',
        'entrepôts, logistique',
        'logistique agricole',
        'mixte',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT site_moa_type_liste CHECK (string_to_array(site_moa_type, '|') <@ ARRAY[
        'commune',
        'epci',
        'SEM',
        'CCI',
        'privé',
        'Etat',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[])
);
CREATE INDEX site_eco_geom ON site_eco USING gist (geom);
CREATE INDEX site_eco_epci ON site_eco (site_epci_siren);

CREATE TABLE terrain_eco (
    terr_id text PRIMARY KEY,
    site_id text,
    terr_refcad text,
    terr_surf_brute double precision NOT NULL CHECK (terr_surf_brute >= 0),
    terr_utile text CHECK (terr_utile IN ('oui', 'non', 'inconnu', 'sans objet')),
    terr_identif_date date_cnig NOT NULL,
    terr_actu_date date_cnig NOT NULL,
    terr_maitrise_fonc text NOT NULL,
    terr_stade_amngt text NOT NULL,
    terr_stade_comm text NOT NULL,
    terr_etat_occup text NOT NULL,
    terr_usage text NOT NULL,
    terr_cle_en_main text CHECK (terr_cle_en_main IN ('oui', 'non', 'inconnu', 'sans objet')),
    terr_activite_fin_date date_cnig,
    terr_inoccupe_date date_cnig,
    source_producteur text,
    -- Confidential: served only to the EPCI's editors and to admins.
    terr_acquereur text,
    terr_cession_date date_cnig,
    terr_vente_montant double precision,
    terr_m2_prix double precision,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Geometry, 2154) NOT NULL
        CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')),
    CONSTRAINT terr_etat_occup_liste CHECK (string_to_array(terr_etat_occup, '|') <@ ARRAY[
        'occupé',
        'occupation transitoire',
        'inoccupé',
        'vacant',
        'friche',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT terr_stade_comm_liste CHECK (string_to_array(terr_stade_comm, '|') <@ ARRAY[
        'non commercialisé',
        'non commercialisable',
        'en vente',
        'en vente avec contraintes',
        'réservé par option de réservation',
        'réservé par une délibération de l''EPCI',
        'vendu, commercialisation achevée',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT terr_stade_amngt_liste CHECK (string_to_array(terr_stade_amngt, '|') <@ ARRAY[
        'non aménageable',
        'non aménagé, non viabilisé',
        'viabilisation en cours',
        'viabilisé non aménagé',
        'viabilisé et aménagé',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[]),
    CONSTRAINT terr_usage_liste CHECK (string_to_array(terr_usage, '|') <@ ARRAY[
        'bâti productif',
        'parkings',
        'dépôt, stockage',
        'zone de service partagée',
        'zone de retournement poids-lourds',
        'voirie',
        'autres équipements publics',
        'bâti résidentiel',
        'production d''énergie renouvelable',
        'bassin d''orage',
        'espace vert',
        'espace naturel ou forestier',
        'espace agricole',
        'carrières',
        'inconnu',
        'autre',
        'sans objet'
    ]::text[])
);
CREATE INDEX terrain_eco_geom ON terrain_eco USING gist (geom);
CREATE INDEX terrain_eco_site ON terrain_eco (site_id);

CREATE TABLE etablissement (
    "SIRET" text PRIMARY KEY CHECK ("SIRET" ~ '^[0-9]{14}$'),
    "SIREN" text NOT NULL CHECK ("SIREN" ~ '^[0-9]{9}$'),
    terr_id text NOT NULL,
    etab_raison_sociale text NOT NULL,
    etab_nat_juridique text NOT NULL,
    etab_nom text NOT NULL,
    epci_nom text NOT NULL,
    epci_siren text NOT NULL,
    comm_nom text NOT NULL,
    comm_insee text NOT NULL,
    etab_siege text CHECK (etab_siege IN ('oui', 'non', 'inconnu', 'sans objet')),
    etab_creation_date date_cnig NOT NULL,
    etab_identif_date date_cnig NOT NULL,
    etab_actu_date date_cnig NOT NULL,
    etab_actif text CHECK (etab_actif IN ('oui', 'non', 'inconnu', 'sans objet')),
    etab_activite_code text NOT NULL,
    etab_activite_libelle text NOT NULL,
    etab_effectif_code text NOT NULL,
    etab_effectif_libelle text NOT NULL,
    etab_effectif_annee text NOT NULL,
    etab_source_info text NOT NULL,
    geocodage_qualite text NOT NULL,
    etab_emplois integer NOT NULL CHECK (etab_emplois >= 0),
    etab_implantation_date date_cnig NOT NULL,
    etab_implantation_mode text NOT NULL,
    -- Confidential: served only to the EPCI's editors and to admins.
    etab_contact_mail text,
    etab_contact_tel text,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Geometry, 2154) NOT NULL
        CHECK (GeometryType(geom) IN ('POINT', 'MULTIPOINT'))
);
CREATE INDEX etablissement_geom ON etablissement USING gist (geom);
CREATE INDEX etablissement_epci ON etablissement (epci_siren);

-- Services in the villages ---------------------------------------------------------------

CREATE TABLE local_commercial (
    local_id text PRIMARY KEY,
    comm_insee text NOT NULL,
    comm_nom text NOT NULL,
    epci_siren text NOT NULL,
    local_surface_m2 double precision NOT NULL CHECK (local_surface_m2 >= 0),
    local_etat text NOT NULL CHECK (local_etat IN ('occupé', 'vacant')),
    local_enseigne text,
    local_activite_code text,
    local_activite_libelle text,
    local_installation_annee integer,
    local_vacant_depuis integer,
    source_producteur text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Point, 2154) NOT NULL
);
CREATE INDEX local_commercial_geom ON local_commercial USING gist (geom);

CREATE TABLE tiers_lieu (
    tl_id text PRIMARY KEY,
    tl_nom text NOT NULL,
    tl_type text NOT NULL,
    comm_insee text NOT NULL,
    comm_nom text NOT NULL,
    epci_siren text NOT NULL,
    tl_services text NOT NULL,
    tl_horaires text NOT NULL,
    tl_ouverture_annee integer NOT NULL,
    tl_activite jsonb NOT NULL DEFAULT '[]',
    source_producteur text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    geom geometry(Point, 2154) NOT NULL
);
CREATE INDEX tiers_lieu_geom ON tiers_lieu USING gist (geom);

-- Tables ----------------------------------------------------------------------------------

CREATE TABLE navette (
    commune_residence text NOT NULL,
    commune_travail text NOT NULL,
    actifs integer NOT NULL CHECK (actifs >= 0),
    PRIMARY KEY (commune_residence, commune_travail)
);

CREATE TABLE consommation_enaf (
    code_insee text NOT NULL,
    annee integer NOT NULL CHECK (annee BETWEEN 2009 AND 2100),
    activite_m2 double precision NOT NULL,
    habitat_m2 double precision NOT NULL,
    mixte_m2 double precision NOT NULL,
    route_m2 double precision NOT NULL,
    ferroviaire_m2 double precision NOT NULL,
    inconnu_m2 double precision NOT NULL,
    PRIMARY KEY (code_insee, annee)
);

-- What the dataset says of itself (attribution of the real geography).
CREATE TABLE jeu_de_donnees (
    cle text PRIMARY KEY,
    valeur text NOT NULL
);

-- Access and audit ------------------------------------------------------------------------

CREATE TABLE jeton (
    id bigserial PRIMARY KEY,
    -- argon2id PHC string of the secret part; the token itself is shown once.
    empreinte text NOT NULL,
    role text NOT NULL CHECK (role IN ('editor', 'admin')),
    epci_siren text CHECK ((role = 'editor') = (epci_siren IS NOT NULL)),
    libelle text,
    cree_le timestamptz NOT NULL DEFAULT now(),
    revoque_le timestamptz
);

CREATE TABLE historique (
    id bigserial PRIMARY KEY,
    collection text NOT NULL,
    feature_id text NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'replace', 'update', 'delete', 'import')),
    jeton_id bigint REFERENCES jeton (id),
    le timestamptz NOT NULL DEFAULT clock_timestamp(),
    avant jsonb,
    apres jsonb
);
CREATE INDEX historique_feature ON historique (collection, feature_id, le);

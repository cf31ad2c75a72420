-- ecofoncier schema, version 2: every field of the CNIG standard, so that an inventory
-- imported from the standard's ;-CSV, GeoJSON or GeoPackage comes back out unchanged; the
-- INSEE density grid on communes; tiers-lieux read from the ANCT file (no opening year);
-- establishments read from the standard (no job count or settlement date of their own).

ALTER TABLE site_eco
    ADD COLUMN site_quali_territoire text,
    ADD COLUMN site_url text,
    ADD COLUMN site_moa_amngt text,
    ADD COLUMN site_moa_comm text,
    ADD COLUMN site_geompoint text,
    ADD COLUMN site_media text,
    ADD COLUMN site_surf_projet double precision CHECK (site_surf_projet >= 0),
    ADD COLUMN site_voca_touristique text
        CHECK (site_voca_touristique IN ('oui', 'non', 'inconnu', 'sans objet')),
    ADD COLUMN site_voca_portuaire text
        CHECK (site_voca_portuaire IN ('oui', 'non', 'inconnu', 'sans objet')),
    ADD COLUMN site_voca_aeroportuaire text
        CHECK (site_voca_aeroportuaire IN ('oui', 'non', 'inconnu', 'sans objet')),
    ADD COLUMN gare_fret_nom text,
    ADD COLUMN gare_fret_dist double precision,
    ADD COLUMN aeroport_nom text,
    ADD COLUMN aeroport_dist double precision,
    ADD COLUMN port_nom text,
    ADD COLUMN port_dist double precision,
    -- Fields whose value is outside the standard's code lists, kept as the producer wrote
    -- them (a JSON array of field names); NULL when there is none.
    ADD COLUMN champs_hors_liste jsonb CHECK (jsonb_typeof(champs_hors_liste) = 'array');

ALTER TABLE terrain_eco
    ADD COLUMN terr_url_cartofriches text,
    ADD COLUMN champs_hors_liste jsonb CHECK (jsonb_typeof(champs_hors_liste) = 'array');

-- Each code-list check of version 1 now lets through a value the row declares off-list:
-- `CHECK (<list check> OR champs_hors_liste ? '<column>')`. The lists themselves stay those
-- of version 1.
DO $$
DECLARE
    c record;
    col text;
BEGIN
    FOR c IN
        SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS def
        FROM pg_constraint
        WHERE contype = 'c'
          AND conrelid IN ('site_eco'::regclass, 'terrain_eco'::regclass)
          AND conname LIKE '%\_liste'
    LOOP
        col := left(c.conname, length(c.conname) - length('_liste'));
        EXECUTE format(
            'ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (%s OR coalesce(champs_hors_liste ? %L, false))',
            c.tbl, c.conname, c.conname, substring(c.def FROM 7), col);
    END LOOP;
END
$$;

ALTER TABLE etablissement
    ADD COLUMN "ban-id" text,
    ADD COLUMN "bat-id" text,
    ADD COLUMN etab_adresse text,
    ADD COLUMN etab_fermeture_date date_cnig,
    ADD COLUMN etab_description text,
    ALTER COLUMN etab_emplois DROP NOT NULL,
    ALTER COLUMN etab_implantation_date DROP NOT NULL,
    ALTER COLUMN etab_implantation_mode DROP NOT NULL;

-- The INSEE communal density grid, 1 (grands centres urbains) to 7 (rural à habitat très
-- dispersé); NULL until imported (the class is then estimated from density).
ALTER TABLE commune
    ADD COLUMN grille_densite smallint CHECK (grille_densite BETWEEN 1 AND 7);

ALTER TABLE tiers_lieu
    ALTER COLUMN tl_ouverture_annee DROP NOT NULL,
    ADD COLUMN tl_adresse text;

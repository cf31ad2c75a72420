#!/usr/bin/env bash
# Country-scale import: 450,000 plots and 1,000,000 establishments as the CNIG ;-CSV,
# imported into a throwaway PostGIS cluster by `ecofoncier import --cnig`, then imported
# again (nothing changes). The rows are SYNTHETIC: the embedded dataset's plots and
# establishments repeated under new identifiers (the geometry is kept).
# Prints wall time, rows/s and peak memory of each import.
# Usage: bash bench/country_import.sh [PLOTS] [ESTABLISHMENTS]   (needs postgresql-15-postgis-3)
set -euo pipefail
cd "$(dirname "$0")/.."
plots="${1:-450000}"
etabs="${2:-1000000}"
bin="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
dir=$(mktemp -d)
chmod 755 "$dir"
pgbin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir "$dir/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg"
as_pg "$pgbin/initdb" -D "$dir/pg/data" -U postgres -A trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1" \
    -l "$dir/pg/log" -w start >/dev/null
trap 'as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$bin" migrate >/dev/null

echo "== writing $plots plots and $etabs establishments (synthetic, ;-CSV)"
python3 - "$dir" "$plots" "$etabs" <<'PY'
import gzip, json, sys
out, n_plots, n_etabs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
TERRAIN = ("terr_id;site_id;terr_refcad;terr_surf_brute;terr_utile;terr_identif_date;terr_actu_date;"
           "terr_maitrise_fonc;terr_stade_amngt;terr_stade_comm;terr_etat_occup;terr_usage;"
           "terr_url_cartofriches;terr_geomsurf;terr_cle_en_main;terr_acquereur;terr_cession_date;"
           "terr_vente_montant;terr_m2_prix").split(";")
ETAB = ("SIRET;SIREN;terr_id;ban-id;bat-id;etab_adresse;etab_raison_sociale;etab_nat_juridique;"
        "etab_nom;epci_nom;epci_siren;comm_nom;comm_insee;etab_siege;etab_creation_date;"
        "etab_identif_date;etab_actu_date;etab_actif;etab_fermeture_date;etab_description;"
        "etab_activite_code;etab_activite_libelle;etab_effectif_code;etab_effectif_libelle;"
        "etab_effectif_annee;etab_source_info;geocodage_qualite;etab_geompoint;"
        "etab_contact_mail;etab_contact_tel").split(";")
def cell(v):
    s = "" if v is None else (json.dumps(v, separators=(",", ":")) if isinstance(v, dict) else str(v))
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ';"\n') else s
def write(name, layer, header, geom_col, n, key, ids):
    feats = [json.loads(l.rstrip(",\n")) for l in gzip.open(f"data/{layer}.geojson.gz", "rt")
             if l.startswith('{"type":"Feature"')]
    with open(f"{out}/{name}.csv", "w") as f:
        f.write(";".join(header) + "\n")
        for i in range(n):
            src = feats[i % len(feats)]
            p = dict(src["properties"]); rep = i // len(feats)
            ids(p, rep)
            p[geom_col] = src["geometry"]
            f.write(";".join(cell(p.get(c)) for c in header) + "\n")
def plot_ids(p, rep):
    if rep: p["terr_id"] = f'{p["terr_id"]}-{rep}'
def etab_ids(p, rep):
    if rep:
        p["SIRET"] = f'{rep:02d}{p["SIRET"][2:]}'
        p["terr_id"] = f'{p["terr_id"]}-{rep}'
write("terrain_eco", "terrains", TERRAIN, "terr_geomsurf", n_plots, "terr_id", plot_ids)
write("etablissement", "etablissements", ETAB, "etab_geompoint", n_etabs, "SIRET", etab_ids)
PY
ls -lh "$dir"/*.csv | awk '{print $5, $9}'

# run LABEL FILE: imports FILE; prints the time, the rows/s of the rows the import reports
# read, how many it wrote, and its peak memory.
run() {
    local label=$1 file=$2
    /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" import --cnig "$file" >"$dir/out" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
    read -r secs kb <"$dir/time"
    local counts
    counts=$(grep -oE "[0-9]+ rows read, [0-9]+ inserted or changed" "$dir/out" | grep -oE "^[0-9]+|, [0-9]+" | tr -d ', ' | paste -sd' ')
    python3 -c "import sys; s,kb=float(sys.argv[1]),int(sys.argv[2]); r,w=map(int,sys.argv[3].split()); print(f'{sys.argv[4]:<34} {s:7.1f} s  {r/s:9,.0f} rows read/s ({r:,} read, {w:,} written)  peak {kb/1024:6,.0f} MB')" \
        "$secs" "$kb" "$counts" "$label"
    grep -E "rows read" "$dir/out" | sed "s/^/    /"
    grep -E "^  rejected" "$dir/out" | head -3 | sed "s/^/  /" || true
}
echo "== import (one transaction a file)"
run "plots, first import" "$dir/terrain_eco.csv"
run "establishments, first import" "$dir/etablissement.csv"
run "establishments, again (no change)" "$dir/etablissement.csv"

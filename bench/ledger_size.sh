#!/bin/sh
# BENCHMARKS.md, "Ledger size (issue 14)": a 2,000-row run against the
# simulator, every status tracked to its end, then the ledger's
# page_count * page_size / messages and bytes per table (dbstat).
# Usage (in a scratch directory): bench/ledger_size.sh BINARY LEDGER PORT
# Needs sqlite3 (the CLI, with dbstat) and python3 for the input.
set -e
python3 - <<'PY'
import csv
w = csv.writer(open('d.csv', 'w', newline=''))
w.writerow(["Partner Name", "Partner Phone", "Order Number", "Product Name", "Delivery Note"])
for i in range(2000):
    w.writerow([f"Partner {i} GmbH", f"+4917{10000000 + i}", f"ORD-2026-{i:06d}",
                "Pallet of bricks, 40 units",
                "Delivered to the loading dock, signed by the night guard"])
PY
set +e
B=$1; L=$2; P=$3
$B simulate --listen 127.0.0.1:$P --channel SIM0001 --token sim-token --rate 0 --pair-interval 0 --sent-latency 5ms --delivered-latency 10ms --read-latency 10ms > sim.log 2>&1 &
S=$!; sleep 1
ONEMSG_TOKEN=sim-token $B run d.csv --out r.csv --ledger $L --api-url http://127.0.0.1:$P --channel SIM0001 --rate 500 --pair-interval 0 --first-poll 50ms --poll-rate 200 --track-for 60s --quiet
echo rc=$?
kill $S
sqlite3 $L "pragma wal_checkpoint(TRUNCATE);" >/dev/null
sqlite3 $L "select 'pages', (select page_count from pragma_page_count), (select page_size from pragma_page_size), (select count(*) from messages), (select count(*) from status_history), (select page_count from pragma_page_count)*(select page_size from pragma_page_size)/(select count(*) from messages);"
sqlite3 $L "select name, sum(pgsize) from dbstat group by name order by 2 desc"

// The vendor's example, at scale: one awaited fetch to sendTemplate per row,
// then nothing (no pacing, no retries, no status tracking, no report).
//
//   node bench/baseline.js <deliveries.csv> <base URL> [rows]
//
// Instance SIM0001, token sim-token (the simulator's). The namespace comes
// from GET templates, or the simulator's default if the list has none.
// Exits 1 if any send was not accepted.
'use strict';
const fs = require('fs');

const [csvPath, base, limitArg] = process.argv.slice(2);
const INSTANCE = 'SIM0001';
const TOKEN = 'sim-token';
const TEMPLATE = 'partner_delivery_confirmation';
const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

async function namespace() {
  const r = await fetch(`${base}/${INSTANCE}/templates`, { headers });
  const body = await r.json();
  const t = (body.templates || []).find((t) => t.name === TEMPLATE);
  return (t && t.namespace) || 'c4f1d2a0_5e7b_4a39_9d61_0a8e3b7c2f15';
}

async function main() {
  // The bench's CSV has no quoted fields, so a plain split is enough.
  const lines = fs.readFileSync(csvPath, 'utf8').split('\n').filter((l) => l.length);
  const header = lines.shift().split(',');
  const col = (name) => header.indexOf(name);
  const [name, phone, order, product, note] = [
    'partner_name', 'partner_phone', 'order_number', 'product_name', 'delivery_note',
  ].map(col);
  const limit = limitArg ? Math.min(Number(limitArg), lines.length) : lines.length;
  const ns = await namespace();
  let accepted = 0;
  for (let i = 0; i < limit; i++) {
    const f = lines[i].split(',');
    const r = await fetch(`${base}/${INSTANCE}/sendTemplate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        phone: f[phone].replace(/\D/g, ''),
        template: TEMPLATE,
        namespace: ns,
        language: { policy: 'deterministic', code: 'en' },
        params: [{
          type: 'body',
          parameters: [f[name], f[order], f[product], f[note]].map((text) => ({ type: 'text', text })),
        }],
      }),
    });
    const body = await r.json();
    if (body.sent === true) accepted++;
  }
  console.log(JSON.stringify({ rows: limit, accepted }));
  process.exit(accepted === limit ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(2); });

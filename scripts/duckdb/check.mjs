// check.mjs reads a landscape Parquet file with DuckDB, a Parquet reader
// independent of the Go code that wrote it, and prints what DuckDB sees as
// JSON, for the export package's TestDuckDBReadsParquet.
//
// Usage:
//
//	cd scripts/duckdb && npm ci      # once
//	node scripts/duckdb/check.mjs FILE.parquet
//
// The output is one JSON object:
//
//	{
//	  "columns":  [{"name": "x", "type": "DOUBLE", "repetition": "REQUIRED"}, ...],
//	  "num_rows": 15,
//	  "rows":     [[x, y, metric...], ...],   // file order
//	  "metadata": {"landscape.provenance": "{...}", ...}
//	}
//
// JSON has no NaN or infinities, so non-finite doubles are written as the
// strings "NaN", "Infinity" and "-Infinity", and negative zero, which
// JSON.stringify writes as 0, as "-0"; SQL NULL is null.

import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
if (process.argv.length !== 3) {
  console.error('usage: node check.mjs FILE.parquet');
  process.exit(2);
}

function number(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  if (Object.is(v, -0)) return '-0'; // JSON.stringify(-0) is "0"
  if (typeof v === 'bigint') return Number(v);
  return v;
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
try {
  // Column names and SQL types in file order.
  const describe = await conn.runAndReadAll(
    'DESCRIBE SELECT * FROM read_parquet($file)', { file });
  const columns = describe.getRowObjectsJS().map((r) => ({
    name: r.column_name,
    type: r.column_type,
  }));

  // Repetition (REQUIRED or OPTIONAL) of each leaf, from the file schema.
  const schema = await conn.runAndReadAll(
    'SELECT name, repetition_type FROM parquet_schema($file) WHERE num_children IS NULL OR num_children = 0',
    { file });
  const repetition = new Map(
    schema.getRowObjectsJS().map((r) => [r.name, r.repetition_type]));
  for (const c of columns) c.repetition = repetition.get(c.name) ?? null;

  const count = await conn.runAndReadAll(
    'SELECT count(*) AS n FROM read_parquet($file)', { file });
  const numRows = Number(count.getRowObjectsJS()[0].n);

  const data = await conn.runAndReadAll(
    'SELECT * FROM read_parquet($file)', { file });
  const rows = data.getRowsJS().map((r) => r.map(number));

  const kv = await conn.runAndReadAll(
    'SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($file)',
    { file });
  const metadata = {};
  for (const r of kv.getRowObjectsJS()) metadata[r.key] = r.value;

  process.stdout.write(JSON.stringify({ columns, num_rows: numRows, rows, metadata }) + '\n');
} finally {
  conn.closeSync();
  instance.closeSync();
}

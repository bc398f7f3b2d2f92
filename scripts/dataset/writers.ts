/**
 * Dataset file formats. Both write to `<file>.partial` and rename at the end, so a failed export
 * never leaves a half file under the real name.
 *
 * - JSONL: one ExportRecord per line.
 * - Parquet: the same fields as typed columns, nested types kept (seed is a struct, inputs/outputs
 *   are lists of strings), so `datasets.load_dataset('parquet', data_files=...)` gives the same
 *   shape as the JSONL. Built with apache-arrow (the Arrow project's JS library: the in-memory
 *   table) and parquet-wasm (the Rust `parquet` crate compiled to WebAssembly: the encoder), one
 *   Arrow record batch per page of records, streamed, zstd-compressed. Footer key `cairn` holds
 *   the export's provenance as JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Field, Float64, Int32, Int64, List, Struct, Table, Utf8, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, transformParquetStream } from 'parquet-wasm';
import type { ExportRecord } from './records';

export type DatasetFormat = 'jsonl' | 'parquet';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['jsonl', 'parquet'];

/** `--format` if given, else the file's extension (.parquet / .pq), else JSONL. */
export function formatFor(file: string, explicit?: string): DatasetFormat {
  if (explicit !== undefined) {
    if (!(DATASET_FORMATS as readonly string[]).includes(explicit))
      throw new Error(`--format ${explicit}: choose one of ${DATASET_FORMATS.join(', ')}.`);
    return explicit as DatasetFormat;
  }
  return /\.(parquet|pq)$/i.test(file) ? 'parquet' : 'jsonl';
}

export async function atomically(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.partial`;
  try {
    await write(tmp);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, file);
}

export async function writeJsonl(file: string, pages: AsyncIterable<ExportRecord[]>): Promise<number> {
  let n = 0;
  await atomically(file, async (tmp) => {
    const fd = fs.openSync(tmp, 'w');
    try {
      for await (const page of pages) {
        if (page.length) fs.writeSync(fd, page.map((r) => JSON.stringify(r)).join('\n') + '\n');
        n += page.length;
      }
    } finally {
      fs.closeSync(fd);
    }
  });
  return n;
}

const str = () => new Utf8();
const strList = () => new List(new Field('item', new Utf8(), true));
const SEED_TYPE = new Struct([
  new Field('id', str(), false),
  new Field('kind', str(), false),
  new Field('snippet', str(), false),
  new Field('source', str(), true),
]);

/** Column order and Arrow type of every ExportRecord field. */
const COLUMNS: ParquetColumn<ExportRecord>[] = [
  ['id', () => new Int64(), (r) => BigInt(r.id)],
  ['env', str, (r) => r.env],
  ['seed', () => SEED_TYPE, (r) => r.seed],
  ['batch_id', str, (r) => r.batch_id],
  ['turn', () => new Int32(), (r) => r.turn],
  ['parent_id', () => new Int64(), (r) => (r.parent_id === null ? null : BigInt(r.parent_id))],
  ['chain_id', str, (r) => r.chain_id],
  ['level', str, (r) => r.level],
  ['instruction', str, (r) => r.instruction],
  ['code', str, (r) => r.code],
  ['inputs', strList, (r) => r.inputs],
  ['outputs', strList, (r) => r.outputs],
  ['message', str, (r) => r.message],
  ['pass_rate', () => new Float64(), (r) => r.pass_rate],
  ['attempts', () => new Int32(), (r) => r.attempts],
  ['passed', () => new Int32(), (r) => r.passed],
  ['pass_low', () => new Float64(), (r) => r.pass_low],
  ['pass_high', () => new Float64(), (r) => r.pass_high],
  ['difficulty_bin', str, (r) => r.difficulty_bin],
  ['pre_test_f', str, (r) => r.pre_test_f],
  ['test_f', str, (r) => r.test_f],
];

/** A column: name, Arrow type, and the value of one row. */
export type ParquetColumn<T> = [string, () => DataType, (r: T) => unknown];

function arrowTable<T>(records: readonly T[], columns: readonly ParquetColumn<T>[]): Table {
  return new Table(Object.fromEntries(columns.map(([name, type, get]) => [name, vectorFromArray(records.map(get), type())])));
}

/** Arrow IPC bytes -> a record batch in WebAssembly memory, the unit the Parquet encoder consumes. */
function wasmBatches<T>(records: readonly T[], columns: readonly ParquetColumn<T>[]) {
  const t = WasmTable.fromIPCStream(tableToIPC(arrowTable(records, columns), 'stream'));
  const batches = t.recordBatches();
  t.free();
  return batches;
}

export async function writeParquet(
  file: string,
  pages: AsyncIterable<ExportRecord[]>,
  metadata: Record<string, string> = {},
): Promise<number> {
  return writeParquetRows(file, pages, COLUMNS, metadata);
}

/** Any rows as Parquet with the given columns (streamed page by page, zstd, atomic rename). */
export async function writeParquetRows<T>(
  file: string,
  pages: AsyncIterable<T[]>,
  columns: readonly ParquetColumn<T>[],
  metadata: Record<string, string> = {},
): Promise<number> {
  let n = 0;
  await atomically(file, async (tmp) => {
    const it = pages[Symbol.asyncIterator]();
    let first = true;
    const source = new ReadableStream({
      async pull(ctrl) {
        const next = await it.next();
        if (next.done) {
          // An empty export still gets its schema: one zero-row batch.
          if (first) for (const b of wasmBatches([], columns)) ctrl.enqueue(b);
          ctrl.close();
          return;
        }
        first = false;
        n += next.value.length;
        if (next.value.length) for (const b of wasmBatches(next.value, columns)) ctrl.enqueue(b);
      },
    });
    const props = new WriterPropertiesBuilder()
      .setCompression(Compression.ZSTD)
      .setMaxRowGroupSize(10_000)
      .setKeyValueMetadata(new Map(Object.entries(metadata)))
      .build();
    const bytes = await transformParquetStream(source, props);
    await bytes.pipeTo(Writable.toWeb(fs.createWriteStream(tmp)));
  });
  return n;
}

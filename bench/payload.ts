/**
 * The benchmark's event: a JSON "instrument reading" padded to an exact size, as the Python SDK
 * (and diaspora-out) serializes it. Every client sends the same shape; the Java tool and kcat read
 * the serialized lines from a file.
 */
import * as fs from 'node:fs';
import { toPythonJson } from '../lib/payload';

export interface Reading {
  seq: number;
  sensor: string;
  unit: string;
  time: string;
  values?: number[];
  note: string;
  /** performance.now() at send time, for end-to-end latency (same process only). */
  sentAt?: number;
}

const FILLER = 'lorem-ipsum-dolor-sit-amet-'.repeat(4096);
const VALUES = Array.from({ length: 12 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e3);
const TIME = '2025-01-01T00:00:00.000Z';

/** A reading whose serialized form (Python json.dumps) is `bytes` long for seq 0 and no sentAt. */
export function makeReading(bytes: number, seq: number): Reading {
  const reading: Reading = { seq, sensor: 'bench-sensor-01', unit: 'K', time: TIME, note: '' };
  if (bytes >= 400) reading.values = VALUES;
  const base = Buffer.byteLength(toPythonJson({ ...reading, seq: 0 }));
  const pad = Math.max(0, bytes - base);
  if (pad > FILLER.length) reading.note = FILLER.repeat(Math.ceil(pad / FILLER.length)).slice(0, pad);
  else reading.note = FILLER.slice(0, pad);
  return reading;
}

/** A template to stamp readings from without recomputing the padding each time. */
export function readingFactory(bytes: number): (seq: number) => Reading {
  const template = makeReading(bytes, 0);
  return (seq) => ({ ...template, seq });
}

/** `lines` serialized readings, one per line, for kcat -P -l and ProducerPerformance --payload-file. */
export function writePayloadFile(file: string, bytes: number, lines: number): void {
  const make = readingFactory(bytes);
  const fd = fs.openSync(file, 'w');
  try {
    let chunk: string[] = [];
    for (let i = 0; i < lines; i += 1) {
      chunk.push(toPythonJson(make(i)));
      if (chunk.length === 1000) {
        fs.writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) fs.writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

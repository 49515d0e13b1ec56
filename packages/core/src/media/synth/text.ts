/** Sample text: UTF-8 lines of Telugu corpus-style sentences with timestamps, exactly the requested size. */
import { prng, streamFrom } from './prng.ts';

const SENTENCES = [
  'తెలుగు భాష ద్రావిడ భాషా కుటుంబానికి చెందినది.',
  'ఈ వాక్యం నమూనా కార్పస్ కోసం రూపొందించబడింది.',
  'హైదరాబాద్ తెలంగాణ రాష్ట్ర రాజధాని.',
  'పుస్తకాలు చదవడం జ్ఞానాన్ని పెంచుతుంది.',
  'వర్షాకాలంలో నదులు నిండుగా ప్రవహిస్తాయి.',
  'ప్రతి రోజు కొత్త విషయం నేర్చుకోవాలి.',
  'సంగీతం మనసుకు ప్రశాంతతను ఇస్తుంది.',
  'Sample corpus line for speech and text processing.',
];
const BASE_TIME = Date.UTC(2025, 5, 3, 19, 30, 45);
const encoder = new TextEncoder();
const CHUNK = 64 * 1024;

function* chunks(sizeBytes: number, seed: number): Generator<Uint8Array> {
  const random = prng(seed);
  let remaining = sizeBytes;
  let index = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const out = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return out;
  };
  while (remaining > 0) {
    const sentence = SENTENCES[Math.floor(random() * SENTENCES.length)] as string;
    const stamp = new Date(BASE_TIME + index * 1000).toISOString();
    let line = encoder.encode(`${stamp} [${index + 1}] ${sentence}\n`);
    // The last line is ASCII filler, so the total is exact without splitting a multi-byte character.
    if (line.byteLength > remaining) line = encoder.encode(`${'.'.repeat(remaining - 1)}\n`);
    pending.push(line);
    pendingBytes += line.byteLength;
    remaining -= line.byteLength;
    index += 1;
    if (pendingBytes >= CHUNK) yield flush();
  }
  if (pendingBytes > 0) yield flush();
}

export function synthesizeText(sizeBytes: number, seed: number): ReadableStream<Uint8Array> {
  return streamFrom(chunks(sizeBytes, seed));
}

/**
 * Log collection metrics: memory while bundling (two input sizes side by side: the growth should
 * not follow the input), our resumable upload against the SDK's plain uploadFile of the same file
 * (and, for reference, one Put Blob of the bytes already in memory), and the share of a bundle
 * sent again after a connection cut half-way.
 */
import { createHash, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { writeBundle } from '../../diag/bundle';
import { LocalFolderReader } from '../../diag/reader';
import { SOURCES } from '../../diag/sources';
import { checkUploadSas } from '../../diag/upload-sas';
import { UploadError, uploadBundle, type BundleFile } from '../../diag/upload';
import { startAzurite } from '../../sim/storage/azurite';
import { startFaultProxy } from '../diag/fault-proxy';

type Emit = (record: Record<string, unknown>) => void;
const MiB = 1024 * 1024;
/** Timed runs of each upload path (after one warm-up run). */
const UPLOAD_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Text logs of `totalMiB` in 32 MiB files, lines varied enough that deflate works for its keep. */
async function writeLogs(root: string, totalMiB: number): Promise<void> {
  const folder = path.join(root, 'C', 'ProgramData', 'ArcRemoteSupport', 'Logs');
  await fs.mkdir(folder, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < 16384; i++)
    lines.push(
      `2026-03-10T11:${String(i % 60).padStart(2, '0')}:00Z INFO worker ${i} request ${randomBytes(12).toString('hex')} done in ${i % 997} ms\n`,
    );
  const block = Buffer.from(lines.join(''));
  for (let file = 0; file < totalMiB / 32; file++) {
    const handle = await fs.open(path.join(folder, `agent-${file}.log`), 'w');
    for (let written = 0; written < 32 * MiB; written += block.length)
      await handle.write(block, 0, Math.min(block.length, 32 * MiB - written));
    await handle.close();
  }
}

/** Peak RSS growth (MB) over the baseline while `run` runs, sampled every 20 ms. */
async function peakGrowthMb(run: () => Promise<unknown>): Promise<{ peakMb: number; peakRssMb: number; seconds: number }> {
  global.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const started = Date.now();
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { peakMb: (peak - baseline) / MiB, peakRssMb: peak / MiB, seconds: (Date.now() - started) / 1000 };
}

async function benchBundleMemory(work: string, emit: Emit): Promise<void> {
  const now = new Date();
  const sources = SOURCES.map((source) => (source.id === 'ars-logs' ? { ...source, maxFileBytes: 64 * MiB } : source));
  const results: Record<string, { peakMb: number; peakRssMb: number; seconds: number; bundleMb: number }> = {};
  // The measure: at least 1 GiB of logs; the small run shows the growth does not follow the input.
  for (const totalMiB of [64, 1024]) {
    const root = path.join(work, `node-${totalMiB}`);
    await writeLogs(root, totalMiB);
    const output = path.join(work, `bundle-${totalMiB}.zip`);
    let size = 0;
    const measured = await peakGrowthMb(async () => {
      const result = await writeBundle({
        request: {
          collectionId: `bench-${totalMiB}`,
          machine: 'bench',
          window: { from: new Date(now.getTime() - 3600_000).toISOString(), to: now.toISOString() },
          categories: ['ArcRemoteSupport'],
          trigger: 'owner',
          requestedBy: 'bench',
        },
        reader: new LocalFolderReader(root),
        outputFile: output,
        deadline: new Date(now.getTime() + 3600_000),
        sources,
        // Above the input, so that every byte is read, redacted and zipped.
        budgetBytes: 2048 * MiB,
      });
      size = result.size;
    });
    results[totalMiB] = { ...measured, bundleMb: size / MiB };
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(output, { force: true });
  }
  const small = results[64]!;
  const large = results[1024]!;
  emit({
    metric: 'logs_bundle_peak_memory',
    note: 'peak RSS growth over the process baseline while bundling text logs (redacted, deflate level 1), in-process, sampled every 20 ms; peak_rss_large_mb is the whole process (the bench harness included)',
    input_small_mb: 64,
    peak_small_mb: Number(small.peakMb.toFixed(1)),
    seconds_small: Number(small.seconds.toFixed(1)),
    input_large_mb: 1024,
    peak_large_mb: Number(large.peakMb.toFixed(1)),
    peak_rss_large_mb: Number(large.peakRssMb.toFixed(1)),
    seconds_large: Number(large.seconds.toFixed(1)),
    bundle_large_mb: Number(large.bundleMb.toFixed(1)),
    target: 'independent of input size (large within 30 MB of small), under 150 MB',
    met: large.peakMb <= small.peakMb + 30 && large.peakMb < 150,
  });
}

async function randomBundle(work: string, bytes: number): Promise<BundleFile> {
  const data = randomBytes(bytes);
  const file = path.join(work, `upload-${bytes / MiB}.zip`);
  await fs.writeFile(file, data);
  return {
    file,
    size: bytes,
    sha256: createHash('sha256').update(data).digest('hex'),
    md5: createHash('md5').update(data).digest('base64'),
  };
}

async function benchUpload(work: string, emit: Emit): Promise<void> {
  const azurite = await startAzurite();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: azurite.port });
  try {
    const blockSize = 4 * MiB;
    // The size for the comparison; the resume below cuts a smaller one.
    const bundle = await randomBundle(work, 256 * MiB);
    const sas = checkUploadSas(await azurite.containerSas('bench'), { allowLoopbackEmulator: true });
    const plain = azurite.service.getContainerClient('bench');
    const ours: number[] = [];
    const files: number[] = [];
    // Read once, before any timing starts.
    const inMemory = await fs.readFile(bundle.file);
    const puts: number[] = [];
    // Run 0 warms every path (connections, Azurite's extent files) and is not counted; the order
    // turns each run so that none always goes first.
    const timed = async (run: number, into: number[], upload: () => Promise<unknown>) => {
      const started = performance.now();
      await upload();
      if (run > 0) into.push(performance.now() - started);
    };
    for (let run = 0; run <= UPLOAD_RUNS; run++) {
      const paths = [
        () =>
          timed(run, ours, () =>
            uploadBundle({
              sas,
              blobName: `ours-${run}.zip`,
              bundle,
              metadata: { machine: 'bench', collectionId: `b${run}` },
              journalFile: path.join(work, `journal-${run}.json`),
            }),
          ),
        // The SDK's own upload of the same file, with its defaults: one Put Blob up to 256 MiB.
        () => timed(run, files, () => plain.getBlockBlobClient(`file-${run}.zip`).uploadFile(bundle.file)),
        // The same bytes already in memory: no file read at all, the least any upload can cost.
        () => timed(run, puts, () => plain.getBlockBlobClient(`plain-${run}.zip`).upload(inMemory, inMemory.length)),
      ];
      for (let turn = 0; turn < paths.length; turn++) await paths[(run + turn) % paths.length]!();
      // Each run's blobs go before the next (256 MiB each, on Azurite's disk).
      for (const name of [`ours-${run}.zip`, `file-${run}.zip`, `plain-${run}.zip`]) await plain.deleteBlob(name);
    }
    const ratio = median(ours) / median(files);
    emit({
      metric: 'logs_upload_vs_plain_put',
      note: `resumable upload (default 8 MiB blocks with MD5, concurrency 2, journal per block, one commit) vs the SDK's uploadFile of the same ${bundle.size / MiB} MiB file (one Put Blob), to the same Azurite, interleaved; also vs one Put Blob of the bytes already in memory`,
      runs_each: ours.length,
      ours_median_ms: Math.round(median(ours)),
      upload_file_median_ms: Math.round(median(files)),
      put_from_memory_median_ms: Math.round(median(puts)),
      ratio: Number(ratio.toFixed(2)),
      ratio_vs_put_from_memory: Number((median(ours) / median(puts)).toFixed(2)),
      target: '<= 1.2',
      met: ratio <= 1.2,
    });

    const small = await randomBundle(work, 64 * MiB);
    const data = await fs.readFile(small.file);
    const cutSas = checkUploadSas(await azurite.containerSas('cut', { origin: proxy.origin }), { allowLoopbackEmulator: true });
    const options = {
      sas: cutSas,
      blobName: 'resume.zip',
      bundle: small,
      metadata: { machine: 'bench', collectionId: 'resume' },
      journalFile: path.join(work, 'resume.json'),
      blockSize,
      maxAttempts: 1,
    };
    let sent = 0;
    const count = (request: { kind: string; bytes?: number }) => (sent += request.bytes ?? 0);
    proxy.cutAfterBytes(small.size / 2);
    const cut = await uploadBundle({ ...options, onRequest: count }).catch((error: unknown) => error);
    if (!(cut instanceof UploadError) || cut.code !== 'network') throw new Error(`the cut did not stop the upload: ${String(cut)}`);
    await uploadBundle({ ...options, onRequest: count });
    const stored = await azurite.service.getContainerClient('cut').getBlockBlobClient('resume.zip').downloadToBuffer();
    if (!stored.equals(data)) throw new Error('the resumed blob differs from the bundle');
    const fraction = (sent - small.size) / small.size;
    emit({
      metric: 'logs_resume_resent_fraction',
      note: 'connection reset at half of a 64 MiB upload (4 MiB blocks, concurrency 2), then resumed from the journal; the stored blob is byte-identical',
      block_fraction: Number((blockSize / small.size).toFixed(4)),
      resent_fraction: Number(fraction.toFixed(4)),
      target: '< 0.1',
      met: fraction < 0.1,
    });
  } finally {
    await proxy.close();
    await azurite.stop();
  }
}

export async function benchLogCollection(emit: Emit): Promise<void> {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-bench-diag-'));
  try {
    await benchBundleMemory(work, emit);
    await benchUpload(work, emit);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchLogCollection((record) => console.log(JSON.stringify(record))).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

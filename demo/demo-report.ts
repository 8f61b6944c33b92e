// Writes the demo's report: demo.json (for scripts), demo.md (for people),
// demo.svg (bytes sent per update against the full artifact, and accuracy
// per tier).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoResult } from './demo-result.ts';

const pct = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(2)} %`);
const bytes = (value: number | null) => (value === null ? '–' : `${value.toLocaleString('en-US')} B`);

export async function writeDemoReport(outDir: string, result: DemoResult): Promise<string[]> {
  const files = ['demo.json', 'demo.md', 'demo.svg'];
  await writeFile(join(outDir, files[0]), JSON.stringify(result, null, 2) + '\n');
  await writeFile(join(outDir, files[1]), renderDemoMarkdown(result));
  await writeFile(join(outDir, files[2]), renderDemoSvg(result));
  return files.map((file) => join(outDir, file));
}

export function renderDemoMarkdown(r: DemoResult): string {
  const lines = [
    `# weightgate demo: ${r.model} on ${r.data}`,
    '',
    `Database: ${r.database}. Whole run: ${r.seconds} s.`,
    '',
    '## Size',
    '',
    '| | bytes | vs dense float32 |',
    '|---|---:|---:|',
    `| dense float32 | ${bytes(r.denseFloat32Bytes)} | 1x |`,
    ...(r.paperBytes ? [`| the paper (pruning 80 % + quantization) | ${bytes(r.paperBytes)} | ${(r.denseFloat32Bytes / r.paperBytes).toFixed(2)}x |`] : []),
    `| weightgate full artifact (signed) | ${bytes(r.fullArtifactBytes)} | ${r.compressionRatio.toFixed(1)}x |`,
    '',
    `Test accuracy: dense ${pct(r.accuracy.dense)}, compressed ${pct(r.accuracy.quantized)} (pipeline, TF.js).`,
    '',
    '## Tiers, measured on the simulated device',
    '',
    '| tier | intervals | accuracy on device | pipeline accuracy | artifact bytes |',
    '|---|---:|---:|---:|---:|',
    ...r.tiers.map((t) => `| ${t.name} | ${t.intervals} | ${pct(t.accuracy)} | ${pct(t.pipelineAccuracy)} | ${bytes(t.artifactBytes)} |`),
    '',
    '## Updates',
    '',
    '| device | kind | versions | intervals after | bytes sent | sent before a power cut | patch bytes | full artifact bytes |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...r.updates.map(
      (u) =>
        `| ${u.device} | ${u.kind} | v${u.fromVersion} → v${u.toVersion} | ${u.intervals} | ${bytes(u.bytesSent)} | ${bytes(u.bytesBeforePowerCut)} | ${bytes(u.patchBytes)} | ${bytes(u.fullArtifactBytes)} |`,
    ),
    '',
    r.push.noticeMs === null
      ? 'The license upgrade sent no push notice within 10 s; the device found it by checking.'
      : `The license upgrade reached sensor-1 as a push notice ${r.push.noticeMs} ms after the operator's command; it ran the full tier ${r.push.runningMs} ms after it.`,
    '',
    '## Power cut',
    '',
    `Power cut during ${r.powerCut.phase}, ${bytes(r.powerCut.atByte)} into the write. After the restart the device ran v${r.powerCut.versionAfterRestart} ` +
      `(${r.powerCut.recovered ? 'complete and verified' : 'NOT recovered'}), then updated to v${r.powerCut.versionAfterUpdate}.`,
    '',
    '## Device',
    '',
    `Profile ${r.device.profile}: median ${r.device.latencyUs.median.toFixed(1)} µs per sample (p99 ${r.device.latencyUs.p99.toFixed(1)} µs), ` +
      `arena high-water ${bytes(r.device.arenaHighWaterBytes)} of ${bytes(r.device.arenaBytes)}.`,
    '',
  ];
  return lines.join('\n');
}

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Two panels: bytes sent per update (bars) beside the full artifact (outline), and accuracy per tier. */
export function renderDemoSvg(r: DemoResult): string {
  const width = 900;
  const rowHeight = 26;
  const top = 50;
  const left = 250;
  const barWidth = width - left - 170;
  const maxBytes = Math.max(1, ...r.updates.map((u) => Math.max(u.fullArtifactBytes, u.bytesSent)));
  const updatesHeight = r.updates.length * rowHeight;
  const tiersTop = top + updatesHeight + 70;
  const height = tiersTop + r.tiers.length * rowHeight + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="15" font-weight="bold">${escapeXml(`${r.model}: bytes sent per update (filled) vs the full artifact (outline)`)}</text>`,
  ];
  r.updates.forEach((u, i) => {
    const y = top + i * rowHeight;
    const fullW = (u.fullArtifactBytes / maxBytes) * barWidth;
    const sentW = Math.max(1, (u.bytesSent / maxBytes) * barWidth);
    const earlierW = (u.bytesBeforePowerCut / maxBytes) * barWidth;
    const label = bytes(u.bytesSent) + (u.bytesBeforePowerCut ? ` (+${bytes(u.bytesBeforePowerCut)} before the power cut)` : '');
    parts.push(
      `<text x="20" y="${y + 16}">${escapeXml(`${u.device} ${u.kind} v${u.fromVersion}→v${u.toVersion}`)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${fullW.toFixed(1)}" height="16" fill="none" stroke="#888"/>`,
      `<rect x="${left}" y="${y + 4}" width="${earlierW.toFixed(1)}" height="16" fill="#90cdf4"/>`,
      `<rect x="${(left + earlierW).toFixed(1)}" y="${y + 4}" width="${sentW.toFixed(1)}" height="16" fill="#2b6cb0"/>`,
      `<text x="${(left + Math.max(sentW + earlierW, fullW) + 6).toFixed(1)}" y="${y + 16}" fill="#333">${escapeXml(label)}</text>`,
    );
  });
  parts.push(`<text x="20" y="${tiersTop - 20}" font-size="15" font-weight="bold">Test accuracy on the device per tier (bar) and artifact bytes</text>`);
  r.tiers.forEach((t, i) => {
    const y = tiersTop + i * rowHeight;
    const w = Math.max(1, t.accuracy * barWidth);
    parts.push(
      `<text x="20" y="${y + 16}">${escapeXml(`${t.name} (${t.intervals} intervals, ${bytes(t.artifactBytes)})`)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="16" fill="#38a169"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 16}">${escapeXml(pct(t.accuracy))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

// report.svg: test accuracy against artifact bytes, one point per tier,
// hand-written SVG (no chart library) so CI can attach it as is.
import type { TierReport } from './report.ts';

const WIDTH = 560;
const HEIGHT = 360;
const PAD = { left: 64, right: 24, top: 36, bottom: 52 };

const escapeXml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export function renderReportSvg(model: string, tiers: TierReport[]): string {
  const points = [...tiers].sort((a, b) => a.artifactBytes - b.artifactBytes);
  const maxBytes = Math.max(1, ...points.map((t) => t.artifactBytes)) * 1.1;
  const minAccuracy = Math.max(0, Math.floor(Math.min(...points.map((t) => t.accuracy), 1) * 10) / 10 - 0.1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (bytes: number) => PAD.left + (bytes / maxBytes) * plotW;
  const y = (accuracy: number) => PAD.top + (1 - (accuracy - minAccuracy) / (1 - minAccuracy)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(model)}: test accuracy vs artifact bytes per tier</text>`);
  out.push(`<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="black"/>`);
  for (let i = 0; i <= 4; i++) {
    const bytes = (maxBytes * i) / 4;
    const accuracy = minAccuracy + ((1 - minAccuracy) * i) / 4;
    out.push(`<text x="${x(bytes).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${Math.round(bytes).toLocaleString('en-US')}</text>`);
    out.push(`<text x="${PAD.left - 6}" y="${(y(accuracy) + 4).toFixed(1)}" text-anchor="end">${(accuracy * 100).toFixed(0)} %</text>`);
    out.push(`<line x1="${PAD.left}" y1="${y(accuracy).toFixed(1)}" x2="${PAD.left + plotW}" y2="${y(accuracy).toFixed(1)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">artifact bytes</text>`);
  out.push(`<text x="16" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${PAD.top + plotH / 2})">test accuracy</text>`);
  if (points.length > 1) {
    out.push(
      `<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="${points.map((t) => `${x(t.artifactBytes).toFixed(1)},${y(t.accuracy).toFixed(1)}`).join(' ')}"/>`,
    );
  }
  for (const t of points) {
    out.push(`<circle cx="${x(t.artifactBytes).toFixed(1)}" cy="${y(t.accuracy).toFixed(1)}" r="4" fill="#2b6cb0"/>`);
    out.push(
      `<text x="${(x(t.artifactBytes) + 6).toFixed(1)}" y="${(y(t.accuracy) - 6).toFixed(1)}">${escapeXml(t.name)} (${(t.accuracy * 100).toFixed(1)} %, ${t.artifactBytes.toLocaleString('en-US')} B)</text>`,
    );
  }
  out.push('</svg>', '');
  return out.join('\n');
}

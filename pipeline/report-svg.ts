// report.svg: test accuracy against artifact bytes, one point per tier,
// hand-written SVG (no chart library) so CI can attach it as is. The axes
// span the data (and the reference lines), not zero to the maximum, so the
// tiers do not crowd into one corner; labels stay inside the picture (a
// point in the right half is labelled on its left); with the dense model's
// size, the 40x (Deep Compression) and 64x (soft weight-sharing) sizes are
// drawn as reference lines, and with its accuracy, the dense accuracy. With
// the settings a --max-drop search tried, they are drawn too (hollow
// points) with their Pareto front: what each size bought in accuracy.
import { sparsityPercent, type TierReport } from './report.ts';
import type { SearchTrial } from './search.ts';

export const REPORT_SVG_WIDTH = 640;
export const REPORT_SVG_HEIGHT = 380;
// The pads hold the tick labels in a wide sans-serif (DejaVu Sans, 12 px): "50.5 %" beside the
// rotated axis title on the left, half of "150,000" (50 px) on the right.
const PLOT_PAD = { left: 76, right: 40, top: 40, bottom: 56 };

export interface ReportSvgReferences {
  /** The dense float32 model's bytes: the 40x and 64x sizes are drawn from it. */
  denseFloat32Bytes?: number;
  /** The dense model's test accuracy (0-1), drawn as a line. */
  denseAccuracy?: number | null;
}

/** The published compression ratios the report is read against (bytes of dense float32 over bytes of the whole artifact). */
const ANCHORS = [
  { ratio: 40, label: '40x (Deep Compression)' },
  { ratio: 64, label: '64x (soft weight-sharing)' },
];

const escapeXml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

/** [low, high] around `values` with a margin, on multiples of a nice step, and that step. */
function niceRange(values: number[], ticks: number, floor = -Infinity, ceiling = Infinity): { low: number; high: number; step: number } {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) {
    const half = Math.abs(high) * 0.1 || 0.5;
    low -= half;
    high += half;
  }
  const margin = (high - low) * 0.12;
  const step = niceStep(high - low + 2 * margin, ticks);
  return { low: Math.max(floor, Math.floor((low - margin) / step) * step), high: Math.min(ceiling, Math.ceil((high + margin) / step) * step), step };
}

/** The trials no other beats on both counts (fewer bytes and higher test accuracy), by bytes. */
export function paretoFront<T extends Pick<SearchTrial, 'fullBytes' | 'testAccuracy'>>(trials: T[]): T[] {
  const front: T[] = [];
  for (const t of [...trials].sort((a, b) => a.fullBytes - b.fullBytes || b.testAccuracy - a.testAccuracy)) {
    if (front.length === 0 || t.testAccuracy > front[front.length - 1].testAccuracy) front.push(t);
  }
  return front;
}

export function renderReportSvg(model: string, tiers: TierReport[], references: ReportSvgReferences = {}, trials: SearchTrial[] = []): string {
  // Room above the plot for the legend of the search's points.
  const PAD = trials.length > 0 ? { ...PLOT_PAD, top: 58 } : PLOT_PAD;
  const points = [...tiers].sort((a, b) => a.artifactBytes - b.artifactBytes);
  const anchors =
    references.denseFloat32Bytes && references.denseFloat32Bytes > 0 ? ANCHORS.map((a) => ({ ...a, bytes: references.denseFloat32Bytes! / a.ratio })) : [];
  const dense = references.denseAccuracy ?? null;
  const xs = niceRange([...points.map((t) => t.artifactBytes), ...anchors.map((a) => a.bytes), ...trials.map((t) => t.fullBytes)], 5, 0);
  const ys = niceRange([...points.map((t) => t.accuracy), ...(dense === null ? [] : [dense]), ...trials.map((t) => t.testAccuracy)], 5, 0, 1);
  const plotW = REPORT_SVG_WIDTH - PAD.left - PAD.right;
  const plotH = REPORT_SVG_HEIGHT - PAD.top - PAD.bottom;
  const x = (bytes: number) => PAD.left + ((bytes - xs.low) / (xs.high - xs.low)) * plotW;
  const y = (accuracy: number) => PAD.top + (1 - (accuracy - ys.low) / (ys.high - ys.low)) * plotH;
  const right = PAD.left + plotW;
  const bottom = PAD.top + plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${REPORT_SVG_WIDTH}" height="${REPORT_SVG_HEIGHT}" viewBox="0 0 ${REPORT_SVG_WIDTH} ${REPORT_SVG_HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${REPORT_SVG_WIDTH}" height="${REPORT_SVG_HEIGHT}" fill="white"/>`);
  out.push(`<text x="${REPORT_SVG_WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(model)}: test accuracy against artifact bytes</text>`);
  // Grid and ticks, on the nice steps.
  for (let v = xs.low; v <= xs.high + xs.step / 2; v += xs.step) {
    out.push(`<line x1="${x(v).toFixed(1)}" y1="${PAD.top}" x2="${x(v).toFixed(1)}" y2="${bottom}" stroke="#eee"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${bottom + 20}" text-anchor="middle">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  for (let v = ys.low; v <= ys.high + ys.step / 2; v += ys.step) {
    out.push(`<line x1="${PAD.left}" y1="${y(v).toFixed(1)}" x2="${right}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${(v * 100).toFixed(ys.step < 0.01 ? 1 : 0)} %</text>`);
  }
  out.push(`<line x1="${PAD.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black"/>`);
  out.push(`<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${bottom}" stroke="black"/>`);
  out.push(`<text x="${PAD.left + plotW / 2}" y="${REPORT_SVG_HEIGHT - 14}" text-anchor="middle">artifact bytes (signed, everything counted)</text>`);
  out.push(`<text x="16" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${PAD.top + plotH / 2})">test accuracy</text>`);
  // Reference lines: the published ratios (vertical) and the dense accuracy (horizontal).
  // Their labels sit low in the plot, where the smaller, less accurate tiers are rarely drawn.
  anchors.forEach((a, i) => {
    const at = x(a.bytes);
    out.push(`<line x1="${at.toFixed(1)}" y1="${PAD.top}" x2="${at.toFixed(1)}" y2="${bottom}" stroke="#c05621" stroke-dasharray="4 3"/>`);
    const leftHalf = at < PAD.left + plotW / 2;
    out.push(
      `<text x="${(at + (leftHalf ? 4 : -4)).toFixed(1)}" y="${bottom - 8 - i * 16}" text-anchor="${leftHalf ? 'start' : 'end'}" fill="#c05621">${escapeXml(a.label)}: ${Math.round(a.bytes).toLocaleString('en-US')} B</text>`,
    );
  });
  if (dense !== null) {
    out.push(`<line x1="${PAD.left}" y1="${y(dense).toFixed(1)}" x2="${right}" y2="${y(dense).toFixed(1)}" stroke="#2f855a" stroke-dasharray="4 3"/>`);
    // At the right end: the smallest tiers, labelled right of their points, sit at the left, often near this line.
    out.push(`<text x="${right - 4}" y="${(y(dense) - 4).toFixed(1)}" text-anchor="end" fill="#2f855a">dense ${(dense * 100).toFixed(1)} %</text>`);
  }
  if (trials.length > 0) {
    const front = paretoFront(trials);
    if (front.length > 1) {
      out.push(
        `<polyline fill="none" stroke="#718096" stroke-dasharray="2 2" points="${front.map((t) => `${x(t.fullBytes).toFixed(1)},${y(t.testAccuracy).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const t of trials) {
      out.push(
        `<circle data-trial="${sparsityPercent(t.sparsity)}% ${t.bits}-bit" cx="${x(t.fullBytes).toFixed(1)}" cy="${y(t.testAccuracy).toFixed(1)}" r="3" fill="none" stroke="#718096"/>`,
      );
    }
    out.push(
      `<text x="${REPORT_SVG_WIDTH / 2}" y="42" text-anchor="middle" fill="#4a5568" font-size="11">○ the ${trials.length} settings the --max-drop search tried (unsigned, before tiers); dotted: their Pareto front</text>`,
    );
  }
  if (points.length > 1) {
    out.push(
      `<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="${points.map((t) => `${x(t.artifactBytes).toFixed(1)},${y(t.accuracy).toFixed(1)}`).join(' ')}"/>`,
    );
  }
  points.forEach((t, i) => {
    const px = x(t.artifactBytes);
    const py = y(t.accuracy);
    out.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="#2b6cb0"/>`);
    // Right half: the label goes left of the point; alternate above and below so neighbours do not overlap.
    const leftOfPoint = px > PAD.left + plotW / 2;
    const below = i % 2 === 1 && py < bottom - 20;
    out.push(
      `<text x="${(px + (leftOfPoint ? -8 : 8)).toFixed(1)}" y="${(py + (below ? 16 : -8)).toFixed(1)}" text-anchor="${leftOfPoint ? 'end' : 'start'}">${escapeXml(t.name)} (${(t.accuracy * 100).toFixed(1)} %, ${t.artifactBytes.toLocaleString('en-US')} B)</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}

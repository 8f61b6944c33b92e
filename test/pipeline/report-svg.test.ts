// report.svg as a reader sees it, rendered by Chromium: every label inside
// the picture (none cut off at an edge, none over another), the tiers spread over the plot
// rather than crowded into a corner, the 40x and 64x reference lines where
// the dense model's size puts them, and the dense accuracy drawn.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'playwright-core';
import { paretoFront, REPORT_SVG_HEIGHT, REPORT_SVG_WIDTH, renderReportSvg } from '../../pipeline/report-svg.ts';
import type { SearchTrial } from '../../pipeline/search.ts';
import type { TierReport } from '../../pipeline/report.ts';
import { launchChromium } from '../chromium.ts';
import { CHROMIUM, requiring } from '../requirements.ts';

const test = requiring(uvuTest, CHROMIUM);

const tier = (name: string, artifactBytes: number, accuracy: number): TierReport => ({ name, artifactBytes, accuracy }) as TierReport;

// paper-109k's shape: 437,560 dense bytes, tiers of 5 to 10 KB at 71-94 %.
const PAPER = [tier('basic', 5_108, 0.712), tier('standard', 8_748, 0.9035), tier('full', 9_736, 0.9355)];
// Labels that are long, a point at the far right, accuracies close together.
const CROWDED = [tier('a-very-long-tier-name-indeed', 100, 0.5), tier('middle', 1_000, 0.505), tier('the-rightmost-and-largest', 100_000, 0.51)];

let browser: Browser | null = null;

test.before(async () => {
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
});

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  text: string;
}

/** No text over another (a pixel of touching allowed). */
function assertApart(texts: Box[]): void {
  const overlap = (a: Box, b: Box) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const [i, a] of texts.entries()) {
    for (const b of texts.slice(i + 1)) assert.not.ok(overlap(a, b), `"${a.text}" and "${b.text}" overlap`);
  }
}

/** Renders `svg` and returns the bounding boxes of its texts and points, in SVG pixels. */
async function layout(svg: string) {
  const page = await browser!.newPage({ viewport: { width: REPORT_SVG_WIDTH, height: REPORT_SVG_HEIGHT } });
  try {
    await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
    // A string, not a function: tsx's transform would add helpers the page does not have.
    return (await page.evaluate(`(() => {
      const box = (e) => {
        const r = e.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: e.textContent ?? '' };
      };
      return {
        texts: [...document.querySelectorAll('text')].map(box),
        points: [...document.querySelectorAll('circle')].map(box),
        dashed: [...document.querySelectorAll('line[stroke-dasharray]')].map(box),
        trials: [...document.querySelectorAll('circle[data-trial]')].map(box),
      };
    })()`)) as Record<'texts' | 'points' | 'dashed' | 'trials', Box[]>;
  } finally {
    await page.close();
  }
}

for (const [name, tiers, references] of [
  ['paper-109k', PAPER, { denseFloat32Bytes: 437_560, denseAccuracy: 0.9788 }],
  ['long labels, a wide range', CROWDED, {}],
] as const) {
  test(`${name}: every label inside the picture, the points spread over the plot`, async () => {
    const { texts, points } = await layout(renderReportSvg('m v1', [...tiers], references));
    for (const t of texts) {
      assert.ok(t.left >= 0 && t.right <= REPORT_SVG_WIDTH && t.top >= 0 && t.bottom <= REPORT_SVG_HEIGHT, `"${t.text}" is cut off: ${JSON.stringify(t)}`);
    }
    assertApart(texts);
    for (const tierReport of tiers)
      assert.ok(
        texts.some((t) => t.text.startsWith(`${tierReport.name} (`)),
        `${tierReport.name} is labelled`,
      );
    const xs = points.map((p) => (p.left + p.right) / 2);
    const ys = points.map((p) => (p.top + p.bottom) / 2);
    assert.ok(Math.max(...xs) - Math.min(...xs) > REPORT_SVG_WIDTH * 0.4, `points span ${Math.max(...xs) - Math.min(...xs)} px across`);
    assert.ok(Math.max(...ys) - Math.min(...ys) > REPORT_SVG_HEIGHT * 0.3, `points span ${Math.max(...ys) - Math.min(...ys)} px down`);
  });
}

test('with the dense size: the 40x and 64x lines at 1/40 and 1/64 of it, and the dense accuracy', async () => {
  const svg = renderReportSvg('paper-109k v1', [...PAPER], { denseFloat32Bytes: 437_560, denseAccuracy: 0.9788 });
  assert.match(svg, /40x \(Deep Compression\): 10,939 B/);
  assert.match(svg, /64x \(soft weight-sharing\): 6,837 B/);
  assert.match(svg, /dense 97\.9 %/);
  const { dashed, points, texts } = await layout(svg);
  assert.is(dashed.length, 3, 'two ratio lines and the dense line');
  // 64x (6,837 B) lies between basic (5,108 B) and standard (8,748 B); 40x (10,939 B) right of full (9,736 B).
  const [basic, standard, full] = points.map((p) => (p.left + p.right) / 2);
  const vertical = dashed.filter((d) => d.right - d.left < 2).map((d) => d.left);
  assert.is(vertical.length, 2);
  const [at64, at40] = vertical.sort((a, b) => a - b);
  assert.ok(basic! < at64! && at64! < standard!, `64x at ${at64}, between basic ${basic} and standard ${standard}`);
  assert.ok(full! < at40!, `40x at ${at40}, right of full ${full}`);
  assert.ok(texts.every((t) => t.right <= REPORT_SVG_WIDTH));
});

// A --max-drop search on paper-109k's shape: sparsity up, bits up where needed.
const trial = (sparsity: number, bits: number, fullBytes: number, testAccuracy: number): SearchTrial =>
  ({ sparsity, bits, fullBytes, testAccuracy, validationAccuracy: testAccuracy, drop: 0, withinBudget: true }) as SearchTrial;
const TRIALS = [
  trial(0.5, 3, 30_000, 0.95),
  trial(0.75, 3, 20_000, 0.948),
  trial(0.85, 3, 16_000, 0.947),
  trial(0.9, 3, 12_700, 0.944),
  trial(0.93, 3, 10_200, 0.94),
  trial(0.93, 4, 11_400, 0.941),
  trial(0.95, 3, 8_500, 0.925),
  trial(0.95, 4, 9_500, 0.93),
  trial(0.95, 6, 11_300, 0.93),
];

test('with a search: every setting it tried is drawn, its Pareto front leaves out the dominated, and the legend fits', async () => {
  const front = paretoFront(TRIALS);
  assert.equal(
    front.map((t) => t.fullBytes),
    [8_500, 9_500, 10_200, 11_400, 12_700, 16_000, 20_000, 30_000],
    '95 % at 6 bits (11,300 B, 93.0 %) is beaten by 93 % at 3 bits (10,200 B, 94.0 %)',
  );
  const svg = renderReportSvg('paper-109k v1', [...PAPER], { denseFloat32Bytes: 437_560, denseAccuracy: 0.9788 }, TRIALS);
  assert.match(svg, /the 9 settings the --max-drop search tried/);
  const { texts, trials } = await layout(svg);
  assert.is(trials.length, TRIALS.length);
  for (const t of texts) {
    assert.ok(t.left >= 0 && t.right <= REPORT_SVG_WIDTH && t.top >= 0 && t.bottom <= REPORT_SVG_HEIGHT, `"${t.text}" is cut off: ${JSON.stringify(t)}`);
  }
  const title = texts.find((t) => t.text.includes('test accuracy against artifact bytes'))!;
  const legend = texts.find((t) => t.text.includes('settings the --max-drop search tried'))!;
  assert.ok(legend.top >= title.bottom - 1, 'the legend is below the title, not over it');
  // More bytes, further right: the 30,000-byte setting is the rightmost point.
  const centers = trials.map((p) => (p.left + p.right) / 2);
  assert.is(centers.indexOf(Math.max(...centers)), 0);
});

test("today's default build: the full tier beside the dense line, the search's settings out to 37 KB, no label over another", async () => {
  // The tiers of a default paper-109k build: the full tier at the left, 0.25 points above dense.
  const tiers = [tier('basic', 4_056, 0.7045), tier('standard', 5_156, 0.909), tier('full', 6_184, 0.949)];
  const trials = [trial(0.5, 3, 37_500, 0.955), trial(0.9, 3, 12_000, 0.953), trial(0.97, 3, 5_980, 0.949)];
  const { texts } = await layout(renderReportSvg('paper-109k v1', tiers, { denseFloat32Bytes: 437_544, denseAccuracy: 0.9465 }, trials));
  assert.ok(texts.some((t) => t.text === 'dense 94.7 %'));
  assertApart(texts);
});

test.run();

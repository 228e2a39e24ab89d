/**
 * Hand-written SVG charts for the report: hop percentiles by transport (bars),
 * throughput against concurrency (lines), workflow latency against simulated
 * RTT (lines). Plain strings, no dependencies, readable in any browser.
 */
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A grouped bar chart: one group per category, one bar per series. Log scale when values span decades. */
export function barChart(title: string, unit: string, categories: string[], series: { name: string; values: number[] }[]): string {
  const width = 760;
  const height = 360;
  const left = 70;
  const bottom = 60;
  const top = 40;
  const plotW = width - left - 20;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  const max = Math.max(1, ...all);
  const min = Math.max(0.001, Math.min(...all, max));
  const log = max / min > 50;
  const y = (v: number) =>
    log ? plotH * (Math.log10(Math.max(v, min)) - Math.log10(min / 2)) / (Math.log10(max * 1.1) - Math.log10(min / 2)) : (plotH * v) / (max * 1.1);
  const groupW = plotW / Math.max(1, categories.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  const parts: string[] = [];
  categories.forEach((category, ci) => {
    series.forEach((s, si) => {
      const value = s.values[ci] ?? 0;
      const h = Math.max(0, y(value));
      const x = left + ci * groupW + groupW * 0.1 + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${category} ${s.name}: ${value} ${unit}`)}</title></rect>`);
    });
    parts.push(`<text x="${(left + ci * groupW + groupW / 2).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle" font-size="12">${escape(category)}</text>`);
  });
  return frame(title, `${unit}${log ? ' (log scale)' : ''}`, width, height, left, top, plotH, parts, series.map((s) => s.name));
}

/** A line chart over shared x values (drawn evenly spaced, labelled with the values). */
export function lineChart(title: string, xLabel: string, unit: string, xs: number[], series: { name: string; values: (number | undefined)[] }[]): string {
  const width = 760;
  const height = 360;
  const left = 80;
  const bottom = 60;
  const top = 40;
  const plotW = width - left - 30;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)));
  const x = (i: number) => left + (xs.length <= 1 ? plotW / 2 : (plotW * i) / (xs.length - 1));
  const y = (v: number) => top + plotH - (plotH * v) / (max * 1.1);
  const parts: string[] = [];
  xs.forEach((value, i) => parts.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle" font-size="12">${value}</text>`));
  parts.push(`<text x="${left + plotW / 2}" y="${height - bottom + 38}" text-anchor="middle" font-size="12">${escape(xLabel)}</text>`);
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const points = s.values.map((v, i) => (v === undefined ? undefined : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    s.values.forEach((v, i) => {
      if (v !== undefined) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.name} @ ${xs[i]}: ${v} ${unit}`)}</title></circle>`);
    });
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => max * 1.1 * f);
  ticks.forEach((t) => parts.push(`<text x="${left - 6}" y="${y(t).toFixed(1)}" text-anchor="end" font-size="10">${formatTick(t)}</text>`));
  return frame(title, unit, width, height, left, top, plotH, parts, series.map((s) => s.name));
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(value < 10 ? 1 : 0);
}

function frame(title: string, unit: string, width: number, height: number, left: number, top: number, plotH: number, parts: string[], legend: string[]): string {
  const legendItems = legend
    .map((name, i) => `<rect x="${left + i * 130}" y="${top - 28}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${left + i * 130 + 14}" y="${top - 19}" font-size="12">${escape(name)}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`,
    legendItems,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 20}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle" font-size="12">${escape(unit)}</text>`,
    ...parts,
    `</svg>`,
  ].join('\n');
}

// Requests per second over the last minute, as a small line (SVG attributes, no inline styles).
/** A sparkline of `values` (oldest first), scaled to its own maximum. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const w = 80;
  const h = 20;
  if (values.length < 2) return <svg class="spark" width={w} height={h} role="img" aria-label={`${label}: no samples yet`} />;
  const max = Math.max(...values, 1);
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label} over the last ${values.length} seconds, peak ${max.toFixed(1)}/s`}>
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

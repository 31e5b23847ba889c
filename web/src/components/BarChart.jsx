// A plain SVG horizontal bar chart: label, bar, count; `title` names it for screen readers.
export default function BarChart({ rows, title, width = 460 }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const labelWidth = 120;
  const bar = 22;
  const gap = 8;
  const height = rows.length * (bar + gap) + gap;
  const room = width - labelWidth - 50;
  return (
    <svg className="bar-chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={title}>
      {rows.map((r, i) => {
        const y = gap + i * (bar + gap);
        const w = Math.max(2, (r.value / max) * room);
        return (
          <g key={r.label} className="bar-row">
            <text x={labelWidth - 8} y={y + bar / 2} textAnchor="end" dominantBaseline="middle" className="bar-label">
              {r.label.length > 9 ? `${r.label.slice(0, 8)}…` : r.label}
              <title>{r.label}</title>
            </text>
            <rect x={labelWidth} y={y} width={w} height={bar} rx="3" className="bar" />
            <text x={labelWidth + w + 6} y={y + bar / 2} dominantBaseline="middle" className="bar-value">{r.value}</text>
          </g>
        );
      })}
    </svg>
  );
}

// A line chart in plain SVG (no chart library): steps on x, loss on y, one line per series, scaled
// to the data and redrawn as new steps arrive. The numbers are also offered as a table.
import { useId } from "react";

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: Point[];
}

const W = 640;
const H = 280;
const PAD = { left: 52, right: 16, top: 16, bottom: 36 };

function ticks(lo: number, hi: number, n: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function LossChart({ title, series }: { title: string; series: Series[] }) {
  const id = useId();
  const shown = series.filter((s) => s.points.length > 0);
  const all = shown.flatMap((s) => s.points);
  if (all.length === 0) return <p className="muted">No steps reported yet.</p>;
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y).filter(Number.isFinite);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number): number => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number): number => PAD.top + (1 - (y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const latest = shown[0]!.points.at(-1)!;
  const summary = `${title}: ${shown.map((s) => `${s.name} from ${s.points[0]!.y.toFixed(3)} at step ${s.points[0]!.x} to ${s.points.at(-1)!.y.toFixed(3)} at step ${s.points.at(-1)!.x}`).join("; ")}`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`} data-testid="loss-chart">
        <title id={`${id}-t`}>{summary}</title>
        {ticks(y0, y1, 5).map((v) => (
          <g key={`y${v}`} className="grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(v)} y2={sy(v)} />
            <text x={PAD.left - 6} y={sy(v)} textAnchor="end" dominantBaseline="middle">
              {v.toPrecision(3)}
            </text>
          </g>
        ))}
        {ticks(x0, x1, 6).map((v) => (
          <g key={`x${v}`} className="grid">
            <text x={sx(v)} y={H - PAD.bottom + 16} textAnchor="middle">
              {v}
            </text>
          </g>
        ))}
        <text className="axis-label" x={(PAD.left + W - PAD.right) / 2} y={H - 4} textAnchor="middle">
          step
        </text>
        {shown.map((s, i) => (
          <polyline key={s.name} className={`line line-${i}`} fill="none" points={s.points.filter((p) => Number.isFinite(p.y)).map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ")} />
        ))}
        <circle className="line-0 dot" cx={sx(latest.x)} cy={sy(latest.y)} r={4} />
      </svg>
      <figcaption>
        <ul className="legend">
          {shown.map((s, i) => (
            <li key={s.name}>
              <span className={`swatch line-${i}`} aria-hidden="true" /> {s.name}: {s.points.at(-1)!.y.toFixed(4)} at step {s.points.at(-1)!.x}
            </li>
          ))}
        </ul>
        <details>
          <summary>Data</summary>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">step</th>
                {shown.map((s) => (
                  <th scope="col" key={s.name}>
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {[...new Set(all.map((p) => p.x))]
                .sort((a, b) => a - b)
                .slice(-200)
                .map((x) => (
                  <tr key={x}>
                    <td>{x}</td>
                    {shown.map((s) => (
                      <td key={s.name}>{s.points.find((p) => p.x === x)?.y.toFixed(4) ?? ""}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}

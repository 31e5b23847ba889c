// 学籍数据统计: counts by station, level, major, status and intake as bar charts, and the cross
// table 函授站 × 层次 × 专业 × 学籍状态 for one 年级 (printable, and as XLSX), in the caller's scope.
import { useState } from 'react';
import { ApiError, downloadFile, get } from '../api.js';
import { useT } from '../i18n.jsx';
import BarChart from '../components/BarChart.jsx';
import { ErrorBox, Loading, useLoad } from '../components/common.jsx';
import ExportButtons from '../components/ExportButtons.jsx';

const DIMENSIONS = [
  ['station', '按函授站', 'By station'],
  ['level', '按层次', 'By level'],
  ['major', '按专业', 'By major'],
  ['status', '按学籍状态', 'By status'],
  ['intake', '按年级', 'By intake'],
];

function label(dimension, row, names) {
  const value = row[dimension];
  if (value === null || value === undefined) return '—';
  return dimension === 'station' ? names[value] || String(value) : String(value);
}

function Chart({ dimension, title, intake }) {
  const t = useT();
  const stats = useLoad(() => get('/statistics/students', { group_by: dimension, intake }), [dimension, intake]);
  if (stats.loading && !stats.data) return <div className="card chart-card"><h3>{title}</h3><Loading /></div>;
  if (stats.error) {
    return (
      <div className="card chart-card"><h3>{title}</h3>
        {stats.error instanceof ApiError && stats.error.status === 404 ? <p className="muted">{t('统计服务暂不可用', 'Statistics are not available')}</p> : <ErrorBox error={stats.error} />}
      </div>
    );
  }
  const rows = [...stats.data.rows].sort((a, b) => (dimension === 'intake' ? String(a[dimension]).localeCompare(String(b[dimension])) : b.count - a.count));
  const names = stats.data.station_names || {};
  return (
    <div className="card chart-card" data-testid={`chart-${dimension}`}>
      <h3>{title} <span className="muted small">{t(`合计 ${stats.data.total} 人`, `${stats.data.total} in all`)}</span></h3>
      <BarChart title={title} rows={rows.map((r) => ({ label: label(dimension, r, names), value: r.count }))} />
    </div>
  );
}

function CrossTable({ intake }) {
  const t = useT();
  const table = useLoad(() => get('/students/statistics/cross', { intake }), [intake]);
  const [error, setError] = useState(null);
  if (table.loading && !table.data) return <Loading />;
  if (table.error) return <ErrorBox error={table.error} />;
  const { statuses, rows, totals, total } = table.data;
  async function download() {
    setError(null);
    try {
      await downloadFile(`/exports/statistics/students/cross?${new URLSearchParams(intake ? { intake } : {})}`, '学籍数据统计交叉表.xlsx');
    } catch (err) {
      setError(err);
    }
  }
  return (
    <div className="card cross-card">
      <div className="card-head">
        <h3>{t('学籍数据统计交叉表', 'Cross table')}{' '}
          <span className="muted small">{intake ? t(`${intake} 级`, `intake ${intake}`) : t('全部年级', 'all intakes')}</span>
        </h3>
        <span className="no-print">
          <button type="button" className="secondary" onClick={() => window.print()} data-testid="print-cross">{t('打印', 'Print')}</button>{' '}
          <button type="button" className="secondary" onClick={download} data-testid="download-cross">{t('导出 XLSX', 'Export XLSX')}</button>
        </span>
      </div>
      <ErrorBox error={error} />
      {rows.length === 0 ? <div className="empty">{t('没有符合条件的学生', 'No students match')}</div> : (
        <table className="grid cross-table" data-testid="cross-table">
          <thead>
            <tr>
              <th scope="col">{t('函授站', 'Station')}</th><th scope="col">{t('层次', 'Level')}</th><th scope="col">{t('专业', 'Major')}</th>
              {statuses.map((s) => <th scope="col" key={s} className="num">{s}</th>)}
              <th scope="col" className="num">{t('合计', 'Total')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.station}/${r.level}/${r.major}`} data-testid="cross-row">
                <td>{r.station_name}</td><td>{r.level}</td><td>{r.major}</td>
                {statuses.map((s) => <td key={s} className="num">{r.counts[s] || 0}</td>)}
                <td className="num"><strong>{r.total}</strong></td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-testid="cross-total">
              <th scope="row" colSpan={3}>{t('合计', 'Total')}</th>
              {statuses.map((s) => <td key={s} className="num">{totals[s]}</td>)}
              <td className="num"><strong>{total}</strong></td>
            </tr>
          </tfoot>
        </table>
      )}
    </div>
  );
}

export default function StatisticsPage() {
  const t = useT();
  const [intake, setIntake] = useState('');
  const years = useLoad(() => get('/statistics/students', { group_by: 'intake' }), []);
  const intakes = (years.data?.rows || []).map((r) => r.intake).filter(Boolean).sort((a, b) => b - a);
  return (
    <div className="page statistics-page">
      <div className="page-head">
        <h1>{t('学生学籍数据统计', 'Student statistics')}</h1>
        <span className="no-print"><ExportButtons path="statistics/students" params={{ group_by: 'station,level,major,status' }} name="学籍数据统计" /></span>
        <label className="no-print">{t('年级（入学年份）', 'Intake year')}{' '}
          <select value={intake} onChange={(e) => setIntake(e.target.value)} data-testid="intake-filter">
            <option value="">{t('全部年级', 'All intakes')}</option>
            {intakes.map((y) => <option key={y} value={y}>{t(`${y} 级`, String(y))}</option>)}
          </select>
        </label>
      </div>
      <CrossTable intake={intake} />
      <div className="charts no-print">
        {DIMENSIONS.map(([dimension, zh, en]) => <Chart key={dimension} dimension={dimension} title={t(zh, en)} intake={intake} />)}
      </div>
    </div>
  );
}

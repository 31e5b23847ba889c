import { ApiError, get } from '../api.js';
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

function Chart({ dimension, title }) {
  const t = useT();
  const stats = useLoad(() => get('/statistics/students', { group_by: dimension }), [dimension]);
  if (stats.loading && !stats.data) return <div className="card chart-card"><h3>{title}</h3><Loading /></div>;
  if (stats.error) {
    return (
      <div className="card chart-card"><h3>{title}</h3>
        {stats.error instanceof ApiError && stats.error.status === 404 ? <p className="muted">{t('统计服务暂不可用', 'Statistics are not available')}</p> : <ErrorBox error={stats.error} />}
      </div>
    );
  }
  const rows = [...stats.data.rows].sort((a, b) => (dimension === 'intake' ? String(a[dimension]).localeCompare(String(b[dimension])) : b.count - a.count));
  return (
    <div className="card chart-card" data-testid={`chart-${dimension}`}>
      <h3>{title} <span className="muted small">{t(`合计 ${stats.data.total} 人`, `${stats.data.total} in all`)}</span></h3>
      <BarChart rows={rows.map((r) => ({ label: String(r[dimension] ?? '—'), value: r.count }))} />
    </div>
  );
}

export default function StatisticsPage() {
  const t = useT();
  return (
    <div className="page">
      <div className="page-head"><h1>{t('学生学籍数据统计', 'Student statistics')}</h1><ExportButtons path="statistics/students" params={{ group_by: 'station,level,major,status' }} name="学籍数据统计" /></div>
      <div className="charts">
        {DIMENSIONS.map(([dimension, zh, en]) => <Chart key={dimension} dimension={dimension} title={t(zh, en)} />)}
      </div>
    </div>
  );
}

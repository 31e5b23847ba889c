// A batch of rows a step works on (a station's 300 new students, a graduation batch, a grade
// sheet), as a paged, sortable table: the rows with problems first and highlighted, each with
// 行号 / 考生号 / 姓名 / 字段 / 问题, never hundreds of inputs at once.
import { useMemo, useState } from 'react';
import { useT } from '../i18n.jsx';
import { Pager } from './common.jsx';

const PER_PAGE = 20;

// Where a step's data keeps a batch's problems: {row, KSH, XM, column, message} items.
const PROBLEM_LISTS = [['check', 'problems'], ['audit', 'problems'], ['feedback', 'rows']];

export function batchProblems(data) {
  const found = [];
  PROBLEM_LISTS.forEach(([key, list]) => {
    const items = data?.[key]?.[list];
    if (Array.isArray(items)) found.push(...items.filter((p) => p && typeof p === 'object'));
  });
  return found;
}

// One line per row: its problems joined, rows without problems after them (in file order).
// A problem names its row of a file ({row, KSH, XM, column, message}) or its student
// ({student, name, problem}: a graduation batch).
function tableLines(rows, problems) {
  const byRow = new Map();
  problems.forEach((p) => {
    const key = Number.isInteger(p.row) ? p.row : `student-${p.student}`;
    const line = byRow.get(key) || { key, row: Number.isInteger(p.row) ? p.row : 0, KSH: p.KSH || '', XM: p.XM ?? p.name ?? '', columns: [], messages: [] };
    if (p.column && !line.columns.includes(p.column)) line.columns.push(p.column);
    line.messages.push(p.message ?? p.problem ?? '');
    byRow.set(key, line);
  });
  const lines = [...byRow.values()].map((l) => ({ ...l, problem: true }));
  (rows || []).forEach((r, i) => {
    if (!byRow.has(i + 1)) lines.push({ key: i + 1, row: i + 1, KSH: r.KSH, XM: r.XM, columns: [], messages: [], problem: false });
  });
  return lines;
}

const SORTS = {
  row: (a, b) => a.row - b.row,
  KSH: (a, b) => String(a.KSH || '').localeCompare(String(b.KSH || '')),
  XM: (a, b) => String(a.XM || '').localeCompare(String(b.XM || ''), 'zh'),
  column: (a, b) => a.columns.join().localeCompare(b.columns.join()),
};

export default function BatchRows({ rows, problems, columnTitles = {} }) {
  const t = useT();
  const [sort, setSort] = useState({ key: 'row', dir: 1 });
  const [page, setPage] = useState(1);
  const lines = useMemo(() => {
    const all = tableLines(rows, problems);
    // problem rows always first; the chosen order inside each group
    return all.sort((a, b) => (b.problem - a.problem) || SORTS[sort.key](a, b) * sort.dir);
  }, [rows, problems, sort]);
  if (!lines.length) return null;
  const bad = lines.filter((l) => l.problem).length;
  const shown = lines.slice((page - 1) * PER_PAGE, page * PER_PAGE);
  function header(key, label) {
    const active = sort.key === key;
    return (
      <th aria-sort={active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none'}>
        <button type="button" className="link sort" onClick={() => { setSort({ key, dir: active ? -sort.dir : 1 }); setPage(1); }}>
          {label}{active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  }
  return (
    <div className="card batch-rows" data-testid="batch-rows">
      <h3>{t('批量数据', 'Rows')}</h3>
      <p className={bad ? 'error' : 'notice'} data-testid="batch-summary">
        {bad
          ? t(`共 ${lines.length} 行，其中 ${bad} 行有问题（排在最前）`, `${lines.length} rows, ${bad} with problems (listed first)`)
          : t(`共 ${lines.length} 行，未发现问题`, `${lines.length} rows, no problems found`)}
      </p>
      <table className="grid">
        <thead>
          <tr>
            {header('row', t('行号', 'Row'))}
            {header('KSH', t('考生号', 'Exam no.'))}
            {header('XM', t('姓名', 'Name'))}
            {header('column', t('字段', 'Field'))}
            <th>{t('问题', 'Problem')}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((l) => (
            <tr key={l.key} className={l.problem ? 'problem-row' : ''} data-testid={l.problem ? 'problem-row' : 'batch-row-ok'}>
              <td>{l.row || '—'}</td>
              <td>{l.KSH}</td>
              <td>{l.XM}</td>
              <td>{l.columns.map((c) => columnTitles[c] || c).join('、')}</td>
              <td>{l.messages.join('；')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager page={page} perPage={PER_PAGE} total={lines.length} onPage={setPage} />
    </div>
  );
}

// The inbox at volume: searched, filtered, sorted and paged on the server (GET /tasks with a
// keyset cursor), counts per tab from GET /tasks/counts, each task with the one-line summary
// its process defines. Batch handling is offered for tasks that are the same decision.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { errorText, get, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { roleName, useLang, useT } from '../i18n.jsx';
import { cached, DueDate, ErrorBox, Loading, processName, Time, useDefinitions, useLoad } from '../components/common.jsx';

const VIEWS = {
  all: {},
  mine: { assignee: 'me' },
  unassigned: { unassigned: 'true' },
};
const PER_PAGE = 50;
const KINDS = ['休学', '复学', '退学', '转专业', '转函授站', '个人信息更正'];

// Tasks that one form decides alike: the same definition version, element and form.
export function sameDecision(tasks) {
  const [first] = tasks;
  return Boolean(first) && tasks.every((x) => x.process_key === first.process_key
    && x.definition_version === first.definition_version
    && x.element_id === first.element_id && x.form_name === first.form_name);
}

function useStations(enabled) {
  const [stations, setStations] = useState([]);
  useEffect(() => {
    if (!enabled) return;
    cached('stations', () => get('/stations')).then(setStations).catch(() => setStations([]));
  }, [enabled]);
  return stations;
}

function SortHeader({ label, field, sort, onSort }) {
  const active = sort.replace('-', '') === field;
  const descending = sort.startsWith('-');
  const next = active && !descending ? `-${field}` : field;
  return (
    <th aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="link sort" onClick={() => onSort(next)} data-testid={`sort-${field}`}>
        {label} {active ? (descending ? '▼' : '▲') : '↕'}
      </button>
    </th>
  );
}

export default function Inbox() {
  const t = useT();
  const { lang } = useLang();
  const { me, hasRole } = useAuth();
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const college = !me.station && !hasRole('student');
  const stations = useStations(college);
  const [view, setView] = useState('all');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const [processKey, setProcessKey] = useState('');
  const [station, setStation] = useState('');
  const [kind, setKind] = useState('');
  const [step, setStep] = useState('');
  const [dueBefore, setDueBefore] = useState('');
  const [overdue, setOverdue] = useState(false);
  const [sort, setSort] = useState('due');
  // The cursors of the pages up to the current one, for the list as filtered and sorted
  // (keyset paging: [null] is the first page).
  const [paging, setPaging] = useState({ key: '', cursors: [null] });
  const [selected, setSelected] = useState([]);
  const [message, setMessage] = useState(() => {
    const flash = sessionStorage.getItem('xueji.flash');
    sessionStorage.removeItem('xueji.flash');
    return flash || '';
  });
  const [actionError, setActionError] = useState('');

  const filters = {
    q, process_key: processKey, station, kind, step, due_before: dueBefore, overdue: overdue ? 'true' : '',
  };
  const key = JSON.stringify([view, filters, sort]);
  const cursors = paging.key === key ? paging.cursors : [null];
  const setCursors = (next) => setPaging({ key, cursors: next });
  const cursor = cursors[cursors.length - 1];
  const tasks = useLoad(
    () => get('/tasks', { ...VIEWS[view], ...filters, sort, per_page: PER_PAGE, ...(cursor ? { cursor } : {}) }),
    [key, cursor],
  );
  const filtersKey = JSON.stringify(filters);
  const counts = useLoad(
    async () => ({ ...(await get('/tasks/counts', filters)), filtersKey }),
    [filtersKey, tasks.data],
  );
  // The first page's total, and whether it stopped at the server's cap (total_capped).
  const [firstPage, setFirstPage] = useState({ total: null, capped: false });

  useEffect(() => setSelected([]), [key]);
  useEffect(() => {
    if (tasks.data && tasks.data.total !== null) setFirstPage({ total: tasks.data.total, capped: tasks.data.total_capped });
  }, [tasks.data]);
  // How many tasks the list holds: the counts' (exact) for this view and these filters, else
  // the first page's until they come (which may be the cap: then shown as "10000+").
  const exact = counts.data?.filtersKey === filtersKey ? counts.data[view] : null;
  const total = exact ?? firstPage.total;
  const totalText = exact ?? (firstPage.total === null ? '…' : `${firstPage.total}${firstPage.capped ? '+' : ''}`);

  const items = tasks.data?.items || [];
  const processes = useMemo(() => {
    const held = counts.data?.process_keys || [];
    return definitions.filter((d) => d.startable || held.includes(d.key));
  }, [definitions, counts.data]);
  const chosen = items.filter((task) => selected.includes(task.id));
  const batchable = chosen.length > 1 && sameDecision(chosen);

  async function act(task, action) {
    setActionError('');
    setMessage('');
    try {
      await post(`/tasks/${task.id}/${action}`);
      setMessage(action === 'claim' ? t(`已认领：${task.name}`, `Claimed: ${task.name}`) : t(`已放弃认领：${task.name}`, `Released: ${task.name}`));
      tasks.reload();
    } catch (err) {
      setActionError(errorText(err, t));
    }
  }

  function toggle(id) {
    setSelected((current) => (current.includes(id) ? current.filter((x) => x !== id) : [...current, id]));
  }

  function sameStep(task) {
    // Narrow the list to this step on the server; its rows are then selected together.
    setProcessKey(task.process_key);
    setStep(task.element_id);
  }

  useEffect(() => {
    if (step && items.length) setSelected(items.filter((x) => x.element_id === step).map((x) => x.id));
  }, [step, items]);

  function applySearch(e) {
    e.preventDefault();
    setQ(search.trim());
  }

  function clearFilters() {
    setSearch(''); setQ(''); setProcessKey(''); setStation(''); setKind(''); setStep(''); setDueBefore(''); setOverdue(false);
  }

  // A student's own tasks are theirs already: nothing to claim.
  const claimable = (task) => !task.assignee && !(task.role === 'student' && hasRole('student'));
  const page = cursors.length;
  const pages = total ? Math.max(1, Math.ceil(total / PER_PAGE)) : 1;

  return (
    <div className="page inbox">
      <div className="page-head">
        <h1>{t('待办任务', 'Inbox')}</h1>
        <span className="muted">{t('本人的任务与本角色待认领的任务', 'Your tasks and your roles’ unclaimed tasks')}</span>
      </div>
      <div className="tabs" role="tablist">
        {[['all', t('全部', 'All')], ['mine', t('我的任务', 'Mine')], ['unassigned', t('待认领', 'Unclaimed')]].map(([name, label]) => (
          <button key={name} type="button" role="tab" aria-selected={view === name} className={view === name ? 'tab active' : 'tab'} onClick={() => setView(name)}>
            {label} <span className="count" data-testid={`count-${name}`}>{counts.data?.[name] ?? '…'}</span>
          </button>
        ))}
        <span className="tab-note">
          {t('已逾期', 'Overdue')} <span className="count overdue-count" data-testid="count-overdue">{counts.data?.overdue ?? '…'}</span>
        </span>
      </div>
      <form className="filters" onSubmit={applySearch} role="search">
        <label>
          {t('搜索', 'Search')}
          <input
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={t('姓名、学号、身份证号或业务编号', 'Name, student no., ID number or business key')}
            size={28}
            data-testid="inbox-search"
          />
        </label>
        <button type="submit" className="secondary">{t('搜索', 'Search')}</button>
        <label>
          {t('流程', 'Process')}
          <select value={processKey} onChange={(e) => { setProcessKey(e.target.value); setStep(''); }} data-testid="filter-process">
            <option value="">{t('全部流程', 'All processes')}</option>
            {processes.map((d) => <option key={d.key} value={d.key}>{d.name}</option>)}
          </select>
        </label>
        {college && (
          <label>
            {t('函授站', 'Station')}
            <select value={station} onChange={(e) => setStation(e.target.value)} data-testid="filter-station">
              <option value="">{t('全部函授站', 'All stations')}</option>
              {stations.map((s) => <option key={s.code} value={s.code}>{s.name}</option>)}
            </select>
          </label>
        )}
        <label>
          {t('申请类别', 'Kind')}
          <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="filter-kind">
            <option value="">{t('全部类别', 'Any kind')}</option>
            {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <label>
          {t('期限早于', 'Due before')}
          <input type="date" value={dueBefore} onChange={(e) => setDueBefore(e.target.value)} data-testid="filter-due-before" />
        </label>
        <label className="check">
          <input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.target.checked)} data-testid="filter-overdue" />
          {t('只看逾期', 'Overdue only')}
        </label>
        {step && <span className="chip">{t('同一步骤', 'Same step')} <button type="button" className="link" onClick={() => setStep('')} aria-label={t('取消同一步骤筛选', 'Clear step filter')}>×</button></span>}
        <button type="button" className="link" onClick={clearFilters}>{t('清除筛选', 'Clear filters')}</button>
        <button type="button" className="secondary" onClick={tasks.reload}>{t('刷新', 'Refresh')}</button>
      </form>
      {message && <div className="notice" role="status" data-testid="flash">{message}</div>}
      <ErrorBox>{actionError}</ErrorBox>
      {chosen.length > 0 && (
        <div className="batch-bar">
          <span>{t(`已选 ${chosen.length} 项`, `${chosen.length} selected`)}</span>
          {batchable ? (
            <button type="button" data-testid="batch-complete" onClick={() => navigate(`/tasks/batch?ids=${chosen.map((x) => x.id).join(',')}`)}>
              {t(`批量办理（${chosen.length}）`, `Complete together (${chosen.length})`)}
            </button>
          ) : (
            <span className="muted">{t('批量办理需选择同一流程版本、同一步骤、同一表单的多个任务', 'Select several tasks of the same step and form to complete them together')}</span>
          )}
          <button type="button" className="link" onClick={() => setSelected([])}>{t('取消选择', 'Clear')}</button>
        </div>
      )}
      {tasks.loading && !tasks.data ? <Loading /> : tasks.error ? <ErrorBox error={tasks.error} /> : items.length === 0 ? (
        <div className="empty">{t('暂无待办任务', 'Nothing to do')}</div>
      ) : (
        <table className="grid tasks-table">
          <thead>
            <tr>
              <th><input type="checkbox" aria-label={t('全选本页', 'Select the page')} checked={chosen.length === items.length} onChange={(e) => setSelected(e.target.checked ? items.map((x) => x.id) : [])} /></th>
              <th>{t('任务', 'Task')}</th>
              <th>{t('摘要', 'Summary')}</th>
              <SortHeader label={t('学生', 'Student')} field="student" sort={sort} onSort={setSort} />
              <th>{t('办理角色', 'Role')}</th>
              <SortHeader label={t('期限', 'Due')} field="due" sort={sort} onSort={setSort} />
              <th>{t('办理人', 'Assignee')}</th>
              <SortHeader label={t('创建时间', 'Created')} field="created" sort={sort} onSort={setSort} />
              <th>{t('操作', 'Actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((task) => (
              <tr key={task.id} data-testid="task-row" data-task-id={task.id} className={selected.includes(task.id) ? 'selected' : ''}>
                <td><input type="checkbox" aria-label={`${task.name} ${task.summary || ''}`} checked={selected.includes(task.id)} onChange={() => toggle(task.id)} /></td>
                <td>
                  <Link to={`/tasks/${task.id}`} className="task-name">{task.name}</Link>
                  <div className="muted small"><Link to={`/instances/${task.instance_id}`}>{processName(definitions, task.process_key)}</Link>{task.business_key && ` · ${task.business_key}`}</div>
                </td>
                <td className="summary" data-testid="task-summary">{task.summary || '—'}</td>
                <td>
                  {task.student ? <Link to={`/students/${task.student}`}>{task.student_name || `#${task.student}`}</Link> : (task.student_name || <span className="muted">—</span>)}
                  {task.student_no && <div className="muted small">{task.student_no}</div>}
                </td>
                <td>{roleName(task.role, lang)}{task.station_name && <div className="muted small">{task.station_name}</div>}</td>
                <td data-testid="task-due"><DueDate value={task.due_at} /></td>
                <td>{task.assignee || <span className="muted">{t('未认领', 'unclaimed')}</span>}</td>
                <td><Time value={task.created_at} /></td>
                <td className="actions">
                  {claimable(task) && <button type="button" className="small" onClick={() => act(task, 'claim')}>{t('认领', 'Claim')}</button>}
                  {task.assignee === me.username && <button type="button" className="small secondary" onClick={() => act(task, 'unclaim')}>{t('放弃认领', 'Release')}</button>}
                  <button type="button" className="small link" onClick={() => sameStep(task)} title={t('列出同一步骤的全部任务', 'List every task of this step')}>{t('同步骤', 'Same step')}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="pager">
        <button type="button" className="secondary" disabled={page <= 1} onClick={() => setCursors(cursors.slice(0, -1))} data-testid="page-prev">{t('上一页', 'Previous')}</button>
        <span data-testid="page-info">{t(`第 ${page} / ${pages} 页 · 共 ${totalText} 项`, `Page ${page} of ${pages} · ${totalText} tasks`)}</span>
        <button type="button" className="secondary" disabled={!tasks.data?.next_cursor} onClick={() => setCursors([...cursors, tasks.data.next_cursor])} data-testid="page-next">{t('下一页', 'Next')}</button>
      </div>
    </div>
  );
}

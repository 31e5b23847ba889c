import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { errorText, get, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { roleName, useLang, useT } from '../i18n.jsx';
import { DueDate, ErrorBox, Loading, processName, StudentName, Time, useDefinitions, useLoad } from '../components/common.jsx';

const VIEWS = {
  all: {},
  mine: { assignee: 'me' },
  unassigned: { unassigned: 'true' },
};

export default function Inbox() {
  const t = useT();
  const { lang } = useLang();
  const { me } = useAuth();
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const [view, setView] = useState('all');
  const [processKey, setProcessKey] = useState('');
  const [station, setStation] = useState('');
  const [overdue, setOverdue] = useState(false);
  const [selected, setSelected] = useState([]);
  const [message, setMessage] = useState(() => {
    const flash = sessionStorage.getItem('xueji.flash');
    sessionStorage.removeItem('xueji.flash');
    return flash || '';
  });
  const [actionError, setActionError] = useState('');

  const filters = { process_key: processKey, overdue: overdue ? 'true' : '' };
  const tasks = useLoad(
    () => get('/tasks', { ...VIEWS[view], ...filters, per_page: 200 }),
    [view, processKey, overdue],
  );
  const counts = useLoad(async () => {
    const entries = await Promise.all(Object.entries(VIEWS).map(async ([name, params]) => {
      const page = await get('/tasks', { ...params, ...filters, per_page: 1 });
      return [name, page.total];
    }));
    const overduePage = await get('/tasks', { process_key: processKey, overdue: 'true', per_page: 1 });
    return { ...Object.fromEntries(entries), overdue: overduePage.total };
  }, [processKey, overdue, tasks.data]);

  useEffect(() => setSelected([]), [view, processKey, overdue, station]);

  const items = useMemo(
    () => (tasks.data?.items || []).filter((task) => !station || task.station === station),
    [tasks.data, station],
  );
  const stations = useMemo(
    () => [...new Set((tasks.data?.items || []).map((task) => task.station).filter(Boolean))].sort(),
    [tasks.data],
  );
  const chosen = items.filter((task) => selected.includes(task.id));
  const sameStep = chosen.length > 1 && chosen.every((task) => task.process_key === chosen[0].process_key && task.element_id === chosen[0].element_id);

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

  function selectSameStep(task) {
    setSelected(items.filter((x) => x.process_key === task.process_key && x.element_id === task.element_id).map((x) => x.id));
  }

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
      <div className="filters">
        <label>
          {t('流程', 'Process')}
          <select value={processKey} onChange={(e) => setProcessKey(e.target.value)} data-testid="filter-process">
            <option value="">{t('全部流程', 'All processes')}</option>
            {definitions.map((d) => <option key={d.key} value={d.key}>{d.name}</option>)}
          </select>
        </label>
        {!me.station && (
          <label>
            {t('函授站', 'Station')}
            <select value={station} onChange={(e) => setStation(e.target.value)} data-testid="filter-station">
              <option value="">{t('全部函授站', 'All stations')}</option>
              {stations.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
        )}
        <label className="check">
          <input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.target.checked)} data-testid="filter-overdue" />
          {t('只看逾期', 'Overdue only')}
        </label>
        <button type="button" className="secondary" onClick={tasks.reload}>{t('刷新', 'Refresh')}</button>
      </div>
      {message && <div className="notice" role="status">{message}</div>}
      <ErrorBox>{actionError}</ErrorBox>
      {chosen.length > 0 && (
        <div className="batch-bar">
          <span>{t(`已选 ${chosen.length} 项`, `${chosen.length} selected`)}</span>
          {sameStep ? (
            <button type="button" data-testid="batch-complete" onClick={() => navigate(`/tasks/batch?ids=${chosen.map((x) => x.id).join(',')}`)}>
              {t(`批量办理（${chosen.length}）`, `Complete together (${chosen.length})`)}
            </button>
          ) : (
            <span className="muted">{t('批量办理需选择同一流程同一步骤的多个任务', 'Select several tasks of the same step to complete them together')}</span>
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
              <th><input type="checkbox" aria-label={t('全选', 'Select all')} checked={chosen.length === items.length} onChange={(e) => setSelected(e.target.checked ? items.map((x) => x.id) : [])} /></th>
              <th>{t('任务', 'Task')}</th>
              <th>{t('流程', 'Process')}</th>
              <th>{t('学生', 'Student')}</th>
              <th>{t('函授站', 'Station')}</th>
              <th>{t('办理角色', 'Role')}</th>
              <th>{t('期限', 'Due')}</th>
              <th>{t('办理人', 'Assignee')}</th>
              <th>{t('创建时间', 'Created')}</th>
              <th>{t('操作', 'Actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((task) => (
              <tr key={task.id} data-testid="task-row" data-task-id={task.id} className={selected.includes(task.id) ? 'selected' : ''}>
                <td><input type="checkbox" aria-label={task.name} checked={selected.includes(task.id)} onChange={() => toggle(task.id)} /></td>
                <td><Link to={`/tasks/${task.id}`} className="task-name">{task.name}</Link>{task.business_key && <div className="muted small">{task.business_key}</div>}</td>
                <td><Link to={`/instances/${task.instance_id}`}>{processName(definitions, task.process_key)}</Link></td>
                <td><StudentName id={task.student} /></td>
                <td>{task.station || '—'}</td>
                <td>{roleName(task.role, lang)}</td>
                <td><DueDate value={task.due_at} /></td>
                <td>{task.assignee || <span className="muted">{t('未认领', 'unclaimed')}</span>}</td>
                <td><Time value={task.created_at} /></td>
                <td className="actions">
                  {!task.assignee && <button type="button" className="small" onClick={() => act(task, 'claim')}>{t('认领', 'Claim')}</button>}
                  {task.assignee === me.username && <button type="button" className="small secondary" onClick={() => act(task, 'unclaim')}>{t('放弃认领', 'Release')}</button>}
                  <button type="button" className="small link" onClick={() => selectSameStep(task)} title={t('选中同一步骤的全部任务', 'Select every task of this step')}>{t('同步骤', 'Same step')}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">{t(`共 ${items.length} 项`, `${items.length} tasks`)}</p>
    </div>
  );
}

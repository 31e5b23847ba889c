import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError, errorText, get, getText, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { historyKindName, OUTCOMES, roleName, useLang, useT } from '../i18n.jsx';
import Diagram from '../components/Diagram.jsx';
import { DueDate, ErrorBox, Loading, StateBadge, StationName, StudentName, Time, useLoad, Value } from '../components/common.jsx';
import { Documents, useVariableTitles, Variables } from '../components/Context.jsx';
import NotFound from './NotFound.jsx';

const FLOW_NODE = /(Task|Event|Gateway|SubProcess|CallActivity)$/;

// What a history line shows of its data to everyone: the decision and the words people wrote.
const READABLE = ['outcome', 'reason', 'comment', 'statement', 'note', 'kind', 'effective_term'];

export default function InstancePage() {
  const { id } = useParams();
  const t = useT();
  const { lang } = useLang();
  const { hasRole } = useAuth();
  const instance = useLoad(() => get(`/process-instances/${id}`), [id]);
  const history = useLoad(() => get(`/process-instances/${id}/history`), [id, instance.data?.updated_at]);
  const xml = useLoad(() => getText(`/process-instances/${id}/xml`), [id]);
  const [error, setError] = useState('');
  const [message, setMessage] = useState(() => {
    const flash = sessionStorage.getItem('xueji.flash');
    sessionStorage.removeItem('xueji.flash');
    return flash || '';
  });
  const titles = useVariableTitles(instance.data?.key);

  const { markers, overlays } = useMemo(() => {
    const result = {};
    const notes = [];
    const events = history.data || [];
    const who = {};
    events.forEach((h) => {
      if (!h.element_id) return;
      if (h.kind === 'element_completed' || h.kind === 'task_completed') {
        result[h.element_id] = 'done';
        if (h.kind === 'task_completed') who[h.element_id] = h;
      }
    });
    (instance.data?.active_tasks || []).forEach((task) => {
      result[task.element_id] = 'active';
      notes.push({ id: task.element_id, text: task.assignee ? `${t('办理中', 'with')} ${task.assignee}` : t('待办', 'to do'), className: 'active-note' });
    });
    Object.entries(who).forEach(([elementId, h]) => {
      if (result[elementId] === 'done') {
        notes.push({ id: elementId, text: `✓ ${h.actor_name || h.actor}`, title: h.at, className: 'done-note' });
      }
    });
    if (xml.data) {
      // Every flow node the instance has not reached is pending.
      const ids = [...xml.data.matchAll(/<(?:bpmn:)?(\w+)\s[^>]*?\bid="([^"]+)"/g)]
        .filter(([, type]) => FLOW_NODE.test(type) && !/Definition$/.test(type))
        .map(([, , elementId]) => elementId);
      ids.forEach((elementId) => { if (!result[elementId]) result[elementId] = 'pending'; });
    }
    return { markers: result, overlays: notes };
  }, [history.data, instance.data, xml.data, t]);

  if (instance.loading && !instance.data) return <Loading />;
  if (instance.error) {
    if (instance.error instanceof ApiError && instance.error.status === 404) return <NotFound />;
    return <div className="page"><ErrorBox error={instance.error} /></div>;
  }
  const data = instance.data;
  const canControl = hasRole('registrar', 'admin');

  async function control(action, confirmText) {
    if (confirmText && !window.confirm(confirmText)) return;
    setError('');
    try {
      await post(`/process-instances/${id}/${action}`);
      setMessage({ suspend: t('已挂起', 'Suspended'), resume: t('已恢复', 'Resumed'), terminate: t('已终止', 'Terminated') }[action]);
      instance.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }

  return (
    <div className="page instance-page">
      <div className="page-head">
        <div>
          <div className="crumbs"><Link to="/instances">{t('流程实例', 'Instances')}</Link></div>
          <h1>{data.name} <StateBadge state={data.state} /></h1>
          <div className="meta">
            <span>{t('版本', 'Version')} v{data.version}</span>
            {data.business_key && <span>{t('业务编号：', 'Business key: ')}{data.business_key}</span>}
            {data.student && <span>{t('学生：', 'Student: ')}<StudentName id={data.student} /></span>}
            {data.station && <span>{t('函授站：', 'Station: ')}<StationName code={data.station} /></span>}
            <span>{t('发起：', 'Started: ')}{(history.data || []).find((h) => h.kind === 'instance_started')?.actor_name || data.started_by} · <Time value={data.started_at} /></span>
            {data.ended_at && <span>{t('结束：', 'Ended: ')}<Time value={data.ended_at} /></span>}
            {data.parent_id && <Link to={`/instances/${data.parent_id}`}>{t('上级流程', 'Parent')}</Link>}
          </div>
        </div>
        {canControl && (
          <div className="head-actions">
            {data.state === 'running' && <button type="button" className="secondary" onClick={() => control('suspend')}>{t('挂起', 'Suspend')}</button>}
            {data.state === 'suspended' && <button type="button" className="secondary" onClick={() => control('resume')}>{t('恢复', 'Resume')}</button>}
            {['running', 'suspended', 'error'].includes(data.state) && (
              <button type="button" className="danger" onClick={() => control('terminate', t('确定终止该流程实例吗？此操作不可撤销。', 'Terminate this instance? This cannot be undone.'))}>{t('终止', 'Terminate')}</button>
            )}
          </div>
        )}
      </div>
      {message && <div className="notice" role="status">{message}</div>}
      <ErrorBox>{error}</ErrorBox>
      <div className="card">
        {xml.error ? <ErrorBox error={xml.error} /> : <Diagram xml={xml.data} markers={markers} overlays={overlays} />}
      </div>
      <div className="two-columns">
        <section className="main-column">
          <div className="card">
            <h3>{t('当前任务', 'Active tasks')}</h3>
            {data.active_tasks.length === 0 ? <p className="muted">{t('无', 'None')}</p> : (
              <table className="grid">
                <thead><tr><th>{t('任务', 'Task')}</th><th>{t('办理角色', 'Role')}</th><th>{t('办理人', 'Assignee')}</th><th>{t('期限', 'Due')}</th></tr></thead>
                <tbody>
                  {data.active_tasks.map((task) => (
                    <tr key={task.id} data-testid="active-task" data-element-id={task.element_id}>
                      <td><Link to={`/tasks/${task.id}`}>{task.name}</Link></td>
                      <td>{roleName(task.role, lang)}</td>
                      <td>{task.assignee || <span className="muted">{t('未认领', 'unclaimed')}</span>}</td>
                      <td><DueDate value={task.due_at} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {data.pending_timers?.length > 0 && (
              <p className="muted small">{t('等待中的定时器：', 'Pending timers: ')}{data.pending_timers.map((x) => x.element_id || x.id || JSON.stringify(x)).join('、')}</p>
            )}
            {data.children?.length > 0 && (
              <>
                <h3>{t('子流程', 'Child instances')}</h3>
                <ul>{data.children.map((child) => {
                  const childId = typeof child === 'string' ? child : child.id;
                  return <li key={childId}><Link to={`/instances/${childId}`}>{childId}</Link></li>;
                })}</ul>
              </>
            )}
            {data.incidents?.length > 0 && (
              <>
                <h3>{t('故障', 'Incidents')}</h3>
                <ul className="problems">{data.incidents.map((inc, i) => <li key={inc.id || i}><code>{inc.element_id}</code> {inc.message}</li>)}</ul>
              </>
            )}
          </div>
          <div className="card">
            <h3>{t('办理记录', 'History')}</h3>
            {history.error ? <ErrorBox error={history.error} /> : (
              <ol className="timeline" data-testid="history">
                {(history.data || []).map((h) => {
                  // a task made by a step waits for its role: it is not the act of whoever's
                  // step made it
                  const created = h.kind === 'task_created';
                  const signed = h.element_id ? h.data?.[`sign_${h.element_id}`] : null;
                  const shown = Object.entries(h.data || {}).filter(([k, v]) => READABLE.includes(k) && v !== null && v !== '');
                  return (
                    <li key={h.id} className={`kind-${h.kind}`} data-testid={`history-${h.kind}`}>
                      <div className="when"><Time value={h.at} /></div>
                      <div>
                        <strong>{historyKindName(h.kind, lang)}</strong>
                        {h.element_name && <span> · {h.element_name}</span>}
                        {created
                          ? <span className="muted"> · {t('待', 'for ')}{roleName(h.data?.role, lang)}{t('办理', '')}</span>
                          : <span className="muted" data-testid="history-actor"> · {signed ? signed.signer_name : (h.actor_name || h.actor)}</span>}
                      </div>
                      {h.kind === 'task_completed' && (
                        <div className="small">
                          {shown.map(([k, v]) => (
                            <span key={k} className="kv">{titles[k] || k}：{k === 'outcome' ? (OUTCOMES[v] || v) : <Value value={v} />}</span>
                          ))}
                          {signed?.opinion && <span className="kv" data-testid="history-opinion">{t('意见：', 'Opinion: ')}{signed.opinion}</span>}
                        </div>
                      )}
                      {hasRole('admin') && h.data && Object.keys(h.data).length > 0 && (
                        <details className="technical small"><summary>{t('技术数据', 'Technical data')}</summary><code className="json">{JSON.stringify(h.data)}</code></details>
                      )}
                    </li>
                  );
                })}
              </ol>
            )}
          </div>
        </section>
        <aside className="side-column">
          <div className="card">
            <h3>{t('申请信息', 'Application')}</h3>
            <Variables data={data.variables} titles={titles} />
          </div>
          <Documents data={data.variables} />
        </aside>
      </div>
    </div>
  );
}

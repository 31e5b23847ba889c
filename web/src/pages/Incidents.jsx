import { useState } from 'react';
import { Link } from 'react-router-dom';
import { errorText, get, post, request } from '../api.js';
import { useAuth } from '../auth.jsx';
import { useT } from '../i18n.jsx';
import { ErrorBox, Loading, Time, useLoad } from '../components/common.jsx';
import NotFound from './NotFound.jsx';

function kindOf(incident, t) {
  const kind = incident.data?.kind;
  if (kind === 'child_ended') return t('子流程已终止', 'child terminated');
  if (kind === 'timer_failed') return t('定时步骤失败', 'timer step failed');
  return t('步骤失败', 'step failed');
}

// The repairs of the incident's case: correct a variable, start a passed element again.
function Repair({ incident, onDone }) {
  const t = useT();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [element, setElement] = useState('');
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const path = `/process-instances/${incident.instance_id}`;

  async function act(action) {
    setError('');
    setMessage('');
    try {
      await action();
      onDone();
    } catch (err) {
      setError(errorText(err, t));
    }
  }

  function setVariable(event) {
    event.preventDefault();
    act(async () => {
      let parsed;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = value;  // plain text is a string
      }
      await request('PUT', `${path}/variables/${encodeURIComponent(name)}`, { json: { value: parsed } });
      setMessage(t(`已修改变量 ${name}`, `Variable ${name} set`));
    });
  }

  function move(event) {
    event.preventDefault();
    act(async () => {
      await post(`${path}/move`, { element_id: element });
      setMessage(t(`已退回到环节 ${element}`, `Moved to ${element}`));
    });
  }

  return (
    <div className="repair" data-testid="repair">
      <form className="inline-form" onSubmit={setVariable}>
        <input placeholder={t('变量名', 'Variable')} value={name} onChange={(e) => setName(e.target.value)} required data-testid="variable-name" />
        <input placeholder={t('新值（JSON 或文字）', 'Value (JSON or text)')} value={value} onChange={(e) => setValue(e.target.value)} data-testid="variable-value" />
        <button type="submit" className="secondary" data-testid="variable-set">{t('修改变量', 'Set variable')}</button>
      </form>
      <form className="inline-form" onSubmit={move}>
        <input placeholder={t('环节编号', 'Element id')} value={element} onChange={(e) => setElement(e.target.value)} required data-testid="move-element" />
        <button type="submit" className="secondary" data-testid="move">{t('退回到此环节', 'Start this element again')}</button>
      </form>
      {message && <div className="notice" role="status">{message}</div>}
      <ErrorBox>{error}</ErrorBox>
    </div>
  );
}

export default function IncidentsPage() {
  const t = useT();
  const { hasRole } = useAuth();
  const [error, setError] = useState('');
  const list = useLoad(() => get('/incidents'), []);
  if (!hasRole('admin')) return <NotFound />;

  async function resolve(incident, action) {
    setError('');
    try {
      await post(`/incidents/${incident.id}/resolve`, { action });
      list.reload();
    } catch (err) {
      setError(errorText(err, t));
      list.reload();
    }
  }

  return (
    <div className="page incidents-page">
      <div className="page-head"><h1>{t('故障处理', 'Incidents')}</h1></div>
      <ErrorBox>{error}</ErrorBox>
      {list.loading && !list.data ? <Loading /> : list.error ? <ErrorBox error={list.error} /> : !list.data.length ? (
        <p className="muted" data-testid="no-incidents">{t('没有未处理的故障。', 'No open incidents.')}</p>
      ) : (
        <table className="grid" data-testid="incidents">
          <thead><tr><th>{t('时间', 'When')}</th><th>{t('实例', 'Instance')}</th><th>{t('类型', 'Kind')}</th><th>{t('环节', 'Element')}</th><th>{t('原因', 'Cause')}</th><th>{t('处理', 'Actions')}</th></tr></thead>
          <tbody>
            {list.data.map((incident) => {
              const child = incident.data?.kind === 'child_ended';
              const redo = Boolean(incident.data?.retry) || incident.data?.kind === 'timer_failed';
              return (
                <tr key={incident.id} data-testid="incident-row" data-id={incident.id}>
                  <td><Time value={incident.created_at} /></td>
                  <td>{incident.instance_id ? <Link className="mono" to={`/instances/${incident.instance_id}`}>{incident.instance_id.slice(0, 8)}</Link> : '—'}</td>
                  <td>{kindOf(incident, t)}</td>
                  <td><code>{incident.element_id || '—'}</code></td>
                  <td data-testid="incident-cause">{incident.message}</td>
                  <td>
                    <div className="toolbar">
                      {(redo || child) && <button type="button" onClick={() => resolve(incident, 'retry')} data-testid="incident-retry">{t('重试', 'Retry')}</button>}
                      {(incident.data?.retry || child) && <button type="button" className="secondary" onClick={() => resolve(incident, 'skip')} data-testid="incident-skip">{t('跳过', 'Skip')}</button>}
                      {child && <button type="button" className="danger" onClick={() => resolve(incident, 'terminate_caller')}>{t('终止流程', 'Terminate caller')}</button>}
                      <button type="button" className="secondary" onClick={() => resolve(incident, 'dismiss')} data-testid="incident-dismiss">{t('忽略', 'Dismiss')}</button>
                    </div>
                    {incident.instance_id && <Repair incident={incident} onDone={list.reload} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

import { useState } from 'react';
import { Link } from 'react-router-dom';
import { get } from '../api.js';
import { useAuth } from '../auth.jsx';
import { STATES, useLang, useT } from '../i18n.jsx';
import { ErrorBox, Loading, Pager, StateBadge, StudentName, Time, useDefinitions, useLoad } from '../components/common.jsx';
import { OutcomeText } from '../components/Outcomes.jsx';

export default function InstancesPage() {
  const t = useT();
  const { lang } = useLang();
  const { me } = useAuth();
  const definitions = useDefinitions();
  const [key, setKey] = useState('');
  const [state, setState] = useState('');
  const [station, setStation] = useState('');
  const [page, setPage] = useState(1);
  const list = useLoad(() => get('/process-instances', { key, state, station, page, per_page: 50 }), [key, state, station, page]);
  return (
    <div className="page">
      <div className="page-head"><h1>{t('流程实例', 'Process instances')}</h1></div>
      <div className="filters">
        <label>{t('流程', 'Process')}
          <select value={key} onChange={(e) => { setKey(e.target.value); setPage(1); }}>
            <option value="">{t('全部流程', 'All processes')}</option>
            {definitions.map((d) => <option key={d.key} value={d.key}>{d.name}</option>)}
          </select>
        </label>
        <label>{t('状态', 'State')}
          <select value={state} onChange={(e) => { setState(e.target.value); setPage(1); }}>
            <option value="">{t('全部状态', 'Any state')}</option>
            {['running', 'suspended', 'completed', 'terminated', 'error'].map((s) => <option key={s} value={s}>{STATES[s][lang === 'en' ? 1 : 0]}</option>)}
          </select>
        </label>
        {!me.station && (
          <label>{t('函授站', 'Station')}
            <input value={station} placeholder="S01" size={6} onChange={(e) => { setStation(e.target.value.trim()); setPage(1); }} />
          </label>
        )}
      </div>
      {list.loading && !list.data ? <Loading /> : list.error ? <ErrorBox error={list.error} /> : (
        <>
          <table className="grid">
            <thead><tr><th>{t('流程', 'Process')}</th><th>{t('状态', 'State')}</th><th>{t('审批结果', 'Outcome')}</th><th>{t('学生', 'Student')}</th><th>{t('函授站', 'Station')}</th><th>{t('业务编号', 'Business key')}</th><th>{t('发起人', 'Started by')}</th><th>{t('发起时间', 'Started')}</th><th>{t('更新时间', 'Updated')}</th></tr></thead>
            <tbody>
              {list.data.items.map((i) => (
                <tr key={i.id} data-testid="instance-row">
                  <td><Link to={`/instances/${i.id}`}>{i.name}</Link> <span className="muted small">v{i.version}</span></td>
                  <td><StateBadge state={i.state} /></td>
                  <td><OutcomeText outcome={i.outcome} /></td>
                  <td><StudentName id={i.student} /></td>
                  <td>{i.station_name || i.station || '—'}</td>
                  <td>{i.business_key || '—'}</td>
                  <td>{i.started_by}</td>
                  <td><Time value={i.started_at} /></td>
                  <td><Time value={i.updated_at} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 && <div className="empty">{t('没有流程实例', 'No instances')}</div>}
          <Pager page={page} perPage={50} total={list.data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}

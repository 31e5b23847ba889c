import { useState } from 'react';
import { downloadFile, get } from '../api.js';
import { useT } from '../i18n.jsx';
import { ErrorBox, Loading, Pager, Time, useLoad } from '../components/common.jsx';

// Actions of the audit log, in the office's words.
const ACTIONS = [
  ['deploy', '部署流程', 'Deploy'],
  ['user.create', '新建用户', 'Create user'],
  ['user.update', '修改用户', 'Change user'],
  ['user.password_reset', '重置密码', 'Reset password'],
  ['api_token.create', '新建接口令牌', 'Create API token'],
  ['api_token.revoke', '吊销接口令牌', 'Revoke API token'],
  ['station.create', '新建函授站', 'Create station'],
  ['station.rename', '修改函授站', 'Rename station'],
  ['instance.suspend', '挂起流程实例', 'Suspend instance'],
  ['instance.resume', '恢复流程实例', 'Resume instance'],
  ['instance.terminate', '终止流程实例', 'Terminate instance'],
  ['incident.resolve', '处理异常', 'Resolve incident'],
  ['timer.retry', '重试定时事件', 'Retry timer'],
  ['delivery.retry', '重发通知', 'Retry delivery'],
  ['webhook.create', '新建回调', 'Create webhook'],
  ['webhook.delete', '停用回调', 'Stop webhook'],
  ['task.assign', '指派任务', 'Assign task'],
  ['import', '导入数据', 'Import'],
];

function actionName(action, t) {
  const found = ACTIONS.find(([key]) => key === action);
  return found ? t(found[1], found[2]) : action;
}

// <input type="datetime-local"> is local time without an offset; the API wants one.
function withOffset(local) {
  return local ? new Date(local).toISOString() : '';
}

function Change({ before, after }) {
  if (before == null && after == null) return <span className="muted">—</span>;
  return (
    <div className="small">
      {before != null && <div><span className="muted">前：</span><code>{JSON.stringify(before)}</code></div>}
      {after != null && <div><span className="muted">后：</span><code>{JSON.stringify(after)}</code></div>}
    </div>
  );
}

export default function AuditPage() {
  const t = useT();
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState(1);
  const [exportError, setExportError] = useState(null);
  const filters = { actor, action, target, from: withOffset(from), to: withOffset(to) };
  const list = useLoad(() => get('/audit', { ...filters, page, per_page: 50 }), [actor, action, target, from, to, page]);
  const change = (setter) => (event) => { setter(event.target.value); setPage(1); };

  async function exportXlsx() {
    setExportError(null);
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    try {
      await downloadFile(`/exports/audit${query ? `?${query}` : ''}`, '审计日志.xlsx');
    } catch (err) {
      setExportError(err);
    }
  }

  return (
    <div className="page" data-testid="audit-page">
      <div className="page-head">
        <h1>{t('审计日志', 'Audit log')}</h1>
        <button type="button" className="secondary" onClick={exportXlsx} data-testid="audit-export">{t('导出 Excel', 'Export XLSX')}</button>
      </div>
      <div className="filters">
        <label>{t('操作人', 'Actor')}<input value={actor} size={10} onChange={change(setActor)} data-testid="audit-actor" /></label>
        <label>{t('操作', 'Action')}
          <select value={action} onChange={change(setAction)} data-testid="audit-action">
            <option value="">{t('全部操作', 'Any action')}</option>
            {ACTIONS.map(([key, zh, en]) => <option key={key} value={key}>{t(zh, en)}</option>)}
          </select>
        </label>
        <label>{t('对象', 'Target')}<input value={target} size={14} placeholder="user:stu1001" onChange={change(setTarget)} data-testid="audit-target" /></label>
        <label>{t('起', 'From')}<input type="datetime-local" value={from} onChange={change(setFrom)} /></label>
        <label>{t('止', 'To')}<input type="datetime-local" value={to} onChange={change(setTo)} /></label>
      </div>
      {exportError && <ErrorBox error={exportError} />}
      {list.loading && !list.data ? <Loading /> : list.error ? <ErrorBox error={list.error} /> : (
        <>
          <table className="grid">
            <thead><tr><th>{t('时间', 'Time')}</th><th>{t('操作人', 'Actor')}</th><th>{t('来源地址', 'Address')}</th><th>{t('操作', 'Action')}</th><th>{t('对象', 'Target')}</th><th>{t('修改前后', 'Before / after')}</th></tr></thead>
            <tbody>
              {list.data.items.map((entry) => (
                <tr key={entry.id} data-testid="audit-row">
                  <td><Time value={entry.at} /></td>
                  <td>{entry.actor}</td>
                  <td>{entry.address || '—'}</td>
                  <td>{actionName(entry.action, t)}</td>
                  <td><code>{entry.target}</code></td>
                  <td><Change before={entry.before} after={entry.after} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 && <div className="empty">{t('没有记录', 'No entries')}</div>}
          <Pager page={page} perPage={50} total={list.data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}

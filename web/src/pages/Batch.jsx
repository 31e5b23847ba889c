// Several tasks that are the same decision (one definition version, element and form; a
// station approving many applications): the items listed with their summaries, one form,
// one submit.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError, errorText, get, hasEndpoint, post } from '../api.js';
import { useT } from '../i18n.jsx';
import SchemaForm from '../components/SchemaForm.jsx';
import { DueDate, ErrorBox, Loading, processName, useDefinitions } from '../components/common.jsx';
import { sameDecision } from './Inbox.jsx';
import { flashAndGo } from './Task.jsx';

export default function BatchPage() {
  const t = useT();
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const [params] = useSearchParams();
  const ids = useMemo(() => (params.get('ids') || '').split(',').filter(Boolean), [params]);
  const [tasks, setTasks] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [formData, setFormData] = useState(null);
  const [serverErrors, setServerErrors] = useState([]);
  const [error, setError] = useState('');
  const [progress, setProgress] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all(ids.map((id) => get(`/tasks/${id}`))).then(setTasks).catch(setLoadError);
  }, [ids]);

  if (loadError) return <div className="page"><ErrorBox error={loadError} /></div>;
  if (!tasks) return <Loading />;
  if (!tasks.length) return <div className="page"><p>{t('未选择任务', 'No tasks selected')}</p></div>;
  const first = tasks[0];
  const mixed = !sameDecision(tasks);

  async function submit(data) {
    setBusy(true);
    setError('');
    setServerErrors([]);
    try {
      if (await hasEndpoint('/api/v1/tasks/complete-batch')) {
        const result = await post('/tasks/complete-batch', { tasks: tasks.map((x) => ({ id: x.id, data })) });
        flashAndGo(navigate, t(`已批量办理 ${result.completed} 项：${first.name}`, `Completed ${result.completed}: ${first.name}`));
        return;
      }
      let count = 0;
      for (const task of tasks) {
        setProgress(t(`正在办理 ${count + 1}/${tasks.length}`, `Completing ${count + 1}/${tasks.length}`));
        await post(`/tasks/${task.id}/complete`, { data });
        count += 1;
      }
      flashAndGo(navigate, t(`已批量办理 ${count} 项：${first.name}`, `Completed ${count}: ${first.name}`));
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.detail)) {
        const fields = err.body.detail.filter((d) => d.field);
        setServerErrors(fields);
        setError(fields.length ? t('服务器校验未通过，请按提示修改；未办理任何任务。', 'The server rejected the form; nothing was completed.') : errorText(err, t));
      } else {
        setError(errorText(err, t));
      }
    } finally {
      setBusy(false);
      setProgress('');
    }
  }

  return (
    <div className="page batch-page">
      <div className="page-head">
        <div>
          <div className="crumbs"><Link to="/inbox">{t('待办任务', 'Inbox')}</Link> / {processName(definitions, first.process_key)}</div>
          <h1>{t(`批量办理：${first.name}`, `Complete together: ${first.name}`)}</h1>
          <p className="muted">{t(`以下 ${tasks.length} 项任务将使用同一份表单内容一并办理。`, `The ${tasks.length} tasks below get the same form.`)}</p>
        </div>
      </div>
      {mixed && <div className="error" role="alert">{t('所选任务不是同一流程版本、同一步骤、同一表单的决定，无法批量办理。', 'The tasks are not the same decision (version, step and form).')}</div>}
      <table className="grid">
        <thead><tr><th>#</th><th>{t('任务', 'Task')}</th><th>{t('摘要', 'Summary')}</th><th>{t('学生', 'Student')}</th><th>{t('函授站', 'Station')}</th><th>{t('期限', 'Due')}</th></tr></thead>
        <tbody>
          {tasks.map((x, index) => (
            <tr key={x.id} data-testid="batch-row">
              <td className="muted">{index + 1}</td>
              <td><Link to={`/tasks/${x.id}`}>{x.name}</Link></td>
              <td data-testid="batch-summary">{x.summary || '—'}</td>
              <td>{x.student_name || '—'}{x.student_no && <span className="muted small">（{x.student_no}）</span>}</td>
              <td>{x.station_name || '—'}</td>
              <td><DueDate value={x.due_at} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      {!mixed && (
        <div className="card form-card">
          <ErrorBox>{error}</ErrorBox>
          {progress && <div className="notice">{progress}</div>}
          <SchemaForm
            schema={first.form?.schema}
            uiSchema={first.form?.ui_schema}
            formData={formData ?? {}}
            onChange={(d) => { setFormData(d); if (serverErrors.length) setServerErrors([]); }}
            onSubmit={submit}
            serverErrors={serverErrors}
            disabled={busy}
            submitLabel={t(`提交（${tasks.length} 项）`, `Submit (${tasks.length})`)}
          />
        </div>
      )}
    </div>
  );
}

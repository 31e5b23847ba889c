import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError, errorText, get, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { roleName, useLang, useT } from '../i18n.jsx';
import { submittedText } from '../components/Outcomes.jsx';
import SchemaForm from '../components/SchemaForm.jsx';
import { DueDate, ErrorBox, Loading, processName, StationName, useDefinitions, useLoad } from '../components/common.jsx';
import { Documents, EarlierSteps, StudentCard, useVariableTitles, Variables } from '../components/Context.jsx';
import BatchRows, { batchProblems } from '../components/BatchRows.jsx';
import NotFound from './NotFound.jsx';

const DECISION_FIELDS = ['outcome', 'reason', 'comment'];

// A form starts empty: each reviewer writes their own words and ticks their own
// confirmations. What comes from the case: a readOnly field the person is shown to confirm
// (修改学籍's 将要做的修改) or a proposal to confirm or edit (x-prefill: 7's 预毕业生名单).
// When the step comes back for correction, what this step itself sent last time (its own
// history line) comes back too: lists only when short enough for one screen or shown as a
// paged table; never a decision (each time is decided anew) nor anything of a signed review.
const PREFILL_ITEMS = 20;

export function initialData(schema, data, earlier, uiSchema) {
  const initial = {};
  const ownEarlier = schema?.['x-signature'] ? null : earlier;
  Object.entries(schema?.properties || {}).forEach(([key, prop]) => {
    const fromCase = prop?.readOnly === true || prop?.['x-prefill'] === true;
    if (fromCase && data && data[key] !== undefined && data[key] !== null) initial[key] = data[key];
    const before = ownEarlier?.[key];
    // a paged table shows ten rows at a time, however long the list
    const paged = uiSchema?.[key]?.['ui:field'] === 'pagedTable';
    if (!fromCase && !DECISION_FIELDS.includes(key) && before !== undefined && before !== null
      && (paged || !(Array.isArray(before) && before.length > PREFILL_ITEMS))) initial[key] = before;
  });
  return initial;
}

export function flashAndGo(navigate, text, to = '/inbox') {
  sessionStorage.setItem('xueji.flash', text);
  navigate(to);
}

export default function TaskPage() {
  const { id } = useParams();
  const t = useT();
  const { lang } = useLang();
  const { me, hasRole } = useAuth();
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const task = useLoad(() => get(`/tasks/${id}`), [id]);
  const [formData, setFormData] = useState(null);
  const [serverErrors, setServerErrors] = useState([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const titles = useVariableTitles(task.data?.process_key);
  const history = useLoad(
    () => (task.data ? get(`/process-instances/${task.data.instance_id}/history`) : Promise.resolve(null)),
    [task.data?.instance_id],
  );
  const initial = useMemo(() => {
    if (!task.data) return {};
    const earlier = (history.data || []).filter((h) => h.kind === 'task_completed' && h.element_id === task.data.element_id);
    return initialData(task.data.form?.schema, task.data.data, earlier.at(-1)?.data, task.data.form?.ui_schema);
  }, [task.data, history.data]);

  if (task.loading && !task.data) return <Loading />;
  if (task.error) {
    if (task.error instanceof ApiError && task.error.status === 404) {
      return <NotFound message={t('该任务不存在、已办理，或不属于您。', 'This task does not exist, is done, or is not yours.')} />;
    }
    return <div className="page"><ErrorBox error={task.error} /></div>;
  }
  const item = task.data;
  const schema = item.form?.schema || { type: 'object', properties: {} };
  const decision = 'outcome' in (schema.properties || {});
  const formProps = Object.keys(schema.properties || {}).filter((k) => !(decision && DECISION_FIELDS.includes(k)));
  const done = item.state !== 'ready';

  const problems = batchProblems(item.data);
  const rows = Array.isArray(item.data?.rows) ? item.data.rows : [];
  const rowTitles = schema.properties?.rows?.items?.properties || {};
  // A checked file's column names, when its rows are not the form's (process 8's grade sheet).
  const columnTitles = {
    ...(item.data?.check?.columns || {}),
    ...Object.fromEntries(Object.entries(rowTitles).map(([k, v]) => [k, v.title])),
  };

  async function submit(data) {
    setBusy(true);
    setError('');
    setServerErrors([]);
    try {
      const result = await post(`/tasks/${id}/complete`, { data });
      flashAndGo(navigate, submittedText(t, lang, item.name, result));
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.detail)) {
        const fieldErrors = err.body.detail.filter((d) => d.field !== undefined);
        setServerErrors(fieldErrors);
        setError(t('服务器校验未通过，请按提示修改。', 'The server rejected the form; see the fields.'));
        if (!fieldErrors.length) setError(errorText(err, t));
      } else {
        setError(errorText(err, t));
      }
    } finally {
      setBusy(false);
    }
  }

  async function act(action) {
    setError('');
    try {
      await post(`/tasks/${id}/${action}`);
      task.reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  }

  return (
    <div className="page task-page">
      <div className="page-head">
        <div>
          <div className="crumbs"><Link to="/inbox">{t('待办任务', 'Inbox')}</Link> / {processName(definitions, item.process_key)}</div>
          <h1 data-testid="task-title">{item.name}</h1>
          <div className="meta">
            <span>{t('办理角色：', 'Role: ')}{roleName(item.role, lang)}</span>
            {item.station && <span>{t('函授站：', 'Station: ')}<StationName code={item.station} /></span>}
            <span>{t('期限：', 'Due: ')}<DueDate value={item.due_at} /></span>
            <span>{t('办理人：', 'Assignee: ')}{item.assignee || t('未认领', 'unclaimed')}</span>
            <Link to={`/instances/${item.instance_id}`}>{t('查看流程图', 'View the diagram')}</Link>
          </div>
        </div>
        {!done && (
          <div className="head-actions">
            {!item.assignee && !hasRole('student') && <button type="button" className="secondary" onClick={() => act('claim')}>{t('认领', 'Claim')}</button>}
            {item.assignee === me.username && <button type="button" className="secondary" onClick={() => act('unclaim')}>{t('放弃认领', 'Release')}</button>}
          </div>
        )}
      </div>
      <div className="two-columns">
        <section className="main-column">
          {item.documentation && <div className="documentation card" data-testid="documentation"><h3>{t('办理说明', 'Instructions')}</h3><p>{item.documentation}</p></div>}
          {(problems.length > 0 || rows.length > 0) && (
            <BatchRows rows={rows} problems={problems} columnTitles={columnTitles} />
          )}
          <div className="card form-card">
            {done ? (
              <p className="muted">{t('该任务已办理。', 'This task is done.')}</p>
            ) : (
              <>
                <ErrorBox>{error}</ErrorBox>
                {schema['x-signature'] && (
                  <p className="muted small" data-testid="signing-as">
                    {t(`提交即由 ${me.display_name} 签署（按登录身份），签署时间为提交时间。`,
                      `Submitting signs as ${me.display_name} (your login), at the time of submission.`)}
                  </p>
                )}
                <SchemaForm
                  schema={schema}
                  uiSchema={item.form?.ui_schema}
                  formData={formData ?? initial}
                  onChange={(d) => { setFormData(d); if (serverErrors.length) setServerErrors([]); }}
                  onSubmit={submit}
                  serverErrors={serverErrors}
                  student={item.student}
                  problems={problems}
                  disabled={busy}
                  submitLabel={t('提交', 'Submit')}
                />
              </>
            )}
          </div>
        </section>
        <aside className="side-column">
          <StudentCard id={item.student} />
          <div className="card">
            <h3>{t('申请信息', 'Application')}</h3>
            <Variables data={item.data} titles={titles} hidden={formProps} />
          </div>
          <Documents data={item.data} links={item.documents} />
          <EarlierSteps instanceId={item.instance_id} />
        </aside>
      </div>
    </div>
  );
}

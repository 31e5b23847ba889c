import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError, errorText, get, post } from '../api.js';
import { useAuth } from '../auth.jsx';
import { useT } from '../i18n.jsx';
import SchemaForm from '../components/SchemaForm.jsx';
import { ErrorBox, forget, Loading, useLoad } from '../components/common.jsx';

function StartForm({ processKey }) {
  const t = useT();
  const { me } = useAuth();
  const navigate = useNavigate();
  const definition = useLoad(() => get(`/process-definitions/${processKey}`), [processKey]);
  const [formData, setFormData] = useState({});
  const [businessKey, setBusinessKey] = useState('');
  const [serverErrors, setServerErrors] = useState([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  if (definition.loading && !definition.data) return <Loading />;
  if (definition.error) return <ErrorBox error={definition.error} />;
  const d = definition.data;
  if (!d.startable) return <div className="error">{t('您的角色不能发起此流程。', 'Your roles may not start this process.')}</div>;

  async function submit(variables) {
    setBusy(true);
    setError('');
    setServerErrors([]);
    try {
      const instance = await post(`/process-definitions/${processKey}/start`, { business_key: businessKey || undefined, variables });
      forget('definitions');
      sessionStorage.setItem('xueji.flash', t('流程已发起', 'Started'));
      navigate(`/instances/${instance.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body?.detail)) {
        const fields = err.body.detail.filter((x) => x.field);
        setServerErrors(fields);
        setError(fields.length ? t('服务器校验未通过，请按提示修改。', 'The server rejected the form; see the fields.') : errorText(err, t));
      } else {
        setError(errorText(err, t));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card form-card start-form">
      <h2>{d.name}</h2>
      <ErrorBox>{error}</ErrorBox>
      {!me.roles.includes('student') && (
        <label className="plain-field">
          {t('业务编号（可选）', 'Business key (optional)')}
          <input value={businessKey} maxLength={120} onChange={(e) => setBusinessKey(e.target.value)} />
        </label>
      )}
      <SchemaForm
        schema={d.start_form?.schema || { type: 'object', properties: {} }}
        uiSchema={d.start_form?.ui_schema}
        formData={formData}
        onChange={(x) => { setFormData(x); if (serverErrors.length) setServerErrors([]); }}
        onSubmit={submit}
        serverErrors={serverErrors}
        student={me.student}
        disabled={busy}
        submitLabel={t('发起', 'Start')}
      />
    </div>
  );
}

export default function StartPage() {
  const { key } = useParams();
  const t = useT();
  const definitions = useLoad(() => get('/process-definitions'), []);
  const startable = (definitions.data || []).filter((d) => d.startable && d.kind !== 'dmn');
  return (
    <div className="page start-page">
      <div className="page-head"><h1>{t('发起流程', 'Start a process')}</h1></div>
      <div className="two-columns start-layout">
        <aside className="process-list">
          {definitions.loading && !definitions.data ? <Loading /> : definitions.error ? <ErrorBox error={definitions.error} /> : startable.length === 0 ? (
            <p className="muted">{t('您没有可发起的流程。', 'There is nothing you may start.')}</p>
          ) : (
            <ul className="cards">
              {startable.map((d) => (
                <li key={d.key} className={d.key === key ? 'active' : ''}>
                  <Link to={`/start/${d.key}`} data-testid={`start-${d.key}`}>
                    <strong>{d.name}</strong>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </aside>
        <section className="main-column">
          {key ? <StartForm key={key} processKey={key} /> : (
            <p className="muted">{t('请在左侧选择要发起的流程。', 'Choose a process on the left.')}</p>
          )}
        </section>
      </div>
    </div>
  );
}

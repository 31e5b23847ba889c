// What a person needs beside a form: the student, the station, the earlier steps and comments,
// and the documents the instance has (uploads named in its data).
import { Link } from 'react-router-dom';
import { get } from '../api.js';
import { historyKindName, OUTCOMES, useLang, useT } from '../i18n.jsx';
import { cached, Loading, Time, useLoad, useStudent, Value } from './common.jsx';
import { UploadLink } from './SchemaForm.jsx';

const UPLOAD_KEY = /(^upload$|_upload$|_upload_id$|^upload_id$|_uploads$|^uploads$|^attachments$|_attachments$)/;

// Every upload id in instance data: keys ending in _upload, lists of uploads, {upload: id} items.
export function findUploads(data, path = '') {
  const found = [];
  if (!data || typeof data !== 'object') return found;
  Object.entries(data).forEach(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    if (UPLOAD_KEY.test(key)) {
      const ids = Array.isArray(value) ? value : [value];
      ids.forEach((id) => {
        if (Number.isInteger(id)) found.push({ id, key: here });
        else if (id && typeof id === 'object' && Number.isInteger(id.upload)) found.push({ id: id.upload, key: here });
      });
    } else if (value && typeof value === 'object') {
      found.push(...findUploads(value, here));
    }
  });
  const seen = new Set();
  return found.filter((item) => (seen.has(item.id) ? false : seen.add(item.id)));
}

export function StudentCard({ id }) {
  const t = useT();
  const student = useStudent(id);
  if (!id) return null;
  if (!student) return <div className="card"><h3>{t('学生', 'Student')}</h3><span className="muted">#{id}</span></div>;
  return (
    <div className="card student-card">
      <h3>{t('学生', 'Student')}</h3>
      <dl>
        <dt>{t('姓名', 'Name')}</dt><dd><Link to={`/students/${id}`}>{student.name}</Link></dd>
        <dt>{t('学号', 'Student no.')}</dt><dd>{student.student_number || <span className="muted">{t('未编制', 'not yet')}</span>}</dd>
        <dt>{t('层次', 'Level')}</dt><dd>{student.level}</dd>
        <dt>{t('专业', 'Major')}</dt><dd>{student.major}</dd>
        <dt>{t('年级', 'Intake')}</dt><dd>{student.intake_year}</dd>
        <dt>{t('函授站', 'Station')}</dt><dd>{student.station_name || student.station}</dd>
        <dt>{t('学籍状态', 'Status')}</dt><dd>{student.status}</dd>
      </dl>
    </div>
  );
}

// Titles for instance variables, from the start form (and any forms given).
export function useVariableTitles(processKey) {
  const definition = useLoad(
    () => (processKey ? cached(`definition:${processKey}`, () => get(`/process-definitions/${processKey}`)) : Promise.resolve(null)),
    [processKey],
  );
  const titles = { outcome: '审核结果', reason: '原因', comment: '审核意见' };
  const choices = {};
  Object.entries(definition.data?.start_form?.schema?.properties || {}).forEach(([key, prop]) => {
    if (prop.title) titles[key] = prop.title;
    // a chosen value is shown by its name (the start form's list, filled for this user)
    if (Array.isArray(prop.oneOf)) choices[key] = new Map(prop.oneOf.map((c) => [c.const, c.title]));
  });
  Object.defineProperty(titles, CHOICES, { value: choices, enumerable: false });
  return titles;
}

const CHOICES = Symbol('choices');

// A review step's signature (sign_<step>, forms/signatures.py): who, when, their opinion.
function Signature({ value }) {
  const t = useT();
  return (
    <span data-testid="signature">
      {value.signer_name}（{value.signer}）· <Time value={value.signed_at} />
      {value.opinion && <>{t('；意见：', '; opinion: ')}{value.opinion}</>}
    </span>
  );
}

function isSignature(key, value) {
  return key.startsWith('sign_') && value && typeof value === 'object' && typeof value.signer === 'string';
}

export function Variables({ data, titles = {}, hidden = [] }) {
  const t = useT();
  const entries = Object.entries(data || {}).filter(([key]) => !hidden.includes(key));
  if (!entries.length) return <p className="muted">{t('无', 'None')}</p>;
  return (
    <dl className="variables">
      {entries.map(([key, value]) => {
        const named = titles[CHOICES]?.[key]?.get(value);
        const signed = isSignature(key, value);
        let shown = <Value value={value} />;
        if (signed) shown = <Signature value={value} />;
        else if (named !== undefined) shown = named;
        else if (key === 'outcome' && OUTCOMES[value]) shown = OUTCOMES[value];
        return (
          <div key={key} className="variable">
            <dt title={key}>{signed ? `${value.step}${t('（签署）', ' (signed)')}` : titles[key] || key}</dt>
            <dd>{shown}</dd>
          </div>
        );
      })}
    </dl>
  );
}

export function Documents({ data }) {
  const t = useT();
  const uploads = findUploads(data);
  if (!uploads.length) return null;
  return (
    <div className="card documents">
      <h3>{t('文件与材料', 'Documents')}</h3>
      <ul className="uploads">
        {uploads.map((u) => <li key={u.id}><UploadLink id={u.id} /> <span className="muted small">{u.key}</span></li>)}
      </ul>
    </div>
  );
}

// Earlier steps with who did them, when, and what they wrote (outcome, reason, comments).
export function EarlierSteps({ instanceId }) {
  const t = useT();
  const { lang } = useLang();
  const history = useLoad(() => get(`/process-instances/${instanceId}/history`), [instanceId]);
  if (history.error) return null;
  if (!history.data) return <div className="card earlier-steps"><h3>{t('办理经过', 'Earlier steps')}</h3><Loading /></div>;
  const steps = (history.data || []).filter((h) => h.kind === 'task_completed' || h.kind === 'instance_started');
  return (
    <div className="card earlier-steps">
      <h3>{t('办理经过', 'Earlier steps')}</h3>
      {steps.length === 0 ? <p className="muted">{t('无', 'None')}</p> : (
        <ol className="timeline compact">
          {steps.map((h) => {
            // a signed review step: who signed, when, and their own opinion (forms/signatures.py)
            const signed = h.element_id ? h.data?.[`sign_${h.element_id}`] : null;
            return (
            <li key={h.id}>
              <div><strong>{h.element_name || historyKindName(h.kind, lang)}</strong></div>
              <div className="muted small">{h.actor} · <Time value={h.at} /></div>
              {signed && (
                <div data-testid="signature">
                  {t('签署：', 'Signed by: ')}{signed.signer_name}（{signed.signer}）· <Time value={signed.signed_at} />
                </div>
              )}
              {signed?.opinion && <div>{t('意见：', 'Opinion: ')}{signed.opinion}</div>}
              {h.data?.outcome && <div>{t('结果：', 'Outcome: ')}<span className={`badge outcome-${h.data.outcome}`}>{OUTCOMES[h.data.outcome] || h.data.outcome}</span></div>}
              {h.data?.reason && <div>{t('原因：', 'Reason: ')}{h.data.reason}</div>}
              {h.data?.comment && <div>{t('意见：', 'Comment: ')}{h.data.comment}</div>}
              {h.data?.statement && <div>{t('说明：', 'Statement: ')}{h.data.statement}</div>}
            </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

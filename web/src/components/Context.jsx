// What a person needs beside a form: the student, the station, the earlier steps and comments,
// and the documents the instance has (uploads named in its data).
import { Link } from 'react-router-dom';
import { downloadFile, errorText, get } from '../api.js';
import { historyKindName, OUTCOMES, useLang, useT } from '../i18n.jsx';
import { useState } from 'react';
import { useAuth } from '../auth.jsx';
import { cached, Loading, Time, useLoad, useStudent, Value } from './common.jsx';
import { UploadLink } from './SchemaForm.jsx';

const UPLOAD_KEY = /(^upload$|_upload$|_upload_id$|^upload_id$|_uploads$|^uploads$|^attachments$|_attachments$|^file$)/;

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
  const titles = { outcome: '审核结果', reason: '原因', comment: '意见', ...(definition.data?.field_titles || {}) };
  const choices = {};
  // a value the forms name (ui:enumNames, oneOf titles) is shown by that name
  Object.entries(definition.data?.field_choices || {}).forEach(([key, names]) => {
    choices[key] = new Map(Object.entries(names));
  });
  Object.entries(definition.data?.start_form?.schema?.properties || {}).forEach(([key, prop]) => {
    if (prop.title) titles[key] = prop.title;
    // a chosen value is shown by its name (the start form's list, filled for this user)
    if (Array.isArray(prop.oneOf)) choices[key] = new Map(prop.oneOf.map((c) => [c.const, c.title]));
  });
  Object.defineProperty(titles, CHOICES, { value: choices, enumerable: false });
  // which fields a person reads is known once the titles are (an error shows what is known)
  Object.defineProperty(titles, READY, { value: !processKey || !definition.loading, enumerable: false });
  return titles;
}

const CHOICES = Symbol('choices');
const READY = Symbol('ready');

// A review step's signature (sign_<step>, forms/signatures.py): who, when, their opinion.
function Signature({ value }) {
  const t = useT();
  return (
    <span data-testid="signature">
      {value.signer_name} · <Time value={value.signed_at} />
      {value.opinion && <>{t('；意见：', '; opinion: ')}{value.opinion}</>}
    </span>
  );
}

function isSignature(key, value) {
  return key.startsWith('sign_') && value && typeof value === 'object' && typeof value.signer === 'string';
}

// A value a person reads: a chosen value by its name, an outcome in words, a signature.
function shownValue(key, value, titles) {
  const named = titles[CHOICES]?.[key]?.get(value);
  if (isSignature(key, value)) return <Signature value={value} />;
  if (named !== undefined) return named;
  if (key === 'outcome' && OUTCOMES[value]) return OUTCOMES[value];
  return <Value value={value} />;
}

// What a person reads of a case: the fields the forms name, by their titles; a list of fields
// (the application) as labelled fields too. Everything else (the engine's and the services'
// variables, uploads, JSON) only for an administrator, folded away.
function readable(key, value, titles) {
  if (isSignature(key, value)) return true;
  if (!titles[key] || UPLOAD_KEY.test(key) || key.startsWith('spiff')) return false;
  return value === null || typeof value !== 'object' || isPlainFields(value);
}

function isPlainFields(value) {
  return !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== 'object');
}

export function Variables({ data, titles = {}, hidden = [] }) {
  const t = useT();
  const { hasRole } = useAuth();
  const entries = Object.entries(data || {}).filter(([key]) => !hidden.includes(key));
  const shown = entries.filter(([key, value]) => readable(key, value, titles));
  const technical = entries.filter(([key, value]) => !readable(key, value, titles));
  if (titles[READY] === false) return <Loading />;
  return (
    <>
      {shown.length === 0 ? <p className="muted">{t('无', 'None')}</p> : (
        <dl className="variables">
          {shown.map(([key, value]) => (
            isPlainFields(value ?? 0) && value && typeof value === 'object' && !isSignature(key, value)
              ? Object.entries(value).map(([inner, v]) => (
                <div key={`${key}.${inner}`} className="variable">
                  <dt>{titles[inner] || inner}</dt><dd>{shownValue(inner, v, titles)}</dd>
                </div>
              ))
              : (
                <div key={key} className="variable">
                  <dt>{isSignature(key, value) ? `${value.step}${t('（签署）', ' (signed)')}` : titles[key]}</dt>
                  <dd>{shownValue(key, value, titles)}</dd>
                </div>
              )
          ))}
        </dl>
      )}
      {hasRole('admin') && technical.length > 0 && (
        <details className="technical" data-testid="technical-data">
          <summary>{t(`技术数据（${technical.length} 项，仅管理员可见）`, `Technical data (${technical.length}, admins only)`)}</summary>
          <dl className="variables">
            {technical.map(([key, value]) => (
              <div key={key} className="variable"><dt>{key}</dt><dd><Value value={value} /></dd></div>
            ))}
          </dl>
        </details>
      )}
    </>
  );
}

function DocumentLink({ link }) {
  const t = useT();
  const [error, setError] = useState('');
  async function open(event) {
    event.preventDefault();
    setError('');
    try {
      await downloadFile(link.url, link.title);
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  return (
    <>
      <a href={link.url} onClick={open} data-testid="document-link">{link.title}</a>
      {error && <span className="error inline">{error}</span>}
    </>
  );
}

// The case's files: the documents its step works from (generated when followed: GET
// /tasks/{id} `documents`), the files the services generated and the uploaded attachments.
export function Documents({ data, links = [] }) {
  const t = useT();
  const uploads = findUploads(data);
  if (!uploads.length && !links.length) return null;
  return (
    <div className="card documents">
      <h3>{t('文件与材料', 'Documents')}</h3>
      <ul className="uploads">
        {links.map((link) => <li key={link.url}><DocumentLink link={link} /></li>)}
        {uploads.map((u) => <li key={u.id}><UploadLink id={u.id} /></li>)}
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
              <div className="muted small">{signed ? signed.signer_name : (h.actor_name || h.actor)} · <Time value={h.at} /></div>
              {signed && (
                <div data-testid="signature">
                  {t('签署：', 'Signed by: ')}{signed.signer_name} · <Time value={signed.signed_at} />
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

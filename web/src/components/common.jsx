import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { errorText, get } from '../api.js';
import { formatTime, stateName, useLang, useT } from '../i18n.jsx';

// Load something on mount and when deps change; reload() to refresh.
export function useLoad(loader, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const counter = useRef(0);
  const load = useCallback(async () => {
    const mine = ++counter.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await loader();
      if (mine === counter.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === counter.current) setState({ data: null, error, loading: false });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    load();
  }, [load]);
  return { ...state, reload: load };
}

const cache = new Map();
// Small per-session caches for lookups shown in many rows (process names, student names).
export function cached(key, loader) {
  if (!cache.has(key)) {
    const promise = loader().catch((error) => {
      cache.delete(key);
      throw error;
    });
    cache.set(key, promise);
  }
  return cache.get(key);
}

export function forget(prefix) {
  for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
}

export function useDefinitions() {
  const [definitions, setDefinitions] = useState([]);
  useEffect(() => {
    cached('definitions', () => get('/process-definitions')).then(setDefinitions).catch(() => setDefinitions([]));
  }, []);
  return definitions;
}

export function processName(definitions, key) {
  return definitions.find((d) => d.key === key)?.name || key;
}

export function useStudent(id) {
  const [student, setStudent] = useState(null);
  useEffect(() => {
    if (!id) return;
    cached(`student:${id}`, () => get(`/students/${id}`)).then(setStudent).catch(() => setStudent(null));
  }, [id]);
  return student;
}

export function StudentName({ id, link = true }) {
  const student = useStudent(id);
  if (!id) return <span className="muted">—</span>;
  const label = student ? `${student.name}${student.student_number ? `（${student.student_number}）` : ''}` : `#${id}`;
  return link ? <Link to={`/students/${id}`}>{label}</Link> : <span>{label}</span>;
}

export function ErrorBox({ error, children }) {
  const t = useT();
  if (!error && !children) return null;
  return <div className="error" role="alert">{children || errorText(error, t)}</div>;
}

export function Loading() {
  const t = useT();
  return <div className="loading">{t('加载中…', 'Loading…')}</div>;
}

export function StateBadge({ state }) {
  const { lang } = useLang();
  return <span className={`badge state-${state}`}>{stateName(state, lang)}</span>;
}

export function isOverdue(dueAt) {
  return Boolean(dueAt) && new Date(dueAt).getTime() < Date.now();
}

export function DueDate({ value }) {
  const { lang } = useLang();
  const t = useT();
  if (!value) return <span className="muted">—</span>;
  const overdue = isOverdue(value);
  return (
    <span className={overdue ? 'due overdue' : 'due'} title={overdue ? t('已逾期', 'Overdue') : ''}>
      {formatTime(value, lang)}
      {overdue && <span className="badge overdue-badge">{t('已逾期', 'overdue')}</span>}
    </span>
  );
}

export function Time({ value }) {
  const { lang } = useLang();
  return <span className="time">{formatTime(value, lang)}</span>;
}

export function Pager({ page, perPage, total, onPage }) {
  const t = useT();
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return null;
  return (
    <div className="pager">
      <button type="button" className="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>{t('上一页', 'Previous')}</button>
      <span>{t(`第 ${page} / ${pages} 页`, `Page ${page} of ${pages}`)}</span>
      <button type="button" className="secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>{t('下一页', 'Next')}</button>
    </div>
  );
}

// Render a value of instance data readably (objects and lists as compact JSON).
export function Value({ value }) {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  if (typeof value === 'boolean') return <span>{value ? '是' : '否'}</span>;
  if (typeof value === 'object') return <code className="json">{JSON.stringify(value)}</code>;
  return <span>{String(value)}</span>;
}

// A station by its name (郑州函授站), its code while the list loads or when unknown.
export function StationName({ code }) {
  const stations = useLoad(() => cached('stations', () => get('/stations')), []);
  const found = (stations.data || []).find((s) => s.code === code);
  return <span title={code}>{found ? found.name : code}</span>;
}

import { useState } from 'react';
import { Link } from 'react-router-dom';
import { get } from '../api.js';
import { useAuth } from '../auth.jsx';
import { useT } from '../i18n.jsx';
import { ErrorBox, Loading, Pager, useLoad } from '../components/common.jsx';
import ExportButtons from '../components/ExportButtons.jsx';

export const LEVELS = ['专科', '本科', '专升本'];
export const STATUSES = ['在籍', '已注册', '休学', '退学', '毕业', '结业', '入学资格取消'];

// A list the server keeps (GET /choices/{kind}, scoped to the caller) as a <select>.
export function ChoiceSelect({ kind, value, onChange, label, testid }) {
  const t = useT();
  const list = useLoad(() => get(`/choices/${kind}`, { limit: 200 }), [kind]);
  return (
    <label>{label}
      <select value={value} onChange={onChange} data-testid={testid}>
        <option value="">{t('全部', 'All')}</option>
        {(list.data || []).map((c) => <option key={c.value} value={c.value}>{c.title}</option>)}
      </select>
    </label>
  );
}

export default function StudentsPage() {
  const t = useT();
  const { me } = useAuth();
  const [draft, setDraft] = useState({ q: '', station: '', level: '', major: '', intake: '', status: '' });
  const [query, setQuery] = useState(draft);
  const [page, setPage] = useState(1);
  const list = useLoad(() => get('/students', { ...query, page, per_page: 50 }), [JSON.stringify(query), page]);
  const set = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  const years = useLoad(() => get('/statistics/students', { group_by: 'intake' }), []);
  const intakes = (years.data?.rows || []).map((r) => r.intake).filter(Boolean).sort((x, y) => y - x);

  function search(event) {
    event.preventDefault();
    setPage(1);
    setQuery({ ...draft, q: draft.q.trim() });
  }

  return (
    <div className="page">
      <div className="page-head"><h1>{t('学生学籍查询', 'Student records')}</h1><ExportButtons path="students" params={query} name="学生名单" /></div>
      <form className="filters" onSubmit={search}>
        <label>{t('关键词', 'Search')}
          <input name="q" value={draft.q} onChange={set('q')} placeholder={t('姓名、学号、身份证号', 'name, number, ID')} />
        </label>
        {!me.station && <ChoiceSelect kind="stations" value={draft.station} onChange={set('station')} label={t('函授站', 'Station')} testid="filter-station" />}
        <label>{t('层次', 'Level')}
          <select value={draft.level} onChange={set('level')}>
            <option value="">{t('全部', 'All')}</option>
            {LEVELS.map((l) => <option key={l}>{l}</option>)}
          </select>
        </label>
        <ChoiceSelect kind="majors" value={draft.major} onChange={set('major')} label={t('专业', 'Major')} testid="filter-major" />
        <label>{t('年级', 'Intake')}
          <select value={draft.intake} onChange={set('intake')} data-testid="filter-intake">
            <option value="">{t('全部', 'All')}</option>
            {intakes.map((y) => <option key={y} value={y}>{t(`${y} 级`, String(y))}</option>)}
          </select>
        </label>
        <label>{t('学籍状态', 'Status')}
          <select value={draft.status} onChange={set('status')}>
            <option value="">{t('全部', 'All')}</option>
            {STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <button type="submit">{t('查询', 'Search')}</button>
      </form>
      {list.loading && !list.data ? <Loading /> : list.error ? <ErrorBox error={list.error} /> : (
        <>
          <table className="grid">
            <thead><tr><th>{t('姓名', 'Name')}</th><th>{t('学号', 'Number')}</th><th>{t('性别', 'Gender')}</th><th>{t('身份证号', 'ID number')}</th><th>{t('层次', 'Level')}</th><th>{t('专业', 'Major')}</th><th>{t('年级', 'Intake')}</th><th>{t('函授站', 'Station')}</th><th>{t('学籍状态', 'Status')}</th><th>{t('图像', 'Photo')}</th></tr></thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id} data-testid="student-row">
                  <td><Link to={`/students/${s.id}`}>{s.name}</Link></td>
                  <td>{s.student_number || '—'}</td>
                  <td>{s.gender}</td>
                  <td className="mono">{s.id_number}</td>
                  <td>{s.level}</td>
                  <td>{s.major}</td>
                  <td>{s.intake_year}</td>
                  <td>{s.station_name}</td>
                  <td>{s.status}</td>
                  <td>{s.photo_status}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 && <div className="empty">{t('没有符合条件的学生', 'No students match')}</div>}
          <p className="muted small">{t(`共 ${list.data.total} 人`, `${list.data.total} students`)}</p>
          <Pager page={page} perPage={50} total={list.data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}

// A list of chosen students (7's 预毕业生名单 of a station's 300 graduates) as a paged,
// sortable table instead of one select per student: the students the check found problems
// with first and highlighted, each row with its 移出 button, one select to add a student.
// Used by a form's UI schema: "ui:field": "studentList"; the problems come from the step's
// data through the form's context ({student, problem} items, xueji's graduation check).
import { useMemo, useState } from 'react';
import { useT } from '../i18n.jsx';
import { Pager } from './common.jsx';

const PER_PAGE = 20;

export default function StudentListField(props) {
  const { schema, formData, onChange, disabled, readonly, fieldPathId, idSchema, registry, errorSchema } = props;
  const t = useT();
  const [sort, setSort] = useState({ key: 'order', dir: 1 });
  const [page, setPage] = useState(1);
  const id = fieldPathId?.$id || idSchema?.$id || 'root';
  const ids = useMemo(() => (Array.isArray(formData) ? formData : []), [formData]);
  const choices = useMemo(() => (Array.isArray(schema.items?.oneOf) ? schema.items.oneOf : []), [schema]);
  const titles = useMemo(() => new Map(choices.map((c) => [c.const, c.title ?? String(c.const)])), [choices]);
  const problems = useMemo(() => {
    const found = new Map();
    (registry?.formContext?.problems || []).forEach((p) => {
      if (p && p.student !== undefined) found.set(p.student, [...(found.get(p.student) || []), p.problem ?? p.message ?? '']);
    });
    return found;
  }, [registry]);
  const lines = useMemo(() => {
    const all = ids.map((student, index) => ({
      student, order: index + 1, title: titles.get(student) ?? t(`学生 #${student}`, `Student #${student}`),
      problems: problems.get(student) || [],
    }));
    const by = sort.key === 'name' ? (a, b) => a.title.localeCompare(b.title, 'zh') : (a, b) => a.order - b.order;
    // students with problems always first; the chosen order inside each group
    return all.sort((a, b) => (Number(b.problems.length > 0) - Number(a.problems.length > 0)) || by(a, b) * sort.dir);
  }, [ids, titles, problems, sort, t]);
  const off = disabled || readonly;
  const send = (next) => (fieldPathId ? onChange(next, fieldPathId.path) : onChange(next));
  const pages = Math.max(1, Math.ceil(lines.length / PER_PAGE));
  const current = Math.min(page, pages);
  const shown = lines.slice((current - 1) * PER_PAGE, current * PER_PAGE);
  const bad = lines.filter((l) => l.problems.length).length;
  const chosen = new Set(ids);
  const addable = choices.filter((c) => !chosen.has(c.const));
  const errors = errorSchema?.__errors || [];
  function header(key, label) {
    const active = sort.key === key;
    return (
      <th aria-sort={active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none'}>
        <button type="button" className="link sort" onClick={() => { setSort({ key, dir: active ? -sort.dir : 1 }); setPage(1); }}>
          {label}{active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  }
  return (
    <div className="form-group field field-array paged-table student-list" data-testid="student-list">
      <label className="control-label" htmlFor={`${id}__add`}>{schema.title}</label>
      <p className={bad ? 'error' : 'muted small'} data-testid="student-list-summary">
        {bad
          ? t(`共 ${lines.length} 名学生，其中 ${bad} 名有问题（排在最前）`, `${lines.length} students, ${bad} with problems (listed first)`)
          : t(`共 ${lines.length} 名学生`, `${lines.length} students`)}
      </p>
      <div className="table-scroll">
        <table className="grid compact">
          <thead>
            <tr>
              {header('order', t('序号', 'No.'))}
              {header('name', t('学生', 'Student'))}
              <th>{t('问题', 'Problem')}</th>
              <th><span className="visually-hidden">{t('操作', 'Actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {shown.map((l) => (
              <tr key={l.student} className={l.problems.length ? 'problem-row' : ''} data-testid={l.problems.length ? 'problem-row' : 'student-row'}>
                <td>{l.order}</td>
                <td>{l.title}</td>
                <td>{l.problems.join('；')}</td>
                <td>
                  {!off && (
                    <button type="button" className="link" onClick={() => send(ids.filter((s) => s !== l.student))}>
                      {t('移出', 'Remove')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={current} perPage={PER_PAGE} total={lines.length} onPage={setPage} />
      {!off && addable.length > 0 && (
        <select id={`${id}__add`} className="form-control" value=""
          aria-label={t('加入名单', 'Add to the list')}
          onChange={(e) => {
            const picked = addable.find((c) => String(c.const) === e.target.value);
            if (picked) send([...ids, picked.const]);
          }}>
          <option value="">{t('加入名单的学生…', 'Add a student…')}</option>
          {addable.map((c) => <option key={String(c.const)} value={String(c.const)}>{c.title ?? String(c.const)}</option>)}
        </select>
      )}
      {errors.length > 0 && <ul className="error-detail">{errors.map((e) => <li key={e} className="text-danger">{e}</li>)}</ul>}
    </div>
  );
}

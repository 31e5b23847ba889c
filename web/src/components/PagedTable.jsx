// A long list of flat items (a grade sheet's scores, a batch's rows) edited as a paged table:
// one row per item, one cell per field, ten rows a page, so that a list of hundreds never
// puts thousands of inputs on the screen. Used by a form's UI schema: "ui:field": "pagedTable".
import { useState } from 'react';
import { useT } from '../i18n.jsx';
import { Pager } from './common.jsx';

const PER_PAGE = 10;

function Cell({ id, prop, value, onChange, disabled }) {
  const t = useT();
  const choices = Array.isArray(prop.oneOf) ? prop.oneOf.map((c) => [c.const, c.title ?? String(c.const)])
    : Array.isArray(prop.enum) ? prop.enum.map((v) => [v, String(v)]) : null;
  if (choices) {
    return (
      <select id={id} aria-label={prop.title} className="form-control" disabled={disabled}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onChange(choices.find(([v]) => String(v) === e.target.value)?.[0])}>
        <option value="">{t('请选择', 'Choose')}</option>
        {choices.map(([v, title]) => <option key={String(v)} value={String(v)}>{title}</option>)}
      </select>
    );
  }
  const numeric = prop.type === 'number' || prop.type === 'integer';
  return (
    <input id={id} aria-label={prop.title} className="form-control" disabled={disabled}
      type={numeric ? 'number' : 'text'} value={value ?? ''}
      onChange={(e) => {
        const text = e.target.value;
        if (text === '') onChange(undefined);
        else onChange(numeric ? Number(text) : text);
      }} />
  );
}

export default function PagedTableField(props) {
  const { schema, formData, onChange, disabled, readonly, errorSchema, fieldPathId, idSchema } = props;
  const t = useT();
  const [page, setPage] = useState(1);
  const id = fieldPathId?.$id || idSchema?.$id || 'root';
  const items = Array.isArray(formData) ? formData : [];
  const fields = Object.entries(schema.items?.properties || {});
  const required = new Set(schema.items?.required || []);
  const off = disabled || readonly;
  const send = (next) => (fieldPathId ? onChange(next, fieldPathId.path) : onChange(next));
  const pages = Math.max(1, Math.ceil(items.length / PER_PAGE));
  const current = Math.min(page, pages);
  const first = (current - 1) * PER_PAGE;
  function setCell(index, key, value) {
    const next = items.map((item, i) => {
      if (i !== index) return item;
      const changed = { ...item };
      if (value === undefined) delete changed[key];
      else changed[key] = value;
      return changed;
    });
    send(next);
  }
  const errors = errorSchema?.__errors || [];
  return (
    <div className="form-group field field-array paged-table" data-testid="paged-table">
      <label className="control-label" htmlFor={`${id}__add`}>{schema.title}</label>
      <p className="muted small">{t(`共 ${items.length} 行，每页 ${PER_PAGE} 行`, `${items.length} rows, ${PER_PAGE} a page`)}</p>
      <div className="table-scroll">
        <table className="grid compact">
          <thead>
            <tr>
              <th>{t('行号', 'Row')}</th>
              {fields.map(([key, prop]) => <th key={key}>{prop.title || key}{required.has(key) ? ' *' : ''}</th>)}
              <th><span className="visually-hidden">{t('操作', 'Actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {items.slice(first, first + PER_PAGE).map((item, offset) => {
              const index = first + offset;
              const rowErrors = errorSchema?.[index] || {};
              const bad = Object.keys(rowErrors).length > 0;
              return (
                <tr key={index} className={bad ? 'problem-row' : ''}>
                  <td>{index + 1}</td>
                  {fields.map(([key, prop]) => (
                    <td key={key}>
                      <Cell id={`${id}_${index}_${key}`} prop={prop} value={item?.[key]} disabled={off}
                        onChange={(value) => setCell(index, key, value)} />
                      {(rowErrors[key]?.__errors || []).map((e) => <div key={e} className="text-danger small">{e}</div>)}
                    </td>
                  ))}
                  <td>
                    {!off && (
                      <button type="button" className="link" onClick={() => send(items.filter((_, i) => i !== index))}>
                        {t('删除', 'Remove')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager page={current} perPage={PER_PAGE} total={items.length} onPage={setPage} />
      {!off && (
        <button id={`${id}__add`} type="button" className="secondary"
          onClick={() => { send([...items, {}]); setPage(Math.ceil((items.length + 1) / PER_PAGE)); }}>
          {t('添加一行', 'Add a row')}
        </button>
      )}
      {errors.length > 0 && <ul className="error-detail">{errors.map((e) => <li key={e} className="text-danger">{e}</li>)}</ul>}
    </div>
  );
}

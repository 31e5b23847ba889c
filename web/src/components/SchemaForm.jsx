// A task's or start event's form: JSON Schema (draft 2020-12) + UI schema, rendered by RJSF,
// validated in the browser with Chinese messages, and the server's 422 shown on its fields.
import { useEffect, useMemo, useState } from 'react';
import Form from '@rjsf/core';
import { customizeValidator } from '@rjsf/validator-ajv8';
import { englishStringTranslator, TranslatableString } from '@rjsf/utils';
import Ajv2020 from 'ajv/dist/2020';
import localizeZh from 'ajv-i18n/localize/zh';
import localizeEn from 'ajv-i18n/localize/en';
import { ApiError, downloadUpload, errorText, get, request, translateServerMessage } from '../api.js';
import { OUTCOMES, useLang, useT } from '../i18n.jsx';
import PagedTableField from './PagedTable.jsx';
import StudentListField from './StudentList.jsx';

const validators = {
  zh: customizeValidator({ AjvClass: Ajv2020 }, localizeZh),
  en: customizeValidator({ AjvClass: Ajv2020 }, localizeEn),
};

const ZH_STRINGS = {
  [TranslatableString.ArrayItemTitle]: '第 %1 项',
  [TranslatableString.MissingItems]: '缺少列表项定义',
  [TranslatableString.EmptyArray]: '暂无内容，请点击下方按钮添加。',
  [TranslatableString.YesLabel]: '是',
  [TranslatableString.NoLabel]: '否',
  [TranslatableString.CloseLabel]: '关闭',
  [TranslatableString.ErrorsLabel]: '请修正以下错误',
  [TranslatableString.NewStringDefault]: '新值',
  [TranslatableString.AddButton]: '添加',
  [TranslatableString.AddItemButton]: '添加一项',
  [TranslatableString.CopyButton]: '复制',
  [TranslatableString.MoveDownButton]: '下移',
  [TranslatableString.MoveUpButton]: '上移',
  [TranslatableString.RemoveButton]: '删除',
  [TranslatableString.NowLabel]: '现在',
  [TranslatableString.ClearLabel]: '清除',
  [TranslatableString.AriaDateLabel]: '选择日期',
  [TranslatableString.PreviewLabel]: '预览',
  [TranslatableString.OptionalObjectAdd]: '填写此项',
  [TranslatableString.OptionalObjectRemove]: '不填此项',
  [TranslatableString.OptionalObjectEmptyMsg]: '未填写',
  [TranslatableString.Type]: '类型',
  [TranslatableString.Value]: '值',
  [TranslatableString.ClearButton]: '清空',
  [TranslatableString.OptionPrefix]: '选项 %1',
  [TranslatableString.UnsupportedField]: '不支持的字段定义',
};

function translator(lang) {
  return (key, params) => {
    if (lang !== 'zh' || !ZH_STRINGS[key]) return englishStringTranslator(key, params);
    let text = ZH_STRINGS[key];
    (params || []).forEach((p, i) => { text = text.replace(`%${i + 1}`, p); });
    return text;
  };
}

// The schema of a property path like ".corrections.name" or "attachments.0".
function schemaAt(root, path) {
  let node = root;
  const parts = String(path || '').replace(/^\./, '').replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  for (const part of parts) {
    if (!node) return null;
    if (node.properties && node.properties[part]) node = node.properties[part];
    else if (node.items && /^\d+$/.test(part)) node = node.items;
    else return null;
  }
  return node;
}

function message(error, t, root) {
  const p = error.params || {};
  const target = error.name === 'required' ? schemaAt(root, `${error.property}`) : schemaAt(root, error.property);
  switch (error.name) {
    case 'required': return t('此项为必填项', 'This field is required');
    case 'minLength': return p.limit <= 1 ? t('此项不能为空', 'Must not be empty') : t(`至少 ${p.limit} 个字符`, `At least ${p.limit} characters`);
    case 'maxLength': return t(`最多 ${p.limit} 个字符`, `At most ${p.limit} characters`);
    // the form's own sentence of what is expected (x-message), e.g. 联系电话应为 7 到 20 位数字
    case 'pattern': return target?.['x-message'] || (target?.description
      ? t(`格式不正确（${target.description}）`, `Wrong format (${target.description})`)
      : t('格式不正确', 'Wrong format'));
    case 'format': return p.format === 'date' ? t('请输入有效日期', 'Enter a valid date') : t('格式不正确', 'Wrong format');
    case 'enum': return t('请从可选项中选择', 'Choose one of the options');
    case 'const': return t('取值不正确', 'Wrong value');
    case 'type': return t('类型不正确', 'Wrong type');
    case 'minimum': return t(`不能小于 ${p.limit}`, `Must be at least ${p.limit}`);
    case 'maximum': return t(`不能大于 ${p.limit}`, `Must be at most ${p.limit}`);
    case 'minItems': return t(`至少 ${p.limit} 项`, `At least ${p.limit} items`);
    case 'maxItems': return t(`最多 ${p.limit} 项`, `At most ${p.limit} items`);
    case 'minProperties': return t(`至少填写 ${p.limit} 项`, `Fill in at least ${p.limit}`);
    case 'additionalProperties': return t('包含不允许的字段', 'Unexpected field');
    default: return error.message;
  }
}

// Nested {field: {__errors: [...]}} from the server's [{field, message}].
export function serverErrorSchema(detail, t) {
  const schema = {};
  (detail || []).forEach((item) => {
    const parts = String(item.field || '').split('.').filter((p) => p && p !== 'data' && p !== 'variables' && p !== 'body');
    let node = schema;
    parts.forEach((part) => {
      node[part] = node[part] || {};
      node = node[part];
    });
    node.__errors = node.__errors || [];
    const text = translateServerMessage(item.message, t);
    if (!node.__errors.includes(text)) node.__errors.push(text);
  });
  return schema;
}

// What an upload field takes, by its `x-upload` kind (forms/attachments.py KINDS): the
// browser's file filter and the words shown beside the button.
const UPLOAD_KINDS = {
  image: ['.jpg,.jpeg,.png,image/jpeg,image/png', ['JPEG 或 PNG 图片', 'JPEG or PNG images']],
  document: ['.jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf', ['JPEG、PNG 图片或 PDF 文件', 'JPEG/PNG images or PDF files']],
  spreadsheet: ['.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ['XLSX 表格', 'XLSX spreadsheets']],
};
const ANY_UPLOAD = ['.jpg,.jpeg,.png,.pdf,.xlsx,image/jpeg,image/png,application/pdf', ['JPEG、PNG、PDF 或 XLSX', 'JPEG, PNG, PDF or XLSX']];

function uploadKind(schema) {
  const kind = schema?.['x-upload'] ?? schema?.items?.['x-upload'];
  return UPLOAD_KINDS[kind] || ANY_UPLOAD;
}

function UploadWidget(props) {
  const { id, value, onChange, disabled, readonly, registry, schema } = props;
  const context = registry?.formContext || {};
  return (
    <UploadBox
      id={id}
      kind={uploadKind(schema)}
      ids={value === undefined || value === null ? [] : [value]}
      multiple={false}
      disabled={disabled || readonly}
      student={context.student}
      onChange={(ids) => onChange(ids.length ? ids[ids.length - 1] : undefined)}
    />
  );
}

// A choice from a list too long to put into the form (the server gave `x-lookup`, the URL of
// GET /choices/{kind}): search it, scoped to the user as the inline lists are, and choose.
function LookupWidget(props) {
  const { id, value, onChange, disabled, readonly, required, schema } = props;
  const t = useT();
  const [q, setQ] = useState('');
  const [found, setFound] = useState([]);
  const url = schema['x-lookup'];
  useEffect(() => {
    let live = true;
    const [path, query] = url.split('?');
    const params = { ...Object.fromEntries(new URLSearchParams(query || '')), q };
    const timer = setTimeout(() => {
      get(path, params).then((items) => { if (live) setFound(items); }).catch(() => { if (live) setFound([]); });
    }, 250);
    return () => { live = false; clearTimeout(timer); };
  }, [url, q]);
  const known = value === undefined || found.some((c) => c.value === value);
  const options = known ? found : [{ value, title: String(value) }, ...found];
  return (
    <div className="lookup">
      <input id={`${id}__search`} className="form-control" type="search" value={q}
        placeholder={t('输入姓名、学号、身份证号或代码查找', 'Search by name, number or code')}
        disabled={disabled || readonly} onChange={(e) => setQ(e.target.value)} />
      <select id={id} className="form-control" value={value === undefined ? '' : String(value)}
        required={required} disabled={disabled || readonly}
        onChange={(e) => {
          const choice = options.find((c) => String(c.value) === e.target.value);
          onChange(choice ? choice.value : undefined);
        }}>
        <option value="">{t('请选择', 'Choose')}</option>
        {options.map((c) => <option key={String(c.value)} value={String(c.value)}>{c.title}</option>)}
      </select>
    </div>
  );
}

// An open list (x-choices-open): the server's suggestions (x-suggestions, or searched through
// x-lookup) to choose from, and any other value may be typed in.
function SuggestWidget(props) {
  const { id, value, onChange, disabled, readonly, required, schema } = props;
  const t = useT();
  const [searched, setFound] = useState([]);
  const url = schema['x-lookup'];
  const found = url ? searched : (schema['x-suggestions'] || []);
  useEffect(() => {
    if (!url) return undefined;
    let live = true;
    const [path, query] = url.split('?');
    const params = { ...Object.fromEntries(new URLSearchParams(query || '')), q: value || '' };
    const timer = setTimeout(() => {
      get(path, params).then((items) => { if (live) setFound(items); }).catch(() => { if (live) setFound([]); });
    }, 250);
    return () => { live = false; clearTimeout(timer); };
  }, [url, value]);
  const chosen = found.find((c) => String(c.value) === String(value ?? ''));
  return (
    <div className="suggest">
      <input id={id} className="form-control" list={`${id}__list`} value={value ?? ''}
        required={required} disabled={disabled || readonly} autoComplete="off"
        placeholder={t('从名单中选择，或直接输入', 'Choose from the list, or type')}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />
      <datalist id={`${id}__list`}>
        {found.map((c) => <option key={String(c.value)} value={String(c.value)}>{c.title}</option>)}
      </datalist>
      <div className="muted small" data-testid={`${id}__chosen`}>
        {chosen ? chosen.title : (value ? t('名单中没有此项', 'Not on the list') : '')}
      </div>
    </div>
  );
}

function UploadListField(props) {
  const { idSchema, formData, onChange, disabled, readonly, schema, registry, errorSchema, fieldPathId } = props;
  const context = registry?.formContext || {};
  const id = fieldPathId?.$id || idSchema?.$id || 'upload';
  const errors = errorSchema?.__errors || [];
  return (
    <div className="form-group field field-array upload-field">
      <label className="control-label" htmlFor={id}>{schema.title}</label>
      <UploadBox
        id={id}
        kind={uploadKind(schema)}
        ids={Array.isArray(formData) ? formData : []}
        multiple
        disabled={disabled || readonly}
        student={context.student}
        onChange={(ids) => (fieldPathId ? onChange(ids, fieldPathId.path) : onChange(ids))}
      />
      {errors.length > 0 && <ul className="error-detail">{errors.map((e) => <li key={e} className="text-danger">{e}</li>)}</ul>}
    </div>
  );
}

export function UploadBox({ id, ids, multiple, disabled, student, onChange, kind = ANY_UPLOAD }) {
  const [accept, [takesZh, takesEn]] = kind;
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  async function upload(event) {
    const files = [...event.target.files];
    event.target.value = '';
    if (!files.length) return;
    setBusy(true);
    setError('');
    try {
      const added = [];
      for (const file of files) {
        const form = new FormData();
        form.append('file', file);
        if (student) form.append('student', student);
        const result = await request('POST', '/uploads', { form });
        added.push(result.id);
      }
      onChange(multiple ? [...ids, ...added] : added);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        setError(t('上传服务暂不可用', 'Uploads are not available'));
      } else if (err instanceof ApiError && err.status === 413) {
        setError(t('文件太大', 'The file is too large'));
      } else if (err instanceof ApiError && err.status === 422) {
        setError(t(`只接受${takesZh}`, `Only ${takesEn}`));
      } else {
        setError(errorText(err, t));
      }
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="upload-box">
      <ul className="uploads">
        {ids.map((uploadId) => (
          <li key={uploadId}>
            <UploadLink id={uploadId} />
            {!disabled && (
              <button type="button" className="link" onClick={() => onChange(ids.filter((x) => x !== uploadId))}>
                {t('移除', 'remove')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {!disabled && (
        <label className="file-button">
          <input id={id} type="file" multiple={multiple} disabled={busy} onChange={upload}
            accept={accept} />
          <span className="button secondary">{multiple ? t('选择文件上传', 'Choose files') : t('选择文件上传', 'Choose a file')}</span>
          <span className="muted small" data-testid="upload-takes">{t(takesZh, takesEn)}</span>
        </label>
      )}
      {busy && <span className="muted">{t('上传中…', 'Uploading…')}</span>}
      {error && <div className="error">{error}</div>}
    </div>
  );
}

export function UploadLink({ id }) {
  const t = useT();
  const [meta, setMeta] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get(`/uploads/${id}`).then(setMeta).catch(() => setMeta(null));
  }, [id]);
  async function download(event) {
    event.preventDefault();
    setError('');
    try {
      await downloadUpload(id, meta?.file_name);
    } catch (err) {
      setError(errorText(err, t));
    }
  }
  return (
    <span className="upload-link">
      <a href={`/api/v1/uploads/${id}/content`} onClick={download} data-upload-id={id}>
        {meta?.file_name || t(`文件 #${id}`, `File #${id}`)}
      </a>
      {meta && <span className="muted"> {Math.max(1, Math.round(meta.size / 1024))} KB{meta.generated ? t(' · 系统生成', ' · generated') : ''}</span>}
      {error && <span className="error inline">{error}</span>}
    </span>
  );
}

// UI schema with our conventions applied: upload fields, Chinese names of outcome ids.
function prepareUiSchema(schema, uiSchema) {
  const ui = JSON.parse(JSON.stringify(uiSchema || {}));
  function walk(node, uiNode) {
    if (!node || typeof node !== 'object' || !node.properties) return;
    Object.entries(node.properties).forEach(([key, prop]) => {
      uiNode[key] = uiNode[key] || {};
      const entry = uiNode[key];
      const upload = entry['ui:options']?.upload || entry.upload === true;
      if (upload && prop.type === 'array') entry['ui:field'] = 'uploadList';
      else if (upload && (prop.type === 'integer' || prop.type === 'number')) entry['ui:widget'] = 'upload';
      if (key === 'outcome' && Array.isArray(prop.enum) && !entry['ui:enumNames']) {
        entry['ui:enumNames'] = prop.enum.map((v) => OUTCOMES[v] || v);
        if (!entry['ui:widget'] && prop.enum.length <= 4) entry['ui:widget'] = 'radio';
      }
      if (prop['x-choices-open'] === true && !entry['ui:widget']) entry['ui:widget'] = 'suggest';
      if (typeof prop['x-lookup'] === 'string' && !entry['ui:widget']) entry['ui:widget'] = 'lookup';
      if (prop.type === 'array' && prop.items && typeof prop.items === 'object') {
        entry.items = entry.items || {};
        if (typeof prop.items['x-lookup'] === 'string' && !entry.items['ui:widget']) entry.items['ui:widget'] = 'lookup';
        if (prop.items.properties) walk(prop.items, entry.items);
      }
      if (prop.type === 'object') walk(prop, entry);
    });
  }
  walk(schema, ui);
  if (!ui['ui:submitButtonOptions']) ui['ui:submitButtonOptions'] = { norender: true };
  return ui;
}

// Drop what a person left empty: blank strings, unset values and empty optional objects, so
// that "not filled in" is absent, as the schema means it (minProperties, required). A list's
// row stays, even while empty: it is the row just added (添加一行) and about to be filled in.
export function clean(value, root = true) {
  if (Array.isArray(value)) {
    const row = (v) => v && typeof v === 'object' && !Array.isArray(v);
    return value.map((v) => clean(v, row(v))).filter((v) => v !== undefined);
  }
  if (value && typeof value === 'object') {
    const out = {};
    Object.entries(value).forEach(([key, v]) => {
      const c = clean(v, false);
      if (c !== undefined) out[key] = c;
    });
    return root || Object.keys(out).length ? out : undefined;
  }
  if (value === '' || value === null || value === undefined) return undefined;
  return value;
}

function prepareSchema(schema) {
  const copy = JSON.parse(JSON.stringify(schema || { type: 'object', properties: {} }));
  delete copy.$schema;
  return copy;
}

export default function SchemaForm({
  schema, uiSchema, formData, onChange, onSubmit, serverErrors, student, problems, submitLabel, disabled, children, formId,
}) {
  const t = useT();
  const { lang } = useLang();
  const preparedSchema = useMemo(() => prepareSchema(schema), [schema]);
  const preparedUi = useMemo(() => prepareUiSchema(preparedSchema, uiSchema), [preparedSchema, uiSchema]);
  const extraErrors = useMemo(() => (serverErrors?.length ? serverErrorSchema(serverErrors, t) : undefined), [serverErrors, t]);

  function transformErrors(errors) {
    return errors
      .filter((e) => !['if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'not'].includes(e.name))
      .map((e) => {
        const text = message(e, t, preparedSchema);
        const field = schemaAt(preparedSchema, e.property);
        const title = field?.title || String(e.property || '').replace(/^\./, '');
        return { ...e, message: text, stack: title ? `${title}：${text}` : text };
      });
  }

  return (
    <Form
      id={formId}
      className="schema-form"
      schema={preparedSchema}
      uiSchema={preparedUi}
      formData={formData}
      validator={validators[lang] || validators.zh}
      transformErrors={transformErrors}
      translateString={translator(lang)}
      extraErrors={extraErrors}
      formContext={{ student, problems }}
      widgets={{ upload: UploadWidget, lookup: LookupWidget, suggest: SuggestWidget }}
      fields={{ uploadList: UploadListField, pagedTable: PagedTableField, studentList: StudentListField }}
      onChange={(event) => onChange?.(clean(event.formData))}
      onSubmit={(event) => onSubmit(clean(event.formData))}
      // Nothing starts chosen or ticked: a list of choices (oneOf of consts, filled by the
      // server) is not on its first entry, a confirmation (const: true) is not ticked, and a
      // list with minItems is not filled with empty items (which the browser would then refuse
      // as "至少 1 项" even when the list is not asked for, e.g. beside an uploaded file).
      experimental_defaultFormStateBehavior={{
        emptyObjectFields: 'skipEmptyDefaults',
        constAsDefaults: 'never',
        arrayMinItems: { populate: 'never' },
      }}
      noHtml5Validate
      showErrorList="top"
      focusOnFirstError
      disabled={disabled}
      omitExtraData={false}
    >
      {children || (
        <div className="form-actions">
          <button type="submit" disabled={disabled}>{submitLabel || t('提交', 'Submit')}</button>
        </div>
      )}
    </Form>
  );
}
